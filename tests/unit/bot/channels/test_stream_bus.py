"""The widget's stream bus: what another server published reaches this server's open streams.

The Redis round trip itself runs for real in ``tests/e2e/test_replicas.py`` (a stream on one Rasa
server gets the ``typing`` event of a message handled by the other).
"""

from __future__ import annotations

import asyncio
import json

from bot.channels.stream_bus import RedisStreamHub
from bot.channels.widget_stream import Ephemeral
from tests.unit.bot.storage.test_tracker_store import in_fresh_loop  # a loop of its own

URL = "redis://127.0.0.1:1/0"  # never connected to in these tests


def test_an_event_from_another_server_reaches_the_open_streams_here() -> None:
    async def scenario() -> None:
        hub = RedisStreamHub(URL)
        subscription = hub.subscribe("c1")
        other = hub.subscribe("c2")
        raw = json.dumps({"o": "another-server", "c": "c1", "k": "typing", "d": {"on": True}})
        assert hub.deliver(raw) is True
        assert subscription.drain() == [Ephemeral("typing", {"on": True})]
        assert other.drain() == []
        assert hub.received == 1

    in_fresh_loop(scenario())


def test_a_wake_up_from_another_server_wakes_the_streams_without_an_event() -> None:
    async def scenario() -> None:
        hub = RedisStreamHub(URL)
        subscription = hub.subscribe("c1")
        assert hub.deliver(json.dumps({"o": "another-server", "c": "c1"})) is True
        assert subscription.wake.is_set() and subscription.drain() == []

    in_fresh_loop(scenario())


def test_its_own_and_malformed_messages_are_ignored() -> None:
    async def scenario() -> None:
        hub = RedisStreamHub(URL)
        subscription = hub.subscribe("c1")
        hub.publish("c1", Ephemeral("token", {"text": "a"}))  # delivered here once, directly
        own = json.dumps({"o": hub._origin, "c": "c1", "k": "token", "d": {"text": "a"}})
        assert hub.deliver(own) is False
        assert hub.deliver(b"\xff not json") is False
        assert hub.deliver(json.dumps({"o": "x"})) is False  # no conversation
        assert subscription.drain() == [Ephemeral("token", {"text": "a"})]
        await asyncio.sleep(0)  # the publish task fails quietly: no Redis here

    in_fresh_loop(scenario())


def test_publishing_outside_an_event_loop_delivers_locally_only() -> None:
    hub = RedisStreamHub(URL)
    assert hub.publish("c1", Ephemeral("typing", {"on": False})) == 0
