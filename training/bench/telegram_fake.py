"""A local HTTP server that plays the Telegram Bot API, recording every call.

python-telegram-bot talks to it through ``base_url`` (``SHOPBOT_TELEGRAM_API_URL`` /
``api_url`` in the channel's credentials): ``http://127.0.0.1:<port>`` + ``/bot<token>/<method>``.
It answers getMe, setWebhook, deleteWebhook, getWebhookInfo, getUpdates (long polling over updates
queued with :meth:`FakeTelegram.queue_update`), sendMessage, sendPhoto, sendChatAction,
answerCallbackQuery, editMessageText, editMessageReplyMarkup and sendMessageDraft like Telegram
does, and records each call (method, decoded parameters, arrival time) for the assertions of the
end-to-end tests and the Telegram benchmark. :func:`text_update` and friends build the updates
Telegram would send. aiohttp serves it in a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.request import Request, urlopen

from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "shop_test_bot"
TOKEN = f"{BOT_ID}:AAtest-token-for-the-fake-bot-api-0123"
SENDING = ("sendMessage", "sendPhoto", "editMessageText", "sendMessageDraft")


@dataclass(frozen=True)
class Call:
    """One recorded Bot API call."""

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() on arrival

    @property
    def chat_id(self) -> int | None:
        """The call's ``chat_id`` as an int (None when absent)."""
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        """The call's text or caption."""
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard's buttons, row by row, flattened."""
        markup = self.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or [] if isinstance(markup, dict) else []
        return [button for row in rows for button in row]


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except (json.JSONDecodeError, ValueError):
        return value


