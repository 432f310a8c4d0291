"""Template placeholders in a store's FAQ ("call us at [phone number]") never reach a shopper.

Public FAQ templates, the demo's included, leave blanks such as ``[phone number]``,
``[email address]`` or ``[working hours]`` for the store to fill. At answer time a passage's
placeholders are filled from the store's settings (``SHOPBOT_SUPPORT_PHONE`` / ``_EMAIL`` /
``_HOURS``); a passage with a blank the settings cannot fill is withheld from retrieval, so the
bot answers from another source or says it does not know, and never shows a blank as a fact.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping

from knowledge.types import Filters, Hit, Retriever

logger = logging.getLogger(__name__)

__all__ = ["PLACEHOLDER_RE", "PlaceholderFilter", "fill_placeholders"]

PLACEHOLDER_RE = re.compile(r"\[(?P<name>[a-z][a-z ]{1,40}[a-z])\]", re.IGNORECASE)
"""A blank in brackets: lower-case words (citations are ``[1]``, ``[S1]``, ``[P:…]``)."""

_KINDS = (
    ("phone", ("phone", "telephone")),
    ("email", ("email", "e-mail")),
    ("hours", ("hours", "times")),
)


def _kind(name: str) -> str | None:
    words = name.lower().split()
    for kind, keys in _KINDS:
        if any(w in keys for w in words):
            return kind
    return None


def fill_placeholders(text: str, values: Mapping[str, str]) -> str | None:
    """``text`` with every blank filled from ``values`` (keys ``phone``, ``email``, ``hours``),
    or None when a blank has no value (the text must then not be shown)."""
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        kind = _kind(match.group("name"))
        value = values.get(kind or "", "").strip()
        if not value:
            missing.append(match.group(0))
            return match.group(0)
        return value

    filled = PLACEHOLDER_RE.sub(fill, text)
    return None if missing else filled


class PlaceholderFilter:
    """A retriever whose hits have their blanks filled, or are dropped when they cannot be.

    Args:
        inner: The retriever to wrap.
        values: ``phone``, ``email``, ``hours`` from the store's settings (empty = unknown).
    """

    def __init__(self, inner: Retriever, values: Mapping[str, str]) -> None:
        self.inner = inner
        self.values = dict(values)

    def search(self, query: str, top_k: int = 5, filters: Filters | None = None) -> list[Hit]:
        """The inner hits, filled; withheld hits are replaced from further down the ranking."""
        hits = self.inner.search(query, top_k, filters)
        out = self._filled(hits)
        if len(out) < len(hits):  # something was withheld: refill from further down
            out = self._filled(self.inner.search(query, top_k * 2, filters))
        return out[:top_k]

    def shows(self, text: str) -> bool:
        """Whether a passage with ``text`` can be shown (it has no blank the settings leave
        empty)."""
        return not PLACEHOLDER_RE.search(text) or fill_placeholders(text, self.values) is not None

    def _filled(self, hits: list[Hit]) -> list[Hit]:
        out: list[Hit] = []
        for hit in hits:
            passage = hit.passage
            if not PLACEHOLDER_RE.search(passage.text):
                out.append(hit)
                continue
            text = fill_placeholders(passage.text, self.values)
            if text is None:
                logger.info("Withheld %s: a blank the store's settings do not fill", passage.id)
                continue
            out.append(dataclasses.replace(hit, passage=dataclasses.replace(passage, text=text)))
        return out
