"""``actions.identity``: who the shopper is (the Actor of a conversation) and the lockout it counts
under, on recorded trackers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from actions.identity import actor_of, lockout_text
from actions.store.sql.backend import SqlStoreBackend
from actions.store.types import Actor
from tests.unit.actions.store.dialogue import Chat, make_tracker, texts


@pytest.mark.parametrize(
    ("metadata", "client"),
    [
        ({"client": "9f2c1e"}, "9f2c1e"),
        ({"client": " 9f2c1e \n", "customer_token": "t"}, "9f2c1e"),
        ({"client": 12345}, ""),
        ({"client": None}, ""),
        ({}, ""),
    ],
)
def test_the_actor_gets_the_client_from_the_latest_message_metadata(
    metadata: dict[str, Any], client: str
) -> None:
    tracker = make_tracker({}, sender="conv-1", channel="widget", metadata=metadata)
    assert actor_of(tracker) == Actor("conv-1", "widget", client=client)


def test_a_fresh_conversation_from_the_same_client_is_locked_out(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    target = picks["processing"]
    first = Chat("conv-a", channel="widget")
    first.metadata = {"client": "client-hash-1"}
    first.start("track_order", order_number=target.number)
    for attempt in range(4):
        first.say(f"guess{attempt}@example.com", email=f"guess{attempt}@example.com")
        first.say(target.number, order_number=target.number)
    assert "paused order lookups" in texts(first.say("g4@example.com", email="g4@example.com"))
    # Same client, new conversation id: the right pair is refused with the same reply.
    fresh = Chat("conv-b", channel="widget")
    fresh.metadata = {"client": "client-hash-1"}
    fresh.start("track_order", order_number=target.number)
    locked = texts(fresh.say(target.email, email=target.email))
    assert "paused order lookups" in locked and "12:15 UTC" in locked
    assert fresh.slots["verified_order"] is None
    # Another client's conversation is not affected.
    other = Chat("conv-c", channel="widget")
    other.metadata = {"client": "client-hash-2"}
    other.start("track_order", order_number=target.number)
    other.say(target.email, email=target.email)
    assert other.slots["verified_order"] == target.number
    clients = {e.details.get("client") for e in seeded.audit_trail(order_number=target.number)}
    assert clients == {"client-hash-1", "client-hash-2"}


@pytest.mark.parametrize(
    ("left", "said"),
    [
        (dt.timedelta(minutes=15), "in about 15 minutes"),
        (dt.timedelta(minutes=14, seconds=1), "in about 15 minutes"),
        (dt.timedelta(minutes=14), "in about 14 minutes"),
        (dt.timedelta(seconds=20), "in about 1 minute)"),
    ],
)
def test_the_lockout_says_the_minutes_left_rounded_up(left: dt.timedelta, said: str) -> None:
    now = dt.datetime(2026, 12, 4, 12, 0)
    assert said in lockout_text(now + left, now)
