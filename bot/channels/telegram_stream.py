"""Generated answers shown while they are generated: drafts in private chats, paced edits in groups.

The action server pushes an answer's verified pieces to ``POST /webhooks/telegram/internal/stream``
(the same body and bearer secret as the widget's internal route: ``actions/streaming.py``). In a
private chat the text so far is shown with ``sendMessageDraft`` (python-telegram-bot ≥ 22.6), which
Telegram replaces with the final message; in a group, where drafts do not exist, the first piece
is sent as a message and then edited, at most once per :data:`EDIT_INTERVAL_S` (Telegram limits
edits). The final message always goes out through Rasa: in a group it replaces the streamed
message's text (``TelegramOutputChannel``), elsewhere it is sent as usual. Best effort: a failed
draft or edit stops the stream quietly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from telegram import Bot
from telegram.error import TelegramError

from bot.channels.inbound import InboundError, parse_json_object
from bot.channels.telegram_format import MAX_MESSAGE_CHARS
from bot.channels.telegram_policy import chat_of

logger = logging.getLogger(__name__)

DRAFT_INTERVAL_S = 0.3
EDIT_INTERVAL_S = 1.0
MAX_PUSH_TOKENS = 500
MAX_TOKEN_CHARS = 8000
MAX_OPEN_STREAMS = 1000  # a final message handled by another replica never closes its stream
_STREAM_ID_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


@dataclass(frozen=True)
class Piece:
    """One pushed piece: appended to the text, or replacing it."""

    index: int
    text: str
    replace: bool = False


def parse_push(body: bytes) -> tuple[str, str, list[Piece]]:
    """``(conversation, stream_id, pieces)`` of a push body.

    Raises:
        InboundError: 400 for a malformed body or a conversation that is not a Telegram chat.
    """
    data = parse_json_object(body, '{"conversation": "...", "stream_id": "...", "tokens": []}')
    conversation, stream_id, tokens = (
        data.get("conversation"),
        data.get("stream_id"),
        data.get("tokens"),
    )
    if not isinstance(conversation, str) or chat_of(conversation) is None:
        raise InboundError(400, "'conversation' must be a Telegram conversation id.")
    if not isinstance(stream_id, str) or not _STREAM_ID_RE.match(stream_id):
        raise InboundError(400, "'stream_id' must be 1-64 letters, digits, _ or -.")
    if not isinstance(tokens, list) or len(tokens) > MAX_PUSH_TOKENS:
        raise InboundError(400, f"'tokens' must be a list of at most {MAX_PUSH_TOKENS} items.")
    pieces = []
    for token in tokens:
        if (
            not isinstance(token, dict)
            or not isinstance(token.get("index"), int)
            or not isinstance(token.get("text"), str)
            or len(token["text"]) > MAX_TOKEN_CHARS
        ):
            raise InboundError(400, 'Each token must be {"index": int, "text": str}.')
        pieces.append(Piece(token["index"], token["text"], token.get("replace") is True))
    return conversation, stream_id, pieces


class DraftStream:
    """The streamed text of one answer in one chat.

    Args:
        bot: The channel's bot.
        conversation: The Rasa conversation id (its chat, and whether it is private).
        stream_id: The answer's stream id (its final message carries the same).
    """

    def __init__(self, bot: Bot, conversation: str, stream_id: str) -> None:
        chat = chat_of(conversation)
        assert chat is not None
        self.bot = bot
        self.chat_id = chat
        self.stream_id = stream_id
        self.private = conversation.count(":") == 1
        self.text = ""
        self.message_id: int | None = None  # the streamed message in a group
        self.failed = False
        self._draft_id = secrets.randbelow(2**31 - 1) + 1
        self._interval = DRAFT_INTERVAL_S if self.private else EDIT_INTERVAL_S
        self._shown = ""
        self._last = 0.0
        self._pending: asyncio.Task[None] | None = None

    def add(self, pieces: list[Piece]) -> None:
        """Apply pushed pieces in order and schedule showing them."""
        for piece in sorted(pieces, key=lambda p: p.index):
            self.text = piece.text if piece.replace else self.text + piece.text
        if self._pending is None or self._pending.done():
            self._pending = asyncio.ensure_future(self._show_paced())

    async def _show_paced(self) -> None:
        loop = asyncio.get_running_loop()
        wait = self._last + self._interval - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last = loop.time()
        await self.show()

    async def show(self) -> None:
        """Show the text so far (a draft, the first message, or an edit)."""
        text = self.text.strip()[:MAX_MESSAGE_CHARS]
        if self.failed or not text or text == self._shown:
            return
        try:
            if self.private:
                await self.bot.send_message_draft(self.chat_id, self._draft_id, text)
            elif self.message_id is None:
                sent = await self.bot.send_message(self.chat_id, text)
                self.message_id = sent.message_id
            else:
                await self.bot.edit_message_text(text, self.chat_id, self.message_id)
            self._shown = text
        except TelegramError as exc:
            self.failed = True
            logger.info("Streaming to chat %s stopped: %s", self.chat_id, exc)

    async def close(self) -> None:
        """Stop showing pieces (the final message is about to go out)."""
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pending


class DraftStreams:
    """The open streams of this Rasa server, by conversation."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._open: dict[str, DraftStream] = {}

    def push(self, conversation: str, stream_id: str, pieces: list[Piece]) -> None:
        """Show ``pieces`` of ``stream_id`` in the conversation's chat."""
        stream = self._open.get(conversation)
        if stream is None or stream.stream_id != stream_id:
            self._open.pop(conversation, None)
            while len(self._open) >= MAX_OPEN_STREAMS:  # forget the oldest
                self._open.pop(next(iter(self._open)))
            stream = self._open[conversation] = DraftStream(self.bot, conversation, stream_id)
        stream.add(pieces)

    async def finish(self, conversation: str, message: dict[str, Any]) -> DraftStream | None:
        """The stream the final ``message`` ends (closed), or None."""
        custom = message.get("custom")
        stream_id = custom.get("stream_id") if isinstance(custom, dict) else None
        stream = self._open.get(conversation)
        if stream is None or not stream_id or stream.stream_id != stream_id:
            return None
        del self._open[conversation]
        await stream.close()
        return stream
