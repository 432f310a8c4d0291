"""The Rasa server's metrics: counted by the channels' turns and the event broker's events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    Event,
    UserUttered,
)
from sqlalchemy.engine import Engine

from bot import metrics as metrics_module
from bot.handoff.broker import HandoffEventBroker
from bot.metrics import MAX_KINDS, ShopMetrics, scrape_allowed, timed_turn


@pytest.fixture()
def shop() -> ShopMetrics:
    return ShopMetrics(CollectorRegistry())


def value(shop: ShopMetrics, name: str, **labels: str) -> float:
    return shop.registry.get_sample_value(name, labels) or 0.0


def publish(broker: HandoffEventBroker, sender: str, *events: Event) -> None:
    for event in events:
        body: dict[str, Any] = {"sender_id": sender, **event.as_dict()}
        broker.publish(body)


def user(text: str, intent: str, channel: str = "rest") -> Event:
    return UserUttered(
        text, parse_data={"intent": {"name": intent, "confidence": 0.9}}, input_channel=channel
    )


def test_a_turn_is_timed_under_the_action_that_answered(
    shop: ShopMetrics, app_engine: Engine
) -> None:
    broker = HandoffEventBroker(app_engine, shop)
    publish(
        broker,
        "s1",
        user("where is my order", "track_order"),
        ActionExecuted("order_form"),
        BotUttered("What is your order number?"),
        ActionExecuted("action_listen"),
    )
    shop.answered("rest", "s1", 0.3)
    assert value(shop, "shopbot_reply_seconds_count", channel="rest", kind="order_form") == 1
    assert value(shop, "shopbot_reply_seconds_bucket", channel="rest", kind="order_form", le="0.5")
    # The kind is read once: a turn with no event (a paused conversation) is "none".
    shop.answered("rest", "s1", 0.1)
    assert value(shop, "shopbot_reply_seconds_count", channel="rest", kind="none") == 1


def test_fallbacks_and_handoffs_are_counted_from_the_events(
    shop: ShopMetrics, app_engine: Engine
) -> None:
    broker = HandoffEventBroker(app_engine, shop)
    publish(
        broker,
        "s2",
        user("blorp", "nlu_fallback", channel="widget"),
        ActionExecuted("action_default_fallback"),
        user("get me a human", "human_handoff", channel="widget"),
        ActionExecuted("action_handoff"),
        ConversationPaused(),
        ConversationPaused(),  # already in the queue: one handoff
    )
    assert value(shop, "shopbot_fallbacks_total", kind="nlu") == 1
    assert value(shop, "shopbot_fallbacks_total", kind="core") == 1
    assert value(shop, "shopbot_handoffs_total", channel="widget") == 1


def test_labels_stay_bounded(shop: ShopMetrics) -> None:
    shop.received("made-up-channel")
    assert value(shop, "shopbot_messages_received_total", channel="other") == 1
    for n in range(MAX_KINDS + 5):
        shop.on_event(f"s{n}", {"event": "action", "name": f"action_{n}"})
        shop.answered("rest", f"s{n}", 0.1)
    assert value(shop, "shopbot_reply_seconds_count", channel="rest", kind="other") == 5


def test_timed_turn_counts_messages_and_errors(
    shop: ShopMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics_module, "_default", shop)

    async def fine() -> None:
        shop.on_event("s3", {"event": "action", "name": "utter_greet"})

    async def broken() -> None:
        raise RuntimeError("the assistant broke")

    asyncio.run(timed_turn("widget", "s3", fine()))
    with pytest.raises(RuntimeError):
        asyncio.run(timed_turn("widget", "s3", broken()))
    assert value(shop, "shopbot_messages_received_total", channel="widget") == 2
    assert value(shop, "shopbot_errors_total", channel="widget") == 1
    assert value(shop, "shopbot_reply_seconds_count", channel="widget", kind="utter_greet") == 1


@pytest.mark.parametrize(
    ("peer", "forwarded", "authorization", "token", "allowed"),
    [
        ("127.0.0.1", False, None, "", True),
        ("::1", False, None, "", True),
        ("127.0.0.1", True, None, "", False),  # a proxy on the same machine
        ("10.0.0.7", False, None, "", False),
        ("", False, None, "", False),
        ("not-an-ip", False, None, "", False),
        ("10.0.0.7", False, "Bearer s3cret", "s3cret", True),
        ("10.0.0.7", True, "bearer s3cret", "s3cret", True),
        ("127.0.0.1", False, None, "s3cret", False),  # with a token, loopback needs it too
        ("10.0.0.7", False, "Bearer wrong", "s3cret", False),
        ("10.0.0.7", False, "s3cret", "s3cret", False),
    ],
)
def test_who_may_scrape(
    peer: str, forwarded: bool, authorization: str | None, token: str, allowed: bool
) -> None:
    assert scrape_allowed(peer, forwarded, authorization, token) is allowed
