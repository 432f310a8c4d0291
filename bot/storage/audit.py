"""The audit trail: who exported unmasked transcripts, erased a shopper, ran retention or retrained.

Synchronous SQLAlchemy Core on the application database (async callers use a thread). Rows are
only ever added; ``target`` and ``detail`` name what was acted on (a conversation id, a filter,
counts, an email's hash) and never carry the personal data itself.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from bot.storage.audit_tables import audit_log
from bot.storage.clock import utcnow

logger = logging.getLogger(__name__)

MAX_LIST = 500


@dataclass(frozen=True)
class AuditEntry:
    """One audited act."""

    id: int
    at: dt.datetime
    action: str
    actor: int | None
    actor_label: str | None
    target: str | None
    detail: dict[str, Any] | None


class AuditLog:
    """Append to and read the ``audit_log`` table."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._engine = engine
        self._clock = clock

    def record(
        self,
        action: str,
        actor: int | None,
        actor_label: str | None = None,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Store one act (``actor``: the console agent's id; None for a shell or cron run, then
        ``actor_label`` says which) and return its id."""
        with self._engine.begin() as connection:
            result = connection.execute(
                insert(audit_log).values(
                    at=self._clock(),
                    action=action,
                    actor=actor,
                    actor_label=actor_label,
                    target=(target or "")[:255] or None,
                    detail=detail,
                )
            )
        entry_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        logger.info("Audit %d: %s by %s on %s", entry_id, action, actor or actor_label, target)
        return entry_id

    def recent(self, action: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """The newest entries (of one ``action`` when given), newest first."""
        query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        if action:
            query = query.where(audit_log.c.action == action)
        with self._engine.connect() as connection:
            rows = connection.execute(query.limit(min(limit, MAX_LIST))).all()
        return [
            AuditEntry(
                id=row.id,
                at=row.at,
                action=row.action,
                actor=row.actor,
                actor_label=row.actor_label,
                target=row.target,
                detail=row.detail,
            )
            for row in rows
        ]
