"""The NLU benchmark section in quick mode: both pipelines train, parse and get reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.bench.nlu import run_section, sentiment_summary
from training.bench.report import BenchContext

ROOT = Path(__file__).resolve().parents[2]

# The section trains Rasa's DIET in this process: TensorFlow/Keras warn while they stage the
# training graph, and a warning turned into an error there aborts the training. Here warnings are
# shown, not raised (every other test keeps `filterwarnings = error`).
pytestmark = [pytest.mark.rasa, pytest.mark.filterwarnings("default")]


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
    assert "### Sentiment" in section.markdown


def test_sentiment_summary_reports_every_held_out_set(tmp_path: Path) -> None:
    model = tmp_path / "sentiment"
    model.mkdir()
    (model / "confusion_matrix_eval_alexa.png").write_bytes(b"\x89PNG fake")
    score = {"n": 10, "accuracy": 0.9, "macro_f1": 0.61, "label_counts": {"neutral": 2},
             "per_label_recall": {"neutral": 0.5}, "confusion_matrix": "confusion_matrix_eval_alexa.png"}  # fmt: skip
    metrics = {"evals": {"eval_alexa": score, "eval_shopper": {**score, "confusion_matrix": ""}},
               "preset": "demo", "n_train": 100, "train_seconds": 5.0, "device": "cpu"}  # fmt: skip
    (model / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    markdown, plots, numbers = sentiment_summary(model, out)
    assert "| eval_alexa | 10 | neutral 2 | 0.9 | 0.61 | >= 0.80 | neutral 0.50 |" in markdown
    assert "eval_shopper" in markdown and numbers["sentiment_eval_shopper_macro_f1"] == 0.61
    assert plots == ["sentiment_confusion_matrix_eval_alexa.png"] and (out / plots[0]).is_file()
    assert "No sentiment model" in sentiment_summary(None, out)[0]
