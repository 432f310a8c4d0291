"""The JSON the console's handoff API answers: queue entries and a conversation's handoff state.

Synchronous (database reads): views call these in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from bot.console.transcript import RecentTurns
from bot.storage.handoffs import Handoff

if TYPE_CHECKING:
    from bot.console.context import Console

logger = logging.getLogger(__name__)

QUEUE_LAST = 3  # messages and shopper turns shown per queue entry


def iso(value: dt.datetime | None) -> str | None:
    """A naive-UTC time as ISO 8601 with ``Z`` (None stays None)."""
    return value.isoformat() + "Z" if value else None


def duration(seconds: int) -> str:
    """A wait in words: ``45 s``, ``3 min``, ``1 h 5 min`` (the queue's Jinja filter)."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def handoff_state(
    handoff: Handoff | None, agent_id: int, position: int | None = None
) -> dict[str, Any] | None:
    """Where a conversation's handoff stands, as the signed-in agent sees it."""
    if handoff is None:
        return None
    return {
        "id": handoff.id,
        "status": handoff.status,
        "reason": handoff.reason,
        "reason_text": handoff.reason_text,
        "agent": handoff.agent_name,
        "mine": handoff.status == "claimed" and handoff.agent_id == agent_id,
        "position": position,
        "requested_at": iso(handoff.requested_at),
        "claimed_at": iso(handoff.claimed_at),
        "ended_at": iso(handoff.ended_at),
    }


def conversation_handoff(
    console: Console, conversation_id: str, agent_id: int
) -> dict[str, Any] | None:
    """The conversation's open handoff (else its latest one) as :func:`handoff_state`."""
    handoff = console.queue.current(conversation_id)
    if handoff is None:
        history = console.queue.history(conversation_id)
        handoff = history[-1] if history else None
    position = console.queue.position(conversation_id) if handoff and handoff.is_open else None
    return handoff_state(handoff, agent_id, position)


def queue_snapshot(console: Console, agent_id: int) -> dict[str, Any]:
    """``{"count": waiting, "conversations": [entry, ...]}``: waiting (oldest first), then
    claimed. The tracker store adds each entry's last messages; when it cannot be read the
    queue still answers, without them."""
    handoffs = console.queue.open_handoffs()
    now = console.clock()
    recent: dict[str, RecentTurns] = {}
    try:
        recent = console.transcripts.last_turns_many(
            [h.conversation_id for h in handoffs], QUEUE_LAST
        )
    except SQLAlchemyError as exc:
        logger.warning("Cannot read the tracker store for the queue: %s", exc)
    entries = []
    for handoff in handoffs:
        turns = recent.get(handoff.conversation_id, RecentTurns())
        entries.append(
            {
                "handoff_id": handoff.id,
                "conversation_id": handoff.conversation_id,
                "channel": handoff.channel,
                "reason": handoff.reason,
                "reason_text": handoff.reason_text,
                "status": handoff.status,
                "waited_s": max(0, int((now - handoff.requested_at).total_seconds())),
                "requested_at": iso(handoff.requested_at),
                "claimed_at": iso(handoff.claimed_at),
                "agent": handoff.agent_name,
                "mine": handoff.status == "claimed" and handoff.agent_id == agent_id,
                "customer": handoff.customer,
                "last_messages": turns.messages,
                "last_turns": turns.turns,
            }
        )
    return {"count": console.queue.count_waiting(), "conversations": entries}


def with_corrections(
    console: Console, conversation_id: str, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``items`` with each shopper and bot turn's corrections (``"corrections": [...]``)."""
    turns = [item for item in items if item["type"] in ("user", "bot")]
    if not turns:
        return items
    by_event: dict[int, list[dict[str, Any]]] = {}
    for correction in console.corrections.for_conversation(conversation_id):
        by_event.setdefault(correction.event_id, []).append(correction.to_dict())
    for item in turns:
        item["corrections"] = by_event.get(item["id"], [])
    return items
