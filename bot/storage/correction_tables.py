"""Corrections agents make to conversations (SQLAlchemy Core), reviewed by an admin.

Defined on the application database's ``metadata`` (``bot/storage/tables.py``), so every replica
of the console sees the same corrections; migration ``0004_corrections`` creates the table.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from bot.storage.tables import REVIEW_STATUSES, metadata

KINDS = ("intent", "answer")
STATUSES = REVIEW_STATUSES

# One row per correction of one turn. ``event_id`` is the tracker store's ``events.id`` of the
# corrected turn; ``text`` is that turn's text as it was (a shopper message for ``kind='intent'``,
# the bot's answer for ``kind='answer'``, with ``question``: the shopper message it answered).
# ``entities`` is a JSON list of {entity, value, start, end} (offsets into ``text``).
corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(255), nullable=False),
    Column("event_id", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("question", Text, nullable=True),
    Column("original_intent", String(64), nullable=True),
    Column("intent", String(64), nullable=True),
    Column("entities", JSON, nullable=True),
    Column("answer", Text, nullable=True),
    Column("is_fact", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False),
    Column(
        "agent_id",
        Integer,
        # No cascade: agents are disabled, never deleted, and their corrections stay on record.
        ForeignKey("console_agents.id"),
        nullable=False,
    ),
    Column("created_at", DateTime, nullable=False),
    Column(
        "reviewed_by",
        Integer,
        ForeignKey("console_agents.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("reviewed_at", DateTime, nullable=True),
)
Index("ix_corrections_status_created_at", corrections.c.status, corrections.c.created_at)
Index("ix_corrections_conversation_id", corrections.c.conversation_id)
