"""Temperature scaling and the out-of-scope threshold on synthetic held-out data."""

from __future__ import annotations

import numpy as np
import pytest

from core.calibration import (
    choose_oos_threshold,
    expected_calibration_error,
    fit_temperature,
    softmax,
)


def synthetic(n: int = 2000, classes: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels drawn from softmax(logits): a perfectly calibrated model (T = 1)."""
    rng = np.random.default_rng(seed)
    true_logits = rng.normal(0, 2.0, size=(n, classes))
    cumulative = softmax(true_logits).cumsum(axis=1)  # (N, C)
    labels = (rng.random((n, 1)) > cumulative).sum(axis=1)
    return true_logits, np.minimum(labels, classes - 1)


def test_fit_temperature_recovers_overconfidence() -> None:
    logits, labels = synthetic()
    temperature = fit_temperature(logits * 3.0, labels)
    assert temperature == pytest.approx(3.0, rel=0.15)
    before = expected_calibration_error(softmax(logits * 3.0), labels)
    after = expected_calibration_error(softmax(logits * 3.0, temperature), labels)
    assert after < before


def test_fit_temperature_stays_sane_on_a_separable_slice() -> None:
    logits = np.array([[8.0, 0.0], [0.0, 8.0], [9.0, 1.0]])
    temperature = fit_temperature(logits, np.array([0, 1, 0]))
    assert 0.05 < temperature < 1.0
    assert fit_temperature(np.zeros((0, 2)), np.zeros(0, dtype=int)) == 1.0


def test_threshold_respects_the_accuracy_budget() -> None:
    logits, labels = synthetic(classes=4)
    probs = softmax(logits * 2)
    choice = choose_oos_threshold(probs, labels, None, 0.01)
    assert choice.in_scope_accuracy - choice.in_scope_accuracy_at_threshold <= 0.01 + 1e-9
    looser = choose_oos_threshold(probs, labels, None, 0.05)
    assert looser.threshold >= choice.threshold
    assert looser.in_scope_rejected >= choice.in_scope_rejected


def test_threshold_with_trained_oos_class() -> None:
    # Class 2 is the trained out-of-scope class: two in-scope rows, two out-of-scope rows.
    probs = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.1, 0.7], [0.5, 0.1, 0.4]])
    labels = np.array([0, 1, 2, 2])
    choice = choose_oos_threshold(probs, labels, 2, 0.0)
    assert choice.threshold == pytest.approx(0.8)
    assert choice.in_scope_accuracy_at_threshold == 1.0
    assert choice.oos_recall == 1.0  # row 3: top is in-scope at 0.5 < 0.8


def test_threshold_rejects_bad_budget() -> None:
    with pytest.raises(ValueError, match=r"max_accuracy_drop is 1\.5"):
        choose_oos_threshold(np.ones((1, 2)) / 2, np.array([0]), None, 1.5)
