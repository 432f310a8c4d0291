"""The analytics page (``GET /analytics``, server-drawn SVG charts) and its JSON
(``GET /api/analytics``): conversations per day and channel, containment, handoffs by reason,
fallback rate, top intents and their confidence, sentiment, thumbs, agents' first response time,
corrections per week (``bot.storage.analytics``)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.console.access import console_of, refuse
from bot.console.charts import Chart, horizontal_bars, line_chart, stacked_columns
from bot.console.conversation_views import BadParameter, parse_date
from bot.console.views import current_session
from bot.storage.analytics import SENTIMENTS, Analytics, AnalyticsRange, AnalyticsReport
from bot.storage.correction_tables import STATUSES
from bot.storage.message_tables import LOW_CONFIDENCE

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 30
# Handoff reasons as chart labels (bot.storage.handoffs.REASONS says them in full, too long).
SHORT_REASONS = {
    "asked": "asked for a human",
    "frustration": "frustrated",
    "fallbacks": "not understood",
    "account": "account request",
    "agent": "opened by an agent",
}


def parse_range(params: Mapping[str, str], today: dt.date) -> AnalyticsRange:
    """``since``/``until`` (default: the last ``DEFAULT_DAYS`` days to ``today``) and
    ``channel``.

    Raises:
        BadParameter: naming the parameter it cannot use.
    """
    until = parse_date("until", params.get("until")) or today
    since = parse_date("since", params.get("since")) or until - dt.timedelta(days=DEFAULT_DAYS - 1)
    channel = (params.get("channel") or "").strip() or None
    if channel is not None and (len(channel) > 32 or not channel.isprintable()):
        raise BadParameter(
            f"channel must be a channel name such as widget or rest. Currently, it is "
            f"{channel[:40]!r}."
        )
    try:
        return AnalyticsRange(since, until, channel)
    except ValueError as exc:
        raise BadParameter(str(exc)) from None


def _seconds(value: float | None) -> str:
    """A duration for a key figure: ``45 s``, ``3.5 min``, ``1.2 h``; ``–`` for none."""
    if value is None:
        return "–"
    if value < 60:
        return f"{value:.0f} s"
    if value < 3600:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def key_figures(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, value, detail) tiles above the charts."""
    t, first = data["totals"], data["first_response"]
    return [
        ("Conversations", f"{t['conversations']:,}", f"{data['range']['days']} days"),
        (
            "Containment",
            _share(t["containment_rate"]),
            f"{t['contained']:,} ended without a handoff",
        ),
        ("Handoff rate", _share(t["handoff_rate"]), f"{t['handoffs']:,} handoffs"),
        (
            "Fallback rate",
            _share(t["fallback_rate"]),
            f"{t['fallback_turns']:,} of {t['user_turns']:,} shopper turns not understood",
        ),
        (
            "Thumbs up",
            _share(t["thumbs_up_rate"]),
            f"{t['thumbs_up']:,} up, {t['thumbs_down']:,} down",
        ),
        (
            "First response, median",
            _seconds(first["median_s"]),
            f"p90 {_seconds(first['p90_s'])} · {first['answered']:,} answered, "
            f"{first['unanswered']:,} not (yet)",
        ),
    ]


