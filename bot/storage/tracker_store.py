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
"""

from __future__ import annotations

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker


class ShopSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose event streaming counts stored rows instead of replaying them."""

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Publish the events of ``tracker`` that are not stored yet to the event broker."""
        if self.event_broker is None:
            return
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
