"""Price parsing: a source cell (``"$1,179.99"``, ``"$74.99 - $249.99"``, ``"1.234,56 €"``) → a float."""

from __future__ import annotations

import re
from collections.abc import Callable

from knowledge.catalog.text import short_text

__all__ = ["PRICE_PARSERS", "parse_price"]


_CURRENCY_SYMBOLS = "$€£¥₹"
# "$ 19 99 $39.95 ..." — Amazon's split-cents rendering of a sale price (19.99), list price after it.
_SPLIT_CENTS = re.compile(rf"^\s*[{_CURRENCY_SYMBOLS}]\s+(\d{{1,6}})\s+(\d{{2}})(?!\d)")
_NUMBER_DOT = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_NUMBER_COMMA = re.compile(r"-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")


def _parse_price_dot(text: str) -> float:
    """Parse prices written with a decimal point ("$1,179.99", "$74.99 - $249.99", "40", "₹ 899").

    Ranges and repeated renderings ("$6.94 $ 6 . 94") yield the first number, i.e. the lower bound.
    """
    split = _SPLIT_CENTS.match(text)
    if split:
        return float(f"{split.group(1)}.{split.group(2)}")
    match = _NUMBER_DOT.search(text)
    if not match:
        raise ValueError("no number found")
    return float(match.group(0).replace(",", ""))


def _parse_price_comma(text: str) -> float:
    """Parse prices written with a decimal comma ("1.234,56 €"); the first number wins."""
    match = _NUMBER_COMMA.search(text)
    if not match:
        raise ValueError("no number found")
    return float(match.group(0).replace(".", "").replace(",", "."))


PRICE_PARSERS: dict[str, Callable[[str], float]] = {
    "auto": _parse_price_dot,
    "decimal_point": _parse_price_dot,
    "decimal_comma": _parse_price_comma,
}
"""Price parsers by name (a mapping file names one with ``price_parser``)."""


def parse_price(text: str, parser: str = "auto") -> float:
    """Parse a price string into a non-negative float rounded to cents.

    Args:
        text: The source cell, e.g. ``"$28.91"``, ``"$74.99 - $249.99"`` (→ 74.99), ``"11745"``.
        parser: A key of ``PRICE_PARSERS``.

    Raises:
        ValueError: If ``parser`` is unknown, or ``text`` holds no price or a negative one.
    """
    if parser not in PRICE_PARSERS:
        raise ValueError(f"price_parser={parser!r} is unknown; use one of {sorted(PRICE_PARSERS)}.")
    cleaned = " ".join(text.replace("\xa0", " ").split())
    if not cleaned:
        raise ValueError("empty price")
    try:
        value = PRICE_PARSERS[parser](cleaned)
    except ValueError as exc:
        raise ValueError(f"unparseable price {short_text(cleaned)!r} ({exc})") from None
    if value < 0:
        raise ValueError(f"negative price {short_text(cleaned)!r}")
    return round(value, 2)
