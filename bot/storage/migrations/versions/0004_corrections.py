"""Corrections: agents correct a shopper turn's intent/entities or a bot answer; admins review.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("original_intent", sa.String(64), nullable=True),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("is_fact", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_corrections"),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["console_agents.id"],
            name="fk_corrections_agent_id_console_agents",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["console_agents.id"],
            name="fk_corrections_reviewed_by_console_agents",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_corrections_status_created_at", "corrections", ["status", "created_at"])
    op.create_index("ix_corrections_conversation_id", "corrections", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_corrections_conversation_id", table_name="corrections")
    op.drop_index("ix_corrections_status_created_at", table_name="corrections")
    op.drop_table("corrections")
