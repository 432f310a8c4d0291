"""The Console benchmark section in quick mode on SQLite: 2,000 seeded conversations behind the
real console, and agent replies through the real Rasa + action servers (tiny models) to a widget."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.bench.console import PLOT_FILE, run_console_section
from training.bench.report import BenchContext

pytestmark = pytest.mark.e2e


def test_quick_console_section_on_sqlite(
    tmp_path: Path, tiny_rasa_model: Path, project_root: Path
) -> None:
    ctx = BenchContext(
        out_dir=tmp_path, project_root=project_root, shared_data=None, quick=True, preset="tiny"
    )
    section = run_console_section(ctx, ["sqlite"])
    assert section.title == "Console", section.markdown
    md = section.markdown
    assert "| SQLite | 2,000 |" in md and "| 20 / 4 / 60 |" in md
    for row in ("queue `GET /api/queue`", "conversation list, newest page",
                "conversation list, page 90% deep", "one conversation's transcript",
                "message search `q=`, newest page", "message search `q=` and handed off",
                "analytics page `GET /analytics` (30 days)",
                "analytics `GET /api/analytics`, 90 days"):  # fmt: skip
        assert f"| SQLite | {row} | 30 of 30 |" in md
    assert "| `refund` | 50 |" in md  # a common word fills the first page
    rows = int(section.numbers["sqlite_filtered_rows"])
    filtered = f"conversation list, confidence < 0.5 and handed off ({rows} rows)"
    assert 0 < rows <= 50 and f"| SQLite | {filtered} | 30 of 30 |" in md
    assert "| `POST …/reply` → `agent` event on the widget stream | 20 of 20 |" in md
    numbers = section.numbers
    assert numbers["conversations"] == 2000
    assert numbers["sqlite_queue_entries"] == 24  # 20 waiting + 4 claimed
    for key in ("queue", "list_first", "list_deep", "list_filtered", "transcript", "search",
                "search_filtered", "analytics_page", "analytics_90d"):  # fmt: skip
        assert 0 < numbers[f"sqlite_{key}_ms_p50"] <= numbers[f"sqlite_{key}_ms_p95"]
    assert numbers["sends"] == 20 and numbers["sends_missed"] == 0
    assert 0 < numbers["send_to_widget_ms_p50"] <= numbers["send_to_widget_ms_p95"]
    assert numbers["ask_to_queue_ms"] > 0
    assert (tmp_path / PLOT_FILE).read_bytes()[:4] == b"\x89PNG"
