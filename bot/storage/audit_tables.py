"""Audit trail and model retraining runs (SQLAlchemy Core).

Defined on the application database's ``metadata`` (``bot/storage/tables.py``), so every replica
sees them; migration ``0006_audit_and_retrain`` creates them.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text

from bot.storage.tables import metadata

# One row per audited act: an unmasked export, a retention run, a shopper's erasure, a retrain.
# ``actor`` is the console agent (NULL for a command run from a shell or cron; ``actor_label``
# then names it, e.g. ``cli``); ``target`` what was acted on (a conversation id, a filter, an
# email's hash — never the personal data itself); ``detail`` counts and parameters.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("action", String(32), nullable=False),
    Column(
        "actor",
        Integer,
        # Agents are disabled, never deleted: the audit trail keeps who did it.
        ForeignKey("console_agents.id"),
        nullable=True,
    ),
    Column("actor_label", String(64), nullable=True),
    Column("target", String(255), nullable=True),
    Column("detail", JSON, nullable=True),
)
Index("ix_audit_log_at", audit_log.c.at)
Index("ix_audit_log_action_at", audit_log.c.action, audit_log.c.at)

# One row per ``shopbot retrain`` (from a shell or started by an admin in the console): its state
# (``running`` / ``accepted`` / ``refused`` / ``failed``), the gate's report as JSON, and a short
# log tail for the console.
retrain_runs = Table(
    "retrain_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("preset", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column(
        "requested_by",
        Integer,
        ForeignKey("console_agents.id"),
        nullable=True,
    ),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    Column("report", JSON, nullable=True),
    Column("log_tail", Text, nullable=True),
)
Index("ix_retrain_runs_started_at", retrain_runs.c.started_at)
