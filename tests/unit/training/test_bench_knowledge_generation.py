"""The "Knowledge generation" benchmark section runs end to end in quick mode."""

from __future__ import annotations

from pathlib import Path

from training.bench.knowledge_generation import PLOT_FILE, TITLE, run_section
from training.bench.report import BenchContext

ROOT = Path(__file__).resolve().parents[2].parent


def test_quick_section(tmp_path: Path) -> None:
    ctx = BenchContext(out_dir=tmp_path, project_root=ROOT, shared_data=None, quick=True)
    section = run_section(ctx)
    assert section.title == TITLE
    assert section.plots == [PLOT_FILE]
    assert (tmp_path / PLOT_FILE).stat().st_size > 0
    assert "decode tokens/s" in section.markdown and "| total |" in section.markdown
    assert section.numbers["generation_tokens_per_s_cpu"] > 0
    assert 0 < section.numbers["answer_latency_ms_p50"] <= section.numbers["answer_latency_ms_p95"]
