"""The Telegram benchmark section in quick mode, against the real servers with the tiny models."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.bench.report import BenchContext
from training.bench.telegram import run_section

pytestmark = pytest.mark.e2e


def test_quick_telegram_section(tmp_path: Path, tiny_rasa_model: Path, project_root: Path) -> None:
    ctx = BenchContext(
        out_dir=tmp_path, project_root=project_root, shared_data=None, quick=True, preset="tiny"
    )
    section = run_section(ctx)
    assert section.title == "Telegram", section.markdown
    for row in ("Telegram: update → webhook acknowledged", "Telegram: update → first Bot API call",
                "Telegram: update → final reply", "REST: request → reply (same questions)"):  # fmt: skip
        assert f"| {row} | 10 of 10 |" in section.markdown
    numbers = section.numbers
    assert (
        0 < numbers["ack_ms_p50"] <= numbers["first_call_ms_p50"] <= numbers["final_reply_ms_p50"]
    )
    assert numbers["rest_answer_ms_p50"] > 0
