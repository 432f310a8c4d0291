"""The Telegram channel on the Rasa server (``/webhooks/telegram``), built on python-telegram-bot.

``POST /webhooks/telegram/webhook`` is the bot's webhook: the ``X-Telegram-Bot-Api-Secret-Token``
header is compared with the secret in constant time (403 otherwise, nothing read), the update's id
is recorded in the application database (a re-delivered update, on any replica, is acknowledged
and dropped), and the update is put on python-telegram-bot's ``Application`` queue and answered
200 at once: Telegram never waits for the assistant, so it never re-sends a slow update.
``Application`` processes updates concurrently; Rasa's lock store keeps each conversation's
messages in order. What each update becomes is decided by ``telegram_policy.classify``; replies
go out through ``TelegramOutputChannel`` with python-telegram-bot's ``AIORateLimiter`` pacing every
Bot API call (``retry_after`` honoured). Polling for development (``shopbot telegram --polling``)
relays ``getUpdates`` to this same webhook. Decision record: docs/decisions/017-telegram-channel.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest

from bot.channels.inbound import (
    DEFAULT_MAX_MESSAGE_CHARS,
    InboundError,
    check_payload,
    parse_json_object,
)
from bot.channels.telegram_format import TITLE_PREFIX
from bot.channels.telegram_limits import DEFAULT_RATE, SLOW_DOWN, InboundLimiter
from bot.channels.telegram_output import TelegramOutputChannel
from bot.channels.telegram_policy import COMMAND_PAYLOADS, Decision, Kind, classify
from bot.channels.telegram_stream import DraftStreams, parse_push
from bot.channels.widget_auth import bearer_token
from bot.metrics import timed_turn
from bot.storage.engine import make_engine
from bot.storage.telegram import TelegramLinks, TelegramUpdates

logger = logging.getLogger(__name__)
# httpx logs every request's URL at INFO, and a Bot API URL contains the bot's token.
logging.getLogger("httpx").setLevel(logging.WARNING)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TYPING_EVERY_S = 4.0  # Telegram shows "typing…" for 5 s after each sendChatAction
HELP = (
    "I'm the store's assistant. Ask me about products, prices and store policies, or track, "
    "cancel or return an order (I'll ask for the order number and the email on it).\n\n"
    "/human: talk to a person\n/reset: start over\n/help: this message"
)
LINKED = "Your store account is linked to this chat."
LINK_FAILED = (
    "That link has expired or was already used. Open a fresh one from the store's website, or "
    "just ask me about your order."
)
EXPIRED_BUTTON = "This button has expired. Please type your question instead."
FAILURE_REPLY = (
    "Sorry, something went wrong on my side while handling that. Please try again in a moment, "
    "or send /human for a person."
)
MIN_SECRET_CHARS = 16

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def build_application(
    token: str,
    api_url: str = "",
    rate_limiter: bool = True,
    requests: tuple[BaseRequest, BaseRequest] | None = None,
) -> Application:
    """python-telegram-bot's ``Application`` for the webhook (no updater, concurrent updates).

    ``requests`` replaces the HTTP clients of Bot API calls and of ``getUpdates`` (tests pass
    offline ones, as python-telegram-bot's own tests do).
    """
    # Any: each builder call changes ApplicationBuilder's generic parameters (the rate limiter's).
    builder: Any = (
        ApplicationBuilder().token(token).updater(None).job_queue(None).concurrent_updates(True)
    )
    if api_url:
        base = api_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    if requests is not None:
        builder = builder.request(requests[0]).get_updates_request(requests[1])
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    application: Application = builder.build()
    return application


def bot_id_of(token: str) -> int:
    """The bot's numeric id: the part of the token before ``:`` (``123456:ABC...``)."""
    head = token.split(":", 1)[0]
    if not head.isdigit():
        raise ValueError(
            "token must look like '123456789:AA...' (from @BotFather). Currently, its part before "
            f"':' is {head[:12]!r} (set SHOPBOT_TELEGRAM_TOKEN)."
        )
    return int(head)


def secret_ok(presented: str | None, secret: str) -> bool:
    """Constant-time check of the webhook's secret header."""
    if not presented or not secret:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), secret.encode("utf-8"))


