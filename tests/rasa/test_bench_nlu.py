"""The NLU benchmark section in quick mode: both pipelines train, parse and get reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.bench.nlu import run_section
from training.bench.report import BenchContext

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.rasa


def test_quick_nlu_section(tmp_path: Path) -> None:
    ctx = BenchContext(out_dir=tmp_path, project_root=ROOT, shared_data=None, quick=True)
    section = run_section(ctx)
    assert section.title == "NLU"
    assert "DIET (Rasa default)" in section.markdown and "BERT (ShopBot)" in section.markdown
    for key in ("diet_accuracy", "bert_accuracy", "bert_oos_recall_matched", "bert_latency_ms_p50",
                "diet_train_seconds"):  # fmt: skip
        assert key in section.numbers
    assert section.numbers["bert_in_scope_top_accuracy"] >= 0.75
    for plot in section.plots:
        assert (tmp_path / plot).read_bytes()[:4] == b"\x89PNG"
