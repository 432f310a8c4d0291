"""The widget's stream hub across Rasa servers: ephemeral events and wake-ups through Redis pub/sub.

With one Rasa server, :class:`~bot.channels.widget_stream.StreamHub` hands ``typing`` and
``token`` events to the streams open in its process. Behind a load balancer
(``shopbot run --replicas``) a shopper's stream may be open on one server while the message, or
the action server's token push, lands on another. :class:`RedisStreamHub` delivers locally as
before and also publishes every event on one Redis channel; each server's listener hands what
another server published to its own open streams. Stored events need none of this (every stream
reads the shared event log); the bus only makes them arrive without waiting for the next poll.

Best effort, like the stream itself: when Redis is down, events reach the local streams only, a
line is logged, and the listener reconnects every second; the final replies are stored either way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

from bot.channels.widget_stream import Ephemeral, StreamHub, Subscription

logger = logging.getLogger(__name__)

CHANNEL = "shopbot:widget-stream"
RECONNECT_S = 1.0
WARN_EVERY_S = 30.0


class RedisStreamHub(StreamHub):
    """A :class:`StreamHub` whose events also reach the streams of every other Rasa server.

    Args:
        url: ``redis://host:port/db`` (the lock store's Redis serves).
        channel: The pub/sub channel (one per store).
    """

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        import redis.asyncio  # only where a bus is configured

        self.channel = channel
        self._client = redis.asyncio.Redis.from_url(url)
        self._origin = uuid.uuid4().hex  # our own messages come back: skip them
        self._listener: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._warned_at = 0.0
        self.received = 0  # events other servers delivered here (for the tests)

    def subscribe(self, conversation_id: str) -> Subscription:
        """Open an inbox, starting this process's listener on first use."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen())
        return super().subscribe(conversation_id)

    def publish(self, conversation_id: str, event: Ephemeral) -> int:
        """Deliver to the streams here and publish for the other servers; return the local count."""
        self._send({"c": conversation_id, "k": event.kind, "d": event.data})
        return super().publish(conversation_id, event)

    def notify(self, conversation_id: str) -> None:
        """Wake the conversation's streams here and on every other server."""
        self._send({"c": conversation_id})
        super().notify(conversation_id)

    def _send(self, message: dict[str, Any]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside the server's loop: local delivery only
            return
        payload = json.dumps({**message, "o": self._origin}, ensure_ascii=False)
        task = loop.create_task(self._publish(payload))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _publish(self, payload: str) -> None:
        try:
            await self._client.publish(self.channel, payload)
        except Exception as exc:  # best effort: local streams already have it
            self._warn("publishing to", exc)

    async def _listen(self) -> None:
        while True:
            try:
                async with self._client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.deliver(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._warn("listening on", exc)
                await asyncio.sleep(RECONNECT_S)

    def deliver(self, raw: bytes | str) -> bool:
        """Hand a message another server published to the streams open here (True when it was one)."""
        try:
            data = json.loads(raw)
            conversation_id = str(data["c"])
        except (ValueError, KeyError, TypeError):
            logger.warning("Ignored a malformed stream bus message (%d bytes)", len(raw))
            return False
        if data.get("o") == self._origin:
            return False
        self.received += 1
        if "k" in data and isinstance(data.get("d"), dict):
            super().publish(conversation_id, Ephemeral(str(data["k"]), data["d"]))
        else:
            super().notify(conversation_id)
        return True

    def _warn(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            logger.warning(
                "Stream bus: %s Redis channel %s failed (%s); events reach this server's "
                "streams only until it is back",
                what,
                self.channel,
                exc,
            )
