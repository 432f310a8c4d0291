"""The Console benchmark's pure parts: its sizes, the report tables and numbers, the plot."""

from __future__ import annotations

import math
from pathlib import Path

from training.bench.console import (
    PLOT_FILE,
    BackendLoads,
    SendTimes,
    Sizes,
    _plot,
    section_from,
)
from training.bench.report import BenchContext
from training.bench.run import SECTIONS
from training.bench.seed_conversations import SeedReport

SEEDED = SeedReport(
    conversations=2000,
    events=33_000,
    handoffs={"waiting": 20, "claimed": 4, "returned": 27, "closed": 27, "left": 6},
    seconds=9.4,
)


def loads(backend: str, queue_ms: list[float]) -> BackendLoads:
    return BackendLoads(
        backend,
        SEEDED,
        ms={
            "queue": queue_ms,
            "list_first": [4.0, 5.0, 6.0],
            "list_deep": [5.0, 6.0, 7.0],
            "list_filtered": [6.0, 7.0, 8.0],
            "transcript": [8.0, 9.0],
        },
        failures={"transcript": 1},
        queue_entries=24,
        filtered_rows=11,
        search_rows={"refund": 50, "newsletter": 7},
    )


def test_the_section_is_registered() -> None:
    assert SECTIONS["console"] == "training.bench.console"


def test_quick_mode_shrinks_every_size(tmp_path: Path) -> None:
    full = Sizes.of(BenchContext(tmp_path, tmp_path, None))
    quick = Sizes.of(BenchContext(tmp_path, tmp_path, None, quick=True))
    assert full == Sizes(100_000, 200, 100)
    assert quick.conversations < full.conversations and quick.sends < full.sends


def test_the_section_reports_each_backend_against_the_target() -> None:
    sends = SendTimes(to_widget_ms=[100.0, 120.0, 140.0], post_ms=[90.0, 95.0, 99.0])
    sends.ask_to_queue_ms, sends.missed = 400.0, 1
    section = section_from(
        [loads("sqlite", [20.0, 30.0, 40.0]), loads("postgresql", [250.0, 280.0, 900.0])],
        sends,
        Sizes(2000, 3, 4),
        "tiny",
        ["A note."],
    )
    assert section.title == "Console" and section.plots == [PLOT_FILE]
    md = section.markdown
    assert "| SQLite | 2,000 | 33,000 | 20 / 4 / 60 | 9 | 24 |" in md
    assert "| SQLite | queue `GET /api/queue` | 3 of 3 | 30.0 | 39.0 | 300 | within |" in md
    assert "| PostgreSQL | queue `GET /api/queue` | 3 of 3 | 280.0 | 838.0 | 300 | OVER |" in md
    assert "| SQLite | one conversation's transcript | 2 of 3 | 8.5 | 8.9 | 300 | within |" in md
    assert "| SQLite | message search `q=`, newest page | 0 of 0 | nan | nan | 300 |  |" in md
    assert "| SQLite | analytics page `GET /analytics` (30 days) | 0 of 0 | nan | nan |  |  |" in md
    assert "| `refund` | 50 | 50 |" in md and "| `newsletter` | 7 | 7 |" in md
    filtered = "conversation list, confidence < 0.5 and handed off (11 rows)"
    assert f"| PostgreSQL | {filtered} | 3 of 3 | 7.0 | 7.9 | 300 | within |" in md
    assert "| `POST …/reply` → `agent` event on the widget stream | 3 of 4 | 120 | 138 |" in md
    assert md.endswith("A note.")
    numbers = section.numbers
    assert numbers["sqlite_queue_ms_p50"] == 30.0
    assert numbers["postgresql_list_deep_ms_p95"] == 6.9
    assert numbers["sqlite_queue_entries"] == 24 and numbers["sqlite_filtered_rows"] == 11
    assert numbers["sqlite_list_filtered_ms_p50"] == 7.0
    assert numbers["send_to_widget_ms_p50"] == 120.0 and numbers["sends_missed"] == 1
    assert numbers["conversations"] == 2000


def test_without_sends_the_numbers_stay_out_and_nothing_is_made_up() -> None:
    section = section_from([loads("sqlite", [])], None, Sizes(2000, 3, 4), "tiny")
    assert "send_to_widget_ms_p50" not in section.numbers
    assert math.isnan(section.numbers["sqlite_queue_ms_p50"])
    assert "| SQLite | queue `GET /api/queue` | 0 of 0 | nan | nan | 300 |  |" in section.markdown


def test_the_plot_is_a_png(tmp_path: Path) -> None:
    sends = SendTimes(to_widget_ms=[100.0, 120.0], post_ms=[90.0, 95.0])
    _plot([loads("sqlite", [20.0, 30.0])], sends, tmp_path / PLOT_FILE)
    assert (tmp_path / PLOT_FILE).read_bytes()[:4] == b"\x89PNG"
