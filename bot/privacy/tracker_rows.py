"""Rasa's tracker store, written: finding, deleting and rewriting a conversation's event rows.

The console reads Rasa's ``events`` table read-only (``bot.console.transcript``); erasure and
retention must delete and rewrite rows, so they open the same table (the same declaration) with
a writable engine of their own. Rasa itself keeps no copy of a conversation between messages
(each message reads its tracker from this table), so a deleted conversation is gone; a shopper
who writes again starts a new one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import case, create_engine, delete, func, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine, make_url

from bot.console.transcript import events
from bot.privacy.sql import like_pattern, scrub_sqlite, secure_delete
from core.settings import Settings

logger = logging.getLogger(__name__)

BATCH = 500
ANONYMISED_KEY = "shopbot_anonymised"  # in an anonymised event's metadata
ANONYMISED_MARK = f'%"{ANONYMISED_KEY}": true%'  # as json.dumps writes it


class TrackerRows:
    """Writable access to Rasa's ``events`` table.

    Args:
        url: The tracker store's SQLAlchemy URL (``Settings.resolve_db_url`` applied).
        engine: An engine to use instead (tests).
    """

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        if engine is not None:
            self.engine = engine
        elif make_url(url).get_backend_name() == "sqlite":
            self.engine = create_engine(
                url, future=True, connect_args={"timeout": 10.0, "check_same_thread": False}
            )
        else:
            self.engine = create_engine(url, future=True, pool_pre_ping=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> TrackerRows:
        """The rows of ``settings.tracker_store_url``."""
        return cls(settings.resolve_db_url(settings.tracker_store_url))

    def ready(self) -> bool:
        """Whether the ``events`` table exists (not before Rasa's first conversation)."""
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite":
            from pathlib import Path

            if parsed.database and not Path(parsed.database).is_file():
                return False  # and do not create the file
        with self.engine.connect() as conn:
            return bool(sa_inspect(conn).has_table("events"))

    def senders_mentioning(self, needle: str) -> set[str]:
        """Conversations with an event whose JSON contains ``needle`` (case-insensitive): a
        shopper's email in a message, an entity, a slot or a bot reply."""
        if not needle or not self.ready():
            return set()
        pattern = like_pattern(needle.lower())
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(events.c.sender_id)
                .where(func.lower(events.c.data).like(pattern, escape="\\"))
                .distinct()
            ).all()
        return {str(r.sender_id) for r in rows}

    def existing(self, sender_ids: Sequence[str]) -> set[str]:
        """Which of ``sender_ids`` have events."""
        if not sender_ids or not self.ready():
            return set()
        found: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in _chunks(list(sender_ids)):
                rows = conn.execute(
                    select(events.c.sender_id).where(events.c.sender_id.in_(chunk)).distinct()
                ).all()
                found |= {str(r.sender_id) for r in rows}
        return found

    def last_activity(self, sender_ids: Sequence[str]) -> dict[str, float]:
        """Each conversation's newest event timestamp (epoch seconds)."""
        if not sender_ids or not self.ready():
            return {}
        out: dict[str, float] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(sender_ids)):
                rows = conn.execute(
                    select(events.c.sender_id, func.max(events.c.timestamp).label("last"))
                    .where(events.c.sender_id.in_(chunk))
                    .group_by(events.c.sender_id)
                ).all()
                out.update({str(r.sender_id): float(r.last or 0.0) for r in rows})
        return out

    def senders_idle_since(self, cutoff: float, not_anonymised: bool = False) -> list[str]:
        """Conversations whose newest event is older than ``cutoff`` (epoch seconds);
        ``not_anonymised``: only those with an event not anonymised yet."""
        if not self.ready():
            return []
        last = func.max(events.c.timestamp)
        query = select(events.c.sender_id).group_by(events.c.sender_id).having(last < cutoff)
        if not_anonymised:
            pending = func.sum(case((events.c.data.like(ANONYMISED_MARK), 0), else_=1))
            query = query.having(pending > 0)
        with self.engine.connect() as conn:
            return [str(r.sender_id) for r in conn.execute(query.order_by(events.c.sender_id))]

    def count(self, sender_ids: Sequence[str]) -> int:
        """How many events the conversations have."""
        if not sender_ids or not self.ready():
            return 0
        total = 0
        with self.engine.connect() as conn:
            for chunk in _chunks(list(sender_ids)):
                total += int(
                    conn.execute(
                        select(func.count()).where(events.c.sender_id.in_(chunk))
                    ).scalar_one()
                )
        return total

    def delete(self, sender_ids: Sequence[str]) -> int:
        """Delete every event of the conversations; return how many rows went."""
        if not sender_ids or not self.ready():
            return 0
        removed = 0
        for chunk in _chunks(list(sender_ids)):
            with self.engine.begin() as conn:
                secure_delete(conn)
                removed += conn.execute(
                    delete(events).where(events.c.sender_id.in_(chunk))
                ).rowcount
        return removed

    def rewrite(self, sender_id: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
        """Replace each event's ``data`` of one conversation by ``change(data)`` (one
        transaction); return how many rows changed."""
        if not self.ready():
            return 0
        changed = 0
        with self.engine.begin() as conn:
            secure_delete(conn)
            rows = conn.execute(
                select(events.c.id, events.c.data)
                .where(events.c.sender_id == sender_id)
                .order_by(events.c.id)
            ).all()
            for row in rows:
                try:
                    data = json.loads(row.data or "{}")
                except ValueError:
                    data = {}
                new = json.dumps(change(data if isinstance(data, dict) else {}))
                if new != row.data:
                    conn.execute(update(events).where(events.c.id == row.id).values(data=new))
                    changed += 1
        return changed

    def scrub(self) -> None:
        """Leave no copy of deleted or rewritten events in a SQLite file (see
        :func:`bot.privacy.app_rows.scrub_sqlite`)."""
        if self.ready():
            scrub_sqlite(self.engine)

    def dispose(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()


def _chunks(items: list[str], size: int = BATCH) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