def charts(report: AnalyticsReport, data: dict[str, Any]) -> list[Chart]:
    """Every chart of the page, in order."""
    days = [d["day"] for d in data["conversations_per_day"]]
    short = [day[5:] for day in days]  # MM-DD
    channels = report.channels
    per_day = stacked_columns(
        "conversations-per-day",
        "Conversations per day, by channel",
        "Conversations started each day (UTC), stacked by channel.",
        days,
        {
            c: [float(d["channels"].get(c, 0)) for d in data["conversations_per_day"]]
            for c in channels
        }
        or {"conversations": [0.0] * len(days)},
        short,
    )
    rates = line_chart(
        "rates-per-day",
        "Containment and fallback rate per day",
        "Share of each day's conversations that ended without a handoff, and share of its "
        "shopper turns the bot did not understand.",
        days,
        {
            "containment": [d["containment_rate"] for d in data["conversations_per_day"]],
            "fallback rate": [d["fallback_rate"] for d in data["conversations_per_day"]],
        },
        short,
    )
    reasons = horizontal_bars(
        "handoffs-by-reason",
        "Handoffs by reason",
        "Handoffs requested in the range by reason, with their rate per conversation.",
        [
            (
                SHORT_REASONS.get(r["reason"], r["reason"]),
                float(r["handoffs"]),
                f"{_share(r['rate'])} of conversations",
            )
            for r in data["handoffs_by_reason"]
        ],
        "handoffs",
        "rate",
    )
    first = data["first_response"]
    response = stacked_columns(
        "first-response",
        "Agents' first response time",
        f"Handoffs by the time from the request to the first message a human agent wrote: "
        f"median {_seconds(first['median_s'])}, p90 {_seconds(first['p90_s'])}, "
        f"{first['answered']} answered.",
        [b["bucket"] for b in first["histogram"]],
        {"handoffs": [float(b["handoffs"]) for b in first["histogram"]]},
    )
    intents = horizontal_bars(
        "top-intents",
        "Top intents and their confidence",
        "The shopper turns' most frequent top intents, with their mean confidence and the turns "
        f"below {LOW_CONFIDENCE}.",
        [
            (
                i["intent"],
                float(i["turns"]),
                f"mean {i['mean_confidence']:.2f} · {i['low_confidence_turns']} below "
                f"{LOW_CONFIDENCE}"
                if i["mean_confidence"] is not None
                else "no confidence",
            )
            for i in data["top_intents"]
        ],
        "shopper turns",
        "confidence",
    )
    sentiment_rows = data["sentiment_per_day"]
    sentiment = stacked_columns(
        "sentiment-per-day",
        "Shopper sentiment per day",
        "Share of each day's shopper turns labelled negative, neutral and positive.",
        days,
        {
            s: [
                (row[s] / total if (total := sum(row[x] for x in SENTIMENTS)) else 0.0)
                for row in sentiment_rows
            ]
            for s in SENTIMENTS
        },
        short,
        percent=True,
    )
    t = data["totals"]
    thumbs = horizontal_bars(
        "thumbs",
        "Shoppers' thumbs up and down",
        "Ratings of bot answers from the widget's thumbs.",
        [
            ("thumbs up", float(t["thumbs_up"]), _share(t["thumbs_up_rate"])),
            (
                "thumbs down",
                float(t["thumbs_down"]),
                _share(1 - t["thumbs_up_rate"]) if t["thumbs_up_rate"] is not None else "–",
            ),
        ],
        "ratings",
        "share",
    )
    weeks = data["corrections_per_week"]
    corrections = stacked_columns(
        "corrections-per-week",
        "Corrections per week",
        "Corrections agents proposed each week (weeks start on Monday), by their review status.",
        [w["week"] for w in weeks],
        {s: [float(w.get(s, 0)) for w in weeks] for s in STATUSES},
        [f"wk {w['week'][5:]}" for w in weeks],
    )
    # In pairs on a wide screen: the short bar charts side by side, the column charts together.
    return [per_day, rates, reasons, thumbs, intents, sentiment, response, corrections]


def _report(engine: Any, span: AnalyticsRange) -> tuple[AnalyticsReport, dict[str, Any]]:
    report = Analytics(engine).report(span)
    return report, report.to_dict()


async def api_analytics(request: Request) -> Response:
    """Every figure and series of the analytics page as JSON (``since``, ``until``,
    ``channel``)."""
    console = console_of(request)
    try:
        span = parse_range(request.query_params, console.clock().date())
    except BadParameter as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    _, data = await run_in_threadpool(_report, console.engine, span)
    return JSONResponse(data)


async def analytics_page(request: Request) -> Response:
    """The analytics page: key figures, then the charts, each with its numbers as a table."""
    console = console_of(request)
    session = current_session(request)
    try:
        span = parse_range(request.query_params, console.clock().date())
    except BadParameter as exc:
        return refuse(request, 400, str(exc))
    report, data = await run_in_threadpool(_report, console.engine, span)
    return console.templates.TemplateResponse(
        request,
        "analytics.html",
        {
            "agent": session.agent,
            "csrf_token": session.csrf_token,
            "range": data["range"],
            "figures": key_figures(data),
            "charts": charts(report, data),
            "page": "analytics",
        },
    )
