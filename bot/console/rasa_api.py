"""The console's way to act on a conversation: Rasa's HTTP API (never a shopper channel).

An agent's message, the "joined" notice and the hand-back are tracker events appended with
``POST /conversations/{id}/tracker/events``; ``execute_side_effects=true`` makes Rasa deliver bot
messages to the conversation's latest output channel (and un-pause on a ``resume`` event).
The API token travels in the query string (Rasa's token auth reads only ``?token=``), so this
module never logs a URL.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from core.settings import Settings

logger = logging.getLogger(__name__)

TIMEOUT_S = 10.0
RASA_REFUSED = "The assistant server did not accept the message; try again."


class RasaUnavailable(Exception):
    """Rasa could not be reached, timed out, or refused the events (the views answer 502)."""


class RasaApi(Protocol):
    """What the console needs from Rasa (the real client, or a recording double in tests)."""

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Append ``events`` to the conversation's tracker, running their side effects."""


class RasaHttpApi:
    """Rasa's HTTP API at ``base_url`` with token auth.

    Args:
        base_url: ``http://host:port`` of the Rasa server.
        token: Rasa's API token (``Settings.ensure_api_token()``).
        timeout_s: Seconds to wait for Rasa (connect and answer).
        transport: An httpx transport (tests pass ``httpx.MockTransport``).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout_s: float = TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not token:
            raise ValueError("token must not be empty; pass Settings.ensure_api_token().")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout_s = timeout_s
        self._transport = transport

    @classmethod
    def from_settings(cls, settings: Settings) -> RasaHttpApi:
        """The client of the Rasa server ``settings`` describe (``host``, ``rasa_port``)."""
        host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
        return cls(f"http://{host}:{settings.rasa_port}", settings.ensure_api_token())

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """POST ``events`` to the conversation's tracker.

        Raises:
            RasaUnavailable: Rasa is down, slow (over ``timeout_s``) or answered an error.
        """
        path = f"/conversations/{quote(conversation_id, safe='')}/tracker/events"
        params = {"output_channel": "latest", "execute_side_effects": "true", "token": self._token}
        # One client per call: a console request and the waiting watcher may run on different
        # event loops (tests), and agents send a few messages a minute, not thousands.
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=self.timeout_s, transport=self._transport
        ) as client:
            try:
                reply = await client.post(path, params=params, json=events)
            except httpx.HTTPError as exc:
                detail = str(exc).replace(self._token, "***")
                raise RasaUnavailable(
                    f"Rasa at {self.base_url} did not answer POST {path}: "
                    f"{type(exc).__name__} {detail}. Is the Rasa server running?"
                ) from None  # the chained exception's request URL carries the token
        if reply.status_code >= 400:
            raise RasaUnavailable(
                f"Rasa at {self.base_url} answered {reply.status_code} to POST {path}: "
                f"{reply.text[:200]}"
            )
