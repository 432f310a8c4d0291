"""The one percentile helper: numpy's linear interpolation, empty samples, milliseconds."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from training.stats import p50_p95, percentile, percentiles_ms


def test_percentile_is_numpys_linear_interpolation() -> None:
    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    for q in (0, 25, 50, 95, 99, 100):
        assert percentile(values, q) == float(np.percentile(values, q))
    assert percentile(np.asarray(values), 50) == 3.5  # arrays work too
    assert p50_p95(values) == (3.5, pytest.approx(7.95))


def test_empty_samples_give_nan_or_the_default() -> None:
    assert math.isnan(percentile([], 50))
    assert percentile([], 95, empty=0.0) == 0.0
    assert all(math.isnan(v) for v in p50_p95([]))
    assert all(math.isnan(v) for v in percentiles_ms([]).values())


def test_percentiles_ms_converts_seconds() -> None:
    assert percentiles_ms([0.001, 0.002, 0.003]) == {"p50": 2.0, "p95": pytest.approx(2.9)}


def test_percentile_rejects_q_out_of_range() -> None:
    with pytest.raises(
        ValueError, match=re.escape("q must be between 0 and 100. Currently, q is 101")
    ):
        percentile([1.0], 101)
