"""Shopper-facing text of an answer: citation markers, the ``Sources:`` line, a concise passage."""

from __future__ import annotations

import re
from collections.abc import Sequence

from knowledge.prompt import (
    CITATION_TAG_RE,
    category_path,
    format_price,
    normalize_tag,
    source_body,
    split_sentences,
)
from knowledge.types import Citation, Passage

__all__ = ["citation_for", "render_passage", "render_reply"]

_WORD_RE = re.compile(r"[a-z0-9]+")


def citation_for(passage: Passage) -> Citation:
    """The citation of a passage (URL from the catalog metadata when there is one)."""
    return Citation(
        doc_id=passage.doc_id,
        kind=passage.kind,
        title=passage.title,
        url=str(passage.metadata.get("url") or ""),
    )


def render_reply(text: str, citations: Sequence[Citation], markers: dict[str, int]) -> str:
    """Replace citation tags with ``[1]``-style markers and append a ``Sources:`` line.

    Args:
        text: The answer with the generator's tags (``[S1]``).
        citations: The cited documents, in marker order (empty: no ``Sources:`` line).
        markers: Normalised tag (see ``knowledge.prompt.normalize_tag``) → marker number; tags
            not in it are dropped.
    """

    def marker(match: re.Match[str]) -> str:
        number = markers.get(normalize_tag(match.group(1)))
        return f"[{number}]" if number else ""

    body = CITATION_TAG_RE.sub(marker, text)
    body = re.sub(r"\s+([.,;!?])", r"\1", body).strip()
    if not citations:
        return body
    sources = "; ".join(
        f"[{i}] {c.title}" + (f" ({c.url})" if c.url else "") for i, c in enumerate(citations, 1)
    )
    return f"{body}\n\nSources: {sources}"


def render_passage(group: Sequence[Passage], question: str = "", max_chars: int = 360) -> str:
    """A concise, shopper-facing rendering of one document's passages (no 2 kB blobs).

    Products: name — price, availability; brand; category; a few specs (those the question names
    first); the first sentence of the description. FAQ entries: the store's answer.
    Instruction-like sentences are never included.
    """
    first = group[0]
    if first.kind == "faq":
        body = source_body(first)
        return _cut_sentences(body, max_chars)
    meta = first.metadata
    head = first.title
    facts: list[str] = []
    if isinstance(meta.get("price"), (int, float)):
        facts.append(format_price(float(meta["price"]), str(meta.get("currency") or "USD")))
    if "in_stock" in meta:
        facts.append("in stock" if meta["in_stock"] else "out of stock")
    lines = [f"{head} — {', '.join(facts)}." if facts else f"{head}."]
    if meta.get("brand"):
        lines.append(f"Brand: {meta['brand']}.")
    category = category_path(meta.get("category"))
    if category:
        lines.append(f"Category: {category}.")
    # The passages come in retrieval order: a description chunk may rank above the header that
    # holds the specs, so look through all of them for each part.
    spec_line = sentence = ""
    for passage in group:
        body = source_body(passage)
        specs = re.search(r"^Specs:\s*(.+)$", body, re.MULTILINE)
        if specs and not spec_line:
            spec_line = _cut_items(specs.group(1), 160, question) + "."
        if not sentence and (
            passage.metadata.get("section") == "description"
            or (passage.kind == "product" and "Price:" not in passage.text)
        ):
            first_long = next((s for s in split_sentences(body) if len(s.split()) >= 5), "")
            sentence = _cut_sentences(first_long, 200) if first_long else ""
    lines += [part for part in (spec_line, sentence) if part]
    return " ".join(lines)


def _cut_sentences(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    out = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if out and len(out) + len(sentence) + 1 > max_chars:
            break
        out = f"{out} {sentence}".strip()
    if len(out) > max_chars:
        out = out[:max_chars].rsplit(" ", 1)[0] + "…"
    return out


# Shoppers' words for catalog spec labels ("how big is it" → "Product Dimensions").
_SPEC_WORDS = {
    "size": "dimensions",
    "big": "dimensions",
    "large": "dimensions",
    "measure": "dimensions",
    "measurements": "dimensions",
    "heavy": "weight",
    "weigh": "weight",
    "weighs": "weight",
    "old": "age",
    "ages": "age",
}


def _cut_items(text: str, max_chars: int, question: str = "") -> str:
    """The first ``;``-separated items that fit ``max_chars``, those whose label the question
    mentions first ("weight" → "Item Weight: 13.4 ounces")."""
    asked = set(_WORD_RE.findall(question.lower()))
    asked |= {label for word, label in _SPEC_WORDS.items() if word in asked}
    items = [i.strip() for i in text.split(";") if i.strip()]
    items.sort(key=lambda item: -len(asked & set(_WORD_RE.findall(item.split(":")[0].lower()))))
    out: list[str] = []
    for item in items:
        if out and len("; ".join([*out, item])) > max_chars:
            break
        out.append(item)
    return "; ".join(out)
