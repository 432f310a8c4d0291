"""Audit log (unmasked exports, retention, erasure, retraining) and retraining runs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(64), nullable=True),
        sa.Column("target", sa.String(255), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.ForeignKeyConstraint(
            ["actor"], ["console_agents.id"], name="fk_audit_log_actor_console_agents"
        ),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", "at"])
    op.create_table(
        "retrain_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("preset", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("log_tail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_retrain_runs"),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["console_agents.id"],
            name="fk_retrain_runs_requested_by_console_agents",
        ),
    )
    op.create_index("ix_retrain_runs_started_at", "retrain_runs", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_retrain_runs_started_at", table_name="retrain_runs")
    op.drop_table("retrain_runs")
    op.drop_index("ix_audit_log_action_at", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
