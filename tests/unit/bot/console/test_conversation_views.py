"""The queue, the conversation list and one conversation's transcript API and pages."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.console.context import Console
from bot.storage.conversations import SummaryUpdate
from tests.unit.bot.console.helpers import (
    ADMIN,
    AGENT,
    FakeClock,
    TestClient,
    TrackerStore,
    bot_event,
    csrf_header,
    signed_in,
    simple_event,
    user_event,
)


def test_queue_lists_open_handoffs_with_their_last_turns(
    console: Console, client: TestClient, clock: FakeClock, tracker: TrackerStore
) -> None:
    tracker.add(
        "c-wait",
        user_event("where is my parcel", "order_status", 0.87, sentiment=("neutral", 0.7)),
        bot_event("Which order number?"),
        user_event("<b>I want a human</b>", "human_handoff", 0.95, sentiment=("negative", 0.9)),
        simple_event("pause"),
    )
    console.queue.open("c-claimed", "rest", "frustration")
    clock.advance(30)
    waiting, _ = console.queue.open("c-wait", "widget", "asked", customer="sam@example.com")
    ada = console.agents.get(ADMIN[0])
    assert ada is not None
    claimed = console.queue.current("c-claimed")
    assert claimed is not None and console.queue.claim(claimed.id, ada.id).won
    clock.advance(95)

    signed_in(client, AGENT)
    body = client.get("/api/queue").json()
    assert body["count"] == 1
    first, second = body["conversations"]
    assert first == {
        "handoff_id": waiting.id,
        "conversation_id": "c-wait",
        "channel": "widget",
        "reason": "asked",
        "reason_text": "Asked for a human",
        "status": "waiting",
        "waited_s": 95,
        "requested_at": "2026-12-01T09:00:30Z",
        "claimed_at": None,
        "agent": None,
        "mine": False,
        "customer": "sam@example.com",
        "last_messages": [
            {"author": "user", "text": "where is my parcel"},
            {"author": "bot", "text": "Which order number?"},
            {"author": "user", "text": "<b>I want a human</b>"},
        ],
        "last_turns": [
            {
                "text": "where is my parcel",
                "intent": "order_status",
                "confidence": 0.87,
                "sentiment": "neutral",
            },
            {
                "text": "<b>I want a human</b>",
                "intent": "human_handoff",
                "confidence": 0.95,
                "sentiment": "negative",
            },
        ],
    }
    assert second["status"] == "claimed" and second["agent"] == ADMIN[1]
    assert second["mine"] is False and second["waited_s"] == 125
    assert second["last_messages"] == [] and second["last_turns"] == []

    page = client.get("/").text
    assert "<title>(1) Queue · ShopBot console</title>" in page
    assert 'data-testid="queue-count" id="queue-count" aria-live="polite">1<' in page
    assert page.count('data-testid="queue-item"') == 2
    assert 'data-conversation-id="c-wait"' in page and 'data-testid="claim"' in page
    assert "Claimed by Ada Admin" in page and "waiting 1 min" in page
    assert "&lt;b&gt;I want a human&lt;/b&gt;" in page and "<b>I want" not in page
    assert '<meta name="csrf-token" content="' in page
    assert '<script src="/static/queue.js" defer></script>' in page

    client.cookies.clear()
    signed_in(client, ADMIN)
    mine = client.get("/api/queue").json()["conversations"][1]
    assert mine["mine"] is True


def test_queue_without_a_readable_tracker_store_still_answers(
    console: Console, client: TestClient
) -> None:
    console.queue.open("c1", "widget", "asked")
    path = console.settings.sqlite_path(console.settings.tracker_store_url)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a sqlite database" * 100)
    signed_in(client, AGENT)
    body = client.get("/api/queue").json()
    assert body["count"] == 1 and body["conversations"][0]["last_messages"] == []


def summaries(console: Console, clock: FakeClock, n: int) -> None:
    for i in range(n):
        console.conversations.apply(
            f"c{i:03d}",
            SummaryUpdate(at=clock.now, channel="widget", user_text=f"text {i}", intent="greet"),
        )
        clock.advance(60)


def test_conversation_list_pages_back(
    console: Console, client: TestClient, clock: FakeClock
) -> None:
    summaries(console, clock, 5)
    signed_in(client, AGENT)
    first = client.get("/api/conversations?limit=2").json()
    assert [c["conversation_id"] for c in first["conversations"]] == ["c004", "c003"]
    assert first["next_before"] == "2026-12-01T09:03:00Z"
    assert set(first["conversations"][0]) >= {"channel", "last_event_at", "last_intent", "handoffs"}
    second = client.get("/api/conversations", params={"limit": 2, "before": first["next_before"]})
    assert [c["conversation_id"] for c in second.json()["conversations"]] == ["c002", "c001"]
    last = client.get("/api/conversations?limit=2&before=2026-12-01T09:01:00%2B00:00").json()
    assert [c["conversation_id"] for c in last["conversations"]] == ["c000"]
    assert last["next_before"] is None
    page = client.get("/conversations").text
    assert page.count('data-testid="conversation-row"') == 5
    assert 'href="/conversations/c004"' in page and "Older conversations" not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("before=yesterday", "before must be an ISO 8601 time"),
        ("limit=0", "limit must be a whole number from 1 to 200"),
        ("limit=many", "limit must be a whole number from 1 to 200"),
        ("limit=201", "Currently, it is '201'"),
        ("since=yesterday", "since must be a date like 2026-12-01. Currently, it is 'yesterday'"),
        ("until=2026-13-01", "until must be a date like 2026-12-01"),
        ("since=2026-12-05&until=2026-12-01", "since must be on or before until"),
        ("handed_off=maybe", "handed_off must be true or false. Currently, it is 'maybe'"),
        ("had_fallback=2", "had_fallback must be true or false"),
        ("negative=yes please", "negative must be true or false"),
        ("thumbs_down=x", "thumbs_down must be true or false"),
        ("reviewed=unknown", "reviewed must be true or false"),
        ("low_confidence_below=0", "low_confidence_below must be a number above 0 and at most 1"),
        ("low_confidence_below=1.5", "Currently, it is '1.5'"),
        ("low_confidence_below=nan", "low_confidence_below must be a number"),
        ("low_confidence_below=half", "low_confidence_below must be a number"),
        ("channel=" + "w" * 33, "channel must be a channel name"),
    ],
)
def test_conversation_list_parameters(client: TestClient, query: str, message: str) -> None:
    signed_in(client, AGENT)
    reply = client.get(f"/api/conversations?{query}")
    assert reply.status_code == 400 and message in reply.json()["error"]
    if not query.startswith("limit="):  # the page has a fixed page size
        assert client.get(f"/conversations?{query}").status_code == 400


def test_conversation_list_filters(console: Console, client: TestClient, clock: FakeClock) -> None:
    summaries(console, clock, 4)  # c000..c003, greet at 0.9
    console.conversations.apply(
        "c001", SummaryUpdate(at=clock.now, user_text="??", intent="nlu_fallback", confidence=0.2)
    )
    console.conversations.apply("c001", SummaryUpdate(at=clock.now, handoff=True))
    console.conversations.apply("c002", SummaryUpdate(at=dt.datetime(2026, 11, 1), handoff=True))
    console.conversations.apply(
        "c003", SummaryUpdate(at=clock.now, user_text="bad", sentiment="negative", confidence=0.4)
    )
    signed_in(client, AGENT)
    body = client.get(
        "/api/conversations", params={"low_confidence_below": "0.5", "handed_off": "true"}
    ).json()
    assert [c["conversation_id"] for c in body["conversations"]] == ["c001"]
    assert body["filters"] == {"handed_off": True, "low_confidence_below": 0.5}
    assert body["next_before"] is None
    row = body["conversations"][0]
    assert (row["fallback_turns"], row["min_confidence"], row["handoffs"]) == (1, 0.2, 1)
    assert row["reviewed_at"] is None and row["thumbs_down"] == 0
    unfiltered = client.get("/api/conversations").json()
    assert unfiltered["filters"] == {} and len(unfiltered["conversations"]) == 4
    negative = client.get("/api/conversations?negative=1&handed_off=false&channel=widget").json()
    assert [c["conversation_id"] for c in negative["conversations"]] == ["c003"]

    page = client.get("/conversations?low_confidence_below=0.5&had_fallback=true").text
    assert 'data-testid="filter-form"' in page and 'data-testid="filter-apply"' in page
    assert (
        page.count('data-testid="conversation-row"') == 1 and 'href="/conversations/c001"' in page
    )
    assert 'value="0.5" data-testid="filter-low-confidence"' in page
    assert '<option value="true" selected>' in page  # had_fallback shown as chosen
    for badge in ("handed-off", "fallbacks", "lowest-confidence"):
        assert f'data-badge="{badge}"' in page
    assert 'data-badge="negative"' not in page and "<script>" not in page and "style=" not in page
    for control in ("channel", "since", "until", "handed_off", "had_fallback", "low-confidence",
                    "negative", "thumbs_down", "reviewed"):  # fmt: skip
        assert f'<label for="filter-{control}">' in page
    assert (
        "No conversations match these filters." in client.get("/conversations?reviewed=true").text
    )


def test_older_link_keeps_the_filters(
    console: Console, client: TestClient, clock: FakeClock
) -> None:
    for i in range(51):
        console.conversations.apply(
            f"n{i:03d}", SummaryUpdate(at=clock.now, channel="rest", user_text="x", intent="greet")
        )
        clock.advance(60)
    signed_in(client, AGENT)
    page = client.get("/conversations?channel=rest&reviewed=false").text
    assert 'href="/conversations?channel=rest&amp;reviewed=False&amp;before=' in page


def test_conversation_transcript_and_handoff_state(
    console: Console, client: TestClient, tracker: TrackerStore
) -> None:
    tracker.add(
        "c1",
        user_event("hi", "greet", 0.99),
        simple_event("slot", name="x", value=1),
        simple_event("pause"),
    )
    console.queue.open("c0", "widget", "asked")
    handoff, _ = console.queue.open("c1", "widget", "asked")
    signed_in(client, AGENT)
    body = client.get("/api/conversations/c1").json()
    assert body["conversation_id"] == "c1" and body["after"] == 3 and body["more"] is False
    assert [i["type"] for i in body["items"]] == ["user", "pause"]
    assert body["handoff"] == {
        "id": handoff.id,
        "status": "waiting",
        "reason": "asked",
        "reason_text": "Asked for a human",
        "agent": None,
        "mine": False,
        "position": 2,
        "requested_at": "2026-12-01T09:00:00Z",
        "claimed_at": None,
        "ended_at": None,
    }
    assert client.get("/api/conversations/c1?after=3").json()["items"] == []
    client.headers.update(csrf_header(client))
    client.post("/api/conversations/c1/claim")
    state = client.get("/api/conversations/c1?after=3").json()["handoff"]
    assert state["mine"] is True and state["agent"] == AGENT[1] and state["position"] is None
    client.post("/api/conversations/c1/handback")
    state = client.get("/api/conversations/c1?after=3").json()["handoff"]
    assert state["status"] == "returned" and state["mine"] is False and state["ended_at"]

    tracker.add("only-in-rasa", user_event("hello", "greet", 0.9))
    only = client.get("/api/conversations/only-in-rasa").json()
    assert only["handoff"] is None and [i["text"] for i in only["items"]] == ["hello"]


def test_conversation_api_refusals(client: TestClient) -> None:
    signed_in(client, AGENT)
    reply = client.get("/api/conversations/nobody")
    assert reply.status_code == 404
    assert reply.json() == {"error": "There is no conversation with this id."}
    for bad in ("-1", "x", "1.5"):
        reply = client.get(f"/api/conversations/nobody?after={bad}")
        assert reply.status_code == 400 and "after must be a whole number" in reply.text


def test_conversation_page(console: Console, client: TestClient) -> None:
    console.conversations.apply(
        'a"b/<c>', SummaryUpdate(at=dt.datetime(2026, 12, 1, 8), channel="rest", customer="Kim")
    )
    signed_in(client, AGENT)
    page = client.get("/conversations/a%22b%2F%3Cc%3E")
    assert page.status_code == 200
    text = page.text
    assert 'data-conversation-id="a&#34;b/&lt;c&gt;"' in text
    for hook in ("transcript", "reply-input", "reply-send", "handback", "close", "claim"):
        assert f'data-testid="{hook}"' in text
    assert 'data-testid="transcript" role="log" aria-live="polite"' in text
    assert '<script src="/static/conversation.js" defer></script>' in text
    assert "Kim" in text and '<label for="reply-input">' in text
    missing = client.get("/conversations/nobody")
    assert missing.status_code == 404 and "There is no conversation with this id." in missing.text


def test_static_scripts_never_parse_html() -> None:
    from bot.console.context import STATIC_DIR

    for name in ("console.js", "queue.js", "conversation.js"):
        source = (STATIC_DIR / name).read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{name} uses {sink}"
