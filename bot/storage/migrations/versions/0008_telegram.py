"""Telegram channel: delivered update ids (dedup across replicas), deep-link codes, linked users.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_updates",
        sa.Column("bot_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "update_id", name="pk_telegram_updates"),
    )
    op.create_index("ix_telegram_updates_received_at", "telegram_updates", ["received_at"])
    op.create_table(
        "telegram_link_codes",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("customer_token", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_telegram_link_codes"),
    )
    op.create_table(
        "telegram_links",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("customer_token", sa.Text(), nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_telegram_links"),
    )


def downgrade() -> None:
    op.drop_table("telegram_links")
    op.drop_table("telegram_link_codes")
    op.drop_index("ix_telegram_updates_received_at", table_name="telegram_updates")
    op.drop_table("telegram_updates")
