"""What ``shopbot train-intent`` and ``shopbot train-sentiment`` share: their common ``--flags``,
the fit-save-quantise step and the handling of bad input.

Each ``*_field`` function returns a dataclass ``field`` with the same default and help text in
both commands, so a flag means one thing wherever it appears (see :mod:`training.cli_args`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import field
from typing import TYPE_CHECKING, Any, TypeVar

from core.encoder_config import PRESETS, TrainConfig
from training.labelled_csv import LabelledCsvError, LabelledData

if TYPE_CHECKING:
    from core.encoder_fit import FitResult

T = TypeVar("T")


def preset_field() -> Any:
    """``--preset``: the training budget (a key of ``core.encoder_config.PRESETS``)."""
    return field(
        default="demo",
        metadata={
            "help": "training budget: tiny (tests), demo (CPU minutes), full (GPU)",
            "choices": sorted(PRESETS),
        },
    )


def model_field() -> Any:
    """``--model``: the encoder to fine-tune (empty: the bundled MiniLM)."""
    return field(
        default="",
        metadata={"help": "local Hugging Face encoder directory (empty: bundled all-MiniLM-L6-v2)"},
    )


def device_field() -> Any:
    """``--device``: where to train and evaluate."""
    return field(default="auto", metadata={"help": "auto (cuda if available), cpu, cuda, cuda:N"})


def column_field(role: str) -> Any:
    """``--text-column`` / ``--label-column``: the CSV column holding ``role``."""
    return field(default=role, metadata={"help": f"name of the {role} column"})


def override_field(what: str) -> Any:
    """An optional override of one preset value (``None``: the preset's)."""
    return field(default=None, metadata={"help": f"override the preset's {what}"})


def seed_field() -> Any:
    """``--seed``."""
    return field(default=42, metadata={"help": "random seed"})


def class_weighting_field() -> Any:
    """``--class-weighting``: weight the loss by inverse class frequency (on by default)."""
    return field(default=True, metadata={"help": "weight the loss by inverse class frequency"})


def quantize_field() -> Any:
    """``--quantize``: int8 dynamic quantisation for evaluation and serving."""
    return field(
        default="auto",
        metadata={
            "help": "int8 dynamic quantisation for evaluation/serving: auto (CPU only), on, off",
            "choices": ["auto", "on", "off"],
        },
    )


def latency_samples_field() -> Any:
    """``--latency-samples``: messages timed one by one."""
    return field(default=200, metadata={"help": "messages timed one by one for latency"})


def fit_and_save(train: LabelledData, config: TrainConfig, out: str, quantize: str) -> FitResult:
    """Fine-tune on ``train``, save the classifier to ``out``, then quantise it for evaluation
    when ``quantize`` is ``on`` (or ``auto`` on a CPU)."""
    from core.encoder_fit import fit_classifier

    result = fit_classifier(train.texts, train.labels, config, train.groups, train.sha256())
    result.save(out)
    classifier = result.classifier
    if quantize == "on" or (quantize == "auto" and classifier.device.type == "cpu"):
        classifier.quantize()
    return result


def run_or_report(
    run: Callable[[T], dict[str, Any]], args: T, log: logging.Logger
) -> dict[str, Any] | None:
    """Return ``run(args)``'s metrics, or None after printing (stderr) and logging bad input."""
    try:
        return run(args)
    except (LabelledCsvError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        log.error("%s", exc)
        return None
