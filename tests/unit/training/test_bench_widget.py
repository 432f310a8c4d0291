"""The Widget benchmark's pure parts: the questions, the table, the plot (no servers)."""

from __future__ import annotations

from pathlib import Path

from training.bench.run import SECTIONS
from training.bench.widget import (
    FALLBACK_QUESTIONS,
    PLOT_FILE,
    Measurements,
    WidgetTiming,
    _plot,
    bench_questions,
    section_from,
)

ROOT = Path(__file__).resolve().parents[3]


def test_the_section_is_registered() -> None:
    assert SECTIONS["widget"] == "training.bench.widget"


def test_questions_are_seeded_half_products_half_faq(tmp_path: Path) -> None:
    store = tmp_path / "var" / "store"
    store.mkdir(parents=True)
    products = [f'{{"name": "Kite number {i}, red - large"}}' for i in range(30)]
    (store / "catalog.jsonl").write_text("\n".join(products) + "\n", encoding="utf-8")
    faqs = [f'{{"question": "Policy question {i}?"}}' for i in range(5)]
    (store / "faq.jsonl").write_text("\n".join(faqs) + "\n", encoding="utf-8")
    first = bench_questions(tmp_path, 10)
    assert first == bench_questions(tmp_path, 10)  # deterministic
    assert len(first) == 10
    assert sum("Policy question" in q for q in first) == 5
    assert all("red" not in q for q in first)  # the name as a shopper types it
    assert len(bench_questions(tmp_path, 14)) == 14  # more FAQ questions than there are: cycled
    assert bench_questions(tmp_path / "nowhere", 3) == list(FALLBACK_QUESTIONS[:3])


def test_the_table_reports_both_channels_and_no_stream_as_not_available(tmp_path: Path) -> None:
    measured = Measurements(
        widget=[WidgetTiming(12.0, None, 900.0, 1), WidgetTiming(20.0, None, 1100.0, 2)],
        rest_ms=[850.0, 1000.0],
    )
    sizes = {"widget.js": 4000, "widget-app.js": 6000, "widget.css": 2000}
    section = section_from(measured, sizes, 2, "tiny")
    assert section.title == "Widget"
    assert "| widget: send → typing | 2 of 2 |" in section.markdown
    assert "| widget: send → first token | 0 of 2 | n/a (no generated answer) |" in section.markdown
    assert "| REST: request → reply | 2 of 2 |" in section.markdown
    assert "| loader `widget.js` | 3.9 | 30 | within |" in section.markdown
    assert section.numbers["lazy_gzip_bytes"] == 8000.0
    assert section.numbers["streamed_answers"] == 0.0
    _plot(measured, tmp_path / PLOT_FILE)
    assert (tmp_path / PLOT_FILE).read_bytes()[:4] == b"\x89PNG"
