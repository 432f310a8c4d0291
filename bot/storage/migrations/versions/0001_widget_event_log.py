"""The web widget's event log: conversations (with their sequence counter) and events.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "widget_conversations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_widget_conversations"),
    )
    op.create_table(
        "widget_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_widget_events"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["widget_conversations.id"],
            name="fk_widget_events_conversation_id_widget_conversations",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_widget_events_conversation_id_seq"),
        sa.UniqueConstraint(
            "conversation_id", "client_id", name="uq_widget_events_conversation_id_client_id"
        ),
    )


def downgrade() -> None:
    op.drop_table("widget_events")
    op.drop_table("widget_conversations")
