"""Product description drafts generated in the agent console and reviewed by an admin
(SQLAlchemy Core).

Defined on the application database's ``metadata`` (``bot/storage/tables.py``), so every replica
of the console sees the same drafts; migration ``0009_description_drafts`` creates the table.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
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

# Review states (``bot.storage.tables.REVIEW_STATUSES``): ``proposed`` (waiting for an admin),
# ``accepted`` (``final_text`` is what the store imports), ``rejected`` (kept on record, never
# exported).

# One row per generated draft. The columns up to ``generator`` are the row ``shopbot describe``
# writes (``knowledge.describe.DescriptionResult``), with its ``status`` kept as ``outcome``
# (accepted / rejected / template: what the verifier said at generation time). The review
# columns say who accepted or rejected it, when, and with which text (``edited``: the admin
# changed it, and the changed text passed the same check).
description_drafts = Table(
    "description_drafts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("product_id", String(255), nullable=False),
    Column("name", Text, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("source", String(16), nullable=False),
    Column("draft", Text, nullable=False),
    Column("unsupported", JSON, nullable=False),
    Column("generator", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column(
        "created_by",
        Integer,
        # No cascade: agents are disabled, never deleted, and their drafts stay on record.
        ForeignKey("console_agents.id"),
        nullable=False,
    ),
    Column("created_at", DateTime, nullable=False),
    Column("final_text", Text, nullable=True),
    Column("edited", Boolean, nullable=False, default=False),
    Column(
        "reviewed_by",
        Integer,
        ForeignKey("console_agents.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("reviewed_at", DateTime, nullable=True),
)
Index("ix_description_drafts_product_id", description_drafts.c.product_id)
Index(
    "ix_description_drafts_status_created_at",
    description_drafts.c.status,
    description_drafts.c.created_at,
)
