"""Product description drafts: generated in the console, accepted or rejected by an admin.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "description_drafts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.String(255), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("draft", sa.Text(), nullable=False),
        sa.Column("unsupported", sa.JSON(), nullable=False),
        sa.Column("generator", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("final_text", sa.Text(), nullable=True),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_description_drafts"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["console_agents.id"],
            name="fk_description_drafts_created_by_console_agents",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["console_agents.id"],
            name="fk_description_drafts_reviewed_by_console_agents",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_description_drafts_product_id", "description_drafts", ["product_id"])
    op.create_index(
        "ix_description_drafts_status_created_at",
        "description_drafts",
        ["status", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_description_drafts_status_created_at", table_name="description_drafts")
    op.drop_index("ix_description_drafts_product_id", table_name="description_drafts")
    op.drop_table("description_drafts")
