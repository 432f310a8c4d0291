"""Cell helpers shared by the catalog's parsers: read a source cell as clean text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "CAMEL_BOUNDARY",
    "cell",
    "cell_text",
    "collapse",
    "remove_phrases",
    "short_text",
    "squash",
]


def short_text(text: str, limit: int = 60) -> str:
    """Shorten ``text`` for messages."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def collapse(text: str) -> str:
    """Collapse whitespace (non-breaking spaces included)."""
    return " ".join(text.replace("\xa0", " ").split())


def squash(text: str) -> str:
    """Lower-case ``text`` without whitespace: how space-stripped exports compare to clean text."""
    return "".join(text.split()).lower()


def cell(record: Mapping[str, Any], column: str | None) -> Any:
    """Return the raw value of ``column`` (``None`` when the column is unmapped or absent)."""
    if column is None:
        return None
    return record.get(column)


def cell_text(value: Any) -> str:
    """Render a cell as collapsed text (lists are joined with ``" | "``)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " | ".join(cell_text(v) for v in value if cell_text(v))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return collapse(str(value))


def remove_phrases(text: str, phrases: Iterable[str]) -> str:
    """Remove each phrase, also in its space-stripped spelling."""
    for phrase in phrases:
        text = text.replace(phrase, " ")
        squashed = "".join(phrase.split())
        if squashed != phrase:
            text = text.replace(squashed, " ")
    return collapse(text)


CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
"""Where a space goes in camel case: ``"ProductDimensions"`` → ``"Product Dimensions"``."""
