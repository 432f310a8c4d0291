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

A save is one pass (2026-12-06): the new events are found once (Rasa's ``stream_events`` and
``save`` each counted them), published to the broker as one batch when it can take one
(``publish_many``: the handoff broker folds them in one transaction), and inserted with one
``executemany``, with Rasa's columns and values, instead of an ORM object per event.

A save that fails on a lost connection is tried again (``SAVE_ATTEMPTS``, backing off up to
~3 s): Rasa would otherwise keep the turn in memory only, and the shopper's answered message would
be missing from the store (the Reliability benchmark lost one this way during a PostgreSQL
restart). The save is one transaction, so a failed attempt stored nothing.

The last saved tracker of the most recent conversations (``KEPT_CONVERSATIONS``) is kept in
memory (2026-12-07): reading a conversation back — every row of its session decoded, turned into
events and applied to a new tracker — was ~12% of the Rasa server's CPU under the Throughput mix,
on every turn, for the tracker the server had saved a moment before. A retrieval first asks the
table how many rows the session holds and which is the last (one indexed query); when that is
what the save left, it returns a copy of the kept tracker (:func:`bot.tracker_copy.copy_tracker`),
else it reads the table as before. A tracker is kept only when the session's rows are exactly its
events (not after a turn that started a new session, or when another writer's rows came in
between), so it is the tracker the table gives; any later change to the table (another server's
turn, an erasure) is read from the table. ``tests/unit/bot/storage/test_tracker_store_kept.py``
compares both; ``docs/benchmarks/2026-12-07/round4/kept_check/`` compares them on every retrieval
of a load run.

On SQLite (2026-12-06) the store keeps its connections in a pool and writes ahead to a log with
``synchronous=NORMAL``, as the application database does: Rasa's engine opened a new connection
(and parsed the schema again) for every retrieval and save and synced a rollback journal on every
commit, half of the store's time per turn. A power cut may lose the last turns committed; a crash
of the process loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from typing import Any, NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.storage import event_types
from bot.storage.engine import make_engine
from bot.tracker_copy import copy_tracker

logger = logging.getLogger(__name__)

SAVE_ATTEMPTS = 5
FIRST_BACKOFF_S = 0.2
KEPT_CONVERSATIONS = 512
"""Conversations whose last saved tracker the store keeps in memory (least recently used out)."""


class _Kept(NamedTuple):
    """A saved tracker, and what the table held for its session right after the save."""

    stored: int
    last_id: int
    domain: Any
    tracker: DialogueStateTracker


class _NewEvents(NamedTuple):
    events: list[Event]
    stored: int
    continues: bool
    """The tracker's events continue the stored ones (Rasa's count, checked at the last one)."""


def _same_event(event: Event, row: Any) -> bool:
    """Whether a tracker event is the stored row (type and timestamp, as Rasa stores them)."""
    return bool(event.type_name == row.type_name and event.timestamp == row.timestamp)


