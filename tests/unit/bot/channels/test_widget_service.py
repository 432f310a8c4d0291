"""The widget protocol's rules without a server: sessions, every 4xx, dedup, buttons, pushes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from bot.channels.inbound import NEUTRAL_SLASH, InboundError
from bot.channels.widget_service import Session, WidgetService
from tests.unit.bot.channels.conftest import STREAM_SECRET

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def refused(coroutine_or_call: Any) -> InboundError:
    with pytest.raises(InboundError) as info:
        result = coroutine_or_call()
        if asyncio.iscoroutine(result):
            run(result)
    return info.value


def new_session(service: WidgetService) -> tuple[Session, str]:
    session = run(service.session(b"{}"))
    return session, service.authenticate(f"Bearer {session.conversation}")


def test_session_starts_and_refreshes_a_conversation(service: WidgetService) -> None:
    first, conversation = new_session(service)
    assert first.last_seq == 0 and first.expires_at.endswith("Z")
    run(service.accept_message(conversation, body(client_id="c-00000001", text="hi")))
    again = run(service.session(body(conversation=first.conversation)))
    assert service.authenticate(f"Bearer {again.conversation}") == conversation
    assert again.last_seq == 1
    assert run(service.session(b"")).conversation != first.conversation  # empty body: new one


@pytest.mark.parametrize(
    ("raw", "status"),
    [(b'{"conversation": "forged.token.here"}', 401), (b'{"conversation": 7}', 400), (b"[", 400)],
)
def test_session_refusals(service: WidgetService, raw: bytes, status: int) -> None:
    assert refused(lambda: service.session(raw)).status == status


def test_missing_and_forged_tokens_get_401(service: WidgetService) -> None:
    session, conversation = new_session(service)
    assert refused(lambda: service.authenticate(None)).status == 401
    assert refused(lambda: service.authenticate("Basic abc")).status == 401
    forged = refused(lambda: service.authenticate(f"Bearer {session.conversation}x"))
    assert forged.status == 401 and conversation not in forged.reason
    # The stream may pass the token as ?token= (EventSource cannot set headers).
    assert service.authenticate(None, session.conversation) == conversation


def test_a_body_naming_another_conversation_gets_403(service: WidgetService) -> None:
    mine, conversation = new_session(service)
    theirs, their_id = new_session(service)
    for named in (their_id, theirs.conversation, "something-else"):
        error = refused(
            lambda named=named: service.accept_message(
                conversation, body(client_id="c-00000001", text="hi", conversation=named)
            )
        )
        assert error.status == 403 and their_id not in error.reason
    ok = run(
        service.accept_message(
            conversation, body(client_id="c-00000002", text="hi", conversation=mine.conversation)
        )
    )
    assert ok.seq == 1


@pytest.mark.parametrize(
    ("raw", "status", "fragment"),
    [
        (b"", 400, "empty"),
        (b'{"client_id": "c-00000001", "text": "caf\xe9"}', 400, "UTF-8"),
        (b'{"client_id": "c-00000001", "text": "   \\u0000 "}', 400, "'text' is empty"),
        (b'{"client_id": "c-00000001", "text": 5}', 400, "'text' must be a string"),
        (b'{"client_id": "short", "text": "hi"}', 400, "'client_id'"),
        (b'{"text": "hi"}', 400, "'client_id'"),
        (b'{"client_id": "c-00000001", "text": "' + b"x" * 101 + b'"}', 413, "limit is 100"),
        (b'{"client_id": "c-00000001", "text": "hi", "payload": "/greet"}', 400, "not both"),
        (b'{"client_id": "c-00000001", "payload": "restart"}', 400, "'payload' must look like"),
        (
            b'{"client_id": "c-00000001", "payload": "/inform{oops"}',
            400,
            "'payload' must look like",
        ),
        (b'{"client_id": "c-00000001", "payload": "/inform[1]"}', 400, "'payload'"),
        (b'{"client_id": "c-00000001", "text": "hi", "customer_token": 3}', 400, "customer_token"),
    ],
)
def test_malformed_messages_get_4xx_with_a_reason(
    service: WidgetService, raw: bytes, status: int, fragment: str
) -> None:
    _, conversation = new_session(service)
    error = refused(lambda: service.accept_message(conversation, raw))
    assert (error.status, fragment in error.reason) == (status, True), error.reason


def test_a_retried_client_id_is_stored_once(service: WidgetService) -> None:
    _, conversation = new_session(service)
    first = run(service.accept_message(conversation, body(client_id="c-00000001", text="hi")))
    again = run(service.accept_message(conversation, body(client_id="c-00000001", text="hi")))
    assert (first.seq, first.duplicate, again.seq, again.duplicate) == (1, False, 1, True)
    assert again.to_dict() == {"client_id": "c-00000001", "seq": 1, "duplicate": True}
    assert [e.seq for e in service.log.read_after(conversation, 0)] == [1]


def test_typed_commands_are_neutralised_but_shown_as_typed(service: WidgetService) -> None:
    _, conversation = new_session(service)
    for i, typed in enumerate(["/restart", '/inform{"email": "a@b.c"}', "  /greet"]):
        accepted = run(
            service.accept_message(conversation, body(client_id=f"c-0000000{i}", text=typed))
        )
        assert accepted.message.text.startswith(NEUTRAL_SLASH)  # what Rasa gets
        assert not accepted.message.is_payload
        stored = service.log.read_after(conversation, accepted.seq - 1)[0]
        assert stored.payload["text"] == typed.strip()  # what the transcript shows


def test_only_offered_buttons_send_payloads(service: WidgetService) -> None:
    _, conversation = new_session(service)
    press = body(client_id="c-00000001", payload="/affirm", title="Yes")
    error = refused(lambda: service.accept_message(conversation, press))
    assert error.status == 400 and "not one of the buttons" in error.reason
    run(
        service.store(
            conversation,
            "bot",
            {"text": "Sure?", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
        )
    )
    accepted = run(service.accept_message(conversation, press))
    assert accepted.message.is_payload and accepted.message.text == "/affirm"
    assert service.log.read_after(conversation, 1)[0].payload["text"] == "Yes"


def test_feedback_needs_a_bot_message_of_this_conversation(service: WidgetService) -> None:
    _, conversation = new_session(service)
    _, other = new_session(service)
    seq = run(service.store(conversation, "bot", {"message_id": "m1", "text": "hello"}))
    given = run(service.check_feedback(conversation, body(message_id="m1", value="down")))
    assert (given.message_id, given.value, given.seq) == ("m1", "down", seq)
    assert given.text == "hello"  # stored with the feedback: the console matches the bot turn
    assert (
        refused(lambda: service.check_feedback(other, body(message_id="m1", value="up"))).status
        == 404
    )
    assert (
        refused(
            lambda: service.check_feedback(conversation, body(message_id="m1", value="meh"))
        ).status
        == 400
    )
    assert refused(lambda: service.check_feedback(conversation, body(value="up"))).status == 400
    named_other = body(message_id="m1", value="up", conversation=other)
    assert refused(lambda: service.check_feedback(conversation, named_other)).status == 403


def test_resume_position() -> None:
    assert WidgetService.resume_position(None, None) == 0
    assert WidgetService.resume_position("4", None) == 4
    assert WidgetService.resume_position("4", "9") == 9
    assert WidgetService.resume_position("12", "9") == 12
    for bad in ("-1", "x", "1.5", "9" * 13):
        assert refused(lambda bad=bad: WidgetService.resume_position(bad, None)).status == 400


def test_token_push_needs_the_stream_secret(service: WidgetService) -> None:
    session, conversation = new_session(service)
    inbox = service.hub.subscribe(conversation)
    batch = body(
        conversation=conversation,
        stream_id="s1",
        tokens=[
            {"index": 0, "text": "The kite"},
            {"index": 1, "text": " costs $5.", "replace": True},
        ],
    )
    assert refused(lambda: service.push_tokens(None, batch)).status == 401
    assert refused(lambda: service.push_tokens("Bearer nope", batch)).status == 401
    shopper = refused(lambda: service.push_tokens(f"Bearer {session.conversation}", batch))
    assert shopper.status == 403
    assert inbox.drain() == []
    assert service.push_tokens(f"Bearer {STREAM_SECRET}", batch) == 1
    pushed = inbox.drain()
    assert [(e.kind, e.data) for e in pushed] == [
        ("token", {"stream_id": "s1", "index": 0, "text": "The kite"}),
        ("token", {"stream_id": "s1", "index": 1, "text": " costs $5.", "replace": True}),
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {"conversation": "nope", "stream_id": "s", "tokens": []},
        {"conversation": None, "stream_id": "s", "tokens": []},
        {"stream_id": "bad id!", "tokens": []},
        {"stream_id": "s", "tokens": [{"index": "0", "text": "x"}]},
        {"stream_id": "s", "tokens": "x"},
    ],
)
def test_malformed_token_pushes_get_400(service: WidgetService, fields: dict[str, Any]) -> None:
    _, conversation = new_session(service)
    raw = body(**{"conversation": conversation, **fields})
    assert refused(lambda: service.push_tokens(f"Bearer {STREAM_SECRET}", raw)).status == 400
