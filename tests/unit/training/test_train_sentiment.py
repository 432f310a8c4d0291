"""``shopbot train-sentiment`` on the fixture: three-class and 0/1 evaluation files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.training.classifier_cli import error_of, tiny_run_metrics
from training.train_sentiment import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sentiment"
EVAL = FIXTURES / "eval.csv"


def test_cli_writes_metrics_for_each_eval_file(tmp_path: Path) -> None:
    out = tmp_path / "sentiment"
    metrics = tiny_run_metrics(
        main, FIXTURES / "train.csv", EVAL, out,
        "--extra-eval", str(FIXTURES / "eval_binary.csv"), "--latency-samples", "5",
    )  # fmt: skip
    assert 0.0 <= metrics["accuracy"] <= 1.0 and 0.0 <= metrics["macro_f1"] <= 1.0
    assert metrics["labels"] == ["negative", "neutral", "positive"]
    binary = metrics["evals"]["eval_binary"]
    assert binary["restricted_to"] == ["negative", "positive"]
    assert binary["label_counts"] == {"negative": 8, "positive": 8}
    assert (out / "confusion_matrix_eval.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "confusion_matrix_eval_binary.png").is_file()


def test_unknown_sentiment_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = error_of(main, tmp_path, "text,label\ngreat,positive\nawful,angry\n", EVAL, capsys)
    assert "label 'angry'" in err and "negative, neutral, positive or 0/1" in err


def test_single_class_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = error_of(main, tmp_path, "text,label\ngreat,1\nlovely,1\n", EVAL, capsys)
    assert "'positive' (2 rows)" in err
