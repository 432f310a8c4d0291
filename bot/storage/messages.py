"""Storing one message row (``conversation_messages``) inside the summary update's transaction.

:meth:`bot.storage.conversations.ConversationIndex.apply` calls :func:`store_message` after it
updated (or created) the conversation's summary row, in the same transaction: the list, the
search and the analytics never disagree about which messages a conversation has. A shopper's
message also counts in ``shopper_turns_daily`` (an upsert), and an agent's message stamps the open
handoff's ``first_reply_at`` when it is the first one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bot.storage.handoff_tables import OPEN_STATES, handoffs
from bot.storage.handoff_tables import conversation_summaries as summaries
from bot.storage.message_tables import (
    LOW_CONFIDENCE,
    MAX_MESSAGE_CHARS,
    SENDERS,
    conversation_messages,
    shopper_turns_daily,
)

UNKNOWN_CHANNEL = "unknown"


@dataclass(frozen=True)
class NewMessage:
    """A message to store: who sent it, its text and, for a shopper turn, what NLU made of it.

    Args:
        sender: ``user`` (the shopper), ``bot``, ``agent`` (a human in the console) or
            ``notice`` (the console's handoff notices: joined, ended, no agent online).
        text: What was shown.
        intent: A shopper turn's top intent.
        confidence: That intent's confidence.
        sentiment: A shopper turn's sentiment label.
        agent_id: The console agent who wrote an agent message.
    """

    sender: str
    text: str
    intent: str | None = None
    confidence: float | None = None
    sentiment: str | None = None
    agent_id: int | None = None

    def __post_init__(self) -> None:
        if self.sender not in SENDERS:
            raise ValueError(
                f"sender must be one of {', '.join(SENDERS)}. Currently, it is {self.sender!r}."
            )


def store_message(
    conn: Connection,
    conversation_id: str,
    at: dt.datetime,
    message: NewMessage,
    channel: str | None = None,
) -> str:
    """Insert ``message``; without ``channel``, the one the conversation's summary row holds.
    Return the channel stored.

    Call it in the transaction that updated the summary row (the row exists by then).
    """
    if channel:
        stored = channel[:32]
    else:
        held = select(summaries.c.channel).where(summaries.c.conversation_id == conversation_id)
        stored = conn.execute(held).scalar() or UNKNOWN_CHANNEL
    conn.execute(
        _INSERT_MESSAGE,
        {
            "conversation_id": conversation_id,
            "at": at,
            "sender": message.sender,
            "channel": stored,
            "text": message.text[:MAX_MESSAGE_CHARS],
            "intent": (message.intent or "")[:64] or None,
            "confidence": message.confidence,
            "sentiment": (message.sentiment or "")[:16] or None,
            "agent_id": message.agent_id,
        },
    )
    if message.sender == "user":
        count_turn(conn, at.date(), stored, message)
    if message.sender == "agent":
        conn.execute(
            update(handoffs)
            .where(
                handoffs.c.conversation_id == conversation_id,
                handoffs.c.status.in_(OPEN_STATES),
                handoffs.c.first_reply_at.is_(None),
            )
            .values(first_reply_at=at)
        )
    return stored


def turn_counts(message: NewMessage) -> dict[str, Any]:
    """What one shopper turn adds to its ``shopper_turns_daily`` row (key columns included)."""
    confidence = message.confidence
    return {
        "intent": (message.intent or "")[:64],
        "sentiment": (message.sentiment or "")[:16],
        "turns": 1,
        "confidence_sum": confidence if confidence is not None else 0.0,
        "confidence_n": int(confidence is not None),
        "low_confidence": int(confidence is not None and confidence < LOW_CONFIDENCE),
    }


def count_turn(conn: Connection, day: dt.date, channel: str, message: NewMessage) -> None:
    """Add a shopper turn to its day's row."""
    add_turn_counts(conn, [{"day": day, "channel": channel[:32], **turn_counts(message)}])


def add_turn_counts(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Add counts to ``shopper_turns_daily`` rows, creating the missing ones (``INSERT ... ON
    CONFLICT DO UPDATE``: concurrent writers never lose a count, on SQLite or PostgreSQL)."""
    if not rows:
        return
    conn.execute(_turn_upsert(conn.dialect.name), rows)


_INSERT_MESSAGE = insert(conversation_messages)  # built once: the values come as parameters
_TURN_UPSERTS: dict[str, Any] = {}


def _turn_upsert(dialect_name: str) -> Any:
    """The ``shopper_turns_daily`` upsert for the dialect, built and compiled once per process.

    SQLAlchemy 1.4 does not cache the compiled form of an ``ON CONFLICT`` insert (its construct
    does not declare ``inherit_cache``), so the built statement was compiled again on every
    shopper message: ~4.5% of the Rasa server's CPU under the Throughput mix (py-spy,
    docs/benchmarks/2026-12-07/side-by-side/). Its SQL, the same for SQLite and PostgreSQL, is
    compiled once here into a text statement with the table's column types on its parameters,
    which SQLAlchemy does cache.
    """
    upsert = _TURN_UPSERTS.get(dialect_name)
    if upsert is None:
        table = shopper_turns_daily
        dialect = postgresql if dialect_name == "postgresql" else sqlite
        row = dialect.insert(table)
        added = ("turns", "confidence_sum", "confidence_n", "low_confidence")
        statement = row.on_conflict_do_update(
            index_elements=[table.c.day, table.c.channel, table.c.intent, table.c.sentiment],
            set_={name: table.c[name] + row.excluded[name] for name in added},
        )
        compiled = statement.compile(
            dialect=dialect.dialect(paramstyle="named"), column_keys=[c.name for c in table.c]
        )
        upsert = text(str(compiled)).bindparams(*(bindparam(c.name, type_=c.type) for c in table.c))
        _TURN_UPSERTS[dialect_name] = upsert
    return upsert
