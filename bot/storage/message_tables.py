"""Every message of every conversation, one row each, for full-text search and analytics.

Defined on the application database's ``metadata`` (``bot/storage/tables.py``); migration
``0007_message_search`` creates the table and its full-text index. The event broker
(``bot/handoff/broker.py``) inserts a row per shopper, bot, agent or notice message in the same
transaction that updates the conversation's summary row, so search and the analytics page read
an indexed table instead of Rasa's tracker store.

The full-text index lives outside SQLAlchemy's metadata (the migration creates it with DDL of its
own, per backend): on SQLite an FTS5 table over ``text`` (external content: it stores only the
index, the text stays here) kept current by triggers; on PostgreSQL a stored generated column
``search_vector = to_tsvector('simple', text)`` with a GIN index (a filter on the stored vector
costs a microsecond a row, where recomputing ``to_tsvector`` cost 25: measured, a phrase of two
common words took 2.8 s through an expression index). :func:`include_in_schema_compare` keeps
them out of Alembic's autogenerate comparison.

``shopper_turns_daily`` counts shopper turns per day, channel, intent and sentiment (with their
confidence), kept by the broker in the same transaction: the analytics page's intent and
sentiment figures read a few hundred rows instead of every shopper message of the range.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from bot.storage.tables import metadata

SENDERS = ("user", "bot", "agent", "notice")  # as the transcript's authors (transcript_items)
MAX_MESSAGE_CHARS = 4000
FTS_TABLE = "conversation_messages_fts"  # SQLite: FTS5, external content, rowid = id
SEARCH_VECTOR = "search_vector"  # PostgreSQL: tsvector generated from text, stored
TEXT_SEARCH_INDEX = "ix_conversation_messages_text_search"  # PostgreSQL: GIN on search_vector
LOW_CONFIDENCE = 0.5  # a shopper turn whose top intent is below this counts as unsure
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

# Shopper turns per UTC day, channel, top intent and sentiment label ("" when the turn had none).
shopper_turns_daily = Table(
    "shopper_turns_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("intent", String(64), primary_key=True),
    Column("sentiment", String(16), primary_key=True),
    Column("turns", Integer, nullable=False),
    Column("confidence_sum", Float, nullable=False),  # over the turns that had a confidence
    Column("confidence_n", Integer, nullable=False),
    Column("low_confidence", Integer, nullable=False),  # turns below LOW_CONFIDENCE
)


def include_in_schema_compare(name: str | None, type_: str, _parents: object = None) -> bool:
    """Alembic's ``include_name`` hook: leave out the full-text index objects the migration makes
    with its own DDL (SQLite's FTS5 table and its shadow tables, PostgreSQL's GIN index)."""
    if not name:
        return True
    if type_ == "table" and name.startswith(FTS_TABLE):
        return False
    if type_ == "column" and name == SEARCH_VECTOR:
        return False
    return not (type_ == "index" and name == TEXT_SEARCH_INDEX)
