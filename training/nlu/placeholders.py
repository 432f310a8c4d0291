"""Bitext ``{{Placeholder}}`` filling: realistic, seeded values annotated as Rasa entities.

``{{Currency Symbol}}{{Refund Amount}}`` becomes one ``amount``; order numbers keep an optional
leading ``#`` inside the entity span ("#482913"), because Rasa's WhitespaceTokenizer keeps it as one
token (strip the ``#`` when filling the slot).
"""

from __future__ import annotations

import random
import re

from training.nlu.examples import EntitySpan
from training.nlu.rasa_annotations import build_annotated

#: Bitext placeholder name → Rasa entity.
PLACEHOLDER_ENTITIES: dict[str, str] = {
    "Order Number": "order_number",
    "Refund Amount": "amount",
    "Currency Symbol": "amount",
    "Person Name": "person_name",
    "Account Type": "account_type",
    "Account Category": "account_category",
    "Delivery City": "city",
    "Delivery Country": "country",
    "Invoice Number": "invoice_number",
}

# --- value pools for placeholders (small, realistic, deliberately varied) ---------------------
_FIRST_NAMES = (
    "Maria", "John", "Aisha", "Wei", "Carlos", "Emma", "Olusegun", "Priya", "Liam", "Sofia",
    "Hiroshi", "Fatima", "Noah", "Ana", "Mateo", "Chloe", "Dmitri", "Grace", "Omar", "Isabella",
    "Kwame", "Hannah", "Luca", "Mei", "Samuel", "Zara", "Jonas", "Leila", "Patrick", "Yuki",
)  # fmt: skip
_LAST_NAMES = (
    "Lopez", "Smith", "Khan", "Chen", "Garcia", "Johnson", "Adeyemi", "Patel", "O'Connor",
    "Rossi", "Tanaka", "Haddad", "Williams", "Silva", "Fernandez", "Martin", "Ivanov", "Lee",
    "Nguyen", "Brown", "Mensah", "Fischer", "Bianchi", "Wang", "Taylor", "Ali", "Schmidt",
    "Kowalski", "Murphy", "Sato",
)  # fmt: skip
_ACCOUNT_TYPES = (
    "premium", "gold", "platinum", "business", "free", "pro", "standard", "basic", "plus",
    "vip", "silver", "freemium",
)  # fmt: skip
_ACCOUNT_CATEGORIES = (
    "personal", "business", "family", "student", "corporate", "shared", "kids", "team",
)  # fmt: skip
_CITIES = (
    "New York", "Los Angeles", "Chicago", "Houston", "Toronto", "London", "Manchester",
    "Dublin", "Paris", "Berlin", "Madrid", "Barcelona", "Rome", "Amsterdam", "Sydney",
    "Melbourne", "Auckland", "Mumbai", "Singapore", "Tokyo", "Mexico City", "São Paulo",
    "Cape Town", "Austin", "Seattle", "Vancouver", "Lisbon", "Vienna", "Stockholm", "Warsaw",
)  # fmt: skip
_COUNTRIES = (
    "Canada", "Mexico", "United Kingdom", "UK", "Germany", "France", "Spain", "Italy",
    "Australia", "New Zealand", "Japan", "India", "Brazil", "Ireland", "Netherlands", "Sweden",
    "Poland", "South Africa", "Singapore", "Portugal", "Norway", "USA", "United States",
    "Switzerland", "Belgium",
)  # fmt: skip
#: Whole-dollar prices (also the price pool of catalog-generated examples).
PRICES = (5, 10, 15, 20, 25, 30, 35, 40, 50, 60, 75, 80, 100, 120, 150, 200, 250, 300, 500)
_CENTS = ("99", "49", "95", "00", "50", "25")

_PLACEHOLDER_RE = re.compile(r"\{\{([^{}]+)\}\}")
# `{{Currency Symbol}}{{Refund Amount}}` is one amount; `{{Refund Amount}} dollars` keeps its
# (often misspelt: "dollras", "doolars") currency word inside the amount span.
_FILL_RE = re.compile(
    r"(?P<money>\{\{Currency Symbol\}\}\s*\{\{Refund Amount\}\})"
    r"|\{\{Refund Amount\}\}(?P<unit>\s+d+o+l[a-z]*)?"
    r"|\{\{(?P<name>[^{}]+)\}\}"
)


def _capitalise_sometimes(value: str, rng: random.Random, p: float = 0.2) -> str:
    return value.capitalize() if rng.random() < p else value


