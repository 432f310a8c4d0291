"""``shopbot train-intent`` end to end on the fixture, and its errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.train_intent import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nlu"
REQUIRED = ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision",
            "train_seconds", "latency_ms_p50")  # fmt: skip


def test_cli_writes_metrics_and_confusion_png(tmp_path: Path) -> None:
    out = tmp_path / "intent"
    code = main(
        [
            "--train", str(FIXTURES / "intent_train.csv"),
            "--eval", str(FIXTURES / "intent_test.csv"),
            "--oos-train", str(FIXTURES / "oos_train.csv"),
            "--out", str(out),
            "--preset", "tiny",
            "--device", "cpu",
            "--latency-samples", "10",
        ]
    )  # fmt: skip
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    for key in REQUIRED:
        assert isinstance(metrics[key], float), key
    for key in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["in_scope_accuracy"] >= 0.8
    assert metrics["latency_ms_p50"] > 0 and metrics["train_seconds"] > 0
    assert (out / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "label_map.json").is_file() and (out / "encoder" / "config.json").is_file()


def run_with(
    tmp_path: Path, train_text: str, capsys: pytest.CaptureFixture[str], *extra: str
) -> str:
    train = tmp_path / "train.csv"
    train.write_text(train_text, encoding="utf-8")
    code = main(
        ["--train", str(train), "--eval", str(FIXTURES / "intent_test.csv"),
         "--out", str(tmp_path / "out"), "--preset", "tiny", *extra]
    )  # fmt: skip
    assert code == 2
    return capsys.readouterr().err


def test_malformed_csv_quotes_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = run_with(tmp_path, "text,label\nhello,greet\ncancel my order, now,cancel_order\n", capsys)
    assert "line 3 has 3 fields" in err and "'cancel my order, now,cancel_order'" in err


def test_unknown_label_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = run_with(tmp_path, "text,intent\nhello,greet\nbye,goodbye\n", capsys)
    assert "no column 'label'" in err and "columns found: 'text', 'intent'" in err
    assert "--label-column" in err


def test_single_class_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = run_with(tmp_path, "text,label\nhello,greet\nhi,greet\n", capsys)
    assert "1 distinct label(s): 'greet' (2 rows)" in err and "at least 2" in err


def test_oos_rows_in_train(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = run_with(tmp_path, "text,label\nhello,greet\nbye,goodbye\nweather?,oos\n", capsys)
    assert "labelled 'oos'" in err and "--oos-train" in err
