"""The agent console's tables (SQLAlchemy Core): agents and their server-side sessions.

Defined on the application database's ``metadata`` (``bot/storage/tables.py``); migration
``0002_console_agents`` creates them.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from bot.storage.tables import metadata

# One row per support agent. ``email`` is stored lower-cased (the sign-in key); ``password_hash``
# is an argon2id hash in PHC format, never the password.
console_agents = Table(
    "console_agents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("last_sign_in_at", DateTime, nullable=True),
)

# One row per signed-in browser. The cookie carries a random session id; only its SHA-256 is
# stored, so a copy of the database does not sign anyone in. ``csrf_token`` is the session's
# synchroniser token (every state-changing request must echo it).
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column(
        "agent_id",
        Integer,
        ForeignKey("console_agents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_console_sessions_agent_id", "agent_id"),
)
