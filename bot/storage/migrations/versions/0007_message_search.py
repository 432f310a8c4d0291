"""Message search and analytics: ``conversation_messages`` with a full-text index, shopper turns per
day (``shopper_turns_daily``), the first human reply of a handoff, and the summaries' start day
(``started_day``, backfilled) with the analytics page's covering index on it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

The full-text index is per backend, in DDL of its own (``bot/storage/message_tables.py``):

- SQLite: an FTS5 table with external content (``content='conversation_messages'``,
  ``content_rowid='id'``: it stores the index only) and the three triggers that keep it in step
  with the table, as SQLite's FTS5 documentation writes them. ``unicode61`` folds case and
  diacritics.
- PostgreSQL: a stored generated column ``search_vector = to_tsvector('simple', text)`` (no
  stemming, no stop words, as SQLite's tokenizer) and a GIN index on it.

Rows stored before this revision are not backfilled: the application database cannot read the
tracker store (replay a store's events through the broker if that matters), and
``handoffs.first_reply_at`` stays NULL for handoffs answered before it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLE = "conversation_messages"
FTS = "conversation_messages_fts"
TEXT_SEARCH_INDEX = "ix_conversation_messages_text_search"
SEARCH_VECTOR = "search_vector"
DAILY = "shopper_turns_daily"
SUMMARY_DATE_INDEX = "ix_conversation_summaries_started_day"
SUMMARY_DATE_COLUMNS = [
    "started_day",
    "channel",
    "handoffs",
    "user_messages",
    "fallback_turns",
    "thumbs_up",
    "thumbs_down",
]

SQLITE_FTS = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(text, content='{TABLE}', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER {TABLE}_ai AFTER INSERT ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}(rowid, text) VALUES (new.id, new.text); END",
    f"CREATE TRIGGER {TABLE}_ad AFTER DELETE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.id, old.text); END",
    f"CREATE TRIGGER {TABLE}_au AFTER UPDATE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.id, old.text); "
    f"INSERT INTO {FTS}(rowid, text) VALUES (new.id, new.text); END",
]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("sender", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("sentiment", sa.String(16), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=f"pk_{TABLE}"),
    )
    op.create_index("ix_conversation_messages_conversation_id", TABLE, ["conversation_id", "id"])
    op.create_table(
        DAILY,
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("intent", sa.String(64), nullable=False),
        sa.Column("sentiment", sa.String(16), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("confidence_sum", sa.Float(), nullable=False),
        sa.Column("confidence_n", sa.Integer(), nullable=False),
        sa.Column("low_confidence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "channel", "intent", "sentiment", name=f"pk_{DAILY}"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(
            f"ALTER TABLE {TABLE} ADD COLUMN {SEARCH_VECTOR} tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, text)) STORED"
        )
        op.execute(f"CREATE INDEX {TEXT_SEARCH_INDEX} ON {TABLE} USING gin ({SEARCH_VECTOR})")
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("first_reply_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("conversation_summaries") as batch:
        batch.add_column(sa.Column("started_day", sa.Date(), nullable=True))
    op.execute("UPDATE conversation_summaries SET started_day = date(started_at)")
    op.create_index(SUMMARY_DATE_INDEX, "conversation_summaries", SUMMARY_DATE_COLUMNS)


def downgrade() -> None:
    op.drop_index(SUMMARY_DATE_INDEX, table_name="conversation_summaries")
    with op.batch_alter_table("conversation_summaries") as batch:
        batch.drop_column("started_day")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("first_reply_at")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for suffix in ("au", "ad", "ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
    elif dialect == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TEXT_SEARCH_INDEX}")
    op.drop_table(DAILY)
    op.drop_index("ix_conversation_messages_conversation_id", table_name=TABLE)
    op.drop_table(TABLE)