class TelegramInput(InputChannel):
    """The Telegram bot's channel (rendered into credentials.yml when a token is configured).

    Args:
        token: The bot token from @BotFather (``SHOPBOT_TELEGRAM_TOKEN``).
        secret: The webhook's secret token (``SHOPBOT_TELEGRAM_SECRET``; 16-256 characters of
            ``A-Z a-z 0-9 _ -``), which Telegram sends in every webhook request.
        app_db_url: Absolute SQLAlchemy URL of the application database (upgraded to head).
        api_url: The Bot API server (``SHOPBOT_TELEGRAM_API_URL``; empty: api.telegram.org).
        max_message_chars: Longest message accepted.
        rate_limit: Each user's inbound limit, a ``limits`` rate (``20 per minute``).
        rate_limit_url: Where it is counted (``memory://`` or the Redis lock store).
        stream_secret: Bearer secret of ``POST /internal/stream``, where the action server
            pushes a generated answer's pieces (empty disables streaming).
    """

    @classmethod
    def name(cls) -> str:
        """The channel's name, which is also its URL segment."""
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel from its ``credentials.yml`` section."""
        credentials = credentials or {}
        for required in ("token", "secret", "app_db_url"):
            if not credentials.get(required):
                raise ValueError(
                    f"The telegram channel needs '{required}' in credentials.yml; set "
                    "SHOPBOT_TELEGRAM_TOKEN (and SHOPBOT_TELEGRAM_SECRET) and render the file "
                    "with `shopbot run`."
                )
        return cls(
            token=str(credentials["token"]),
            secret=str(credentials["secret"]),
            app_db_url=str(credentials["app_db_url"]),
            api_url=str(credentials.get("api_url") or ""),
            max_message_chars=int(credentials.get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS)),
            rate_limit=str(credentials.get("rate_limit") or DEFAULT_RATE),
            rate_limit_url=str(credentials.get("rate_limit_url") or "memory://"),
            stream_secret=str(credentials.get("stream_secret") or ""),
        )

    def __init__(
        self,
        token: str,
        secret: str,
        app_db_url: str,
        api_url: str = "",
        max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
        rate_limit: str = DEFAULT_RATE,
        rate_limit_url: str = "memory://",
        application: Application | None = None,
        stream_secret: str = "",
    ) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(
                f"secret must be at least {MIN_SECRET_CHARS} characters. Currently, it has "
                f"{len(secret)}; set SHOPBOT_TELEGRAM_SECRET to a longer random string of "
                "A-Z a-z 0-9 _ - (or leave it unset to have one generated)."
            )
        self.bot_id = bot_id_of(token)
        self.secret = secret
        self.max_message_chars = max_message_chars
        self.application = application or build_application(token, api_url)
        engine = make_engine(app_db_url)  # connects on first use
        self.updates = TelegramUpdates(engine)
        self.links = TelegramLinks(engine)
        self.limiter = InboundLimiter(rate_limit, rate_limit_url)
        self.stream_secret = stream_secret
        self.streams = DraftStreams(self.application.bot)
        self._on_new_message: OnNewMessage | None = None
        self._start_lock = asyncio.Lock()
        # One update at a time per conversation, in arrival order (asyncio locks are FIFO):
        # a /start <code> is linked before the message that follows it is handled.
        self._turns: dict[str, tuple[asyncio.Lock, int]] = {}
        self._started = False
        self.application.add_handler(TypeHandler(Update, self._handle))
        self.application.add_error_handler(self._on_error)

    @property
    def bot(self) -> Bot:
        """The channel's bot."""
        return self.application.bot

    async def ensure_started(self) -> None:
        """Initialise the bot (``getMe``) and start the update queue's processing, once."""
        if self._started:
            return
        async with self._start_lock:
            if not self._started:
                await self.application.initialize()
                await self.application.start()
                self._started = True
                logger.info("Telegram bot @%s ready", self.bot.username)

    async def stop(self) -> None:
        """Finish the queued updates and close the bot's connections."""
        if self._started:
            self._started = False
            await self.application.stop()
            await self.application.shutdown()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The webhook route and a health check."""
        self._on_new_message = on_new_message
        telegram = Blueprint(f"shop_telegram_{id(self)}", __name__)

        @telegram.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not secret_ok(request.headers.get(SECRET_HEADER), self.secret):
                logger.warning("Refused Telegram webhook from %s (403): wrong secret", request.ip)
                return response.json({"error": "forbidden"}, status=403)
            try:
                accepted = await self.accept(request.body)
            except InboundError as exc:
                logger.warning("Refused Telegram update (%d): %s", exc.status, exc.reason)
                return response.json({"error": exc.reason}, status=exc.status)
            except Exception:
                # 503: Telegram delivers the update again later.
                logger.exception("Accepting a Telegram update failed")
                return response.json({"error": "unavailable"}, status=503)
            return response.json({"ok": True, "duplicate": not accepted})

        @telegram.route("/internal/stream", methods=["POST"])
        async def internal_stream(request: Request) -> HTTPResponse:
            if not secret_ok(
                bearer_token(request.headers.get("authorization")), self.stream_secret
            ):
                logger.warning("Refused a token push from %s (401)", request.ip)
                return response.json({"error": "needs the stream secret"}, status=401)
            try:
                conversation, stream_id, pieces = parse_push(request.body)
            except InboundError as exc:
                return response.json({"error": exc.reason}, status=exc.status)
            await self.ensure_started()
            self.streams.push(conversation, stream_id, pieces)
            return response.json({"streams": 1})

        @telegram.listener("before_server_stop")
        async def stop(*_: Any) -> None:
            await self.stop()

        return telegram

    async def accept(self, body: bytes) -> bool:
        """Record and queue one update; False for a re-delivery (not queued).

        Raises:
            InboundError: 400 for a body that is not an update.
        """
        data = parse_json_object(body, '{"update_id": 1, "message": {...}}')
        if not isinstance(data.get("update_id"), int):
            raise InboundError(400, "The body is not a Telegram update (no integer update_id).")
        # Decoded before it is recorded: an update python-telegram-bot cannot read is refused
        # (400) without taking its update_id.
        try:
            update = Update.de_json(data, self.bot)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise InboundError(
                400, f"The body is not a Telegram update ({type(exc).__name__})."
            ) from None
        # Started first: when the Bot API is unreachable the update is refused (503) unrecorded,
        # so Telegram's retry is not taken for a duplicate.
        await self.ensure_started()
        if not await asyncio.to_thread(self.updates.first_delivery, self.bot_id, data["update_id"]):
            logger.info("Telegram update %d delivered again; dropped", data["update_id"])
            return False
        await self.application.update_queue.put(update)
        return True

    def get_output_channel(self) -> OutputChannel | None:
        """The output channel Rasa's HTTP API uses for Telegram conversations
        (``output_channel=latest``): the agent console's messages reach the chat."""
        return TelegramOutputChannel(self.bot, self.ensure_started, streams=self.streams)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        logger.error("Telegram update failed: %s", update, exc_info=context.error)

    async def _handle(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """Handle one update (never raises: a failure is logged and apologised for)."""
        decision = classify(update, self.bot.username, self.bot.id, self.max_message_chars)
        if decision.kind is Kind.IGNORE:
            logger.info("Telegram update %d ignored: %s", update.update_id, decision.reason)
            return
        if update.callback_query is not None:
            await self._answer_button(update, decision)
            if decision.kind is Kind.EXPIRED_BUTTON:
                return
        output = TelegramOutputChannel(self.bot, reply_to=decision.reply_to, streams=self.streams)
        admission = self.limiter.admit(decision.user_id)  # in arrival order, before any wait
        async with self._turn(decision.sender_id):
            if not admission.allowed:
                logger.info("User %d over the Telegram rate limit", decision.user_id)
                if admission.warn:
                    await output.send_response(decision.sender_id, {"text": SLOW_DOWN})
                return
            await self._handle_turn(update, decision, output)

    @contextlib.asynccontextmanager
    async def _turn(self, sender: str) -> AsyncIterator[None]:
        """Hold the conversation's turn (forgotten when nobody waits for it)."""
        lock, users = self._turns.get(sender, (asyncio.Lock(), 0))
        self._turns[sender] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._turns[sender]
            if users <= 1:
                del self._turns[sender]
            else:
                self._turns[sender] = (lock, users - 1)

    async def _handle_turn(
        self, update: Update, decision: Decision, output: TelegramOutputChannel
    ) -> None:
        try:
            if decision.kind is Kind.REPLY:
                logger.info("Telegram update %d: %s", update.update_id, decision.reason)
                await output.send_response(decision.sender_id, {"text": decision.text})
            elif decision.kind is Kind.COMMAND:
                await self._command(decision, output)
            else:
                await self._to_rasa(decision, self._rasa_text(decision), output)
        except Exception:
            logger.exception("Handling Telegram update %d failed", update.update_id)
            await output.send_response(decision.sender_id, {"text": FAILURE_REPLY})

    async def _answer_button(self, update: Update, decision: Decision) -> None:
        query = update.callback_query
        assert query is not None
        expired = decision.kind is Kind.EXPIRED_BUTTON
        try:
            await query.answer(EXPIRED_BUTTON if expired else None)
        except TelegramError as exc:
            logger.info("Answering a callback query failed: %s", exc)

    @staticmethod
    def _rasa_text(decision: Decision) -> str:
        """What Rasa receives: typed text, or a button's payload (checked like the widget's)."""
        if decision.kind is not Kind.BUTTON:
            return decision.text
        data = decision.text
        if data.startswith(TITLE_PREFIX):
            return data[len(TITLE_PREFIX) :]
        try:
            return check_payload(data)
        except InboundError:
            return ""  # not one of our payloads: nothing to send

    async def _command(self, decision: Decision, output: TelegramOutputChannel) -> None:
        if decision.command == "help":
            await output.send_response(decision.sender_id, {"text": HELP})
            return
        if decision.command == "start" and decision.text:
            linked = await asyncio.to_thread(self.links.redeem, decision.text, decision.user_id)
            await output.send_response(
                decision.sender_id, {"text": LINKED if linked else LINK_FAILED}
            )
        if decision.command == "reset":
            await asyncio.to_thread(self.links.unlink, decision.user_id)
        await self._to_rasa(decision, COMMAND_PAYLOADS[decision.command], output)

    async def _to_rasa(self, decision: Decision, text: str, output: TelegramOutputChannel) -> None:
        if not text or self._on_new_message is None:
            return
        metadata: dict[str, Any] = {
            "telegram": {
                "chat_id": decision.chat_id,
                "user_id": decision.user_id,
                "edited": decision.edited,
            }
        }
        async with self._typing(decision.chat_id):  # first: the shopper sees it at once
            token = await asyncio.to_thread(self.links.token_for, decision.user_id)
            if token:
                metadata["customer_token"] = token
            await timed_turn(
                self.name(),
                decision.sender_id,
                self._on_new_message(
                    UserMessage(
                        text,
                        output,
                        decision.sender_id,
                        input_channel=self.name(),
                        metadata=metadata,
                    )
                ),
            )

    @contextlib.asynccontextmanager
    async def _typing(self, chat_id: int) -> AsyncIterator[None]:
        """Show "typing…" in the chat until the block ends (renewed every 4 s)."""

        async def keep_typing() -> None:
            while True:
                try:
                    await self.bot.send_chat_action(chat_id, ChatAction.TYPING)
                except TelegramError as exc:
                    logger.info("Typing action in %s failed: %s", chat_id, exc)
                    return
                await asyncio.sleep(TYPING_EVERY_S)

        task = asyncio.ensure_future(keep_typing())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
