"""The live handoff's tables (SQLAlchemy Core): the handoff queue and a per-conversation summary.

Defined on the application database's ``metadata`` (``bot/storage/tables.py``); migration
``0003_handoff_queue`` creates them. Both are kept current from the Rasa tracker's events by
:class:`bot.handoff.broker.HandoffEventBroker`, so the console lists conversations with an index
lookup instead of scanning the tracker store.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    text,
)

from bot.storage.tables import metadata

OPEN_STATES = ("waiting", "claimed")
END_STATES = ("returned", "closed", "left")

# One row per handoff: created when the bot pauses the conversation (``status='waiting'``),
# claimed by one agent (an UPDATE guarded by ``status='waiting'``: the atomic claim), ended when the
# agent hands back or closes, or the shopper leaves the queue. At most one open row per
# conversation (the partial unique index).
handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(255), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("customer", String(254), nullable=True),
    Column("requested_at", DateTime, nullable=False),
    Column(
        "agent_id",
        Integer,
        ForeignKey("console_agents.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("claimed_at", DateTime, nullable=True),
    Column("ended_at", DateTime, nullable=True),
    Column("ended_by", String(16), nullable=True),
    Column("timeout_notified_at", DateTime, nullable=True),
    # When an agent's first message reached the tracker (migration 0007; the broker sets it):
    # the analytics page's first response time.
    Column("first_reply_at", DateTime, nullable=True),
)
Index("ix_handoffs_status_requested_at", handoffs.c.status, handoffs.c.requested_at)
Index(
    "uq_handoffs_open_conversation",
    handoffs.c.conversation_id,
    unique=True,
    sqlite_where=text("status IN ('waiting', 'claimed')"),
    postgresql_where=text("status IN ('waiting', 'claimed')"),
)
Index("ix_handoffs_conversation_id", handoffs.c.conversation_id)

# One row per conversation in the tracker store: what a list of conversations shows, kept current
# event by event.
conversation_summaries = Table(
    "conversation_summaries",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("last_event_at", DateTime, nullable=False),
    Column("user_messages", Integer, nullable=False, default=0),
    Column("bot_messages", Integer, nullable=False, default=0),
    Column("last_user_text", String(500), nullable=True),
    Column("last_intent", String(64), nullable=True),
    Column("last_sentiment", String(16), nullable=True),
    Column("customer", String(254), nullable=True),
    Column("handoffs", Integer, nullable=False, default=0),
    # Derived for the list's filters (migration 0005): shopper turns the bot did not understand
    # (nlu_fallback, out_of_scope), the lowest top-intent confidence of any shopper turn, shopper
    # turns labelled negative, the shopper's thumbs, and when a correction was last proposed.
    Column("fallback_turns", Integer, nullable=False, default=0, server_default="0"),
    Column("negative_turns", Integer, nullable=False, default=0, server_default="0"),
    Column("thumbs_up", Integer, nullable=False, default=0, server_default="0"),
    Column("thumbs_down", Integer, nullable=False, default=0, server_default="0"),
    Column("min_confidence", Float, nullable=True),
    Column("reviewed_at", DateTime, nullable=True),
    # The UTC day of started_at (migration 0007): the analytics page groups by it in index order.
    Column("started_day", Date, nullable=True),
)
Index("ix_conversation_summaries_last_event_at", conversation_summaries.c.last_event_at)
Index(
    "ix_conversation_summaries_channel_last_event_at",
    conversation_summaries.c.channel,
    conversation_summaries.c.last_event_at,
)
Index("ix_conversation_summaries_min_confidence", conversation_summaries.c.min_confidence)
# The analytics page's per-day aggregates over a date range read this index alone, in its order
# (migration 0007).
Index(
    "ix_conversation_summaries_started_day",
    conversation_summaries.c.started_day,
    conversation_summaries.c.channel,
    conversation_summaries.c.handoffs,
    conversation_summaries.c.user_messages,
    conversation_summaries.c.fallback_turns,
    conversation_summaries.c.thumbs_up,
    conversation_summaries.c.thumbs_down,
)
# Each yes/no filter: a partial index on last_event_at over the rows it keeps, walked newest-first.
# The filters in bot/storage/conversations.py repeat these conditions word for word (SQLite uses a
# partial index only for a WHERE term that matches its condition).
SUMMARY_FLAGS = {
    "handed_off": ("ix_conversation_summaries_handed_off", "handoffs > 0", "handoffs = 0"),
    "had_fallback": (
        "ix_conversation_summaries_fallback",
        "fallback_turns > 0",
        "fallback_turns = 0",
    ),
    "negative": ("ix_conversation_summaries_negative", "negative_turns > 0", "negative_turns = 0"),
    "thumbs_down": ("ix_conversation_summaries_thumbs_down", "thumbs_down > 0", "thumbs_down = 0"),
    "reviewed": (
        "ix_conversation_summaries_reviewed",
        "reviewed_at IS NOT NULL",
        "reviewed_at IS NULL",
    ),
}
for _index, _yes, _no in SUMMARY_FLAGS.values():
    Index(
        _index,
        conversation_summaries.c.last_event_at,
        sqlite_where=text(_yes),
        postgresql_where=text(_yes),
    )
