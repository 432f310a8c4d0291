"""The REST channel (``/webhooks/rest/webhook``) with strict input validation.

Replaces Rasa's stock ``rest`` channel: same URL and reply format, but a malformed request gets a
4xx with a reason, an empty message gets a polite prompt, and a failure inside the assistant gets
an apology instead of an empty list. Every refusal is logged.

The channel is for the store's own backend, not for browsers: it trusts the ``sender`` it is
given, so by default it requires the server-side secret (``Authorization: Bearer <secret>``,
``Settings.rest_secret``); ``SHOPBOT_REST_AUTH=off`` turns that off for local experiments.
Shoppers' browsers use the widget channel, whose conversation ids are issued and signed by the
server. Typed text never becomes a Rasa command (``bot.channels.inbound``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.inbound import DEFAULT_MAX_MESSAGE_CHARS, InboundError, parse_rest_body
from bot.channels.widget_auth import bearer_token, secret_matches
from bot.metrics import timed_turn
from core.client_key import CLIENT_METADATA_KEY, ClientKeys

logger = logging.getLogger(__name__)

EMPTY_MESSAGE_REPLY = "It looks like your message was empty. What can I help you with?"
FAILURE_REPLY = (
    "Sorry, something went wrong on my side while handling that. Please try again in a moment, "
    "or ask for a human agent."
)
UNAUTHORIZED = (
    "The REST channel needs the server-side secret: send 'Authorization: Bearer <secret>' "
    "(SHOPBOT_REST_SECRET, generated into var/rest_secret by `shopbot run`)."
)


class ShopRestInput(InputChannel):
    """REST webhook for the store's own backend and for testing with curl.

    Args:
        max_message_chars: Longest message accepted.
        secret: The bearer secret callers must send.
        require_secret: False only for local experiments (``SHOPBOT_REST_AUTH=off``).
        client_keys: Hashes the client address into ``metadata["client"]`` (identity lockouts
            count per client); None → a random key of this process.
    """

    @classmethod
    def name(cls) -> str:
        """Return the channel name, which is also its URL segment."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel from its ``credentials.yml`` section."""
        credentials = credentials or {}
        return cls(
            max_message_chars=int(credentials.get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS)),
            secret=str(credentials.get("secret") or ""),
            require_secret=bool(credentials.get("auth", True)),
            client_keys=ClientKeys.from_credentials(credentials),
        )

    def __init__(
        self,
        max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
        secret: str = "",
        require_secret: bool = True,
        client_keys: ClientKeys | None = None,
    ) -> None:
        if max_message_chars <= 0:
            raise ValueError(
                f"max_message_chars must be greater than 0. Currently, max_message_chars is {max_message_chars}."
            )
        if require_secret and not secret:
            raise ValueError(
                "The REST channel requires a secret, but none is configured: set "
                "SHOPBOT_REST_SECRET (or let `shopbot run` generate var/rest_secret), or set "
                "SHOPBOT_REST_AUTH=off for local experiments."
            )
        self.max_message_chars = max_message_chars
        self.secret = secret
        self.require_secret = require_secret
        self.client_keys = client_keys or ClientKeys()

    def authorized(self, authorization: str | None) -> bool:
        """True when the secret is not required or the request's bearer token is the secret."""
        return not self.require_secret or secret_matches(bearer_token(authorization), self.secret)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Return the health and webhook routes."""
        webhook = Blueprint(f"shop_rest_{id(self)}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.authorized(request.headers.get("authorization")):
                logger.warning("Refused REST request from %s (401): no or wrong secret", request.ip)
                return response.json({"error": UNAUTHORIZED}, status=401)
            try:
                inbound = parse_rest_body(request.body, self.max_message_chars)
            except InboundError as exc:
                logger.warning(
                    "Refused REST request from %s (%d): %s", request.ip, exc.status, exc.reason
                )
                return response.json({"error": exc.reason}, status=exc.status)
            if not inbound.text:
                logger.info("Empty message from %s", inbound.sender)
                return response.json(
                    [{"recipient_id": inbound.sender, "text": EMPTY_MESSAGE_REPLY}]
                )
            collector = CollectingOutputChannel()
            try:
                await timed_turn(
                    self.name(),
                    inbound.sender,
                    on_new_message(
                        UserMessage(
                            inbound.text,
                            collector,
                            inbound.sender,
                            input_channel=self.name(),
                            # The channel's own client key replaces any the caller sent.
                            metadata={
                                **inbound.metadata,
                                CLIENT_METADATA_KEY: self.client_keys.key(
                                    request.ip, request.headers.get("x-forwarded-for")
                                ),
                            },
                        )
                    ),
                )
            except Exception:
                logger.exception("Failed to handle a message from %s", inbound.sender)
                collector.messages.append({"recipient_id": inbound.sender, "text": FAILURE_REPLY})
            return response.json(collector.messages)

        return webhook
