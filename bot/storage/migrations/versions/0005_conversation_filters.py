"""Conversation list filters: derived columns on ``conversation_summaries`` and their indexes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

The broker (``bot/handoff/broker.py``) keeps the new columns current event by event; rows that
existed before this revision start at 0 / NULL (the application database cannot read the tracker
store to backfill them).

Indexes: the list is newest-first by ``last_event_at`` with keyset pagination, so each yes/no
filter gets a partial index on ``last_event_at`` limited to the rows it keeps (a handful of
percent of the conversations): the planner walks it newest-first and stops after a page, on
SQLite and PostgreSQL alike. The queries repeat each index's condition literally (SQLite uses a
partial index only for a WHERE term that matches it, never for a bound parameter). The channel
filter is an equality: ``(channel, last_event_at)``. The low-confidence threshold is chosen per
request: a plain index on ``min_confidence`` serves the selective thresholds.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE = "conversation_summaries"
COUNTERS = ("fallback_turns", "negative_turns", "thumbs_up", "thumbs_down")
# index name → the rows it holds (the same text as bot/storage/handoff_tables.py and the queries)
PARTIAL = {
    "ix_conversation_summaries_handed_off": "handoffs > 0",
    "ix_conversation_summaries_fallback": "fallback_turns > 0",
    "ix_conversation_summaries_negative": "negative_turns > 0",
    "ix_conversation_summaries_thumbs_down": "thumbs_down > 0",
    "ix_conversation_summaries_reviewed": "reviewed_at IS NOT NULL",
}


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        for name in COUNTERS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("min_confidence", sa.Float(), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(), nullable=True))
    op.create_index(
        "ix_conversation_summaries_channel_last_event_at", TABLE, ["channel", "last_event_at"]
    )
    op.create_index("ix_conversation_summaries_min_confidence", TABLE, ["min_confidence"])
    for name, where in PARTIAL.items():
        op.create_index(
            name,
            TABLE,
            ["last_event_at"],
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    for name in PARTIAL:
        op.drop_index(name, table_name=TABLE)
    op.drop_index("ix_conversation_summaries_min_confidence", table_name=TABLE)
    op.drop_index("ix_conversation_summaries_channel_last_event_at", table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        for name in ("reviewed_at", "min_confidence", *reversed(COUNTERS)):
            batch.drop_column(name)
