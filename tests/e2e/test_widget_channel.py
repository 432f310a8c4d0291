"""The web widget channel over real HTTP against the real Rasa and action servers (tiny models).

One pair of servers serves the whole module (starting them takes ~2 minutes on 2 CPU cores);
every test starts its own conversations, so the tests do not depend on each other.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import jwt
import pytest

from bot.channels.inbound import NEUTRAL_SLASH
from tests.e2e.harness import STREAM_SECRET, ShopBotServers, running_servers
from tests.e2e.widget_client import SseEvent, WidgetClient

pytestmark = pytest.mark.e2e

PRODUCT_QUESTION = "how much is the Delta Kite?"
ANSWER_TIMEOUT_S = 90.0


@pytest.fixture(scope="module")
def widget_servers(
    tmp_path_factory: pytest.TempPathFactory, tiny_rasa_model: Path, project_root: Path
) -> Iterator[ShopBotServers]:
    tmp_path = tmp_path_factory.mktemp("widget-e2e")
    with running_servers(project_root, tmp_path, tiny_rasa_model) as running:
        yield running


@pytest.fixture()
def client(widget_servers: ShopBotServers) -> WidgetClient:
    widget = WidgetClient(widget_servers.base_url)
    assert widget.start().status == 200
    return widget


def conversation_id(servers: ShopBotServers, token: str) -> str:
    """The conversation id inside a token (Rasa's sender id)."""
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


def stored(events: list[SseEvent]) -> list[SseEvent]:
    return [e for e in events if e.id is not None]


def bots(events: list[SseEvent]) -> list[SseEvent]:
    return [e for e in events if e.event == "bot"]


def tracker_events(
    servers: ShopBotServers,
    sender: str,
    until: Callable[[list[dict[str, Any]]], bool] | None = None,
) -> list[dict[str, Any]]:
    """The saved conversation: the SSE reply arrives before Rasa saves the turn."""
    return servers.settled_events(sender, until)


def test_a_product_question_streams_typing_then_the_cited_answer_and_resumes_exactly(
    widget_servers: ShopBotServers, client: WidgetClient
) -> None:
    stream = client.open_stream(after=0)
    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    sent = client.send(PRODUCT_QUESTION)
    assert sent.status == 202 and sent.body["seq"] == 1 and sent.body["duplicate"] is False
    assert stream.wait_for(lambda evs: bool(bots(evs)), ANSWER_TIMEOUT_S), stream.events
    stream.stop()
    kinds = [(e.event, e.id) for e in stream.events]
    # typing goes out at once, without an id; the shopper's message is echoed with seq 1.
    assert kinds[0] == ("typing", None) and stream.events[0].data == {"on": True}
    assert ("user", 1) in kinds
    user = next(e for e in stream.events if e.event == "user")
    assert user.data["text"] == PRODUCT_QUESTION and user.data["client_id"]
    answer = bots(stream.events)[0]
    assert answer.id == 2 and answer.data["seq"] == 2 and answer.data["text"]
    assert answer.data["citations"], answer.data  # the answer names its source
    citation = answer.data["citations"][0]
    assert citation["n"] == 1 and citation["title"] and citation["kind"] in ("product", "faq")
    assert "Sources:" not in answer.data["text"]  # shown as links, not repeated in the text
    assert "sources" not in answer.data and "latency_ms" not in answer.data  # internals stay home
    assert answer.data["stream_id"]  # the answer went through the streaming side channel
    ids = [e.id for e in stored(stream.events)]
    assert ids == sorted(set(ids))

    # A reload: the session is refreshed (same conversation) and names the last seq.
    refreshed = client.start(client.token)
    assert refreshed.status == 200 and refreshed.body["last_seq"] == ids[-1]
    # Resuming after the last seq sends nothing stored twice; from seq 1 only what came after.
    assert stored(client.read_stream(after=ids[-1])) == []
    again = stored(client.read_stream(after=1, in_query=True))  # ?token= for EventSource
    assert [e.id for e in again] == ids[1:]
    assert again[0].data == answer.data
    # Last-Event-ID (what EventSource sends on reconnect) wins when it is later than ?after=.
    assert stored(client.read_stream(after=0, last_event_id=ids[-1])) == []


def test_a_retried_client_id_is_processed_once(
    widget_servers: ShopBotServers, client: WidgetClient
) -> None:
    client_id = str(uuid.uuid4())
    first = client.send("hello there", client_id=client_id)
    retry = client.send("hello there", client_id=client_id)
    assert first.status == 202 and first.body == {
        "client_id": client_id,
        "seq": 1,
        "duplicate": False,
    }
    assert retry.status == 200 and retry.body == {
        "client_id": client_id,
        "seq": 1,
        "duplicate": True,
    }
    stream = client.open_stream(after=0)
    assert stream.wait_for(lambda evs: bool(bots(evs)), ANSWER_TIMEOUT_S)
    stream.stop()
    assert [e.event for e in stored(stream.events)].count("user") == 1
    sender = conversation_id(widget_servers, client.token or "")
    users = [e for e in tracker_events(widget_servers, sender) if e.get("event") == "user"]
    assert [u["text"] for u in users] == ["hello there"]  # Rasa saw it once
    assert users[0]["input_channel"] == "widget"


def test_forged_and_foreign_tokens_are_refused_and_reveal_nothing(
    widget_servers: ShopBotServers, client: WidgetClient
) -> None:
    assert client.send("hello there").status == 202
    mine = conversation_id(widget_servers, client.token or "")
    other = WidgetClient(widget_servers.base_url)
    assert other.start().status == 200
    theirs = conversation_id(widget_servers, other.token or "")

    forged_token = (client.token or "")[:-4] + "AAAA"
    cases = [
        client.request("POST", "/messages", {"client_id": str(uuid.uuid4()), "text": "hi"}),
        client.request(
            "POST", "/messages", {"client_id": str(uuid.uuid4()), "text": "hi"}, token=forged_token
        ),
        client.request("POST", "/session", {"conversation": forged_token}),
        client.request("POST", "/feedback", {"message_id": "x", "value": "up"}, token=forged_token),
    ]
    for reply in cases:
        assert reply.status == 401, reply.body
        assert set(reply.body) == {"error"} and mine not in reply.body["error"]
    refused_stream = client.read_stream(after=0, token=forged_token, seconds=0.5)
    assert refused_stream[0].event == "refused" and set(refused_stream[0].data) == {"error"}

    # The other shopper names my conversation in a body: 403, and my conversation is untouched.
    for named in (mine, client.token):
        hijack = other.send("cancel my order", conversation=named)
        assert hijack.status == 403 and mine not in hijack.body["error"]
    # The other shopper's stream shows only their own (empty) conversation, never mine.
    theirs_seen = other.read_stream(after=0, seconds=1.5)
    assert stored(theirs_seen) == []
    assert all(mine not in json.dumps(e.data) for e in theirs_seen)
    # Their messages go to their conversation, not mine.
    assert other.send("hello there").body["seq"] == 1
    mine_seen = client.read_stream(after=0, seconds=1.5)
    assert [e.data.get("text") for e in stored(mine_seen) if e.event == "user"] == ["hello there"]
    assert theirs != mine


def test_typed_commands_never_act_as_commands(
    widget_servers: ShopBotServers, client: WidgetClient
) -> None:
    assert client.send("/restart").status == 202
    stream = client.open_stream(after=0)
    assert stream.wait_for(lambda evs: bool(bots(evs)), ANSWER_TIMEOUT_S)
    stream.stop()
    user = next(e for e in stream.events if e.event == "user")
    assert user.data["text"] == "/restart"  # shown as typed
    sender = conversation_id(widget_servers, client.token or "")
    events = tracker_events(widget_servers, sender)
    assert [e["text"] for e in events if e.get("event") == "user"] == [NEUTRAL_SLASH + "restart"]
    assert not any(e.get("event") == "restart" for e in events)
    # A payload nobody offered as a button is refused.
    pressed = client.send(None, payload="/restart", title="Restart")
    assert pressed.status == 400 and "not one of the buttons" in pressed.body["error"]


def test_internal_push_refuses_shopper_tokens(
    widget_servers: ShopBotServers, client: WidgetClient
) -> None:
    sender = conversation_id(widget_servers, client.token or "")
    batch = {"conversation": sender, "stream_id": "s1", "tokens": [{"index": 0, "text": "pwned"}]}
    shopper = client.request("POST", "/internal/stream", batch, token=client.token)
    assert shopper.status == 403 and set(shopper.body) == {"error"}
    anonymous = client.request("POST", "/internal/stream", batch)
    assert anonymous.status == 401
    api_token = client.request("POST", "/internal/stream", batch, token="e2e-token")
    assert api_token.status == 401
    assert all(e.event != "token" for e in client.read_stream(after=0, seconds=1.0))


def test_pushed_tokens_then_the_final_message_through_rasa(
    widget_servers: ShopBotServers, client: WidgetClient
) -> None:
    sender = conversation_id(widget_servers, client.token or "")
    stream = client.open_stream(after=0)
    pieces = ["The Delta Kite", " costs $64.35.", " It is in stock."]
    for index, text in enumerate(pieces):
        pushed = client.request(
            "POST",
            "/internal/stream",
            {
                "conversation": sender,
                "stream_id": "e2e-stream",
                "tokens": [{"index": index, "text": text}],
            },
            token=STREAM_SECRET,
        )
        assert pushed.status == 200 and pushed.body == {"streams": 1}
    # The final message goes through Rasa (stored in the tracker) with the same stream id, and
    # reaches the widget through the channel's output channel (Rasa's output_channel=latest).
    final = {
        "event": "bot",
        "text": "".join(pieces),
        "data": {"custom": {"stream_id": "e2e-stream", "display_text": "".join(pieces)}},
    }
    # The conversation must have a widget message for Rasa to know its channel.
    assert client.send("hello there").status == 202
    assert stream.wait_for(lambda evs: len(bots(evs)) >= 1, ANSWER_TIMEOUT_S)
    url = (
        f"{widget_servers.base_url}/conversations/{sender}/tracker/events"
        f"?token={widget_servers.settings.api_token}&output_channel=latest&execute_side_effects=true"
    )
    request = Request(
        url,
        data=json.dumps(final).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urlopen(request, timeout=60) as reply:
        assert reply.status == 200
    assert stream.wait_for(
        lambda evs: any(e.data.get("stream_id") == "e2e-stream" for e in bots(evs)), 30
    )
    stream.stop()
    streamed = [
        e
        for e in stream.events
        if e.event in ("token", "bot")
        and (e.event == "token" or e.data.get("stream_id") == "e2e-stream")
    ]
    assert [e.event for e in streamed] == ["token", "token", "token", "bot"]
    assert [e.data["index"] for e in streamed[:3]] == [0, 1, 2]
    assert all(e.id is None for e in streamed[:3]) and streamed[3].id is not None
    assert "".join(e.data["text"] for e in streamed[:3]) == streamed[3].data["text"]

    def saved(events: list[dict[str, Any]]) -> bool:
        return any(e.get("event") == "bot" and e.get("text") == "".join(pieces) for e in events)

    assert saved(tracker_events(widget_servers, sender, saved))


def test_feedback_lands_in_the_tracker(
    widget_servers: ShopBotServers, client: WidgetClient
) -> None:
    assert client.send(PRODUCT_QUESTION).status == 202
    stream = client.open_stream(after=0)
    assert stream.wait_for(lambda evs: bool(bots(evs)), ANSWER_TIMEOUT_S)
    stream.stop()
    message_id = bots(stream.events)[0].data["message_id"]
    given = client.request(
        "POST", "/feedback", {"message_id": message_id, "value": "up"}, token=client.token
    )
    assert given.status == 204
    unknown = client.request(
        "POST", "/feedback", {"message_id": "nope", "value": "up"}, token=client.token
    )
    assert unknown.status == 404
    sender = conversation_id(widget_servers, client.token or "")
    events = tracker_events(
        widget_servers, sender, lambda evs: any(e.get("event") == "agent" for e in evs)
    )
    feedback = [e["data"]["feedback"] for e in events if e.get("event") == "agent"]
    rated_text = bots(stream.events)[0].data["text"]
    assert feedback == [
        {
            "message_id": message_id,
            "value": "up",
            "seq": bots(stream.events)[0].id,
            "text": rated_text,
            "channel": "widget",
        }
    ]
    # The console finds the rated bot event by the text the widget showed (its message_id is
    # not in the tracker): the text, or the knowledge answer's display_text.
    shown = [
        {e.get("text"), ((e.get("data") or {}).get("custom") or {}).get("display_text")}
        for e in events
        if e.get("event") == "bot"
    ]
    assert any(rated_text in texts for texts in shown)


def test_rest_channel_requires_the_secret(widget_servers: ShopBotServers) -> None:
    body = json.dumps({"sender": "e2e-rest-auth", "message": "hello"}).encode()
    for secret in (None, "wrong-secret"):
        refused = widget_servers.post_raw(body, secret=secret)
        assert refused.status == 401 and "Authorization: Bearer" in refused.body["error"]
    assert widget_servers.post_raw(body).status == 200
    assert widget_servers.say("e2e-rest-auth", "/restart").status == 200
    events = widget_servers.stored_events("e2e-rest-auth")
    assert NEUTRAL_SLASH + "restart" in [e["text"] for e in events if e.get("event") == "user"]
    assert not any(e.get("event") == "restart" for e in events)


def test_cors_and_the_widget_script(widget_servers: ShopBotServers, client: WidgetClient) -> None:
    origin = f"http://127.0.0.1:{widget_servers.settings.demo_port}"
    preflight = Request(
        f"{widget_servers.base_url}/webhooks/widget/messages",
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    with urlopen(preflight, timeout=30) as reply:
        assert reply.headers["Access-Control-Allow-Origin"] == origin
    script = Request(
        f"{widget_servers.base_url}/webhooks/widget/widget.js", headers={"Origin": origin}
    )
    with urlopen(script, timeout=30) as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("text/javascript")
        assert "max-age" in reply.headers["Cache-Control"]
    missing = client.request("GET", "/static/..%2F..%2Fcore%2Fsettings.py")
    assert missing.status == 404


def test_sqlite_event_log_is_in_the_app_database(
    widget_servers: ShopBotServers, client: WidgetClient
) -> None:
    assert client.send("hello there").status == 202
    db_file = widget_servers.settings.sqlite_path(widget_servers.settings.app_db_url)
    assert db_file is not None
    with sqlite3.connect(db_file) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"widget_conversations", "widget_events", "shopbot_alembic_version"} <= tables
