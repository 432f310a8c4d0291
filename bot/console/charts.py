"""Charts as data for server-rendered SVG (``templates/_chart.html``): no script, no library.

Each function lays a chart out in a fixed ``viewBox`` (the SVG scales to its container) and
returns a :class:`Chart`: rectangles and polylines with a series index (colours come from
``static/analytics.css`` classes ``s0``, ``s1``...: the CSP allows no inline style), axis labels,
a legend, and the same numbers as a table, which the template puts under the chart for screen
readers and for anyone who wants the exact figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WIDTH = 640.0
HEIGHT = 240.0
LEFT = 48.0  # room for the y-axis labels
RIGHT = 8.0
TOP = 12.0
BOTTOM = 28.0  # room for the x-axis labels
ROW = 24.0  # a horizontal bar's row
LABEL_WIDTH = 190.0  # horizontal bars: room for the category label
MAX_X_LABELS = 8


@dataclass(frozen=True)
class Rect:
    """A bar (or a part of a stacked bar); ``label`` is its tooltip (an SVG ``<title>``)."""

    x: float
    y: float
    width: float
    height: float
    series: int
    label: str


@dataclass(frozen=True)
class Line:
    """A polyline of one series (SVG coordinates); the template marks each point too."""

    coords: list[tuple[float, float]]
    series: int
    label: str

    @property
    def points(self) -> str:
        """The ``points`` attribute."""
        return " ".join(f"{x:g},{y:g}" for x, y in self.coords)


@dataclass(frozen=True)
class Text:
    """An axis or bar label."""

    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass
class Chart:
    """One chart: what the SVG draws, its legend and its table."""

    id: str
    title: str
    description: str
    height: float = HEIGHT
    width: float = WIDTH
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    grid: list[float] = field(default_factory=list)  # y of the horizontal grid lines
    legend: list[tuple[int, str]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    empty: bool = False

    @property
    def plot_left(self) -> float:
        """Where the plot area starts (the grid lines' x1)."""
        return LEFT

    @property
    def plot_right(self) -> float:
        """Where the plot area ends (the grid lines' x2)."""
        return self.width - RIGHT

    @property
    def view_box(self) -> str:
        """The SVG ``viewBox``."""
        return f"0 0 {self.width:g} {self.height:g}"


def nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def tick_intervals(top: float) -> int:
    """How many grid intervals split ``top`` (a :func:`nice_max`) into round steps: 2 and 20 in
    4 (0.5, 5), the others in 5 (1, 2.5 and 5 in steps of 0.2, 0.5 and 1; 10 in 2)."""
    leading = top / 10 ** math.floor(math.log10(top)) if top > 0 else 1.0
    return 4 if math.isclose(leading, 2.0) else 5


def _number(value: float) -> str:
    if value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 1 else f"{value:.2f}".rstrip("0")


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _percent(value: float) -> str:
    return f"{value:.0%}"


def _y_axis(chart: Chart, top_value: float, fmt: Callable[[float], str], intervals: int) -> None:
    plot = chart.height - TOP - BOTTOM
    for k in range(intervals + 1):
        y = TOP + plot * (1 - k / intervals)
        chart.grid.append(round(y, 1))
        chart.texts.append(Text(LEFT - 6, round(y + 4, 1), fmt(top_value * k / intervals), "end"))


def _x_labels(chart: Chart, labels: Sequence[str], centres: Sequence[float]) -> None:
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    for i, (label, x) in enumerate(zip(labels, centres, strict=True)):
        if i % every == 0:
            chart.texts.append(Text(round(x, 1), chart.height - 8, label))


def stacked_columns(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: dict[str, Sequence[float]],
    labels: Sequence[str] | None = None,
    percent: bool = False,
) -> Chart:
    """Vertical columns, one per category, each stacked from the series (in order).

    Args:
        chart_id: The element id (also prefixes the title's and description's ids).
        title: The chart's title (the SVG's accessible name).
        description: One sentence saying what it shows.
        categories: The x-axis categories (days, weeks, buckets), in order.
        series: Series name → one value per category.
        labels: Shorter x-axis labels (default: the categories).
        percent: Values are shares (0..1) of each column: the axis reads 0–100%.
    """
    chart = Chart(chart_id, title, description)
    names = list(series)
    chart.legend = list(enumerate(names)) if len(names) > 1 else []
    chart.headers = ["", *names] if len(names) > 1 else ["", names[0] if names else ""]
    totals = [sum(series[n][i] for n in names) for i in range(len(categories))]
    chart.empty = not any(totals)
    top_value = 1.0 if percent else nice_max(max(totals, default=0.0))
    _y_axis(
        chart,
        top_value,
        _percent if percent else _number,
        4 if percent else tick_intervals(top_value),
    )
    plot_w, plot_h = chart.width - LEFT - RIGHT, chart.height - TOP - BOTTOM
    slot = plot_w / max(1, len(categories))
    bar_w = max(1.0, slot * 0.75)
    centres = []
    for i, category in enumerate(categories):
        x = LEFT + slot * i + (slot - bar_w) / 2
        centres.append(x + bar_w / 2)
        base = chart.height - BOTTOM
        for s, name in enumerate(names):
            value = series[name][i]
            h = plot_h * value / top_value if top_value else 0.0
            if h > 0:
                base -= h
                shown = _percent(value) if percent else _number(value)
                chart.rects.append(
                    Rect(
                        round(x, 2),
                        round(base, 2),
                        round(bar_w, 2),
                        round(h, 2),
                        s,
                        f"{category}: {name} {shown}",
                    )
                )
        chart.rows.append(
            [category, *((_percent if percent else _number)(series[n][i]) for n in names)]
        )
    _x_labels(chart, list(labels or categories), centres)
    return chart


def horizontal_bars(
    chart_id: str,
    title: str,
    description: str,
    items: Sequence[tuple[str, float, str]],
    value_header: str,
    note_header: str = "",
) -> Chart:
    """One bar per item (label, value, note shown after the bar), longest first as given."""
    height = TOP + ROW * max(1, len(items)) + 8
    chart = Chart(chart_id, title, description, height=height)
    chart.headers = ["", value_header, *([note_header] if note_header else [])]
    top_value = nice_max(max((v for _, v, _ in items), default=0.0))
    chart.empty = not any(value for _, value, _ in items)
    room = chart.width - LABEL_WIDTH - 150.0
    for i, (label, value, note) in enumerate(items):
        y = TOP + ROW * i
        w = room * value / top_value if top_value else 0.0
        chart.texts.append(Text(LABEL_WIDTH - 8, round(y + ROW * 0.65, 1), _short(label), "end"))
        chart.rects.append(
            Rect(
                LABEL_WIDTH,
                round(y + 3, 1),
                round(max(w, 1.0), 2),
                ROW - 8,
                0,
                f"{label}: {_number(value)}{' · ' + note if note else ''}",
            )
        )
        summary = _number(value) + (f" · {note}" if note else "")
        chart.texts.append(
            Text(round(LABEL_WIDTH + w + 6, 1), round(y + ROW * 0.65, 1), summary, "start")
        )
        chart.rows.append([label, _number(value), *([note] if note_header else [])])
    return chart


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: dict[str, Sequence[float | None]],
    labels: Sequence[str] | None = None,
) -> Chart:
    """Shares (0..1) over the categories, one line per series; a None breaks the line."""
    chart = Chart(chart_id, title, description)
    names = list(series)
    chart.legend = list(enumerate(names))
    chart.headers = ["", *names]
    _y_axis(chart, 1.0, _percent, 4)
    plot_w, plot_h = chart.width - LEFT - RIGHT, chart.height - TOP - BOTTOM
    slot = plot_w / max(1, len(categories))
    centres = [LEFT + slot * (i + 0.5) for i in range(len(categories))]
    chart.empty = all(v is None for n in names for v in series[n])
    for s, name in enumerate(names):
        run: list[tuple[float, float]] = []
        for i, value in enumerate([*series[name], None]):
            if value is None:
                if run:
                    chart.lines.append(Line(run, s, name))
                run = []
                continue
            y = TOP + plot_h * (1 - max(0.0, min(1.0, value)))
            run.append((round(centres[i], 1), round(y, 1)))
    for i, category in enumerate(categories):
        chart.rows.append(
            [
                category,
                *("–" if series[n][i] is None else _percent(series[n][i] or 0.0) for n in names),
            ]
        )
    _x_labels(chart, list(labels or categories), centres)
    return chart
