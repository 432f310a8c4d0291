"""The widget's server-sent event stream: stored events after a seq, ephemeral events, pings.

Stored events (``user``, ``bot``, ``agent``, ``handoff``) come from the event log in the database
and carry ``id: <seq>``, so a reconnect resumes exactly after the last one seen. Ephemeral events
(``typing``, ``token``) carry no id and exist only in this process: :class:`StreamHub` fans them
out to the streams open here and wakes those streams when this process appends to the log. A
stream also polls the database every ``poll_interval`` seconds, so events appended by another
replica arrive too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.storage.event_log import StoredEvent

logger = logging.getLogger(__name__)

PING_INTERVAL_S = 15.0
POLL_INTERVAL_S = 0.25
MAX_PENDING_EPHEMERAL = 2000
RETRY_MS = 2000


def format_event(kind: str, data: dict[str, Any], seq: int | None = None) -> str:
    """One SSE frame: ``id:`` (stored events only), ``event:``, one ``data:`` line of JSON."""
    lines = [] if seq is None else [f"id: {seq}"]
    lines.append(f"event: {kind}")
    # json.dumps escapes newlines, so the data is always a single line.
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


def stored_frame(event: StoredEvent) -> str:
    """The SSE frame of a stored event (its payload with ``seq`` added)."""
    return format_event(event.kind, {"seq": event.seq, **event.payload}, event.seq)


@dataclass(frozen=True)
class Ephemeral:
    """An event that is shown but not stored (``typing``, ``token``)."""

    kind: str
    data: dict[str, Any]


@dataclass(eq=False)  # compared and hashed by identity: each open stream is its own inbox
class Subscription:
    """One open stream's inbox in this process."""

    conversation_id: str
    pending: deque[Ephemeral] = field(default_factory=lambda: deque(maxlen=MAX_PENDING_EPHEMERAL))
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def drain(self) -> list[Ephemeral]:
        """Take the ephemeral events that arrived since the last call."""
        items = list(self.pending)
        self.pending.clear()
        return items

    async def wait(self, timeout: float) -> None:
        """Sleep until something arrives for this conversation, at most ``timeout`` seconds."""
        # A timer instead of asyncio.wait_for: no extra task, so a wake-up resumes this stream
        # before work scheduled after it (Rasa's message handling blocks the loop for a while).
        timer = asyncio.get_running_loop().call_later(timeout, self.wake.set)
        try:
            await self.wake.wait()
        finally:
            timer.cancel()
            self.wake.clear()


class StreamHub:
    """In-process fan-out to the open streams, by conversation (one per Rasa server process)."""

    def __init__(self) -> None:
        self._subscriptions: dict[str, set[Subscription]] = {}

    def subscribe(self, conversation_id: str) -> Subscription:
        """Open an inbox for a stream of ``conversation_id``."""
        subscription = Subscription(conversation_id)
        self._subscriptions.setdefault(conversation_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Close an inbox (the stream ended)."""
        open_ones = self._subscriptions.get(subscription.conversation_id)
        if open_ones is not None:
            open_ones.discard(subscription)
            if not open_ones:
                del self._subscriptions[subscription.conversation_id]

    def notify(self, conversation_id: str) -> None:
        """Wake the conversation's streams: this process stored an event for it."""
        for subscription in self._subscriptions.get(conversation_id, ()):
            subscription.wake.set()

    def publish(self, conversation_id: str, event: Ephemeral) -> int:
        """Hand an ephemeral event to the conversation's open streams; return how many."""
        subscriptions = self._subscriptions.get(conversation_id, ())
        for subscription in subscriptions:
            subscription.pending.append(event)
            subscription.wake.set()
        return len(subscriptions)

    def open_streams(self, conversation_id: str) -> int:
        """How many streams of ``conversation_id`` are open in this process."""
        return len(self._subscriptions.get(conversation_id, ()))


ReadAfter = Callable[[str, int], Awaitable[list[StoredEvent]]]


def _ephemeral_frames(events: list[Ephemeral], finished: deque[str]) -> str:
    """SSE text of ephemeral events, without tokens of streams whose final message was sent."""
    return "".join(
        format_event(e.kind, e.data)
        for e in events
        if not (e.kind == "token" and e.data.get("stream_id") in finished)
    )


async def event_stream(
    hub: StreamHub,
    read_after: ReadAfter,
    conversation_id: str,
    after: int,
    poll_interval: float = POLL_INTERVAL_S,
    ping_interval: float = PING_INTERVAL_S,
) -> AsyncGenerator[str, None]:
    """Yield SSE frames for ``conversation_id`` from seq ``after`` on, until the caller stops.

    Each round first sends the ephemeral events that are waiting (``typing`` goes out at once),
    then reads the stored events after the last seq sent, takes the ephemeral events that arrived
    meanwhile and sends those before the stored ones: an ephemeral event published before an
    event was stored (a streamed answer's tokens before its final message) is therefore always
    sent before it. Tokens of a stream whose final ``bot`` event was already sent are dropped.
    Then it waits for a local notification or ``poll_interval``. A ``: ping`` comment goes out
    when nothing was sent for ``ping_interval`` seconds (proxies and Sanic close idle responses).

    Args:
        hub: The process's hub.
        read_after: ``await read_after(conversation_id, seq)`` → stored events with a larger seq.
        conversation_id: The authenticated conversation.
        after: The last seq the client has (0 for everything).
        poll_interval: Longest wait between two database reads.
        ping_interval: Longest silence.
    """
    subscription = hub.subscribe(conversation_id)
    last_seq = after
    last_sent = time.monotonic()
    finished: deque[str] = deque(maxlen=64)  # stream ids whose final message was sent
    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        while True:
            early = _ephemeral_frames(subscription.drain(), finished)
            if early:
                yield early
                last_sent = time.monotonic()
            stored = [e for e in await read_after(conversation_id, last_seq) if e.seq > last_seq]
            frames = [_ephemeral_frames(subscription.drain(), finished)]
            for event in stored:
                frames.append(stored_frame(event))
                last_seq = event.seq
                stream_id = event.payload.get("stream_id")
                if event.kind == "bot" and isinstance(stream_id, str):
                    finished.append(stream_id)
            if any(frames):
                yield "".join(frames)
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= ping_interval:
                yield ": ping\n\n"
                last_sent = time.monotonic()
            if not stored:
                await subscription.wait(poll_interval)
    finally:
        hub.unsubscribe(subscription)
