"""Calls of the classifier training commands (``train-intent``, ``train-sentiment``) in tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Main = Callable[[list[str]], int]


def files_argv(train: Path, eval_csv: Path, out: Path, *extra: str) -> list[str]:
    """``--train TRAIN --eval EVAL --out OUT`` followed by ``extra``."""
    return ["--train", str(train), "--eval", str(eval_csv), "--out", str(out), *extra]


def tiny_cpu_argv(train: Path, eval_csv: Path, out: Path, *extra: str) -> list[str]:
    """A full run on the ``tiny`` preset on the CPU."""
    return files_argv(train, eval_csv, out, "--preset", "tiny", "--device", "cpu", *extra)


def tiny_run_metrics(
    main: Main, train: Path, eval_csv: Path, out: Path, *extra: str
) -> dict[str, Any]:
    """Train on the ``tiny`` preset on the CPU; assert exit code 0 and return ``metrics.json``."""
    code = main(tiny_cpu_argv(train, eval_csv, out, *extra))
    assert code == 0
    metrics: dict[str, Any] = json.loads((out / "metrics.json").read_text())
    return metrics


def error_of(
    main: Main,
    tmp_path: Path,
    train_text: str,
    eval_csv: Path,
    capsys: pytest.CaptureFixture[str],
    *extra: str,
) -> str:
    """Run ``main`` on a training CSV holding ``train_text``; assert exit code 2, return stderr."""
    train = tmp_path / "train.csv"
    train.write_text(train_text, encoding="utf-8")
    code = main(files_argv(train, eval_csv, tmp_path / "out", *extra))
    assert code == 2
    return capsys.readouterr().err
