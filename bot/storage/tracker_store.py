"""Rasa's SQL tracker store, without reading the whole conversation back on every save.

Rasa 3.6's ``TrackerStore.stream_events`` — called first by ``SQLTrackerStore.save`` on every turn
when an event broker is configured (ShopBot's handoff broker always is) — finds the turn's new
events by *retrieving the conversation again*: it selects every event of the current session,
decodes them and replays them into a new ``DialogueStateTracker``, only to take the number of
events it holds. ``save`` then counts the same rows with one SQL ``COUNT`` to decide what to
insert. The retrieval grows with the conversation; the count does not.

:class:`ShopSQLTrackerStore` finds the new events for the broker with that same count
(``SQLTrackerStore._additional_events``: the events since the last session start already stored),
which is exactly what the retrieval's length gave, and leaves everything else to Rasa: the table,
the rows it writes, retrieval, and the order (the broker first, then the insert). Configured by
``bot.runtime_config.tracker_store_config``; see docs/decisions/021-cheaper-turns.md.

Its connections are tested before use (``pool_pre_ping``): after a PostgreSQL restart Rasa's pool
hands out dead connections, and a failed retrieval makes Rasa 3.6 answer that turn from an empty
in-memory tracker (its ``FailSafeTrackerStore``), so the turn would start a new session and its
events would be stored out of their conversation's context (seen 2026-12-05).

Rasa finds a turn's new events by position: the tracker's events beyond the number stored since
the session started. That is right only when the tracker was read from the store and nobody saved
in between. When the retrieval failed (Rasa then answers from an empty in-memory tracker) or
another turn of the conversation saved meanwhile, the position points into the wrong events and
the turn's shopper message is silently not stored. ``_additional_events`` checks that the event
before that position is the last one stored; when it is not, it logs the mismatch and stores the
tracker's events newer than the last stored one instead, so the message is kept.

A save that fails on a lost connection is tried again (``SAVE_ATTEMPTS``, backing off up to
~3 s): Rasa would otherwise keep the turn in memory only, and the shopper's answered message would
be missing from the store (the Reliability benchmark lost one this way during a PostgreSQL
restart). The save is one transaction, so a failed attempt stored nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

SAVE_ATTEMPTS = 5
FIRST_BACKOFF_S = 0.2


def _same_event(event: Event, row: Any) -> bool:
    """Whether a tracker event is the stored row (type and timestamp, as Rasa stores them)."""
    return bool(event.type_name == row.type_name and event.timestamp == row.timestamp)


def lost_connection(exc: Exception) -> bool:
    """True for errors of a database that went away (worth another attempt), not of bad data."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError))


class ShopSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose event streaming counts stored rows instead of replaying them."""

    engine: sa.engine.Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()  # Rasa's engine, rebuilt with connections checked before use
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save, tried again while the database connection is being re-established."""
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                await super().save(tracker)
                return
            except sa.exc.SQLAlchemyError as exc:
                if attempt == SAVE_ATTEMPTS or not lost_connection(exc):
                    raise
                delay = FIRST_BACKOFF_S * 2 ** (attempt - 1)
                logger.warning(
                    "Saving conversation %s failed (%s); attempt %d of %d in %.1f s",
                    tracker.sender_id,
                    type(exc).__name__,
                    attempt + 1,
                    SAVE_ATTEMPTS,
                    delay,
                )
                await asyncio.sleep(delay)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        """The tracker's events not stored yet: Rasa's count, checked against the last stored."""
        query = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False)
        stored = query.count()
        events = list(tracker.events)
        if stored == 0:
            return iter(events)
        last = query.order_by(None).order_by(self.SQLEvent.id.desc()).first()
        if stored <= len(events) and _same_event(events[stored - 1], last):
            return iter(events[stored:])
        newer = [e for e in events if e.timestamp > last.timestamp]
        logger.error(
            "Conversation %s: the tracker (%d events) does not continue the %d stored since its "
            "session started (a failed retrieval, or another turn saved meanwhile); storing its "
            "%d events newer than the last stored one",
            tracker.sender_id,
            len(events),
            stored,
            len(newer),
        )
        return iter(newer)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Publish the events of ``tracker`` that are not stored yet to the event broker."""
        if self.event_broker is None:
            return
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
