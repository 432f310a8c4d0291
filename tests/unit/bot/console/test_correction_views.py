"""Corrections in the console: propose on a turn, list, accept/reject (admins), the transcript
shows them, and the pages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.console.context import Console
from bot.console.domain_names import domain_names
from bot.console.transcript import events
from tests.unit.bot.console.helpers import (
    ADMIN,
    AGENT,
    TestClient,
    TrackerStore,
    bot_event,
    csrf_header,
    signed_in,
    user_event,
)

CID = "c-fix"


@pytest.fixture()
def turns(tracker: TrackerStore) -> dict[str, int]:
    """A conversation: a shopper turn, the bot's answer, an agent message; their event ids."""
    tracker.add(
        CID,
        user_event("where is order 482913", "greet", 0.41),
        bot_event("Hello! How can I help?"),
        bot_event("Ada here.", {"kind": "agent", "agent": "Ada"}),
    )
    tracker.add("c-other", user_event("hi", "greet", 0.9))
    with tracker.engine.connect() as conn:
        rows = conn.execute(select(events.c.id, events.c.sender_id).order_by(events.c.id)).all()
    user, bot, agent, other = (int(r.id) for r in rows)
    return {"user": user, "bot": bot, "agent": agent, "other": other}


def propose(client: TestClient, body: dict[str, Any], cid: str = CID) -> Any:
    return client.post(
        f"/api/conversations/{cid}/corrections", json=body, headers=csrf_header(client)
    )


def test_domain_names_come_from_the_domain_files() -> None:
    names = domain_names()
    assert "track_order" in names.intents and "out_of_scope" in names.intents
    assert "nlu_fallback" not in names.intents
    assert "ask_faq" not in names.intents  # a suggestion button's payload, never typed text
    assert {"order_number", "product", "faq_entry"} <= names.entities


def test_an_agent_proposes_and_an_admin_accepts(
    console: Console, client_factory: Any, turns: dict[str, int]
) -> None:
    agent = signed_in(client_factory(), AGENT)
    reply = propose(
        agent,
        {
            "event_id": turns["user"],
            "intent": "track_order",
            "entities": [{"entity": "order_number", "start": 15, "end": 21}],
        },
    )
    assert reply.status_code == 201, reply.text
    made = reply.json()["correction"]
    assert made["kind"] == "intent" and made["status"] == "proposed"
    assert made["text"] == "where is order 482913" and made["original_intent"] == "greet"
    assert made["entities"] == [
        {"entity": "order_number", "value": "482913", "start": 15, "end": 21}
    ]
    assert made["agent"] == AGENT[1]
    answer = propose(
        agent, {"event_id": turns["bot"], "answer": "Order 482913 ships today.", "is_fact": True}
    ).json()["correction"]
    assert answer["kind"] == "answer" and answer["is_fact"] is True
    assert answer["question"] == "where is order 482913"

    listed = agent.get("/api/corrections?status=proposed").json()
    assert [c["id"] for c in listed["corrections"]] == [answer["id"], made["id"]]
    assert (
        agent.post(f"/api/corrections/{made['id']}/accept", headers=csrf_header(agent)).status_code
        == 403
    )  # agents cannot review

    admin = signed_in(client_factory(), ADMIN)
    accepted = admin.post(f"/api/corrections/{made['id']}/accept", headers=csrf_header(admin))
    assert accepted.status_code == 200
    assert accepted.json()["correction"]["status"] == "accepted"
    assert accepted.json()["correction"]["reviewed_by"] == ADMIN[1]
    twice = admin.post(f"/api/corrections/{made['id']}/reject", headers=csrf_header(admin))
    assert twice.status_code == 409 and "already accepted by Ada Admin" in twice.json()["error"]
    rejected = admin.post(f"/api/corrections/{answer['id']}/reject", headers=csrf_header(admin))
    assert rejected.json()["correction"]["status"] == "rejected"
    assert admin.post("/api/corrections/999/accept", headers=csrf_header(admin)).status_code == 404
    assert admin.post("/api/corrections/x/accept", headers=csrf_header(admin)).status_code == 404

    assert agent.get("/api/corrections").json()["corrections"] == []  # default: proposed
    everything = agent.get("/api/corrections?status=all").json()["corrections"]
    assert {c["status"] for c in everything} == {"accepted", "rejected"}
    assert agent.get("/api/corrections?status=odd").status_code == 400


