"""Rasa event broker that keeps the handoff queue and the conversation list current.

Rasa's tracker store publishes every new tracker event to the configured event broker when it
saves a tracker — events from shopper messages, from actions, and from Rasa's HTTP API (the agent
console's writes) alike. This broker folds them into the application database:

- ``pause`` (``ConversationPaused``, returned by ``action_handoff``) opens a waiting handoff with the
  reason from the ``handoff_reason`` slot set just before it, and, for web widget conversations,
  stores a ``handoff`` event with the shopper's place in the queue on the widget's stream;
- ``resume``/``restart`` end an open handoff as ``left`` (an agent's hand-back ends it as
  ``returned`` before it resumes the conversation, so this is then a no-op);
- ``user``/``bot``/``slot`` events update the conversation's summary row (channel, counts, last
  message, intent and sentiment, the verified customer; for the list's filters, turns not
  understood, the lowest intent confidence, negative turns);
- every event feeds the Prometheus metrics (``bot.metrics``): the action that answered a turn,
  fallbacks, and each handoff opened;
- ``agent`` events carrying the widget's ``data.feedback`` count the shopper's thumbs up/down;
- every shopper message and every bot, agent or notice message with text is stored in
  ``conversation_messages`` (full-text search, analytics: :func:`message_of`) in the summary
  update's transaction; an agent's first message stamps the handoff's ``first_reply_at``.

``publish`` is synchronous in Rasa 3.6 and runs inside the tracker store's ``save``: it must never
raise (a broker failure would fail the shopper's message), so errors are logged and the event is
skipped — the tracker store keeps it either way. Wired in ``endpoints.yml`` by
``bot.runtime_config``::

    event_broker:
      type: bot.handoff.broker.HandoffEventBroker
      app_db_url: sqlite:////abs/path/var/shopbot.db
"""

from __future__ import annotations

import datetime as dt
import logging
from asyncio import AbstractEventLoop
from collections import OrderedDict
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.engine import Engine

from bot.metrics import ShopMetrics, metrics
from bot.storage.clock import utc_from_timestamp, utcnow
from bot.storage.conversations import ConversationIndex, SummaryUpdate
from bot.storage.engine import make_engine
from bot.storage.event_log import EventLog
from bot.storage.handoffs import HandoffQueue
from bot.storage.messages import NewMessage

logger = logging.getLogger(__name__)

REASON_SLOT = "handoff_reason"
CUSTOMER_SLOT = "verified_customer"
WIDGET_CHANNEL = "widget"
QUEUE_EVENTS = frozenset({"pause", "resume", "restart"})  # the events that change the queue
MAX_REMEMBERED = 10_000  # conversations whose handoff reason waits for their pause event


# metadata.shopbot.kind of a bot event (bot.console.handoff_views, bot.console.waiting) → sender
MARKED_SENDERS = {"agent": "agent", "handoff": "notice", "notice": "notice"}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def message_of(event: dict[str, Any]) -> NewMessage | None:
    """The ``conversation_messages`` row of a tracker event (None: not a message).

    Every ``user`` event (its intent, confidence and sentiment label) and every ``bot`` event with
    text; the console marks an agent's messages and its notices with ``metadata.shopbot``
    (``kind``: ``agent`` with ``agent_id``, ``handoff`` or ``notice``). The bench's seed
    (``training/bench/seed_plan.py``) stores what this returns too.
    """
    kind = event.get("event")
    text = event.get("text")
    text = text if isinstance(text, str) else ""
    if kind == "user":
        parse = event.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        sentiment = (parse.get("sentiment") or {}).get("label")
        return NewMessage(
            "user",
            text,
            intent=intent if isinstance(intent, str) else None,
            confidence=_number((parse.get("intent") or {}).get("confidence")),
            sentiment=sentiment if isinstance(sentiment, str) else None,
        )
    if kind != "bot" or not text:
        return None
    metadata = event.get("metadata")
    shopbot = metadata.get("shopbot") if isinstance(metadata, dict) else None
    shopbot = shopbot if isinstance(shopbot, dict) else {}
    sender = MARKED_SENDERS.get(str(shopbot.get("kind")), "bot")
    agent_id = shopbot.get("agent_id") if sender == "agent" else None
    return NewMessage(sender, text, agent_id=agent_id if type(agent_id) is int else None)


def _user_change(event: dict[str, Any]) -> SummaryUpdate:
    """A shopper message's summary change: its text, channel, intent, confidence, sentiment."""
    parse = event.get("parse_data") or {}
    intent = (parse.get("intent") or {}).get("name")
    confidence = (parse.get("intent") or {}).get("confidence")
    sentiment = (parse.get("sentiment") or {}).get("label")
    channel = event.get("input_channel")
    return SummaryUpdate(
        at=_at(event),
        channel=channel if isinstance(channel, str) else None,
        user_text=str(event.get("text") or ""),
        intent=intent if isinstance(intent, str) else None,
        sentiment=sentiment if isinstance(sentiment, str) else None,
        confidence=_number(confidence),
        message=message_of(event),
    )


def _feedback_change(event: dict[str, Any]) -> SummaryUpdate | None:
    """The widget's thumbs on a bot message (bot.channels.widget._record_feedback:
    ``{"feedback": {"value": ...}}`` in an ``agent`` event's data)."""
    data = event.get("data")
    feedback = data.get("feedback") if isinstance(data, dict) else None
    value = feedback.get("value") if isinstance(feedback, dict) else None
    return SummaryUpdate(at=_at(event), thumbs=value) if value in ("up", "down") else None


