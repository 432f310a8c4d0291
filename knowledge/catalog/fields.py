"""Product fields read from a source record: specs, description, category path and image.

Each reader follows a ``ColumnMapping``: which columns to read and how to clean them (boilerplate
phrases, spaces an export stripped, placeholder images).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from knowledge.catalog.mappings import ColumnMapping
from knowledge.catalog.text import CAMEL_BOUNDARY, cell, cell_text, collapse, remove_phrases, squash

__all__ = ["extract_category", "extract_description", "extract_image", "extract_specs"]


_KNOWN_SPEC_KEYS = {
    squash(k): k
    for k in (
        "ASIN",
        "UPC",
        "Batteries",
        "Brand",
        "California Residents",
        "Color",
        "Date First Available",
        "Date First Listed on Amazon",
        "Department",
        "Discontinued by Manufacturer",
        "Domestic Shipping",
        "International Shipping",
        "Item Model Number",
        "Item Weight",
        "Manufacturer",
        "Manufacturer Recommended Age",
        "Material",
        "Media",
        "Package Dimensions",
        "Pricing",
        "Product Dimensions",
        "Release Date",
        "Shipping Advisory",
        "Shipping Information",
        "Shipping Weight",
        "Size",
    )
}


def _readable_key(key: str) -> str:
    """Readable spec key: known keys by their squashed spelling, else camel-case split.

    ``"ProductDimensions"`` → ``"Product Dimensions"``, ``"Itemmodelnumber"`` → ``"Item Model Number"``.
    """
    key = collapse(key).strip(" :")
    known = _KNOWN_SPEC_KEYS.get(squash(key))
    if known:
        return known
    if " " not in key:
        key = CAMEL_BOUNDARY.sub(" ", key)
    return key[:1].upper() + key[1:]


_UNITS = (
    "inches|inch|ounces|ounce|pounds|pound|lbs|years|year|months|month|grams|gram|kilograms|kg|"
    "feet|foot|cm|mm|ml|liters|pieces|pcs"
)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_VALUE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<=\d)x(?=\d)"), " x "),
    (re.compile(rf"(?<=\d)({_UNITS})\b|(?<=\d)({_UNITS})(?=[A-Z(\-;,]|and)"), r" \1\2"),
    (re.compile(r"(?<=[a-z])and up\b|andup\b"), " and up"),
    (re.compile(rf"\b({_MONTHS})(\d{{1,2}}),\s?(\d{{4}})"), r"\1 \2, \3"),
    (re.compile(r"^(\d+)([A-Za-z][A-Za-z0-9]*?) ?batteries required"), r"\1 \2 batteries required"),
    (re.compile(r"\.\((included)\)"), r". (\1)"),
    (re.compile(r"(?<=\S)-(?=\d+ (?:years|months))"), " - "),
)


_IDENTIFIER_KEYS = {"ASIN", "UPC", "Item Model Number", "Model Number", "SKU"}


def _readable_value(key: str, value: str, mapping: ColumnMapping) -> str:
    """Clean a spec value and restore spaces an export stripped (units, dates, known phrases).

    Identifier values (ASIN, model numbers) are only trimmed: unit rules would break "5KG12".
    """
    if key in _IDENTIFIER_KEYS:
        return collapse(value).strip(" :;")
    value = remove_phrases(value, mapping.drop_phrases)
    for phrase in mapping.spec_phrases:
        squashed = "".join(phrase.split())
        if squashed != phrase and squashed in value:
            value = value.replace(squashed, f" {phrase} ")
    value = collapse(value)
    for pattern, repl in _VALUE_RULES:
        value = pattern.sub(repl, value)
    return collapse(value).strip(" :;")


def _parse_specs(text: str, mapping: ColumnMapping) -> dict[str, str]:
    """Parse a ``"Key:Value|Key:Value"`` blob; parts without a separator (sales ranks) are dropped."""
    specs: dict[str, str] = {}
    for part in text.split(mapping.spec_pair_separator):
        if mapping.spec_key_value_separator not in part:
            continue
        raw_key, raw_value = part.split(mapping.spec_key_value_separator, 1)
        key = _readable_key(raw_key)
        value = _readable_value(key, raw_value, mapping)
        if key and value and key not in specs:
            specs[key] = value
    return specs


def extract_specs(record: Mapping[str, Any], mapping: ColumnMapping) -> dict[str, str]:
    """Collect specs from blob columns, then plain columns for keys still missing, minus noise."""
    specs: dict[str, str] = {}
    for column in mapping.spec_columns:
        value = cell(record, column)
        if isinstance(value, dict):
            specs.update(
                {_readable_key(str(k)): cell_text(v) for k, v in value.items() if cell_text(v)}
            )
        elif value:
            specs.update(_parse_specs(str(value), mapping))
    for column, key in mapping.extra_spec_columns.items():
        value = cell_text(cell(record, column))
        if value:
            specs.setdefault(key, value)
    drop = {squash(k) for k in mapping.drop_spec_keys}
    return {k: v for k, v in specs.items() if squash(k) not in drop and v.strip("-– ")}


_BULLET_JUNK = re.compile(r"^[\s✅✔☑•·*\-–—]+|[【】]")
_WEIGHT_ONLY = re.compile(
    r"[\d.,]+\s*(?:ounces|ounce|pounds|pound|lbs|oz|grams|kg|g)", re.IGNORECASE
)


def extract_description(record: Mapping[str, Any], mapping: ColumnMapping) -> str:
    """First non-empty description column, split into bullets, cleaned and de-duplicated."""
    for column in mapping.description_columns:
        value = cell(record, column)
        if value is None:
            continue
        pieces = [cell_text(v) for v in value] if isinstance(value, list) else [str(value)]
        bullets: list[str] = []
        for piece in pieces:
            parts = piece.split(mapping.bullet_separator) if mapping.bullet_separator else [piece]
            for part in parts:
                cleaned = _BULLET_JUNK.sub(" ", remove_phrases(part, mapping.drop_phrases))
                cleaned = collapse(cleaned)
                # A bullet reduced to a weight ("13.4 ounces") carries no prose.
                if cleaned and not _WEIGHT_ONLY.fullmatch(cleaned) and cleaned not in bullets:
                    bullets.append(cleaned)
        if bullets:
            return "\n".join(bullets)
    return ""


def extract_category(record: Mapping[str, Any], mapping: ColumnMapping) -> tuple[str, ...]:
    """Category path from ``category_columns``, root first, without repeated segments."""
    path: list[str] = []
    for column in mapping.category_columns:
        value = cell(record, column)
        parts = (
            [cell_text(v) for v in value]
            if isinstance(value, list)
            else cell_text(value).split(mapping.category_separator)
        )
        for part in parts:
            part = collapse(part)
            if part and part not in path:
                path.append(part)
    return tuple(path)


def extract_image(record: Mapping[str, Any], mapping: ColumnMapping) -> str:
    """The first image URL that is not a placeholder."""
    value = cell(record, mapping.image_column)
    if value is None:
        return ""
    if isinstance(value, list):
        candidates = [cell_text(v) for v in value]
    else:
        text = str(value).strip()
        candidates = text.split(mapping.image_separator) if mapping.image_separator else [text]
    for candidate in candidates:
        candidate = candidate.strip()
        if candidate and not any(marker in candidate for marker in mapping.ignore_images):
            return candidate
    return ""
