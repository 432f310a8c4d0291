"""Hostile JSON on Rasa's own API routes gets a 400/413 in Rasa's error format (was a 500)."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from bot.channels.rasa_api_guard import refuse_hostile_json


def guard(path: str, body: bytes, method: str = "POST", **args: str) -> Any:
    request = SimpleNamespace(method=method, path=path, body=body, args=args, ip="127.0.0.1")
    return asyncio.run(refuse_hostile_json(request))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/model/parse", b'{"text": ' + b"1" * 5000 + b"}", 400, "digits"),
        ("/model/parse", b"[" * 10_000 + b"]" * 10_000, 400, "levels deep"),
        ("/model/parse", b'{"text": "hi"', 400, "not valid JSON"),
        ("/model/parse", b'{"message": "hi"}', 400, "'text'"),
        ("/conversations/a%2Fb/tracker/events", b'{"event": ' + b"[" * 5000 + b"]" * 5000, 400, "deep"),
        ("/conversations/x/messages", b'{"text": "' + b"x" * 2_000_000 + b'"}', 413, "bytes"),
        # Valid JSON, not an object: Rasa's handlers call .get on it (a 500 before the guard).
        ("/conversations/x/messages", b'["hi"]', 400, "JSON object"),
        ("/conversations/x/messages", b'"hi"', 400, "got str"),
        ("/conversations/x/trigger_intent", b"null", 400, "got NoneType"),
        ("/conversations/x/execute", b"1", 400, "JSON object"),
        ("/conversations/x/tracker/events", b'["pause"]', 400, "list of them"),
        ("/conversations/x/tracker/events", b"null", 400, "event"),
        # No event Rasa can read: Rasa's own 400 came back as a 500 (found by the HTTP fuzz).
        ("/conversations/x/tracker/events", b"[]", 400, "at least one event"),
        ("/conversations/x/tracker/events", b"{}", 400, "at least one event"),
        ("/conversations/x/tracker/events", b'[{"event": "no such thing"}]', 400, "could not be read"),
    ],
    ids=[
        "digits", "depth", "invalid", "no text", "events depth", "size", "messages array",
        "messages string", "trigger null", "execute number", "events of strings", "events null",
        "no events", "empty event", "unknown event",
    ],
)  # fmt: skip
def test_refused_in_rasas_error_format(path: str, body: bytes, status: int, fragment: str) -> None:
    reply = guard(path, body)
    assert reply is not None and reply.status == status
    data = json.loads(reply.body)
    assert data["status"] == "failure" and data["code"] == status and fragment in data["message"]


@pytest.mark.parametrize(
    ("path", "body", "method", "args"),
    [
        ("/model/parse", b'{"text": "where is my order"}', "POST", {}),
        ("/model/parse", b'{"q": "hi"}', "POST", {"emulation_mode": "luis"}),
        ("/model/parse", b"", "POST", {}),  # Rasa's own 400
        ("/conversations/x/tracker/events", b'[{"event": "pause"}]', "POST", {}),
        (
            "/conversations/x/tracker/events",
            b'{"event": "slot", "name": "x", "value": 1}',
            "POST",
            {},
        ),
        ("/model/train", b"[[[[", "POST", {}),  # YAML routes are not checked
        ("/webhooks/rest/webhook", b"[[[[", "POST", {}),  # our channels check their own
        ("/conversations/x/tracker", b"", "GET", {}),
    ],
)
def test_everything_else_reaches_rasa(
    path: str, body: bytes, method: str, args: dict[str, str]
) -> None:
    assert guard(path, body, method, **args) is None