def _at(event: dict[str, Any]) -> dt.datetime:
    stamp = event.get("timestamp")
    if isinstance(stamp, (int, float)):
        return utc_from_timestamp(stamp)
    return utcnow()


class _Recent(OrderedDict[str, str]):
    """A small LRU map (conversation → value): a hint, the database stays the source of truth."""

    def remember(self, key: str, value: str) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > MAX_REMEMBERED:
            self.popitem(last=False)


class HandoffEventBroker(EventBroker):
    """Folds tracker events into the handoff queue and the conversation summaries.

    Args:
        engine: The application database (upgraded to head by ``shopbot run``).
    """

    def __init__(self, engine: Engine, shop_metrics: ShopMetrics | None = None) -> None:
        self.engine = engine
        self.metrics = shop_metrics or metrics()
        self.queue = HandoffQueue(engine)
        self.conversations = ConversationIndex(engine)
        self.widget_log = EventLog(engine)
        self._reasons = _Recent()

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig,
        event_loop: AbstractEventLoop | None = None,
    ) -> HandoffEventBroker:
        """Build the broker from its ``endpoints.yml`` section (``app_db_url`` required)."""
        url = str(broker_config.kwargs.get("app_db_url") or "")
        if not url:
            raise ValueError(
                "The handoff event broker needs 'app_db_url' in endpoints.yml; render the file "
                "with `shopbot run` (bot.runtime_config)."
            )
        return cls(make_engine(url))

    def publish(self, event: dict[str, Any]) -> None:
        """Fold one tracker event in; never raises."""
        self.publish_many([event])

    def publish_many(self, events: list[dict[str, Any]]) -> None:
        """Fold one save's new events in, in order; never raises.

        The summary changes (shopper and bot messages, feedback, the verified customer) go to the
        database in one transaction per conversation; only an event that changes the handoff
        queue (pause, resume, restart) applies the changes before it first, so a turn's shopper
        and bot messages, with the action events between them, are one transaction. If that
        transaction fails, each change is tried alone, so one bad event loses only itself.
        """
        pending: list[tuple[str, SummaryUpdate]] = []
        for event in events:
            sender = event.get("sender_id")
            kind = event.get("event")
            if not isinstance(sender, str) or not isinstance(kind, str):
                continue
            try:
                self.metrics.on_event(sender, event)
                change = self._summary_change(sender, kind, event)
                if change is not None:
                    pending.append((sender, change))
                elif kind in QUEUE_EVENTS:  # after the changes before it, in order
                    self._apply_pending(pending)
                    self._fold_other(sender, kind, event)
            except Exception:
                logger.exception("Handoff broker could not fold a %r event of %s", kind, sender)
        self._apply_pending(pending)

    def _apply_pending(self, pending: list[tuple[str, SummaryUpdate]]) -> None:
        """Apply and clear the pending summary changes (one transaction per conversation)."""
        batch, pending[:] = list(pending), []
        for sender in dict.fromkeys(s for s, _ in batch):
            changes = [c for s, c in batch if s == sender]
            try:
                self.conversations.apply_many(sender, changes)
            except Exception:
                logger.exception(
                    "Handoff broker could not fold %d events of %s at once; trying each",
                    len(changes),
                    sender,
                )
                for change in changes:
                    try:
                        self.conversations.apply(sender, change)
                    except Exception:
                        logger.exception("Handoff broker could not fold an event of %s", sender)

    def _summary_change(
        self, sender: str, kind: str, event: dict[str, Any]
    ) -> SummaryUpdate | None:
        """What the event changes in the conversation's summary row, if it is that kind of event
        (shopper and bot messages, the shopper's feedback, the verified customer)."""
        if kind == "user":
            return _user_change(event)
        if kind == "bot" and (event.get("text") or event.get("data")):
            return SummaryUpdate(at=_at(event), bot_message=True, message=message_of(event))
        if kind == "agent":
            return _feedback_change(event)
        if kind == "slot":
            name, value = event.get("name"), event.get("value")
            if name == REASON_SLOT and isinstance(value, str):
                self._reasons.remember(sender, value)
            elif name == CUSTOMER_SLOT and value:
                return SummaryUpdate(at=_at(event), customer=str(value))
        return None

    def _fold_other(self, sender: str, kind: str, event: dict[str, Any]) -> None:
        """The events that change the handoff queue."""
        if kind == "pause":
            self._on_pause(sender, event)
        elif kind in ("resume", "restart"):
            self.queue.finish(sender, "left")

    def _on_pause(self, sender: str, event: dict[str, Any]) -> None:
        # The summary row already holds the channel of the latest shopper message.
        summary = self.conversations.get(sender)
        channel = summary.channel if summary else "unknown"
        handoff, created = self.queue.open(
            sender,
            channel,
            self._reasons.pop(sender, "") or "asked",
            customer=summary.customer if summary else None,
        )
        if not created:
            return
        self.metrics.handed_off(channel)
        self.conversations.apply(sender, SummaryUpdate(at=_at(event), handoff=True))
        if channel == WIDGET_CHANNEL:
            position = self.queue.position(sender)
            payload: dict[str, Any] = {"state": "waiting"}
            if position is not None:
                payload["position"] = position
            self.widget_log.append(sender, "handoff", payload)
        logger.info("Conversation %s is in the handoff queue (%s)", sender, handoff.reason)

    async def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
