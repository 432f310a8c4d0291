"""After "I don't know": the store's FAQ entries the question is asked most like, one tap away.

A shopper's question the bot cannot answer with confidence is often one the store's FAQ answers,
asked in words too far from the entry ("pls restock the yoga mat"). Besides "I don't know" and a
human, the reply then offers up to two entries (``knowledge.faq_suggest``: closeness at least
``SUGGEST_SCORE``, chosen on development data) as buttons showing the entry's own question. A tap
sends ``/ask_faq{"faq_entry": "faq-43"}``; ``action_answer_faq_entry`` answers the entry's question
through the verified FAQ path. The offer is a message of its own, after the "I don't know", with
"Talk to a human" as its last button (a widget shows only the latest message's buttons). Nothing
is offered while a form runs (its question comes first).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker

logger = logging.getLogger(__name__)

ASK_FAQ_INTENT = "ask_faq"
FAQ_ENTRY_ENTITY = "faq_entry"
SUGGESTIONS_TEXT = "Maybe one of these questions from our FAQ?"


def suggestion_buttons(found: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """One button per (entry, question): the question as its title, the entry in its payload."""
    return [
        {"title": question, "payload": f"/{ASK_FAQ_INTENT}{json.dumps({FAQ_ENTRY_ENTITY: entry})}"}
        for entry, question in found
    ]


async def faq_suggestions(tracker: Tracker, pipeline: Any, question: str) -> list[tuple[str, str]]:
    """The FAQ entries (id, question) to offer for ``question``: none while a form runs, when
    nothing is close enough, or when the lookup fails (logged)."""
    if tracker.active_loop_name:
        return []
    try:
        found = await asyncio.to_thread(pipeline.faq_suggestions, question)
    except Exception:
        logger.exception("FAQ suggestions for %r failed", question)
        return []
    if found:
        logger.info("Offered FAQ entries %s for %r", [entry for entry, _ in found], question)
    return list(found)


def offered_entry(tracker: Tracker) -> str | None:
    """The FAQ entry a tapped suggestion names (its ``faq_entry`` entity), or None."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == FAQ_ENTRY_ENTITY and entity.get("value"):
            return str(entity["value"])
    return None
