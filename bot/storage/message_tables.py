"""Every message of every conversation, one row each, for full-text search and analytics.

Defined on the application database's ``metadata`` (``bot/storage/tables.py``); migration
``0007_message_search`` creates the table and its full-text index. The event broker
(``bot/handoff/broker.py``) inserts a row per shopper, bot, agent or notice message in the same
transaction that updates the conversation's summary row, so search and the analytics page read
an indexed table instead of Rasa's tracker store.

The full-text index lives outside SQLAlchemy's metadata (the migration creates it with DDL of its
own, per backend): on SQLite an FTS5 table over ``text`` (external content: it stores only the
index, the text stays here) kept current by triggers; on PostgreSQL a GIN index over
``to_tsvector('simple', text)``. :func:`include_in_schema_compare` keeps them out of Alembic's
autogenerate comparison.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Float, Index, Integer, String, Table, Text

from bot.storage.tables import metadata

SENDERS = ("user", "bot", "agent", "notice")  # as the transcript's authors (transcript_items)
MAX_MESSAGE_CHARS = 4000
FTS_TABLE = "conversation_messages_fts"  # SQLite: FTS5, external content, rowid = id
TEXT_SEARCH_INDEX = "ix_conversation_messages_text_search"  # PostgreSQL: GIN
TS_CONFIG = "simple"  # no stemming, no stop words: an agent finds the words the shopper wrote

conversation_messages = Table(
    "conversation_messages",
    metadata,
    # SQLite: INTEGER PRIMARY KEY is the rowid, which the FTS5 table's rows point at.
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("conversation_id", String(255), nullable=False),
    Column("at", DateTime, nullable=False),  # the tracker event's timestamp (naive UTC)
    Column("sender", String(8), nullable=False),  # one of SENDERS
    # The conversation's channel when the message was stored (a shopper message's own channel;
    # others: the channel of the conversation's latest shopper message so far, or "unknown").
    Column("channel", String(32), nullable=False),
    Column("text", Text, nullable=False),
    # Shopper messages: the top intent, its confidence and the sentiment label.
    Column("intent", String(64), nullable=True),
    Column("confidence", Float, nullable=True),
    Column("sentiment", String(16), nullable=True),
    # Agent messages: the console agent who wrote it (no foreign key: a record of who wrote what).
    Column("agent_id", Integer, nullable=True),
)
Index(
    "ix_conversation_messages_conversation_id",
    conversation_messages.c.conversation_id,
    conversation_messages.c.id,
)
# The analytics page's shopper-turn aggregates (intents, confidence, sentiment) over a date range
# read this index alone: no table lookups.
Index(
    "ix_conversation_messages_sender_at",
    conversation_messages.c.sender,
    conversation_messages.c.at,
    conversation_messages.c.channel,
    conversation_messages.c.intent,
    conversation_messages.c.confidence,
    conversation_messages.c.sentiment,
)


def include_in_schema_compare(name: str | None, type_: str, _parents: object = None) -> bool:
    """Alembic's ``include_name`` hook: leave out the full-text index objects the migration makes
    with its own DDL (SQLite's FTS5 table and its shadow tables, PostgreSQL's GIN index)."""
    if not name:
        return True
    if type_ == "table" and name.startswith(FTS_TABLE):
        return False
    return not (type_ == "index" and name == TEXT_SEARCH_INDEX)
