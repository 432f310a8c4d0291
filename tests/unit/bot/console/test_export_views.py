"""Transcript exports: JSON and CSV, one conversation or a filtered list, masked by default;
unmasked only for admins, and audited."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bot.console.context import Console
from bot.privacy.masking import MaskerSource
from bot.storage.audit import AuditLog
from bot.storage.conversations import SummaryUpdate
from tests.unit.bot.console.helpers import (
    ADMIN,
    AGENT,
    FakeClock,
    TestClient,
    TrackerStore,
    signed_in,
)
from tests.unit.bot.privacy.shoppers import (
    DIRECTORY,
    ISABELLA,
    ISABELLA_PII,
    ORDINARY,
    isabella_events,
    sofia_events,
)


@pytest.fixture()
def seeded(console: Console, tracker: TrackerStore, clock: FakeClock) -> Console:
    console.maskers = MaskerSource.fixed(DIRECTORY)
    tracker.add("c-isabella", *isabella_events())
    tracker.add("c-sofia", *sofia_events(channel="rest"))
    console.conversations.apply(
        "c-isabella",
        SummaryUpdate(at=clock.now, channel="widget", user_text="hi", customer=ISABELLA["email"]),
    )
    clock.advance(60)
    console.conversations.apply(
        "c-sofia", SummaryUpdate(at=clock.now, channel="rest", user_text="hi")
    )
    return console


def assert_masked(body: str) -> None:
    for secret in ISABELLA_PII:
        assert secret not in body, f"{secret!r} survived the masked export"
    for text in ORDINARY:
        assert text in body, f"{text!r} was mangled"
    for mask in ("[email]", "[phone]", "[card]", "[address]", "[name]"):
        assert mask in body


def test_one_conversation_as_json_is_masked_by_default(seeded: Console, client: TestClient) -> None:
    signed_in(client, AGENT)
    reply = client.get("/api/conversations/c-isabella/export")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert 'filename="shopbot-c-isabella.json"' in reply.headers["content-disposition"]
    assert_masked(reply.text)
    record = reply.json()
    assert record["masked"] is True
    assert record["customer"] == "[email]"
    first = record["messages"][0]
    assert first["text"] == "Hi, my email is [email] and my phone is [phone]"
    assert first["entities"] == [{"name": "email", "value": "[email]"}]
    assert first["intent"] == "order_status"
    assert [m["author"] for m in record["messages"]] == [
        "shopper",
        "bot",
        "shopper",
        "shopper",
        "bot",
    ]
    assert record["messages"][1]["text"] == "Thanks [name], which order?"
    assert AuditLog(seeded.engine).recent() == []  # masked exports are not audited


def test_csv_has_one_row_per_message_and_masks_too(seeded: Console, client: TestClient) -> None:
    signed_in(client, AGENT)
    reply = client.get("/api/conversations/c-isabella/export?format=csv")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert_masked(reply.text)
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert len(rows) == 5
    assert rows[3]["text"] == ("Please refund card [card] and send the new one to [address]")
    assert rows[0]["entities"] == "email=[email]"
    assert rows[0]["intent"] == "order_status" and rows[0]["confidence"] == "0.91"


def test_order_numbers_are_masked_only_when_asked(seeded: Console, client: TestClient) -> None:
    signed_in(client, AGENT)
    plain = client.get("/api/conversations/c-isabella/export").text
    assert "104233" in plain
    masked = client.get("/api/conversations/c-isabella/export?mask_orders=1").text
    assert "104233" not in masked and "order [order] arrived on 2026-11-28" in masked


def test_agents_cannot_export_unmasked(seeded: Console, client: TestClient) -> None:
    signed_in(client, AGENT)
    for path in (
        "/api/conversations/c-isabella/export?unmasked=1",
        "/api/export/conversations?unmasked=true&format=csv",
    ):
        reply = client.get(path)
        assert reply.status_code == 403
        assert reply.json() == {"error": "Unmasked exports need the admin role."}
    assert AuditLog(seeded.engine).recent() == []


def test_an_admins_unmasked_export_is_audited_without_the_data(
    seeded: Console, client: TestClient
) -> None:
    signed_in(client, ADMIN)
    reply = client.get("/api/conversations/c-isabella/export?unmasked=1&format=csv")
    assert reply.status_code == 200
    assert "isabella.tanaka+shoes@example.org" in reply.text and "4111-1111-1111-1111" in reply.text
    (entry,) = AuditLog(seeded.engine).recent()
    admin = seeded.agents.get(ADMIN[0])
    assert admin is not None
    assert (entry.action, entry.actor, entry.target) == (
        "export_unmasked",
        admin.id,
        "conversation:c-isabella",
    )
    assert entry.detail == {"format": "csv", "count": 1, "messages": 5}
    assert entry.at == seeded.clock()


def test_a_cross_site_unmasked_export_is_refused(seeded: Console, client: TestClient) -> None:
    signed_in(client, ADMIN)
    reply = client.get(
        "/api/conversations/c-isabella/export?unmasked=1", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert reply.status_code == 403
    assert AuditLog(seeded.engine).recent() == []


def test_the_filtered_list_streams_masked_json_and_csv(seeded: Console, client: TestClient) -> None:
    signed_in(client, AGENT)
    body = client.get("/api/export/conversations").json()
    assert body["count"] == 2 and body["masked"] is True and body["filters"] == {}
    assert [c["conversation_id"] for c in body["conversations"]] == ["c-sofia", "c-isabella"]
    assert_masked(json.dumps(body["conversations"][1]))
    sofia = json.dumps(body["conversations"][0])
    assert "Sofia" not in sofia and "sofia.perez" not in sofia and "599884" in sofia

    only_widget = client.get("/api/export/conversations?channel=widget&format=csv")
    rows = list(csv.DictReader(io.StringIO(only_widget.text)))
    assert {r["conversation_id"] for r in rows} == {"c-isabella"}
    assert_masked(only_widget.text)
    limited = client.get("/api/export/conversations?limit=1").json()
    assert [c["conversation_id"] for c in limited["conversations"]] == ["c-sofia"]


def test_an_unmasked_list_export_is_audited_with_its_filter_and_count(
    seeded: Console, client: TestClient
) -> None:
    signed_in(client, ADMIN)
    body = client.get("/api/export/conversations?channel=widget&unmasked=1").json()
    assert body["masked"] is False and body["count"] == 1
    (entry,) = AuditLog(seeded.engine).recent()
    assert entry.target == 'filter:{"channel": "widget"}'
    assert entry.detail == {
        "format": "json",
        "count": 1,
        "limit": 200,
        "filters": {"channel": "widget"},
    }


def test_bad_parameters_and_unknown_conversations(seeded: Console, client: TestClient) -> None:
    signed_in(client, AGENT)
    assert client.get("/api/conversations/nope/export").status_code == 404
    bad = client.get("/api/conversations/c-isabella/export?format=xml")
    assert bad.status_code == 400 and "format must be json or csv" in bad.json()["error"]
    assert client.get("/api/export/conversations?limit=5000").status_code == 400


def test_without_sign_in_exports_answer_401(seeded: Console, client: TestClient) -> None:
    for path in ("/api/conversations/c-isabella/export", "/api/export/conversations"):
        reply = client.get(path, follow_redirects=False)
        assert reply.status_code == 401


def test_pages_link_to_exports_and_only_admins_see_unmasked(
    seeded: Console, client_factory: object
) -> None:
    make = client_factory
    agent = signed_in(make(), AGENT)  # type: ignore[operator]
    page = agent.get("/conversations/c-isabella").text
    assert 'href="/api/conversations/c-isabella/export?format=csv"' in page
    assert "unmasked=1" not in page
    assert "/api/export/conversations?" in agent.get("/conversations?channel=widget").text
    admin = signed_in(make(), ADMIN)  # type: ignore[operator]
    assert "unmasked=1" in admin.get("/conversations/c-isabella").text
    assert "unmasked=1" in admin.get("/conversations").text
