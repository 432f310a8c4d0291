"""Offline Bot API doubles in python-telegram-bot's style (its tests' ``OfflineRequest``).

:class:`OfflineRequest` fails any call: a unit test that reaches for the network fails loudly.
:class:`ScriptedRequest` answers the methods it is given in-process and records each call; any
other method fails like :class:`OfflineRequest`.
"""

from __future__ import annotations

import json
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT = {"id": 7000001, "is_bot": True, "first_name": "Shop", "username": "shop_test_bot"}


class OfflineRequest(BaseRequest):
    """A request class that refuses every Bot API call."""

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float | None:
        """No timeout: nothing is read."""
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         **_: Any) -> tuple[int, bytes]:  # fmt: skip
        """Refuse the call."""
        raise RuntimeError(f"A unit test tried to call the Bot API: {method} {url}")


class ScriptedRequest(OfflineRequest):
    """Answers ``getMe`` and the sending methods like Telegram; records ``(method, params)``."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._next_id = 100

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         **_: Any) -> tuple[int, bytes]:  # fmt: skip
        """Answer a known method; refuse any other."""
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data is not None else {}
        self.calls.append((name, params))
        if name == "getMe":
            result: Any = BOT
        elif name in ("sendMessage", "sendPhoto", "editMessageText"):
            self._next_id += 1
            result = {
                "message_id": self._next_id,
                "date": 0,
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": str(params.get("text", "")),
            }
        elif name in ("sendChatAction", "answerCallbackQuery", "sendMessageDraft"):
            result = True
        else:
            return await super().do_request(url, method, request_data)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def of(self, name: str) -> list[dict[str, Any]]:
        """The parameters of each call of ``name``."""
        return [params for method, params in self.calls if method == name]
