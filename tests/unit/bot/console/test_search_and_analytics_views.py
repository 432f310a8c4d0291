"""Message search on the conversation list (``q=``) and the analytics page and API, in process
on the hand-checked conversations of tests/unit/bot/storage/message_data.py."""

from __future__ import annotations

import re

import pytest

from bot.console.context import Console
from bot.handoff.broker import HandoffEventBroker
from tests.unit.bot.console.helpers import AGENT, FakeClock, TestClient, signed_in
from tests.unit.bot.storage.message_data import D, agent, publish_dataset, ts, user
from tests.unit.bot.storage.test_analytics import load


@pytest.fixture()
def agent_client(console: Console, client: TestClient) -> TestClient:
    publish_dataset(console.engine)
    return signed_in(client, AGENT)


def test_search_api_answers_conversations_with_a_snippet(agent_client: TestClient) -> None:
    body = agent_client.get("/api/conversations?q=parcel&limit=1").json()
    assert body["q"] == "parcel" and body["terms"] == ["parcel"]
    (row,) = body["conversations"]
    assert row["conversation_id"] == "c2" and row["handoffs"] == 1
    assert row["match"]["sender"] == "agent"
    assert row["match"]["snippet"] == "So sorry about the damaged parcel: a refund is on its way."
    assert {"text": "parcel", "match": True} in row["match"]["parts"]
    older = agent_client.get(f"/api/conversations?q=parcel&hit_before={body['next_hit_before']}")
    assert [r["conversation_id"] for r in older.json()["conversations"]] == ["c1"]
    assert older.json()["next_hit_before"] is None
    # Combined with the list's filters.
    filtered = agent_client.get("/api/conversations?q=order&channel=rest&handed_off=true").json()
    assert [r["conversation_id"] for r in filtered["conversations"]] == ["c3"]
    assert filtered["filters"] == {"channel": "rest", "handed_off": True}


@pytest.mark.parametrize(
    "query", ['"', "NEAR(", "a OR b", "x:y", "(", "*", "-", "'; DROP TABLE x; --", "%00", "\\"]
)
def test_search_api_never_fails_on_query_syntax(agent_client: TestClient, query: str) -> None:
    reply = agent_client.get("/api/conversations", params={"q": query})
    assert reply.status_code == 200, reply.text
    assert isinstance(reply.json()["conversations"], list)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=" + "x" * 201, "q must be at most 200 characters. Currently, it has 201."),
        ("q=parcel&hit_before=abc", "hit_before must be a whole number from 1"),
        ("q=parcel&hit_before=0", "hit_before must be a whole number from 1"),
    ],
)
def test_search_api_parameters(agent_client: TestClient, query: str, message: str) -> None:
    reply = agent_client.get(f"/api/conversations?{query}")
    assert reply.status_code == 400 and message in reply.json()["error"]


def test_search_page_shows_the_snippet_escaped_with_the_match_marked(
    console: Console, agent_client: TestClient
) -> None:
    broker = HandoffEventBroker(console.engine)
    broker.publish({"sender_id": "x1", **user("<script>alert(1)</script> parcel?", "greet", 0.9,
                                               "neutral", ts(3, 9, 0), "widget")})  # fmt: skip
    page = agent_client.get("/conversations?q=parcel")
    assert page.status_code == 200
    html = page.text
    assert 'value="parcel"' in html and "Older matches" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>parcel</mark>?" in html
    assert "<script>alert" not in html
    rows = re.findall(r'data-conversation-id="([^"]+)"', html)
    assert rows == ["x1", "c2", "c1"]
    assert 'data-sender="agent"' in html
    empty = agent_client.get("/conversations?q=zebra&channel=rest").text
    assert 'data-testid="search-empty"' in empty and "passes these filters" in empty
    assert agent_client.get("/conversations?q=" + "x" * 201).status_code == 400


def test_agent_messages_reach_the_search(console: Console, agent_client: TestClient) -> None:
    broker = HandoffEventBroker(console.engine)
    broker.publish({"sender_id": "c5", **agent("Your voucher code is SPRING24", ts(3, 10, 0))})
    body = agent_client.get("/api/conversations?q=spring24").json()
    assert [(r["conversation_id"], r["match"]["sender"]) for r in body["conversations"]] == [
        ("c5", "agent")
    ]


def test_analytics_api_and_its_range(
    console: Console, client: TestClient, clock: FakeClock
) -> None:
    load(console.engine)
    signed_in(client, AGENT)
    body = client.get("/api/analytics?since=2026-12-01&until=2026-12-07").json()
    assert body["range"] == {"since": "2026-12-01", "until": "2026-12-07", "channel": None,
                             "days": 7}  # fmt: skip
    assert body["totals"]["conversations"] == 6
    assert body["first_response"]["median_s"] == 180.0
    rest = client.get("/api/analytics?since=2026-12-01&until=2026-12-07&channel=rest").json()
    assert rest["totals"]["conversations"] == 2
    # Default: the 30 days to the console's today (the fake clock's 2026-12-01).
    default = client.get("/api/analytics").json()["range"]
    assert (default["since"], default["until"], default["days"]) == ("2026-11-02", "2026-12-01", 30)
    for query, message in (
        ("since=2026-12-05&until=2026-12-01", "since must be on or before until"),
        ("since=2020-01-01&until=2026-12-01", "at most 366 days"),
        ("since=yesterday", "since must be a date like 2026-12-01"),
        ("channel=" + "x" * 40, "channel must be a channel name"),
    ):
        reply = client.get(f"/api/analytics?{query}")
        assert reply.status_code == 400 and message in reply.json()["error"], query


def test_analytics_page_draws_every_chart_without_inline_style(
    console: Console, client: TestClient
) -> None:
    load(console.engine)
    signed_in(client, AGENT)
    html = client.get(f"/analytics?since={D}&until=2026-12-07").text
    charts = re.findall(r'<figure class="chart" id="([^"]+)"', html)
    assert charts == [
        "conversations-per-day",
        "rates-per-day",
        "handoffs-by-reason",
        "thumbs",
        "top-intents",
        "sentiment-per-day",
        "first-response",
        "corrections-per-week",
    ]
    assert html.count('role="img"') == 8  # every chart has data in this range
    for name in charts:  # an accessible name and description, and the numbers as a table
        assert f'aria-labelledby="{name}-title"' in html and f'id="{name}-desc"' in html
    assert html.count("<table>") == 8
    assert "style=" not in html and "<script>" not in html  # the CSP allows neither inline
    assert ">33.3%<" in html  # containment
    assert ">3.0 min<" in html and "p90 8.6 min" in html  # first response median and p90
    assert 'aria-current="page">Analytics<' in html


def test_analytics_page_without_data_says_so(console: Console, client: TestClient) -> None:
    signed_in(client, AGENT)
    html = client.get("/analytics").text
    assert html.count("Nothing to show for this range.") == 8
    assert 'role="img"' not in html


def test_analytics_needs_a_session(client: TestClient) -> None:
    assert client.get("/api/analytics").status_code == 401
    page = client.get("/analytics", follow_redirects=False)
    assert page.status_code == 303 and "/signin" in page.headers["location"]
