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
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker


class ShopSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose event streaming counts stored rows instead of replaying them."""

    engine: sa.engine.Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()  # Rasa's engine, rebuilt with connections checked before use
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Publish the events of ``tracker`` that are not stored yet to the event broker."""
        if self.event_broker is None:
            return
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
