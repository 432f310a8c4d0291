"""FAQ questions offered when the bot does not know ("Maybe one of these?").

A question the bot cannot answer with confidence is often one the store's FAQ does answer, asked
in words too far from the entry for the relevance gate. Rather than only "I don't know" and a
human, the reply offers the entries the question is asked most like, as buttons that ask the
entry's own question: one tap gets the verified answer. An entry is offered only when it is at
least :data:`SUGGEST_SCORE` close (the FAQ matcher's closeness) and its passage can be shown (no
blank the store's settings leave empty).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["SUGGESTIONS", "SUGGEST_SCORE", "entry_question", "suggest"]

SUGGEST_SCORE = 0.5
"""How closely a question must be asked like an entry for the entry to be offered."""
SUGGESTIONS = 2
"""The most entries offered at once."""


def suggest(
    chain: Sequence[Any], question: str, k: int = SUGGESTIONS, min_closeness: float = SUGGEST_SCORE
) -> list[tuple[str, str]]:
    """Up to ``k`` FAQ entries (id, question) ``question`` is asked like, closest first.

    Args:
        chain: The answer pipeline's retrievers, outermost first: the FAQ ranker gives the
            closeness (``asked_like``, ``passage``), a placeholder filter (``shows``) decides
            which passages can be shown.
        question: The shopper's message.
        k: The most entries returned.
        min_closeness: The least closeness of an entry returned.
    """
    ranker = next((r for r in chain if hasattr(r, "asked_like")), None)
    if ranker is None or k <= 0 or not question.strip():
        return []
    out: list[tuple[str, str]] = []
    for entry, closeness in ranker.asked_like(question, k + 3):
        if closeness < min_closeness or len(out) == k:
            break
        asked = entry_question(chain, entry)
        if asked is not None:
            out.append((entry, asked))
    return out


def entry_question(chain: Sequence[Any], entry: str) -> str | None:
    """The question of FAQ entry ``entry`` when it can be shown, else None (no such entry, or a
    blank the store's settings leave empty)."""
    ranker = next((r for r in chain if hasattr(r, "passage")), None)
    passage = ranker.passage(entry) if ranker is not None else None
    if passage is None or not passage.title:
        return None
    shows = next((r.shows for r in chain if hasattr(r, "shows")), lambda _text: True)
    return str(passage.title) if shows(passage.text) else None
