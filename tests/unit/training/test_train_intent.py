"""``shopbot train-intent`` end to end on the fixture, and its errors on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.training.classifier_cli import error_of, tiny_run_metrics
from training.train_intent import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nlu"
REQUIRED = ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision",
            "train_seconds", "latency_ms_p50")  # fmt: skip


def test_cli_writes_metrics_and_confusion_png(tmp_path: Path) -> None:
    out = tmp_path / "intent"
    metrics = tiny_run_metrics(
        main, FIXTURES / "intent_train.csv", FIXTURES / "intent_test.csv", out,
        "--oos-train", str(FIXTURES / "oos_train.csv"), "--latency-samples", "10",
    )  # fmt: skip
    for key in REQUIRED:
        assert isinstance(metrics[key], float), key
    for key in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["in_scope_accuracy"] >= 0.8
    assert metrics["latency_ms_p50"] > 0 and metrics["train_seconds"] > 0
    assert (out / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "label_map.json").is_file() and (out / "encoder" / "config.json").is_file()


@pytest.mark.parametrize(
    ("train_text", "expected"),
    [
        pytest.param(
            "text,label\nhello,greet\ncancel my order, now,cancel_order\n",
            ["line 3 has 3 fields", "'cancel my order, now,cancel_order'"],
            id="malformed_csv_quotes_the_line",
        ),
        pytest.param(
            "text,intent\nhello,greet\nbye,goodbye\n",
            ["no column 'label'", "columns found: 'text', 'intent'", "--label-column"],
            id="unknown_label_column",
        ),
        pytest.param(
            "text,label\nhello,greet\nhi,greet\n",
            ["1 distinct label(s): 'greet' (2 rows)", "at least 2"],
            id="single_class_file",
        ),
        pytest.param(
            "text,label\nhello,greet\nbye,goodbye\nweather?,oos\n",
            ["labelled 'oos'", "--oos-train"],
            id="oos_rows_in_train",
        ),
    ],
)
def test_bad_training_data_is_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], train_text: str, expected: list[str]
) -> None:
    err = error_of(
        main, tmp_path, train_text, FIXTURES / "intent_test.csv", capsys, "--preset", "tiny"
    )
    for part in expected:
        assert part in err
