"""``shopbot eval-shopper``'s out-of-scope numbers, on hand-checked predictions."""

from __future__ import annotations

import pytest

from training.eval_shopper import oos_numbers
from training.retrain import Example


def test_out_of_scope_recall_precision_and_in_scope_refusals() -> None:
    examples = [
        Example("weather?", "out_of_scope"),
        Example("tell me a joke", "out_of_scope"),
        Example("where is my order", "track_order"),
        Example("refund rules?", "check_refund_policy"),
        Example("hi", "greet"),
    ]
    predicted = ["out_of_scope", "greet", "nlu_fallback", "check_refund_policy", "greet"]
    numbers = oos_numbers(predicted, examples)
    assert numbers["oos_recall"] == pytest.approx(1 / 2)  # one of two refused
    assert numbers["oos_precision"] == pytest.approx(1 / 2)  # one of two refusals was right
    assert numbers["in_scope_refused"] == pytest.approx(1 / 3)
