"""The Rasa annotation codec: ``[text](entity)`` lines to plain text plus entity spans and back.

Rasa reads ``[text](entity)`` inside examples, so square brackets and braces in source text become
parentheses, control characters become spaces, and whitespace is collapsed before any entity
offsets are computed (:func:`sanitize_text`, :func:`build_annotated`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from training.nlu.examples import EntitySpan

_ANNOTATION_RE = re.compile(r"\[(?P<text>[^\]]+?)\]\((?P<entity>[^:)]+?)\)")
_SANITIZE = str.maketrans({"[": "(", "]": ")", "{": "(", "}": ")", "\t": " ", "\n": " ", "\r": " "})


def sanitize_text(text: str) -> str:
    """Make text safe for Rasa's annotation syntax and YAML block scalars.

    Square brackets and braces become parentheses (Rasa would read ``[x](y)`` or ``[x]{...}`` as
    an entity), control characters become spaces or are dropped, whitespace runs collapse.

    Args:
        text: Any text.

    Returns:
        The sanitized text (may be shorter than the input).
    """
    text = text.translate(_SANITIZE)
    text = "".join(ch for ch in text if ch.isprintable())
    return " ".join(text.split())


def build_annotated(pieces: Iterable[tuple[str, str | None]]) -> tuple[str, tuple[EntitySpan, ...]]:
    """Concatenate ``(text, entity_or_None)`` pieces into sanitized text plus entity spans.

    Args:
        pieces: Text pieces in order; a piece with an entity name becomes one entity span.

    Returns:
        The sanitized text and its spans, with ``text[start:end] == value`` for each.
    """
    text = ""
    spans: list[EntitySpan] = []
    for raw, entity in pieces:
        piece = raw.translate(_SANITIZE)
        piece = "".join(ch for ch in piece if ch.isprintable())
        if entity is None:
            piece = re.sub(r"\s+", " ", piece)
            if not text or text.endswith(" "):
                piece = piece.lstrip(" ")
            text += piece
            continue
        piece = " ".join(piece.split())
        if not piece:
            continue
        start = len(text)
        text += piece
        spans.append(EntitySpan(start, len(text), entity, piece))
    stripped = text.rstrip(" ")
    return stripped, tuple(s for s in spans if s.end <= len(stripped))


def to_rasa_annotation(text: str, entities: Sequence[EntitySpan]) -> str:
    """Render text with entities in Rasa's markdown-style annotation, e.g. ``[100234](order_number)``.

    Args:
        text: The plain utterance (sanitized; brackets are replaced defensively anyway, which
            keeps the length and so the offsets).
        entities: Non-overlapping spans with ``text[start:end] == value``.

    Returns:
        The annotated example line.

    Raises:
        ValueError: If a span is out of range, overlaps another, or does not match its value.
    """
    safe = text.translate(_SANITIZE)
    out: list[str] = []
    position = 0
    for span in sorted(entities, key=lambda s: s.start):
        if (
            span.start < position
            or span.end > len(text)
            or text[span.start : span.end] != span.value
        ):
            raise ValueError(
                f"entities={span!r} does not fit text={text!r} (overlap, out of range, or "
                f"text[start:end] != value); build spans with fill_placeholders/parse_rasa_annotation."
            )
        out.append(safe[position : span.start])
        out.append(f"[{safe[span.start : span.end]}]({span.entity})")
        position = span.end
    out.append(safe[position:])
    return "".join(out)


def parse_rasa_annotation(line: str) -> tuple[str, tuple[EntitySpan, ...]]:
    """Parse one ``[text](entity)``-annotated example into plain text and spans.

    Only the short ``[text](entity)`` form is supported (no synonyms, roles or groups).

    Args:
        line: An example line without the leading ``- ``.

    Returns:
        The sanitized plain text and its entity spans.
    """
    pieces: list[tuple[str, str | None]] = []
    position = 0
    for match in _ANNOTATION_RE.finditer(line):
        pieces.append((line[position : match.start()], None))
        pieces.append((match.group("text"), match.group("entity").strip()))
        position = match.end()
    pieces.append((line[position:], None))
    return build_annotated(pieces)
