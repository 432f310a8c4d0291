"""The widget protocol's rules, without the web framework: sessions, auth, messages, pushes.

``bot/channels/widget.py`` turns HTTP requests into calls here and the results into responses;
keeping the rules here lets the unit tests check every refusal without a server. Every refusal
is an :class:`~bot.channels.inbound.InboundError` with the status and a reason for the client.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.channels.inbound import (
    InboundError,
    WidgetInbound,
    parse_json_object,
    parse_widget_message,
)
from bot.channels.widget_auth import (
    MISSING_TOKEN,
    ConversationTokens,
    bearer_token,
    is_conversation_id,
    new_conversation_id,
    secret_matches,
)
from bot.channels.widget_stream import Ephemeral, StreamHub
from bot.storage.event_log import Appended, EventLog, StoredEvent

logger = logging.getLogger(__name__)

OTHER_CONVERSATION = "This token does not belong to the conversation named in the request."
_STREAM_ID_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
MAX_PUSH_TOKENS = 500
MAX_TOKEN_CHARS = 8000
BUTTON_LOOKBACK = 20  # a payload must be a button of one of the latest bot messages
FEEDBACK_LOOKBACK = 500
FEEDBACK_VALUES = ("up", "down")


@dataclass(frozen=True)
class Session:
    """What ``POST /session`` answers."""

    conversation: str
    expires_at: str
    last_seq: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON body."""
        return {
            "conversation": self.conversation,
            "expires_at": self.expires_at,
            "last_seq": self.last_seq,
        }


@dataclass(frozen=True)
class Accepted:
    """A stored shopper message: its seq, and whether it was a retry of a stored one."""

    message: WidgetInbound
    seq: int
    duplicate: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON body (202 for new, 200 for a duplicate)."""
        return {"client_id": self.message.client_id, "seq": self.seq, "duplicate": self.duplicate}


@dataclass(frozen=True)
class Feedback:
    """A shopper's thumbs up/down on one bot message."""

    message_id: str
    value: str
    seq: int
    text: str = ""  # the rated message's text: how the console finds it in the tracker


