"""``shopbot train-sentiment`` on the fixture: three-class and 0/1 evaluation files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.train_sentiment import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sentiment"


def test_cli_writes_metrics_for_each_eval_file(tmp_path: Path) -> None:
    out = tmp_path / "sentiment"
    code = main(
        [
            "--train", str(FIXTURES / "train.csv"),
            "--eval", str(FIXTURES / "eval.csv"),
            "--extra-eval", str(FIXTURES / "eval_binary.csv"),
            "--out", str(out),
            "--preset", "tiny",
            "--device", "cpu",
            "--latency-samples", "5",
        ]
    )  # fmt: skip
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["accuracy"] <= 1.0 and 0.0 <= metrics["macro_f1"] <= 1.0
    assert metrics["labels"] == ["negative", "neutral", "positive"]
    binary = metrics["evals"]["eval_binary"]
    assert binary["restricted_to"] == ["negative", "positive"]
    assert binary["label_counts"] == {"negative": 8, "positive": 8}
    assert (out / "confusion_matrix_eval.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "confusion_matrix_eval_binary.png").is_file()


def test_unknown_sentiment_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = tmp_path / "train.csv"
    train.write_text("text,label\ngreat,positive\nawful,angry\n", encoding="utf-8")
    code = main(
        ["--train", str(train), "--eval", str(FIXTURES / "eval.csv"), "--out", str(tmp_path / "o")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "label 'angry'" in err and "negative, neutral, positive or 0/1" in err


def test_single_class_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = tmp_path / "train.csv"
    train.write_text("text,label\ngreat,1\nlovely,1\n", encoding="utf-8")
    code = main(
        ["--train", str(train), "--eval", str(FIXTURES / "eval.csv"), "--out", str(tmp_path / "o")]
    )
    assert code == 2
    assert "'positive' (2 rows)" in capsys.readouterr().err
