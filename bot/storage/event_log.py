"""The web widget's event log: per-conversation sequence numbers, deduplicated shopper messages.

Synchronous SQLAlchemy Core (the channel calls it through ``asyncio.to_thread``). Safe with several
processes on one database: a sequence number is handed out by incrementing the conversation's
``last_seq`` inside the transaction that inserts the event, so concurrent appends serialise on that
row (PostgreSQL row lock; SQLite's single writer) and a rolled-back append leaves no gap. The
unique constraints (conversation, seq) and (conversation, client_id) are the backstop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.storage.clock import utcnow
from bot.storage.tables import widget_conversations as conversations
from bot.storage.tables import widget_events as events

logger = logging.getLogger(__name__)

MAX_APPEND_ATTEMPTS = 5


@dataclass(frozen=True)
class StoredEvent:
    """One stored event of a conversation."""

    seq: int
    kind: str
    payload: dict[str, Any]
    client_id: str | None = None


@dataclass(frozen=True)
class Appended:
    """The outcome of an append: the event's seq, and whether its client id was already stored."""

    seq: int
    duplicate: bool = False


class _Duplicate(Exception):
    def __init__(self, seq: int) -> None:
        super().__init__(seq)
        self.seq = seq


class EventLog:
    """Stored widget events of every conversation, in the application database.

    Args:
        engine: An engine on a database upgraded to head (``bot.storage.migrate``).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_conversation(self, conversation_id: str) -> None:
        """Create the conversation's row if it does not exist yet."""
        try:
            with self.engine.begin() as conn:
                self._ensure_row(conn, conversation_id)
        except IntegrityError:
            pass  # created concurrently: fine

    def last_seq(self, conversation_id: str) -> int:
        """The highest seq stored for the conversation (0 when none)."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(conversations.c.last_seq).where(conversations.c.id == conversation_id)
            ).scalar()
        return int(value or 0)

    def append(
        self,
        conversation_id: str,
        kind: str,
        payload: dict[str, Any],
        client_id: str | None = None,
    ) -> Appended:
        """Store an event with the conversation's next seq.

        Args:
            conversation_id: The conversation.
            kind: ``user``, ``bot``, ``agent`` or ``handoff``.
            payload: The event's JSON data (without ``seq``; readers add it).
            client_id: The widget's message id; an event with the same id already stored in this
                conversation is not stored again (its seq is returned with ``duplicate=True``).
        """
        for _attempt in range(MAX_APPEND_ATTEMPTS):
            try:
                with self.engine.begin() as conn:
                    return Appended(self._append(conn, conversation_id, kind, payload, client_id))
            except _Duplicate as dup:
                return Appended(dup.seq, duplicate=True)
            except IntegrityError:
                # Lost a race: the same client id stored concurrently, or the conversation row
                # created by another writer. The first is a duplicate, the second worth a retry.
                if client_id is not None:
                    seq = self.seq_of_client_id(conversation_id, client_id)
                    if seq is not None:
                        return Appended(seq, duplicate=True)
                logger.debug("Append to %s raced another writer; retrying", conversation_id)
        raise RuntimeError(
            f"Could not append to widget conversation {conversation_id} after "
            f"{MAX_APPEND_ATTEMPTS} attempts; check the application database (app_db_url)."
        )

    def _append(
        self,
        conn: Connection,
        conversation_id: str,
        kind: str,
        payload: dict[str, Any],
        client_id: str | None,
    ) -> int:
        # Write first: the UPDATE takes the row lock (SQLite: the write lock) before anything is
        # read, so the duplicate check and the seq below cannot be overtaken by another writer.
        bumped = conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(last_seq=conversations.c.last_seq + 1)
        )
        if bumped.rowcount == 0:
            self._ensure_row(conn, conversation_id, last_seq=1)
        if client_id is not None:
            existing = conn.execute(
                select(events.c.seq).where(
                    events.c.conversation_id == conversation_id, events.c.client_id == client_id
                )
            ).scalar()
            if existing is not None:
                raise _Duplicate(int(existing))  # rolls the counter back: no gap
        seq = int(
            conn.execute(
                select(conversations.c.last_seq).where(conversations.c.id == conversation_id)
            ).scalar_one()
        )
        conn.execute(
            insert(events).values(
                conversation_id=conversation_id,
                seq=seq,
                kind=kind,
                payload=payload,
                client_id=client_id,
                created_at=utcnow(),
            )
        )
        return seq

    @staticmethod
    def _ensure_row(conn: Connection, conversation_id: str, last_seq: int = 0) -> None:
        exists = conn.execute(
            select(func.count()).where(conversations.c.id == conversation_id)
        ).scalar()
        if not exists:
            conn.execute(
                insert(conversations).values(
                    id=conversation_id, last_seq=last_seq, created_at=utcnow()
                )
            )

    def read_after(self, conversation_id: str, after: int, limit: int = 200) -> list[StoredEvent]:
        """Events with ``seq > after``, oldest first (at most ``limit``)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(events.c.seq, events.c.kind, events.c.payload, events.c.client_id)
                .where(events.c.conversation_id == conversation_id, events.c.seq > after)
                .order_by(events.c.seq)
                .limit(limit)
            ).all()
        return [StoredEvent(int(r.seq), str(r.kind), dict(r.payload), r.client_id) for r in rows]

    def recent(
        self, conversation_id: str, kinds: Iterable[str] = ("bot",), limit: int = 50
    ) -> list[StoredEvent]:
        """The latest ``limit`` events of the given kinds, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(events.c.seq, events.c.kind, events.c.payload, events.c.client_id)
                .where(events.c.conversation_id == conversation_id, events.c.kind.in_(list(kinds)))
                .order_by(events.c.seq.desc())
                .limit(limit)
            ).all()
        return [StoredEvent(int(r.seq), str(r.kind), dict(r.payload), r.client_id) for r in rows]

    def seq_of_client_id(self, conversation_id: str, client_id: str) -> int | None:
        """The seq of the stored message with ``client_id`` (None when not stored)."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(events.c.seq).where(
                    events.c.conversation_id == conversation_id, events.c.client_id == client_id
                )
            ).scalar()
        return None if value is None else int(value)
