"""Percentiles for latency reports: the one place training, evaluation and benchmarks take them.

Every helper uses numpy's default ``linear`` interpolation, which is what each of the four copies
this module replaces used, so reported numbers did not move when they were folded here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def percentile(values: Sequence[float], q: float, *, empty: float = math.nan) -> float:
    """Return the ``q``-th percentile of ``values`` (linear interpolation), ``empty`` for none.

    Args:
        values: The sample.
        q: Percentile in [0, 100].
        empty: What to return when ``values`` is empty (NaN by default; reports that must stay
            numeric pass 0.0).
    """
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q must be between 0 and 100. Currently, q is {q}")
    if len(values) == 0:
        return empty
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def p50_p95(values: Sequence[float], *, empty: float = math.nan) -> tuple[float, float]:
    """Return ``(p50, p95)`` of ``values`` in their own unit (``empty`` twice for none)."""
    return percentile(values, 50, empty=empty), percentile(values, 95, empty=empty)


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float]:
    """Return ``{"p50": ..., "p95": ...}`` in milliseconds of durations given in seconds."""
    p50, p95 = p50_p95([s * 1000.0 for s in seconds])
    return {"p50": p50, "p95": p95}
