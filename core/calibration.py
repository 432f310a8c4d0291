"""Confidence calibration (temperature scaling) and the out-of-scope threshold.

Both are fitted on a held-out slice of the training data and saved with the model, so the
confidence a Rasa component reports, and the point where it says "out of scope", were chosen on
data the encoder did not train on.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize_scalar

logger = logging.getLogger(__name__)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Return row-wise softmax of ``logits / temperature``; (N, C) -> (N, C)."""
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Fit the temperature that minimises the negative log-likelihood (Guo et al., 2017).

    A weak log-normal prior centred on T = 1 (sigma 1, i.e. a penalty of (log T)^2 / 2N on the
    mean NLL) keeps a small, perfectly separated held-out slice from driving T towards 0, which
    would make every message, out-of-scope ones included, look certain. With thousands of
    held-out rows the prior is negligible. One parameter: a bounded scalar search over log T.

    Args:
        logits: Held-out logits, shape (N, C).
        labels: Held-out label indices, shape (N,).

    Returns:
        The temperature, in [0.05, 20]; 1.0 when there is nothing to fit on.
    """
    if len(labels) == 0:
        return 1.0
    logits = np.asarray(logits, dtype=np.float64)
    rows = np.arange(len(labels))

    def objective(log_t: float) -> float:
        scaled = logits / np.exp(log_t)
        top = scaled.max(axis=1)
        log_z = top + np.log(np.exp(scaled - top[:, None]).sum(axis=1))
        nll = float((log_z - scaled[rows, labels]).mean())
        return nll + log_t**2 / (2 * len(labels))

    result = minimize_scalar(objective, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """Return the expected calibration error of the top-1 confidence (equal-width bins)."""
    if len(labels) == 0:
        return 0.0
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def negative_log_likelihood(probs: np.ndarray, labels: np.ndarray) -> float:
    """Return the mean negative log-likelihood of the true labels."""
    if len(labels) == 0:
        return 0.0
    picked = probs[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(picked, 1e-12, 1.0)).mean())


@dataclass
class ThresholdChoice:
    """The out-of-scope threshold chosen on held-out data and what it costs there.

    Args:
        threshold: Calibrated top-1 confidence below which a message is called out of scope.
        max_accuracy_drop: The allowed in-scope accuracy drop it was chosen for.
        in_scope_accuracy: Held-out in-scope accuracy without the threshold.
        in_scope_accuracy_at_threshold: Held-out in-scope accuracy with it.
        in_scope_rejected: Fraction of held-out in-scope messages the threshold rejects.
        oos_recall: Held-out out-of-scope recall (NaN when the slice has no such examples).
        n_in_scope: Held-out in-scope examples it was chosen on.
    """

    threshold: float
    max_accuracy_drop: float
    in_scope_accuracy: float
    in_scope_accuracy_at_threshold: float
    in_scope_rejected: float
    oos_recall: float
    n_in_scope: int

    def as_dict(self) -> dict[str, float]:
        """Return the fields as a JSON-friendly dict."""
        return asdict(self)


def choose_oos_threshold(
    probs: np.ndarray,
    labels: np.ndarray,
    oos_index: int | None,
    max_accuracy_drop: float,
) -> ThresholdChoice:
    """Pick the highest confidence threshold that rejects at most ``max_accuracy_drop`` in-scope.

    A message is called out of scope when the top class is the trained out-of-scope class
    (``oos_index``) or its calibrated confidence is below the threshold. Raising the threshold
    catches more out-of-scope messages and rejects more in-scope ones. The threshold is the
    ``max_accuracy_drop`` quantile of the held-out in-scope confidences, so it rejects at most
    that share of in-scope messages, right or wrong: a bound on the accuracy it can cost that
    does not assume the rejected mistakes stay mistakes. (Counting only rejected *correct*
    predictions, the budget was spent on held-out data and cost twice as much on new
    paraphrases of the demo split.)

    Args:
        probs: Calibrated held-out probabilities, shape (N, C).
        labels: Held-out label indices, shape (N,).
        oos_index: Index of the trained out-of-scope class, or None.
        max_accuracy_drop: Share of held-out in-scope messages the threshold may reject
            (0.01 = 1 point of accuracy at most).

    Returns:
        The choice; threshold 0.0 when the held-out slice has no in-scope examples.
    """
    if not 0.0 <= max_accuracy_drop < 1.0:
        raise ValueError(
            f"max_accuracy_drop must be in [0, 1). Currently, max_accuracy_drop is "
            f"{max_accuracy_drop}; use e.g. 0.01 for one accuracy point."
        )
    preds = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    in_scope = labels != oos_index if oos_index is not None else np.ones(len(labels), dtype=bool)
    n_in = int(in_scope.sum())
    if n_in == 0:
        nan = float("nan")
        return ThresholdChoice(0.0, max_accuracy_drop, nan, nan, 0.0, nan, 0)
    correct = (preds == labels) & in_scope
    if oos_index is not None:
        correct &= preds != oos_index
    base = correct.sum() / n_in
    allowed = int(np.floor(max_accuracy_drop * n_in + 1e-9))
    in_conf = np.sort(confidence[in_scope])
    threshold = float(in_conf[allowed]) if allowed < n_in else 1.0
    accepted = confidence >= threshold
    acc_at = float((correct & accepted).sum() / n_in)
    rejected = float((in_scope & ~accepted).sum() / n_in)
    oos = ~in_scope
    if oos.any():
        said_oos = ~accepted | (preds == oos_index)
        oos_recall = float(said_oos[oos].mean())
    else:
        oos_recall = float("nan")
    choice = ThresholdChoice(
        threshold, max_accuracy_drop, float(base), acc_at, rejected, oos_recall, n_in
    )
    logger.info("Out-of-scope threshold chosen on held-out data: %s", choice)
    return choice
