"""Rasa's bot messages as widget events: the output channel that appends them to the event log.

Rasa hands each bot message to ``OutputChannel.send_response`` as one dict (``text``, ``buttons``,
``quick_replies``, ``image``, ``custom`` — the action's ``json_message`` — ...). The widget shows
one bubble per message, so :func:`widget_events` maps the whole dict to one ``bot`` event (text,
buttons, product cards and citations from ``custom``, the streamed answer's ``stream_id``), plus a
``handoff`` event when ``custom`` carries a handoff state. Internal fields of ``custom`` (sources,
scores, latencies) stay in the tracker and never reach the browser.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bot.channels.whole_message import WholeMessageOutputChannel

logger = logging.getLogger(__name__)

Store = Callable[[str, str, dict[str, Any]], Awaitable[int]]
HANDOFF_STATES = ("waiting", "joined", "ended")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _buttons(message: dict[str, Any]) -> list[dict[str, str]]:
    raw = message.get("buttons") or message.get("quick_replies") or []
    buttons = []
    for button in raw if isinstance(raw, list) else []:
        if isinstance(button, dict) and _text(button.get("title")) and _text(button.get("payload")):
            buttons.append({"title": button["title"], "payload": button["payload"]})
    return buttons


def _products(custom: dict[str, Any]) -> list[dict[str, Any]]:
    products = []
    for card in custom.get("products") or []:
        if not isinstance(card, dict) or not _text(card.get("name")):
            continue
        price = card.get("price")
        in_stock = card.get("in_stock")
        products.append(
            {
                "id": _text(card.get("id")),
                "name": card["name"],
                "price": price if isinstance(price, (int, float)) else None,
                "currency": _text(card.get("currency")) or "USD",
                "in_stock": in_stock if isinstance(in_stock, bool) else None,
                "image": _text(card.get("image")),
                "url": _text(card.get("url")),
            }
        )
    return products


def _citations(custom: dict[str, Any]) -> list[dict[str, Any]]:
    citations = []
    for i, citation in enumerate(custom.get("citations") or [], 1):
        if not isinstance(citation, dict):
            continue
        number = citation.get("n")
        citations.append(
            {
                "n": number if isinstance(number, int) else i,
                "title": _text(citation.get("title")),
                "url": _text(citation.get("url")),
                "kind": _text(citation.get("kind")),
            }
        )
    return citations


def _console_event(message: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """An agent's message or a handoff state sent by the agent console (``metadata.shopbot``).

    The console appends bot events through Rasa's HTTP API; Rasa merges an event's metadata into
    the message, so ``message["shopbot"]`` says who wrote it (``bot/console/handoff_views.py``).
    """
    marker = message.get("shopbot")
    if not isinstance(marker, dict):
        return None
    kind = marker.get("kind")
    if kind == "agent":
        return "agent", {
            "message_id": uuid.uuid4().hex,
            "text": _text(message.get("text")),
            "agent": _text(marker.get("agent")),
        }
    if kind == "handoff" and marker.get("state") in HANDOFF_STATES:
        event: dict[str, Any] = {"state": marker["state"], "text": _text(message.get("text"))}
        if _text(marker.get("agent")):
            event["agent"] = marker["agent"]
        return "handoff", event
    return None


def widget_events(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Map one Rasa bot message to widget events ``(kind, payload)`` (without ``seq``)."""
    console_event = _console_event(message)
    if console_event is not None:
        return [console_event]
    custom = message.get("custom") if isinstance(message.get("custom"), dict) else {}
    assert isinstance(custom, dict)
    out: list[tuple[str, dict[str, Any]]] = []
    bot: dict[str, Any] = {
        "message_id": uuid.uuid4().hex,
        # A channel-neutral answer may carry a shorter text for UIs that show citations as links.
        "text": _text(custom.get("display_text")) or _text(message.get("text")),
        "buttons": _buttons(message),
        "products": _products(custom),
        "citations": _citations(custom),
    }
    image = _text(message.get("image"))
    if image:
        bot["image"] = image
    stream_id = custom.get("stream_id")
    if isinstance(stream_id, str) and stream_id:
        bot["stream_id"] = stream_id
    if bot["text"] or bot["buttons"] or bot["products"] or "image" in bot:
        out.append(("bot", bot))
    handoff = custom.get("handoff")
    if isinstance(handoff, dict) and handoff.get("state") in HANDOFF_STATES:
        event: dict[str, Any] = {"state": handoff["state"]}
        if isinstance(handoff.get("position"), int):
            event["position"] = handoff["position"]
        out.append(("handoff", event))
    return out


class WidgetOutputChannel(WholeMessageOutputChannel):
    """Appends every bot message to the widget's event log of its recipient's conversation.

    Used for the replies to a widget message, and by Rasa's HTTP API (``output_channel=latest``),
    so messages sent into a widget conversation from outside (the agent console) reach its stream.

    Args:
        store: ``await store(conversation_id, kind, payload)`` stores an event, returns its seq.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    @classmethod
    def name(cls) -> str:
        """The channel's name (Rasa records it with each message)."""
        return "widget"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Store the whole message as one ``bot`` event (plus a ``handoff`` event if any)."""
        for kind, payload in widget_events(dict(message)):
            await self._store(recipient_id, kind, payload)