class FakeTelegram:
    """The fake Bot API on a free loopback port (a context manager: started and stopped).

    Args:
        token: The bot token it accepts (others get 401, as from Telegram).
    """

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._updates: list[dict[str, Any]] = []
        self._message_ids = itertools.count(1000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._new_update: asyncio.Event | None = None
        self._refusals: dict[str, int] = {}
        self.port = 0

    @property
    def url(self) -> str:
        """The API's base URL (what ``api_url`` is set to)."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeTelegram:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve in a background thread; returns once the port is bound."""
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._new_update = asyncio.Event()
            app = web.Application()
            app.router.add_post("/bot{token}/{method}", self._handle)
            app.router.add_get("/bot{token}/{method}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
            loop.run_until_complete(web.SockSite(self._runner, sock).start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-telegram", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("The fake Telegram Bot API did not start within 10 s.")

    def stop(self) -> None:
        """Stop serving."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    # What tests and the benchmark use.

    def queue_update(self, update: dict[str, Any]) -> None:
        """Hand ``update`` to the next ``getUpdates``."""
        with self._lock:
            self._updates.append(update)
        if self._loop is not None and self._new_update is not None:
            self._loop.call_soon_threadsafe(self._new_update.set)

    def calls_of(self, *methods: str, chat_id: int | None = None) -> list[Call]:
        """The recorded calls of ``methods`` (all when none), optionally to one chat."""
        with self._lock:
            calls = list(self.calls)
        return [
            c
            for c in calls
            if (not methods or c.method in methods) and (chat_id is None or c.chat_id == chat_id)
        ]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages sent (text, photo, draft, edit), in order."""
        return self.calls_of(*SENDING, chat_id=chat_id)

    def wait_for(
        self, predicate: Callable[[FakeTelegram], bool], timeout: float = 60.0, what: str = ""
    ) -> None:
        """Poll until ``predicate(self)`` holds.

        Raises:
            TimeoutError: naming ``what`` and listing the calls so far.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return
            time.sleep(0.05)
        summary = "\n".join(f"  {c.method} {c.params}" for c in self.calls_of())
        raise TimeoutError(f"Timed out after {timeout:.0f} s waiting for {what}; calls:\n{summary}")

    def refuse_next(self, method: str, retry_after: int = 1) -> None:
        """Answer the next call of ``method`` with 429 Too Many Requests and ``retry_after``."""
        with self._lock:
            self._refusals[method] = retry_after

    def clear(self) -> None:
        """Forget the recorded calls."""
        with self._lock:
            self.calls.clear()

    # The API.

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params: dict[str, Any] = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                params = await request.json()
            else:
                form = await request.post()
                params = {k: _decode(v) for k, v in form.items() if isinstance(v, str)}
        params.update({k: _decode(v) for k, v in request.query.items()})
        with self._lock:
            self.calls.append(Call(method, params, time.monotonic()))
        with self._lock:
            retry_after = self._refusals.pop(method, None)
        if retry_after is not None:
            return web.json_response(
                {"ok": False, "error_code": 429,
                 "description": f"Too Many Requests: retry after {retry_after}",
                 "parameters": {"retry_after": retry_after}},
                status=429,
            )  # fmt: skip
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                status=404,
            )
        result = await handler(params)
        return web.json_response({"ok": True, "result": result})

    async def _api_getMe(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": int(self.token.split(":")[0]),
            "is_bot": True,
            "first_name": "Shop",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = dict(params)
        return True

    async def _api_deleteWebhook(self, _: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    async def _api_getWebhookInfo(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"url": str(self.webhook.get("url", "")), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}  # fmt: skip

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        assert self._new_update is not None
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates[: int(params.get("limit") or 100)])
            if ready or time.monotonic() >= deadline:
                return ready
            self._new_update.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": {"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "Shop"},
            **content,
        }

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, text=str(params.get("text", "")))

    async def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = [{"file_id": "photo-1", "file_unique_id": "p1", "width": 320, "height": 320}]
        return self._message(params, photo=photo, caption=str(params.get("caption", "")))

    async def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params, text=str(params.get("text", "")))
        message["message_id"] = int(params.get("message_id") or 0)
        return message

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_sendChatAction(self, _: dict[str, Any]) -> bool:
        return True

    async def _api_answerCallbackQuery(self, _: dict[str, Any]) -> bool:
        return True

    async def _api_sendMessageDraft(self, _: dict[str, Any]) -> bool:
        return True


# Updates as Telegram sends them.

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


def next_update_id() -> int:
    """A fresh update id (increasing, as Telegram's)."""
    return next(_update_ids)


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Shopper"}
    return {"id": chat_id, "type": "supergroup", "title": "Shoppers"}


def message_update(
    chat_id: int, user_id: int | None = None, edited: bool = False, **content: Any
) -> dict[str, Any]:
    """An update with a (new or edited) message of ``content`` from ``user_id`` in ``chat_id``."""
    user = user_id if user_id is not None else chat_id
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": _chat(chat_id),
        "from": {"id": user, "is_bot": False, "first_name": "Shopper", "language_code": "en"},
        **content,
    }
    if edited:
        message["edit_date"] = int(time.time())
    return {"update_id": next_update_id(), "edited_message" if edited else "message": message}


def text_update(chat_id: int, text: str, user_id: int | None = None, **kw: Any) -> dict[str, Any]:
    """A text message (``/commands`` get their ``bot_command`` entity, as from Telegram)."""
    content: dict[str, Any] = {"text": text}
    entities = []
    if text.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": len(text.split(" ")[0])})
    mention = f"@{BOT_USERNAME}"
    at = text.find(mention)
    if at >= 0 and not text.startswith("/"):
        entities.append({"type": "mention", "offset": at, "length": len(mention)})
    if entities:
        content["entities"] = entities
    return message_update(chat_id, user_id, **(content | kw))


def callback_update(chat_id: int, data: str, message_date: int | None = None) -> dict[str, Any]:
    """A press of an inline button with ``data`` under a bot message in ``chat_id``."""
    return {
        "update_id": next_update_id(),
        "callback_query": {
            "id": f"cq{next(_message_ids)}",
            "from": {"id": chat_id, "is_bot": False, "first_name": "Shopper"},
            "chat_instance": "ci-1",
            "data": data,
            "message": {
                "message_id": next(_message_ids),
                "date": message_date if message_date is not None else int(time.time()),
                "chat": _chat(chat_id),
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Shop"},
                "text": "Choose:",
            },
        },
    }


def deliver(webhook_url: str, update: dict[str, Any], secret: str | None) -> tuple[int, Any]:
    """POST ``update`` to a webhook as Telegram does (with the secret header unless None)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = Request(webhook_url, json.dumps(update).encode(), headers=headers, method="POST")
    try:
        with urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read() or b"null")
    except Exception as exc:  # urllib's HTTPError carries the status
        status = getattr(exc, "code", None)
        if status is None:
            raise
        return int(status), None
