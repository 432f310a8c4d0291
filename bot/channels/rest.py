"""The REST channel (``/webhooks/rest/webhook``) with strict input validation.

Replaces Rasa's stock ``rest`` channel: same URL and reply format, but a malformed request gets a
4xx with a reason, an empty message gets a polite prompt, and a failure inside the assistant gets
an apology instead of an empty list. Every refusal is logged.
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

logger = logging.getLogger(__name__)

EMPTY_MESSAGE_REPLY = "It looks like your message was empty. What can I help you with?"
FAILURE_REPLY = (
    "Sorry, something went wrong on my side while handling that. Please try again in a moment, "
    "or ask for a human agent."
)


class ShopRestInput(InputChannel):
    """REST webhook for the store's own front ends and for testing with curl."""

    @classmethod
    def name(cls) -> str:
        """Return the channel name, which is also its URL segment."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel from its ``credentials.yml`` section."""
        credentials = credentials or {}
        return cls(
            max_message_chars=int(credentials.get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS))
        )

    def __init__(self, max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS) -> None:
        if max_message_chars <= 0:
            raise ValueError(
                f"max_message_chars must be greater than 0. Currently, max_message_chars is {max_message_chars}."
            )
        self.max_message_chars = max_message_chars

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Return the health and webhook routes."""
        webhook = Blueprint(f"shop_rest_{id(self)}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
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
                await on_new_message(
                    UserMessage(
                        inbound.text,
                        collector,
                        inbound.sender,
                        input_channel=self.name(),
                        metadata=inbound.metadata,
                    )
                )
            except Exception:
                logger.exception("Failed to handle a message from %s", inbound.sender)
                collector.messages.append({"recipient_id": inbound.sender, "text": FAILURE_REPLY})
            return response.json(collector.messages)

        return webhook
