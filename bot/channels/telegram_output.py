"""The Telegram output channel: sends Rasa's bot messages to a chat with python-telegram-bot.

Used for the replies to a Telegram update, and by Rasa's HTTP API (``output_channel=latest``), so
what the agent console sends into a Telegram conversation (an agent's reply, a handoff notice)
reaches the shopper's chat. The chat comes from the conversation id
(``bot.channels.telegram_policy.sender_id``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, LinkPreviewOptions, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.channels.telegram_format import Outgoing, render
from bot.channels.telegram_policy import chat_of
from bot.channels.telegram_stream import DraftStreams
from bot.channels.whole_message import WholeMessageOutputChannel

logger = logging.getLogger(__name__)

Ready = Callable[[], Awaitable[Any]]
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class TelegramOutputChannel(WholeMessageOutputChannel):
    """Sends each bot message as one or more Telegram messages (``telegram_format.render``).

    Args:
        bot: The channel's bot (its rate limiter paces every call).
        ready: Awaited before the first call (initialises the bot: ``getMe``).
        reply_to: The message the first reply threads to (groups, edited messages), or None.
        streams: The channel's open streams: a final message ends its stream (in a group, it
            replaces the streamed message's text).
    """

    def __init__(
        self,
        bot: Bot,
        ready: Ready | None = None,
        reply_to: int | None = None,
        streams: DraftStreams | None = None,
    ) -> None:
        self.bot = bot
        self._ready = ready
        self._reply_to = reply_to
        self._streams = streams
        self.sent = 0

    @classmethod
    def name(cls) -> str:
        """The channel's name (Rasa records it with each message)."""
        return "telegram"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Send the whole message (text pieces, cards, keyboard) to the recipient's chat."""
        chat_id = chat_of(recipient_id)
        if chat_id is None:
            logger.warning("Not a Telegram conversation: %r; message dropped", recipient_id)
            return
        if self._ready is not None:
            await self._ready()
        outgoings = render(dict(message))
        stream = await self._streams.finish(recipient_id, message) if self._streams else None
        if stream is not None and stream.message_id is not None and outgoings:
            first = outgoings[0]
            if not first.photo and await self._edit(chat_id, stream.message_id, first):
                outgoings = outgoings[1:]
        for outgoing in outgoings:
            await self.send(chat_id, outgoing)

    async def _edit(self, chat_id: int, message_id: int, outgoing: Outgoing) -> bool:
        """Replace a streamed message's text with the final one; False when Telegram refused."""
        try:
            await self.bot.edit_message_text(
                outgoing.text,
                chat_id,
                message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=outgoing.keyboard,
                link_preview_options=NO_PREVIEW,
            )
        except TelegramError as exc:
            logger.info("Editing the streamed message in %s failed (%s); sending it", chat_id, exc)
            return False
        self.sent += 1
        return True

    async def send(self, chat_id: int, outgoing: Outgoing) -> None:
        """Send one message; a photo Telegram cannot fetch becomes a text card. Never raises for
        Telegram's refusals (a shopper who blocked the bot, a deleted chat): they are logged."""
        reply = None
        if self._reply_to is not None:
            reply = ReplyParameters(self._reply_to, allow_sending_without_reply=True)
            self._reply_to = None  # only the first message threads
        try:
            if outgoing.photo:
                try:
                    await self.bot.send_photo(
                        chat_id,
                        outgoing.photo,
                        caption=outgoing.text or None,
                        parse_mode=ParseMode.HTML,
                        reply_markup=outgoing.keyboard,
                        reply_parameters=reply,
                    )
                    self.sent += 1
                    return
                except BadRequest as exc:
                    logger.info("Photo %s refused (%s); sending a text card", outgoing.photo, exc)
                    if not outgoing.text:
                        return
            await self.bot.send_message(
                chat_id,
                outgoing.text,
                parse_mode=ParseMode.HTML,
                reply_markup=outgoing.keyboard,
                reply_parameters=reply,
                link_preview_options=NO_PREVIEW,
            )
            self.sent += 1
        except Forbidden as exc:
            logger.info("Chat %s does not accept messages from the bot (%s)", chat_id, exc)
        except TelegramError:
            logger.exception("Sending to chat %s failed", chat_id)
