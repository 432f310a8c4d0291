"""The token pusher: batches in order, joins pieces, replaces, and gives up quietly."""

from __future__ import annotations

import json
import threading
from typing import Any

from actions.streaming import TokenPusher, pusher_for

SECRET = "stream-secret-0123456789abcdef0123456"
CONVERSATION = "0123456789abcdef0123456789abcdef"


class FakePost:
    def __init__(self, fail: bool = False, gate: threading.Event | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.fail = fail
        self.gate = gate

    def __call__(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> None:
        if self.gate is not None:
            self.gate.wait(2)
        self.calls.append((url, json.loads(body), headers))
        if self.fail:
            raise OSError("connection refused")


def test_pieces_arrive_in_order_joined_and_authenticated() -> None:
    gate = threading.Event()
    post = FakePost(gate=gate)
    pusher = TokenPusher("http://r/push", SECRET, CONVERSATION, stream_id="s1", post=post)
    pusher.push("The kite costs $5.")
    pusher.push("It is red.")
    pusher.replace("The kite costs $5 [1].")
    gate.set()
    pusher.close()
    tokens = [t for _, body, _ in post.calls for t in body["tokens"]]
    assert tokens == [
        {"index": 0, "text": "The kite costs $5."},
        {"index": 1, "text": " It is red."},
        {"index": 2, "text": "The kite costs $5 [1].", "replace": True},
    ]
    url, body, headers = post.calls[0]
    assert url == "http://r/push" and body["conversation"] == CONVERSATION
    assert body["stream_id"] == "s1" and headers["Authorization"] == f"Bearer {SECRET}"
    assert pusher.sent == 3 and not pusher.failed


def test_a_failed_push_stops_pushing_without_raising() -> None:
    post = FakePost(fail=True)
    pusher = TokenPusher("http://r/push", SECRET, CONVERSATION, post=post)
    pusher.push("one")
    pusher.close()
    pusher.push("two")  # after close: ignored by the stopped thread
    assert pusher.failed and pusher.sent == 0 and len(post.calls) == 1


def test_only_widget_conversations_stream() -> None:
    assert pusher_for("rest", CONVERSATION, "http://r/push", SECRET) is None
    assert pusher_for("widget", CONVERSATION, "http://r/push", "") is None
    pusher = pusher_for("widget", CONVERSATION, "http://r/push", SECRET)
    assert pusher is not None and len(pusher.stream_id) == 32
    pusher.close()