class WidgetService:
    """Sessions, authentication, stored messages and token pushes of the widget protocol.

    Args:
        tokens: Issues and verifies conversation tokens.
        log: The event log (synchronous; called in worker threads).
        hub: This process's stream hub.
        stream_secret: Bearer secret of the internal token push (empty disables the route).
        max_message_chars: Longest typed message accepted.
    """

    def __init__(
        self,
        tokens: ConversationTokens,
        log: EventLog,
        hub: StreamHub,
        stream_secret: str,
        max_message_chars: int,
    ) -> None:
        self.tokens = tokens
        self.log = log
        self.hub = hub
        self.stream_secret = stream_secret
        self.max_message_chars = max_message_chars

    # ------------------------------------------------------------------------------ sessions

    async def session(self, body: bytes) -> Session:
        """Start a conversation (``{}``) or refresh the token of one (``{"conversation": t}``).

        Raises:
            InboundError: 400 for a malformed body, 401 for a forged or expired token.
        """
        data = parse_json_object(body, '{} or {"conversation": "<token>"}') if body.strip() else {}
        token = data.get("conversation")
        if token is None:
            conversation_id = new_conversation_id()
            await asyncio.to_thread(self.log.ensure_conversation, conversation_id)
            last_seq = 0
            logger.info("Widget conversation %s started", conversation_id)
        elif isinstance(token, str):
            conversation_id = self.tokens.verify(token)
            last_seq = await asyncio.to_thread(self.log.last_seq, conversation_id)
        else:
            raise InboundError(
                400, "'conversation' must be the token string from an earlier session."
            )
        issued = self.tokens.issue(conversation_id)
        return Session(issued.token, issued.expires_at_iso, last_seq)

    def authenticate(self, authorization: str | None, query_token: str | None = None) -> str:
        """The conversation id of the request's bearer token (or ``?token=`` for the stream).

        Raises:
            InboundError: 401 when the token is missing, forged or expired.
        """
        token = bearer_token(authorization) or (query_token or None)
        if not token:
            raise InboundError(401, MISSING_TOKEN)
        return self.tokens.verify(token)

    def check_same_conversation(self, conversation_id: str, named: str | None) -> None:
        """Refuse (403) a request whose body names another conversation than its token's."""
        if named is None:
            return
        if is_conversation_id(named):
            other = named
        else:
            try:
                other = self.tokens.verify(named)
            except InboundError:
                other = ""
        if other != conversation_id:
            raise InboundError(403, OTHER_CONVERSATION)

    # ------------------------------------------------------------------------------ messages

    async def accept_message(
        self,
        conversation_id: str,
        body: bytes,
        on_receipt: Callable[[], None] | None = None,
    ) -> Accepted:
        """Validate and store a shopper message; a known ``client_id`` is not stored again.

        Args:
            conversation_id: The authenticated conversation.
            body: The request body.
            on_receipt: Called as soon as the message is valid and not a known retry (before it
                is stored), to show the typing indicator without waiting for the database.

        Raises:
            InboundError: 400/413 for malformed bodies, 403 when the body names another
                conversation, 400 for a payload that was never offered as a button.
        """
        message = parse_widget_message(body, self.max_message_chars)
        self.check_same_conversation(conversation_id, message.conversation)
        known = await asyncio.to_thread(
            self.log.seq_of_client_id, conversation_id, message.client_id
        )
        if known is not None:
            return Accepted(message, known, duplicate=True)
        if on_receipt is not None:
            on_receipt()
        if message.is_payload:
            await self._check_offered(conversation_id, message.text)
        event = {"client_id": message.client_id, "text": message.shown}
        appended: Appended = await asyncio.to_thread(
            self.log.append, conversation_id, "user", event, message.client_id
        )
        if not appended.duplicate:
            self.hub.notify(conversation_id)
        return Accepted(message, appended.seq, appended.duplicate)

    async def _check_offered(self, conversation_id: str, payload: str) -> None:
        recent = await asyncio.to_thread(
            self.log.recent, conversation_id, ("bot",), BUTTON_LOOKBACK
        )
        offered = {
            button.get("payload")
            for event in recent
            for button in event.payload.get("buttons") or []
            if isinstance(button, dict)
        }
        if payload not in offered:
            raise InboundError(
                400,
                "'payload' is not one of the buttons this conversation was offered; "
                "send what the shopper typed as 'text' instead.",
            )

    async def store(self, conversation_id: str, kind: str, payload: dict[str, Any]) -> int:
        """Store a bot/agent/handoff event and wake this process's streams; return its seq.

        Raises:
            ValueError: When ``conversation_id`` is not a widget conversation id.
        """
        if not is_conversation_id(conversation_id):
            raise ValueError(
                f"conversation_id must be a widget conversation id (32 hex digits). Currently, "
                f"it is {conversation_id[:40]!r}."
            )
        appended = await asyncio.to_thread(self.log.append, conversation_id, kind, payload)
        self.hub.notify(conversation_id)
        return appended.seq

    def typing(self, conversation_id: str, on: bool) -> None:
        """Show or hide the typing indicator on the conversation's open streams."""
        self.hub.publish(conversation_id, Ephemeral("typing", {"on": on}))

    async def read_after(self, conversation_id: str, after: int) -> list[StoredEvent]:
        """Stored events after ``after`` (for the stream)."""
        return await asyncio.to_thread(self.log.read_after, conversation_id, after)

    @staticmethod
    def resume_position(after: str | None, last_event_id: str | None) -> int:
        """The seq a stream starts after: ``?after=`` or ``Last-Event-ID``, whichever is later.

        Raises:
            InboundError: 400 when either is not a non-negative integer.
        """
        position = 0
        for name, raw in (("after", after), ("Last-Event-ID", last_event_id)):
            if raw is None or raw == "":
                continue
            if not raw.isdigit() or len(raw) > 12:
                raise InboundError(
                    400,
                    f"'{name}' must be the last seq you received (an integer ≥ 0); got {raw[:20]!r}.",
                )
            position = max(position, int(raw))
        return position

    # ------------------------------------------------------------------------------ feedback

    async def check_feedback(self, conversation_id: str, body: bytes) -> Feedback:
        """Validate ``{"message_id": ..., "value": "up"|"down"}`` against the conversation.

        Raises:
            InboundError: 400 for a malformed body, 403 for another conversation, 404 when the
                conversation has no bot message with that id.
        """
        data = parse_json_object(body, '{"message_id": "...", "value": "up"}')
        named = data.get("conversation")
        self.check_same_conversation(conversation_id, named if isinstance(named, str) else None)
        message_id = data.get("message_id")
        value = data.get("value")
        if not isinstance(message_id, str) or not 1 <= len(message_id) <= 64:
            raise InboundError(400, "'message_id' must be the message_id of a bot event.")
        if value not in FEEDBACK_VALUES:
            raise InboundError(400, f"'value' must be 'up' or 'down'; got {str(value)[:20]!r}.")
        recent = await asyncio.to_thread(
            self.log.recent, conversation_id, ("bot",), FEEDBACK_LOOKBACK
        )
        for event in recent:
            if event.payload.get("message_id") == message_id:
                text = event.payload.get("text")
                return Feedback(
                    message_id, str(value), event.seq, text if isinstance(text, str) else ""
                )
        raise InboundError(404, "This conversation has no bot message with that message_id.")

    # ------------------------------------------------------------------------------ token push

    def push_tokens(self, authorization: str | None, body: bytes) -> int:
        """Publish the action server's token batch to the conversation's open streams.

        Body: ``{"conversation": "<id>", "stream_id": "...", "tokens": [{"index": 0,
        "text": "...", "replace": false}]}``. Returns how many open streams got it.

        Raises:
            InboundError: 401 without the stream secret, 403 for a shopper's token (or when the
                route is disabled), 400 for a malformed batch.
        """
        presented = bearer_token(authorization)
        if not self.stream_secret:
            raise InboundError(403, "The internal stream route is disabled (no stream_secret).")
        if not secret_matches(presented, self.stream_secret):
            if presented:
                try:
                    self.tokens.verify(presented)
                except InboundError:
                    pass
                else:
                    raise InboundError(403, "A conversation token cannot push to the stream.")
            raise InboundError(401, "The internal stream route needs the server's stream secret.")
        data = parse_json_object(body, '{"conversation": "...", "stream_id": "...", "tokens": []}')
        conversation_id = data.get("conversation")
        stream_id = data.get("stream_id")
        tokens = data.get("tokens")
        if not isinstance(conversation_id, str) or not is_conversation_id(conversation_id):
            raise InboundError(400, "'conversation' must be a widget conversation id.")
        if not isinstance(stream_id, str) or not _STREAM_ID_RE.match(stream_id):
            raise InboundError(400, "'stream_id' must be 1-64 letters, digits, _ or -.")
        if not isinstance(tokens, list) or len(tokens) > MAX_PUSH_TOKENS:
            raise InboundError(400, f"'tokens' must be a list of at most {MAX_PUSH_TOKENS} items.")
        events = []
        for token in tokens:
            if (
                not isinstance(token, dict)
                or not isinstance(token.get("index"), int)
                or not isinstance(token.get("text"), str)
                or len(token["text"]) > MAX_TOKEN_CHARS
            ):
                raise InboundError(400, 'Each token must be {"index": int, "text": str}.')
            data_out: dict[str, Any] = {
                "stream_id": stream_id,
                "index": token["index"],
                "text": token["text"],
            }
            if token.get("replace") is True:
                data_out["replace"] = True
            events.append(Ephemeral("token", data_out))
        delivered = 0
        for event in events:
            delivered = self.hub.publish(conversation_id, event)
        return delivered
