"""The application database's tables (SQLAlchemy Core); Alembic migrations create them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

# Named constraints, so migrations can refer to them on every database.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: The states of anything an admin reviews (a correction, a description draft): ``proposed``
#: (waiting), ``accepted``, ``rejected`` (kept on record).
REVIEW_STATUSES = ("proposed", "accepted", "rejected")

# One row per widget conversation; ``last_seq`` is the counter that hands out sequence numbers
# (incremented inside the appending transaction, so concurrent appends, on any replica, serialise
# on this row).
widget_conversations = Table(
    "widget_conversations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("last_seq", Integer, nullable=False, default=0),
    Column("created_at", DateTime, nullable=False),
)

# Every stored widget event (shopper message, bot reply, agent message, handoff state), in order.
widget_events = Table(
    "widget_events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column(
        "conversation_id",
        String(64),
        ForeignKey("widget_conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("payload", JSON, nullable=False),
    # The widget's id of a shopper message: a retry with the same id is stored (and answered) once.
    Column("client_id", String(64), nullable=True),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("conversation_id", "seq"),
    UniqueConstraint("conversation_id", "client_id"),
)
