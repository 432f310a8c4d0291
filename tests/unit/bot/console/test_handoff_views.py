"""Claim, reply, hand back, close: who may do what, what the shopper is sent (through the Rasa
API double), and the exact refusals."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.console.context import Console
from bot.console.handoff_views import BACK_TO_BOT, CLOSED
from bot.console.rasa_api import RASA_REFUSED
from tests.unit.bot.console.helpers import (
    ADMIN,
    AGENT,
    RecordingRasa,
    TestClient,
    TrackerStore,
    csrf_header,
    signed_in,
    simple_event,
)

CID = "conv-42"
ACTIONS = ["claim", "reply", "handback", "close"]


@pytest.fixture()
def bob(client_factory: Callable[..., TestClient]) -> TestClient:
    client = signed_in(client_factory(), AGENT)
    client.headers.update(csrf_header(client))
    return client


@pytest.fixture()
def ada(client_factory: Callable[..., TestClient]) -> TestClient:
    client = signed_in(client_factory(), ADMIN)
    client.headers.update(csrf_header(client))
    return client


def url(action: str, cid: str = CID) -> str:
    return f"/api/conversations/{cid}/{action}"


def waiting(console: Console, cid: str = CID) -> int:
    handoff, _created = console.queue.open(cid, "widget", "asked", customer="sam@example.com")
    return handoff.id


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_needs_the_csrf_header(
    console: Console, client: TestClient, rasa: RecordingRasa, action: str
) -> None:
    waiting(console)
    signed_in(client, AGENT)
    reply = client.post(url(action), json={"text": "hi"})
    assert reply.status_code == 403
    assert reply.json() == {"error": "The CSRF token is missing or wrong. Reload the page."}
    reply = client.post(url(action), json={"text": "hi"}, headers={"X-CSRF-Token": "forged"})
    assert reply.status_code == 403
    assert rasa.calls == [] and console.queue.current(CID).status == "waiting"  # type: ignore[union-attr]


def test_claim_winner_joins_and_loser_gets_409_with_the_holder(
    console: Console, bob: TestClient, ada: TestClient, rasa: RecordingRasa
) -> None:
    handoff_id = waiting(console)
    reply = bob.post(url("claim"), json={"handoff_id": handoff_id})
    assert reply.status_code == 200
    body = reply.json()
    assert body["claimed"] is True
    assert body["handoff"]["status"] == "claimed" and body["handoff"]["mine"] is True
    assert body["handoff"]["agent"] == AGENT[1]
    assert rasa.calls == [
        (
            CID,
            [
                {
                    "event": "bot",
                    "text": "Bob Agent from the support team joined the conversation.",
                    "metadata": {
                        "shopbot": {"kind": "handoff", "state": "joined", "agent": "Bob Agent"}
                    },
                }
            ],
        )
    ]
    lost = ada.post(url("claim"), json={"handoff_id": handoff_id})
    assert lost.status_code == 409
    assert lost.json() == {
        "error": "Bob Agent already has this conversation.",
        "holder": "Bob Agent",
    }
    again = bob.post(url("claim"))  # the holder clicking twice: no second "joined" message
    assert again.status_code == 200 and len(rasa.calls) == 1


def test_claim_refusals(console: Console, bob: TestClient, rasa: RecordingRasa) -> None:
    assert bob.post(url("claim")).status_code == 404  # nothing to claim
    other = waiting(console, "other")
    reply = bob.post(url("claim"), json={"handoff_id": other})
    assert reply.status_code == 404  # a handoff of another conversation
    for bad in ("7", -1, 1.5, True):
        reply = bob.post(url("claim"), json={"handoff_id": bad})
        assert reply.status_code == 400 and "handoff_id must be a whole number" in reply.text
    # Malformed, and hostile bodies that json.loads turned into ValueError / RecursionError.
    for raw in (b"{nope", b'{"handoff_id": ' + b"1" * 5000 + b"}", b"[" * 10_000 + b"]" * 10_000):
        reply = bob.post(url("claim"), content=raw, headers={"Content-Type": "application/json"})
        assert reply.status_code == 400 and "Traceback" not in reply.text
    handoff_id = waiting(console)
    console.queue.finish(CID, "left")
    reply = bob.post(url("claim"), json={"handoff_id": handoff_id})
    assert reply.status_code == 409
    assert reply.json() == {"error": "This conversation is no longer waiting (left)."}
    assert rasa.calls == []


def test_only_the_claimer_may_reply(
    console: Console, bob: TestClient, ada: TestClient, rasa: RecordingRasa
) -> None:
    waiting(console)
    reply = bob.post(url("reply"), json={"text": "hello"})
    assert reply.status_code == 409
    assert reply.json() == {"error": "Nobody has claimed this conversation yet; claim it first."}
    assert bob.post(url("claim")).status_code == 200
    rasa.calls.clear()
    reply = ada.post(url("reply"), json={"text": "hello"})
    assert reply.status_code == 403
    assert reply.json() == {"error": "Bob Agent has this conversation."}
    reply = bob.post(url("reply"), json={"text": "  I'm checking your order now.  "})
    assert reply.status_code == 200 and reply.json() == {"sent": True}
    bob_id = console.agents.get(AGENT[0]).id  # type: ignore[union-attr]
    assert rasa.calls == [
        (
            CID,
            [
                {
                    "event": "bot",
                    "text": "I'm checking your order now.",
                    "metadata": {
                        "shopbot": {"kind": "agent", "agent": "Bob Agent", "agent_id": bob_id}
                    },
                }
            ],
        )
    ]
    assert bob.post(url("reply", "unknown"), json={"text": "x"}).status_code == 409


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": ""}, "Write a message first: the text is empty."),
        ({"text": " \n\t "}, "Write a message first: the text is empty."),
        ({"text": "x" * 2001}, "The message has 2001 characters; the limit is 2000."),
        ({"text": 5}, "text is missing or not a string"),
        ({}, "text is missing or not a string"),
        (["hi"], "text is missing or not a string"),
    ],
)
def test_reply_validation(
    console: Console, bob: TestClient, rasa: RecordingRasa, body: object, message: str
) -> None:
    waiting(console)
    bob.post(url("claim"))
    rasa.calls.clear()
    reply = bob.post(url("reply"), json=body)
    assert reply.status_code == 400 and message in reply.json()["error"]
    assert rasa.calls == []
    assert bob.post(url("reply"), json={"text": "y" * 2000}).status_code == 200


def test_hand_back_returns_the_conversation_to_the_bot(
    console: Console, bob: TestClient, ada: TestClient, rasa: RecordingRasa
) -> None:
    waiting(console)
    bob.post(url("claim"))
    rasa.calls.clear()
    assert ada.post(url("handback")).status_code == 403
    assert ada.post(url("close")).status_code == 403
    reply = bob.post(url("handback"))
    assert reply.status_code == 200
    assert reply.json()["status"] == "returned"
    assert reply.json()["handoff"]["status"] == "returned"
    assert rasa.calls == [
        (
            CID,
            [
                {"event": "resume"},
                {
                    "event": "bot",
                    "text": BACK_TO_BOT,
                    "metadata": {"shopbot": {"kind": "handoff", "state": "ended"}},
                },
            ],
        )
    ]
    assert console.queue.current(CID) is None
    assert console.queue.history(CID)[-1].status == "returned"
    assert bob.post(url("handback")).status_code == 409  # already back with the bot
    assert bob.post(url("reply"), json={"text": "x"}).status_code == 409


def test_close(console: Console, bob: TestClient, rasa: RecordingRasa) -> None:
    waiting(console)
    bob.post(url("claim"))
    reply = bob.post(url("close"))
    assert reply.status_code == 200 and reply.json()["status"] == "closed"
    assert rasa.calls[-1][1][0] == {"event": "resume"}
    assert rasa.texts()[-1] == CLOSED
    assert console.queue.history(CID)[-1].status == "closed"


def test_rasa_down_is_a_502_and_hand_back_can_be_retried(
    console: Console, bob: TestClient, rasa: RecordingRasa, tracker: TrackerStore
) -> None:
    waiting(console)
    tracker.add(CID, simple_event("pause"))
    bob.post(url("claim"))
    rasa.calls.clear()
    rasa.fail = True
    reply = bob.post(url("reply"), json={"text": "hello"})
    assert reply.status_code == 502 and reply.json() == {"error": RASA_REFUSED}
    reply = bob.post(url("handback"))
    assert reply.status_code == 502 and reply.json() == {"error": RASA_REFUSED}
    assert console.queue.history(CID)[-1].status == "returned"  # ended; Rasa is still paused
    rasa.fail = False
    reply = bob.post(url("handback"))  # the retry sends the resume again
    assert reply.status_code == 200 and rasa.texts() == [BACK_TO_BOT]
    tracker.add(CID, simple_event("resume"))
    assert bob.post(url("handback")).status_code == 409  # resumed: nothing left to do


def test_actions_are_logged_without_message_text(
    console: Console, bob: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    waiting(console)
    caplog.set_level(logging.INFO, logger="bot.console")
    bob.post(url("claim"))
    bob.post(url("reply"), json={"text": "my secret words"})
    bob.post(url("close"))
    bob_id = console.agents.get(AGENT[0]).id  # type: ignore[union-attr]
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot.console")]
    assert f"Agent {bob_id} claimed conversation {CID} (handoff 1)" in lines
    assert f"Agent {bob_id} wrote in conversation {CID}" in lines
    assert f"Agent {bob_id} ended conversation {CID}'s handoff: closed" in lines
    assert not any("secret words" in line for line in lines)


def test_conversation_ids_with_slashes(console: Console, bob: TestClient) -> None:
    cid = "rest/user 7"
    waiting(console, cid)
    assert bob.post("/api/conversations/rest%2Fuser%207/claim").status_code == 200
    assert console.queue.current(cid).status == "claimed"  # type: ignore[union-attr]
    assert (
        bob.post("/api/conversations/rest/user%207/reply", json={"text": "ok"}).status_code == 200
    )
