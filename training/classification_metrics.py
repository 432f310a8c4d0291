"""Metrics, per-message timing and confusion-matrix plots for the classifier commands.

Latency percentiles come from :mod:`training.stats`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score

logger = logging.getLogger(__name__)

OOS = "oos"
"""Canonical name of the out-of-scope class in reports."""


def accuracy_and_macro_f1(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """Return accuracy and macro-F1 averaged over the labels present in ``gold``."""
    labels = sorted(set(gold))
    return {
        "accuracy": float(np.mean([g == p for g, p in zip(gold, pred, strict=True)])),
        "macro_f1": float(
            f1_score(list(gold), list(pred), labels=labels, average="macro", zero_division=0)
        ),
    }


def intent_metrics(
    gold: Sequence[str],
    pred: Sequence[str],
    oos_labels: frozenset[str] = frozenset({OOS, "out_of_scope"}),
    top_in_scope: Sequence[str] | None = None,
) -> dict[str, float]:
    """Return intent metrics with every out-of-scope label folded into ``oos``.

    Args:
        gold: Gold labels (``oos``/``out_of_scope`` mark out-of-scope rows).
        pred: Predicted labels (the out-of-scope label when the model said so).
        oos_labels: Labels that mean out of scope, in gold and predictions.
        top_in_scope: Best in-scope label per row ignoring the out-of-scope decision, to report
            in-scope accuracy without the threshold.

    Returns:
        ``accuracy``, ``macro_f1`` (over the gold labels, ``oos`` included), ``in_scope_accuracy``
        and, when gold has out-of-scope rows, ``oos_recall`` and ``oos_precision``.
    """
    gold_c = [OOS if g in oos_labels else g for g in gold]
    pred_c = [OOS if p in oos_labels else p for p in pred]
    metrics = accuracy_and_macro_f1(gold_c, pred_c)
    in_scope = [i for i, g in enumerate(gold_c) if g != OOS]
    metrics["in_scope_accuracy"] = (
        float(np.mean([pred_c[i] == gold_c[i] for i in in_scope])) if in_scope else float("nan")
    )
    if top_in_scope is not None and in_scope:
        metrics["in_scope_accuracy_without_oos_threshold"] = float(
            np.mean([top_in_scope[i] == gold_c[i] for i in in_scope])
        )
    oos_rows = [i for i, g in enumerate(gold_c) if g == OOS]
    if oos_rows:
        said_oos = [i for i, p in enumerate(pred_c) if p == OOS]
        metrics["oos_recall"] = float(np.mean([pred_c[i] == OOS for i in oos_rows]))
        metrics["oos_precision"] = (
            float(np.mean([gold_c[i] == OOS for i in said_oos])) if said_oos else 0.0
        )
    return metrics


def time_per_message(
    fn: Callable[[str], object], texts: Sequence[str], limit: int = 200, warmup: int = 5
) -> list[float]:
    """Call ``fn`` on one text at a time and return each call's duration in seconds."""
    sample = list(texts[:limit])
    for text in sample[:warmup]:
        fn(text)
    durations = []
    for text in sample:
        start = time.perf_counter()
        fn(text)
        durations.append(time.perf_counter() - start)
    return durations


def plot_confusion_matrix(
    gold: Sequence[str], pred: Sequence[str], path: str | Path, title: str
) -> Path:
    """Save a row-normalised confusion matrix (gold rows, predicted columns) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted(set(gold) | set(pred))
    matrix = confusion_matrix(list(gold), list(pred), labels=labels).astype(float)
    normalised = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1.0)
    size = max(4.0, 0.32 * len(labels) + 2.0)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    image = ax.imshow(normalised, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=9)
    if len(labels) <= 12:
        for r in range(len(labels)):
            for c in range(len(labels)):
                if matrix[r, c]:
                    colour = "white" if normalised[r, c] > 0.5 else "black"
                    ax.text(
                        c, r, int(matrix[r, c]), ha="center", va="center", fontsize=7, color=colour
                    )
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