def lost_connection(exc: Exception) -> bool:
    """True for errors of a database that went away (worth another attempt), not of bad data."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError))


def _engine(url: sa.engine.URL) -> sa.engine.Engine:
    """The store's engine: PostgreSQL's with connections checked before use; SQLite's pooled, in
    write-ahead-log mode (:func:`bot.storage.engine.make_engine`) instead of Rasa's new connection
    and full sync of the journal on every use."""
    if url.get_backend_name() == "sqlite":
        return make_engine(url.render_as_string(hide_password=False))
    return sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))


class ShopSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that counts stored rows instead of replaying them, and saves in one
    pass."""

    engine: sa.engine.Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()  # Rasa's engine, rebuilt (see _engine)
        self.engine = _engine(url)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        event_types.install()  # the retrieval's event lookup from a table
        table = self.SQLEvent.__table__
        # Built once, with the conversation as a parameter: building a statement (and its cache
        # key) for every retrieval and save was ~3% of the Rasa server's CPU under the mix.
        self._session_data = self._events_of(table.c.data).order_by(table.c.id)
        self._all_data = self._events_of(table.c.data, all_sessions=True).order_by(table.c.id)
        self._stored_count = self._events_of(sa.func.count(), sa.func.max(table.c.id))
        self._row_of = sa.select(table.c.type_name, table.c.timestamp).where(
            table.c.id == sa.bindparam("row_id")
        )
        self._kept: OrderedDict[str, _Kept] = OrderedDict()

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save, tried again while the database connection is being re-established."""
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                await self._save_once(tracker)
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

    async def _save_once(self, tracker: DialogueStateTracker) -> None:
        """Rasa's ``save`` in one pass: new events found once, the broker first, one insert."""
        sender_id = tracker.sender_id
        self._kept.pop(sender_id, None)
        with self.session_scope() as session:
            new = self._additional_events(session, tracker)
            if not new.events:
                return
            dicts = [event.as_dict() for event in new.events]
            self._publish(sender_id, dicts)
            session.execute(
                self.SQLEvent.__table__.insert(),
                [
                    _row(sender_id, event, data)
                    for event, data in zip(new.events, dicts, strict=True)
                ],
            )
            after = session.execute(self._stored_count, {"sender_id": sender_id}).one()
            session.commit()
        # Kept when the session's rows are exactly the tracker's events (not when the turn
        # started a new session, or someone else's rows came in between).
        if new.continues and after[0] == new.stored + len(new.events) == len(tracker.events):
            self._keep(sender_id, _Kept(after[0], after[1], self.domain, copy_tracker(tracker)))

    def _keep(self, sender_id: str, kept: _Kept) -> None:
        self._kept[sender_id] = kept
        if len(self._kept) > KEPT_CONVERSATIONS:
            self._kept.popitem(last=False)

    def _publish(self, sender_id: str, dicts: list[dict[str, Any]]) -> None:
        """Rasa's broker bodies, as one batch for a broker that takes one (``publish_many``)."""
        if self.event_broker is None:
            return
        bodies = [{"sender_id": sender_id, **data} for data in dicts]
        publish_many = getattr(self.event_broker, "publish_many", None)
        if publish_many is not None:
            publish_many(bodies)
            return
        for body in bodies:
            self.event_broker.publish(body)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """Rasa's retrieval (the same rows, in the same order) as one SQL expression reading only
        the ``data`` column, without an ORM object per event."""
        kept = None if fetch_events_from_all_sessions else self._kept.get(sender_id)
        query = self._all_data if fetch_events_from_all_sessions else self._session_data
        with self.session_scope() as session:
            if kept is not None:
                held = session.execute(self._stored_count, {"sender_id": sender_id}).one()
                if kept.domain is self.domain and tuple(held) == (kept.stored, kept.last_id):
                    self._kept.move_to_end(sender_id)
                    return copy_tracker(kept.tracker)
                del self._kept[sender_id]  # the table changed since (another server, an erasure)
            rows = session.execute(query, {"sender_id": sender_id}).scalars().all()
        events = [json.loads(data) for data in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    def _events_of(self, *columns: Any, all_sessions: bool = False) -> Any:
        """``SELECT columns`` of the conversation's events: Rasa's ``_event_query`` as a Core
        statement (the latest session: events from its ``session_started`` on, or all events
        when there is none), for the conversation passed as the ``sender_id`` parameter."""
        table = self.SQLEvent.__table__
        sender_id = sa.bindparam("sender_id")
        query = sa.select(*columns).where(table.c.sender_id == sender_id)
        if all_sessions:
            return query
        start = (
            sa.select(sa.func.max(table.c.timestamp))
            .where(table.c.sender_id == sender_id, table.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        return query.where(sa.or_(table.c.timestamp >= start, start.is_(None)))

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> _NewEvents:
        """The tracker's events not stored yet: Rasa's count, checked against the last stored."""
        stored, last_id = session.execute(
            self._stored_count, {"sender_id": tracker.sender_id}
        ).one()
        events = list(tracker.events)
        if stored == 0:
            return _NewEvents(events, 0, True)
        last = session.execute(self._row_of, {"row_id": last_id}).one()
        if stored <= len(events) and _same_event(events[stored - 1], last):
            return _NewEvents(events[stored:], stored, True)
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
        return _NewEvents(newer, stored, False)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Publish the events of ``tracker`` that are not stored yet to the event broker."""
        if self.event_broker is None:
            return
        with self.session_scope() as session:
            new_events = self._additional_events(session, tracker).events
        self._publish(tracker.sender_id, [event.as_dict() for event in new_events])


def _row(sender_id: str, event: Event, data: dict[str, Any]) -> dict[str, Any]:
    """The ``events`` row Rasa's ``SQLTrackerStore.save`` writes for ``event`` (``data``: its
    ``as_dict()``)."""
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }
