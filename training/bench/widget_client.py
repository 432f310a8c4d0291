"""Small HTTP clients of the web widget's protocol (requests + server-sent events) and the REST channel.

Used by the "Widget" benchmark section (``training/bench/widget.py``) and by the end-to-end tests
(``tests/e2e/widget_client.py`` re-exports it), so both speak the protocol the same way.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen


@dataclass
class Reply:
    """One HTTP reply: the status and the decoded JSON body (or the raw text when not JSON)."""

    status: int
    body: Any

    @property
    def texts(self) -> list[str]:
        """The texts of a REST reply's messages."""
        return [m.get("text", "") for m in self.body] if isinstance(self.body, list) else []

    @property
    def text(self) -> str:
        """The REST reply's texts, one per line."""
        return "\n".join(self.texts)


@dataclass
class SseEvent:
    """One server-sent event (``id`` is None for ephemeral events)."""

    event: str
    data: dict[str, Any]
    id: int | None = None
    at: float = 0.0  # time.monotonic() when it arrived


def parse_sse_block(block: str) -> SseEvent | None:
    """One ``\\n\\n``-separated block → an event (None for comments and ``retry:``)."""
    fields: dict[str, str] = {}
    for line in block.splitlines():
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields[name] = value[1:] if value.startswith(" ") else value
    if "event" not in fields:
        return None
    return SseEvent(
        fields["event"],
        json.loads(fields.get("data", "{}")),
        int(fields["id"]) if "id" in fields else None,
    )


@dataclass
class StreamReader:
    """Reads a stream in a background thread; ``events`` grows as frames arrive.

    ``connected`` is set when the server's ``: connected`` comment arrives: from then on the
    stream receives every ephemeral event (``typing``, ``token``) of the conversation.
    """

    events: list[SseEvent] = field(default_factory=list)
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    connected: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _conn: http.client.HTTPConnection | None = None

    def wait_for(self, predicate: Callable[[list[SseEvent]], bool], timeout: float) -> bool:
        """Wait until ``predicate(events)`` holds (True) or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(list(self.events)):
                return True
            time.sleep(0.05)
        return predicate(list(self.events))

    def stop(self) -> None:
        """Close the connection (as a browser tab that goes away) and end the thread."""
        self._stop.set()
        sock = self._conn.sock if self._conn is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)


class WidgetClient:
    """One browser tab's view of the protocol, on ``base_url``."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        """A JSON request to ``/webhooks/widget<path>`` (``token`` as the bearer)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        try:
            conn.request(method, f"/webhooks/widget{path}", body=data, headers=sent)
            reply = conn.getresponse()
            payload = reply.read()
            try:
                parsed = json.loads(payload) if payload else None
            except json.JSONDecodeError:
                parsed = payload.decode("utf-8", "replace")
            return Reply(reply.status, parsed)
        finally:
            conn.close()

    def start(self, conversation: str | None = None) -> Reply:
        """``POST /session``; keeps the returned token."""
        reply = self.request(
            "POST", "/session", {} if conversation is None else {"conversation": conversation}
        )
        if reply.status == 200:
            self.token = reply.body["conversation"]
        return reply

    def send(self, text: str | None = None, client_id: str | None = None, **fields: Any) -> Reply:
        """``POST /messages`` with a fresh client id unless one is given."""
        body: dict[str, Any] = {"client_id": client_id or str(uuid.uuid4()), **fields}
        if text is not None:
            body["text"] = text
        return self.request("POST", "/messages", body, token=self.token)

    def open_stream(
        self,
        after: int = 0,
        token: str | None = None,
        in_query: bool = False,
        last_event_id: int | None = None,
    ) -> StreamReader:
        """Open ``GET /stream?after=`` and read it in a background thread."""
        reader = StreamReader()
        use = token or self.token or ""
        path = f"/webhooks/widget/stream?after={after}" + (f"&token={use}" if in_query else "")
        headers = {} if in_query else {"Authorization": f"Bearer {use}"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        ready = threading.Event()

        def run() -> None:
            # No read timeout: a timed-out socket file cannot be read again; stop() shuts it down.
            conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
            reader._conn = conn
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                reader.status = response.status
                reader.headers = {k.lower(): v for k, v in response.getheaders()}
                ready.set()
                if response.status != 200:
                    body = response.read()
                    reader.events.append(SseEvent("refused", json.loads(body or b"{}")))
                    return
                buffer = ""
                while not reader._stop.is_set():
                    line = response.readline()
                    if not line:
                        return
                    if line.startswith(b": connected"):
                        reader.connected.set()  # the server has subscribed this stream
                    buffer += line.decode("utf-8")
                    if buffer.endswith("\n\n"):
                        event = parse_sse_block(buffer)
                        if event is not None:
                            event.at = time.monotonic()
                            reader.events.append(event)
                        buffer = ""
            except OSError:
                ready.set()
            finally:
                conn.close()

        reader._thread = threading.Thread(target=run, daemon=True)
        reader._thread.start()
        ready.wait(10)
        return reader

    def read_stream(self, after: int = 0, seconds: float = 1.5, **kwargs: Any) -> list[SseEvent]:
        """Everything a stream sends within ``seconds``."""
        reader = self.open_stream(after, **kwargs)
        time.sleep(seconds)
        reader.stop()
        return reader.events


def post_json(
    url: str, body: Any, headers: dict[str, str] | None = None, timeout: float = 120.0
) -> Reply:
    """POST ``body`` as JSON to ``url``; 4xx/5xx replies are returned, not raised."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    return post_bytes(url, json.dumps(body).encode(), sent, timeout)


def post_bytes(url: str, data: bytes, headers: dict[str, str], timeout: float = 120.0) -> Reply:
    """POST raw ``data`` (malformed bodies included) to ``url``; 4xx/5xx are returned, not raised."""
    request = Request(url, data=data, headers=headers, method="POST")
    try:
        with urlopen(request, timeout=timeout) as reply:
            return Reply(reply.status, json.loads(reply.read() or b"null"))
    except HTTPError as error:
        raw = error.read()
        try:
            return Reply(error.code, json.loads(raw))
        except json.JSONDecodeError:
            return Reply(error.code, raw.decode("utf-8", "replace"))
