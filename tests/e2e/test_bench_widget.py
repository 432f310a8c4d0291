"""The Widget benchmark section in quick mode, against the real servers with the tiny models."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.bench.report import BenchContext
from training.bench.widget import PLOT_FILE, run_section

pytestmark = pytest.mark.e2e


def test_quick_widget_section(tmp_path: Path, tiny_rasa_model: Path, project_root: Path) -> None:
    ctx = BenchContext(
        out_dir=tmp_path, project_root=project_root, shared_data=None, quick=True, preset="tiny"
    )
    section = run_section(ctx)
    assert section.title == "Widget", section.markdown
    for row in ("widget: send → typing", "widget: send → first token",
                "widget: send → complete answer", "REST: request → reply", "loader `widget.js`",
                "lazy part"):  # fmt: skip
        assert f"| {row}" in section.markdown
    assert "| widget: send → typing | 10 of 10 |" in section.markdown
    assert "| REST: request → reply | 10 of 10 |" in section.markdown
    assert section.numbers["questions"] == 10
    assert 0 < section.numbers["typing_ms_p50"] < section.numbers["widget_answer_ms_p50"]
    assert section.numbers["rest_answer_ms_p50"] > 0
    assert 0 < section.numbers["loader_gzip_bytes"] <= 30 * 1024
    assert (tmp_path / PLOT_FILE).read_bytes()[:4] == b"\x89PNG"
