"""Pushes a generated answer's pieces to the web widget's stream while the action runs.

A Rasa 3.6 custom action returns its reply once, at the end; the widget shows the answer as it is
generated through a side channel: this client POSTs batches of ``token`` events to the widget
channel's internal route on the Rasa server (``Settings.widget_push_url``, authenticated with
``Settings.stream_secret``), keyed by conversation and a fresh ``stream_id``. The final reply still
goes through Rasa (stored in the tracker) and carries the same ``stream_id``, so the widget swaps
the streamed pieces for it. Pushing is best effort: it runs in its own thread, never slows the
generator, and after a failure it stops quietly (the final reply arrives anyway).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.request import Request, urlopen

logger = logging.getLogger(__name__)

WIDGET_CHANNEL = "widget"
STREAMING_CHANNELS = (WIDGET_CHANNEL, "telegram")  # channels with an internal stream route
# Load balancers route every push of one conversation to the same Rasa server (bot/balancer.py).
CONVERSATION_HEADER = "X-Shopbot-Conversation"
PUSH_TIMEOUT_S = 2.0
CLOSE_TIMEOUT_S = 3.0

Post = Callable[[str, bytes, dict[str, str], float], None]


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> None:
    with urlopen(Request(url, data=body, headers=headers, method="POST"), timeout=timeout):
        pass


@dataclass(frozen=True)
class _Piece:
    index: int
    text: str
    replace: bool


_CLOSE = object()


class TokenPusher:
    """Streams one answer's pieces to the widget (``push`` from any thread, then ``close``).

    Args:
        url: The widget channel's internal stream route.
        secret: Its bearer secret.
        conversation_id: The widget conversation (Rasa's sender id).
        stream_id: Id of this answer's stream; a fresh one when None.
        post: ``post(url, body, headers, timeout)``; urllib when None (tests pass a fake).
    """

    def __init__(
        self,
        url: str,
        secret: str,
        conversation_id: str,
        stream_id: str | None = None,
        post: Post | None = None,
    ) -> None:
        self.url = url
        self.conversation_id = conversation_id
        self.stream_id = stream_id or uuid.uuid4().hex
        self._headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {secret}",
            CONVERSATION_HEADER: conversation_id,
        }
        self._post = post or _post
        self._queue: queue.Queue[Any] = queue.Queue()
        self._index = 0
        self._shown = False
        self.sent = 0
        self.failed = False
        self._thread = threading.Thread(target=self._run, name="token-pusher", daemon=True)
        self._thread.start()

    def push(self, text: str) -> None:
        """Append verified text to what the widget shows (a space joins it to earlier text)."""
        if not text:
            return
        self._put((" " if self._shown else "") + text, replace=False)
        self._shown = True

    def replace(self, text: str) -> None:
        """Discard what the widget shows for this stream and show ``text`` instead."""
        self._put(text, replace=True)
        self._shown = bool(text)

    def _put(self, text: str, replace: bool) -> None:
        self._queue.put(_Piece(self._index, text, replace))
        self._index += 1

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Send what is queued and stop (waits at most ``timeout`` seconds)."""
        self._queue.put(_CLOSE)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch: list[_Piece] = [] if first is _CLOSE else [first]
            closing = first is _CLOSE
            while not closing:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _CLOSE:
                    closing = True
                else:
                    batch.append(item)
            if batch and not self.failed:
                self._send(batch)
            if closing:
                return

    def _send(self, batch: list[_Piece]) -> None:
        tokens: list[dict[str, Any]] = []
        for piece in batch:
            token: dict[str, Any] = {"index": piece.index, "text": piece.text}
            if piece.replace:
                token["replace"] = True
            tokens.append(token)
        body = json.dumps(
            {"conversation": self.conversation_id, "stream_id": self.stream_id, "tokens": tokens}
        ).encode("utf-8")
        try:
            self._post(self.url, body, self._headers, PUSH_TIMEOUT_S)
            self.sent += len(batch)
        except Exception as exc:
            # Best effort: the final answer still reaches the widget through Rasa.
            self.failed = True
            logger.warning(
                "Streaming tokens to %s failed (%s); the widget gets the whole answer at the end",
                self.url,
                exc,
            )


def pusher_for(
    latest_input_channel: str | None, conversation_id: str, url: str, secret: str
) -> TokenPusher | None:
    """A pusher when the conversation's channel streams (the web widget, Telegram) and a secret is
    configured."""
    if latest_input_channel not in STREAMING_CHANNELS or not secret or not url:
        return None
    return TokenPusher(url, secret, conversation_id)