def test_the_transcript_shows_each_turns_corrections(
    client: TestClient, turns: dict[str, int]
) -> None:
    signed_in(client, AGENT)
    propose(client, {"event_id": turns["user"], "intent": "out_of_scope"})
    items = client.get(f"/api/conversations/{CID}").json()["items"]
    by_id = {item["id"]: item for item in items}
    assert [c["intent"] for c in by_id[turns["user"]]["corrections"]] == ["out_of_scope"]
    assert by_id[turns["bot"]]["corrections"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"intent": "track_order"}, "event_id must be a whole number"),
        ({"event_id": "1", "intent": "track_order"}, "event_id must be a whole number"),
        ({"event_id": 99999, "intent": "track_order"}, "no shopper or bot turn"),
        ({"event_id": "other", "intent": "greet"}, "no shopper or bot turn"),
        ({"event_id": "user", "intent": "make_coffee"}, "one of the domain's intents"),
        ({"event_id": "user", "intent": "nlu_fallback"}, "one of the domain's intents"),
        ({"event_id": "user"}, "one of the domain's intents"),
        ({"event_id": "user", "intent": "greet", "answer": "x"}, "not answer"),
        (
            {
                "event_id": "user",
                "intent": "greet",
                "entities": [{"entity": "order_number", "start": 15, "end": 40}],
            },
            "0 <= start < end <= 21",
        ),
        (
            {
                "event_id": "user",
                "intent": "greet",
                "entities": [{"entity": "shoe_size", "start": 0, "end": 5}],
            },
            "domain's entities",
        ),
        ({"event_id": "bot", "intent": "greet"}, "not intent"),
        ({"event_id": "bot", "answer": "  "}, "missing or empty"),
        ({"event_id": "bot", "answer": "x" * 2001}, "limit is 2000"),
        ({"event_id": "bot", "answer": "Yes", "is_fact": "yes"}, "is_fact must be true or false"),
        ({"event_id": "agent", "answer": "Yes"}, "only the bot's answers"),
    ],
)
def test_bad_corrections_are_400_with_a_reason(
    client: TestClient, turns: dict[str, int], body: dict[str, Any], message: str
) -> None:
    signed_in(client, AGENT)
    if isinstance(body.get("event_id"), str) and body["event_id"] in turns:
        body = {**body, "event_id": turns[body["event_id"]]}
    reply = propose(client, body)
    assert reply.status_code == 400
    assert message in reply.json()["error"]


def test_not_json_and_csrf_and_sign_in(client: TestClient, turns: dict[str, int]) -> None:
    path = f"/api/conversations/{CID}/corrections"
    body = {"event_id": turns["user"], "intent": "greet"}
    assert client.post(path, json=body).status_code == 401
    assert client.get("/api/corrections").status_code == 401
    assert client.get("/corrections", follow_redirects=False).status_code == 303
    signed_in(client, ADMIN)
    assert client.post(path, json=body).status_code == 403  # no CSRF token
    assert client.post("/api/corrections/1/accept").status_code == 403
    bad = client.post(path, content=b"[1]", headers=csrf_header(client))
    assert bad.status_code == 400


def test_pages_show_controls_and_review_buttons_by_role(
    client_factory: Any, turns: dict[str, int]
) -> None:
    agent = signed_in(client_factory(), AGENT)
    page = agent.get(f"/conversations/{CID}").text
    assert 'src="/static/correct.js"' in page and "track_order" in page
    propose(agent, {"event_id": turns["user"], "intent": "track_order"})
    listing = agent.get("/corrections").text
    assert 'data-testid="correction" data-status="proposed"' in listing
    assert "where is order 482913" in listing
    assert "correction-accept" not in listing  # agents read only

    admin = signed_in(client_factory(), ADMIN)
    listing = admin.get("/corrections").text
    assert 'data-testid="correction-accept"' in listing
    assert 'data-testid="correction-reject"' in listing
    assert "<script>" not in listing and " style=" not in listing
    assert admin.get("/corrections?status=bad").status_code == 400
    assert admin.get("/static/correct.js").status_code == 200
    assert admin.get("/static/corrections.js").status_code == 200
