"""Price parsing: store renderings, decimal commas, text without a price."""

from __future__ import annotations

import pytest

from knowledge.catalog.price import parse_price


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$28.91", 28.91),
        ("$1,179.99", 1179.99),
        ("$74.99 - $249.99", 74.99),  # a range: the lower bound
        ("$6.94 $ 6 . 94", 6.94),
        ("$ 19 99 $39.95 #listPriceLegalMessageText { margin-left: 4px }", 19.99),
        ("40", 40.0),
        ("₹ 11745", 11745.0),
    ],
)
def test_parse_price_handles_store_renderings(text: str, expected: float) -> None:
    assert parse_price(text) == pytest.approx(expected)


def test_parse_price_decimal_comma() -> None:
    assert parse_price("1.234,56 €", "decimal_comma") == pytest.approx(1234.56)


@pytest.mark.parametrize("text", ["Total price:", "", "call us"])
def test_parse_price_rejects_text_without_a_price(text: str) -> None:
    with pytest.raises(ValueError):
        parse_price(text)


def test_parse_price_unknown_parser_names_the_choices() -> None:
    with pytest.raises(ValueError, match=r"price_parser='roman'.*auto"):
        parse_price("$1", "roman")
