"""Tests for training/nlu/placeholders.py: filled values, entity spans, template skeletons."""

from __future__ import annotations

import random
import re

import pytest

from tests.unit.training.nlu.nlu_helpers import assert_spans
from training.nlu.placeholders import clean_placeholders, fill_placeholders


@pytest.mark.parametrize(
    ("raw", "entities"),
    [
        ("i need help cancelling purchase {{Order Number}}", ["order_number"]),
        ("I paid {{Currency Symbol}}{{Refund Amount}} for this item, help me", ["amount"]),
        ("I am waiting for a rebate of {{Refund Amount}} doolars", ["amount"]),
        ("show me invoice{{Invoice Number}}", ["invoice_number"]),
        ("is it possible to order from {{Delivery City}}?", ["city"]),
        ("do you ship to {{Delivery Country}}?", ["country"]),
        ("send me the bill from {{Person Name}}, please", ["person_name"]),
        ("switch to the {{Account Type}} account", ["account_type"]),
        ("open a {{Account Category}} account", ["account_category"]),
        ("order {{Order Number}} from {{Delivery City}}", ["order_number", "city"]),
    ],
)
def test_fill_placeholders_spans_match_values(raw: str, entities: list[str]) -> None:
    for seed in range(20):
        text, spans = fill_placeholders(raw, random.Random(seed))
        assert "{" not in text and "}" not in text
        assert_spans(text, spans)
        assert [s.entity for s in spans] == entities


def test_fill_placeholders_value_shapes() -> None:
    orders = [
        fill_placeholders("track {{Order Number}}", random.Random(i))[1][0] for i in range(200)
    ]
    assert all(re.fullmatch(r"#?\d{6}", s.value) for s in orders)
    assert any(s.value.startswith("#") for s in orders) and any(
        s.value[0].isdigit() for s in orders
    )
    text, spans = fill_placeholders(
        "refund of {{Currency Symbol}}{{Refund Amount}} now", random.Random(1)
    )
    assert len(spans) == 1 and re.fullmatch(r"[$€£]\d+(\.\d\d)?", spans[0].value), text
    text, spans = fill_placeholders("rebate of {{Refund Amount}} dollars", random.Random(1))
    assert spans[0].value.endswith("dollars") and text.endswith(spans[0].value)
    _, spans = fill_placeholders("my invoice {{Invoice Number}}", random.Random(1))
    assert re.fullmatch(r"INV-20\d\d-\d{6}", spans[0].value)


def test_fill_placeholders_unknown_placeholder_names_it() -> None:
    with pytest.raises(ValueError, match=r"\{\{Coupon Code\}\}.*PLACEHOLDER_ENTITIES"):
        fill_placeholders("use {{Coupon Code}}", random.Random(0))


def test_clean_placeholders_gives_entity_names() -> None:
    assert clean_placeholders("cancel order {{Order Number}}").split() == [
        "cancel",
        "order",
        "order_number",
    ]