def _amount_number(rng: random.Random) -> str:
    base = rng.choice((*PRICES[:-2], 35, 45, 65, 89, 129, 199))
    return f"{base - 1}.{rng.choice(_CENTS)}" if rng.random() < 0.55 else str(base)


def _placeholder_value(name: str, rng: random.Random) -> str:
    """A realistic value for one Bitext placeholder (raises for an unknown placeholder)."""
    if name == "Order Number":
        number = str(rng.randint(100000, 999999))
        return f"#{number}" if rng.random() < 0.25 else number
    if name == "Refund Amount":
        number = _amount_number(rng)
        return rng.choice((f"${number}", f"${number}", f"{number} dollars", f"€{number}", number))
    if name == "Person Name":
        first = rng.choice(_FIRST_NAMES)
        return first if rng.random() < 0.15 else f"{first} {rng.choice(_LAST_NAMES)}"
    if name == "Account Type":
        return _capitalise_sometimes(rng.choice(_ACCOUNT_TYPES), rng)
    if name == "Account Category":
        return _capitalise_sometimes(rng.choice(_ACCOUNT_CATEGORIES), rng)
    if name == "Delivery City":
        city = rng.choice(_CITIES)
        return city.lower() if rng.random() < 0.2 else city
    if name == "Delivery Country":
        return rng.choice(_COUNTRIES)
    if name == "Invoice Number":
        return f"INV-{rng.choice((2023, 2024, 2025))}-{rng.randint(0, 999999):06d}"
    if name == "Currency Symbol":
        return rng.choice(("$", "$", "€", "£"))
    raise ValueError(
        f"placeholder={{{{{name}}}}} is not a known Bitext placeholder; add it to "
        f"PLACEHOLDER_ENTITIES and _placeholder_value in training/nlu/placeholders.py."
    )


def clean_placeholders(text: str) -> str:
    """Replace every ``{{Placeholder}}`` with the name of its entity (the template skeleton).

    Args:
        text: A Bitext utterance, e.g. ``"cancel order {{Order Number}}"``.

    Returns:
        e.g. ``"cancel order order_number"``; unknown placeholders become ``"entity"``.
    """
    return _PLACEHOLDER_RE.sub(
        lambda m: f" {PLACEHOLDER_ENTITIES.get(m.group(1).strip(), 'entity')} ", text
    )


def fill_placeholders(text: str, rng: random.Random) -> tuple[str, tuple[EntitySpan, ...]]:
    """Replace Bitext placeholders with realistic values and annotate them as entities.

    ``{{Currency Symbol}}{{Refund Amount}}`` becomes one ``amount`` ("$49.99", "€120"), and a
    currency word after ``{{Refund Amount}}`` ("49.99 dollars") is kept inside the span. A
    placeholder glued to a word ("invoice{{Invoice Number}}") gets a space so that the entity
    aligns with tokens. The text is sanitized (see :func:`sanitize_text`).

    Args:
        text: A Bitext utterance with ``{{...}}`` placeholders.
        rng: The random source; seed it for reproducible values.

    Returns:
        The filled text and its entity spans, with ``text[start:end] == value`` for each.

    Raises:
        ValueError: If ``text`` holds a placeholder not in ``PLACEHOLDER_ENTITIES``.
    """
    text = re.sub(r"(?<=\w)\{\{", " {{", text)
    text = re.sub(r"\}\}(?=\w)", "}} ", text)
    pieces: list[tuple[str, str | None]] = []
    position = 0
    for match in _FILL_RE.finditer(text):
        pieces.append((text[position : match.start()], None))
        position = match.end()
        name = match.group("name")
        if match.group("money"):
            symbol = rng.choice(("$", "$", "$", "€", "£"))
            pieces.append((f"{symbol}{_amount_number(rng)}", "amount"))
        elif name is None:
            unit = match.group("unit")
            value = _amount_number(rng) + unit if unit else _placeholder_value("Refund Amount", rng)
            pieces.append((value, "amount"))
        elif name.strip() == "Currency Symbol":  # a lone symbol is not an amount
            pieces.append((_placeholder_value("Currency Symbol", rng), None))
        else:
            entity = PLACEHOLDER_ENTITIES.get(name.strip())
            value = _placeholder_value(name.strip(), rng)  # raises for unknown placeholders
            pieces.append((value, entity))
    pieces.append((text[position:], None))
    return build_annotated(pieces)
