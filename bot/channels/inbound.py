"""Validation and normalisation of what a channel receives, before it reaches Rasa.

Pure functions, no Rasa or Sanic imports: every channel (REST, widget, Telegram) uses the same
rules, and the rules are unit-tested on their own.

Text a shopper types is never read by Rasa as a command or an intent payload: Rasa treats any text
starting with ``/`` as ``/intent{"entity": ...}`` (``/restart`` restarts the conversation,
``/inform{"email": ...}`` sets slots), so :func:`neutralize_commands` turns a leading ``/`` into a
look-alike character. Only a button's ``payload`` field, checked by :func:`check_payload`, sends
an intent.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from core.json_body import JsonBodyError, load_json_body

DEFAULT_MAX_MESSAGE_CHARS = 2000
MAX_SENDER_CHARS = 128
MAX_METADATA_BYTES = 16_384
# Control characters except tab and newline; they carry no meaning for the bot and break logs.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_SENDER_RE = re.compile(r"^[A-Za-z0-9_.:@+\-]{1,128}$")
# What Rasa reads as an intent payload: ``/intent_name`` with optional ``{...}`` entities.
_PAYLOAD_RE = re.compile(r"^/[A-Za-z0-9_\-]{1,100}(\{.*\})?$", re.DOTALL)
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")
MAX_PAYLOAD_CHARS = 1000
MAX_TITLE_CHARS = 200
MAX_CUSTOMER_TOKEN_CHARS = 4096
COMMAND_PREFIX = "/"
# U+2215 DIVISION SLASH: looks like "/" in a transcript, but Rasa does not parse it as a command.
NEUTRAL_SLASH = "\u2215"


@dataclass(frozen=True)
class InboundMessage:
    """A validated message: who sent it, the normalised text, and channel metadata."""

    sender: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


class InboundError(ValueError):
    """A request the channel refuses, with the HTTP status and a reason meant for the client."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def normalize_text(text: str) -> str:
    """Return ``text`` NFC-normalised, without control characters, with whitespace runs collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL_RE.sub(" ", text)
    return " ".join(text.split())


def neutralize_commands(text: str) -> str:
    """Return typed ``text`` that Rasa will not parse as a command or intent payload.

    A leading ``/`` (``/restart``, ``/inform{...}``) becomes U+2215, which reads the same in a
    transcript; everything else is unchanged.
    """
    stripped = text.lstrip()
    if stripped.startswith(COMMAND_PREFIX):
        return NEUTRAL_SLASH + stripped[1:]
    return text


def check_payload(payload: object) -> str:
    """Validate a button payload (``/intent`` or ``/intent{"entity": "value"}``).

    Raises:
        InboundError: 400 when it is not a string in that form, 413 when it is too long.
    """
    if not isinstance(payload, str):
        raise InboundError(400, f"'payload' must be a string; got {_describe(payload)}.")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise InboundError(413, f"'payload' is longer than {MAX_PAYLOAD_CHARS} characters.")
    match = _PAYLOAD_RE.match(payload)
    if not match:
        raise InboundError(
            400, f"'payload' must look like /intent or /intent{{...}}; got {_describe(payload)}."
        )
    if match.group(1):
        try:
            entities = load_json_body(match.group(1))
        except JsonBodyError:
            entities = None
        if not isinstance(entities, dict):
            raise InboundError(400, "The entities of 'payload' must be a JSON object.")
    return payload


@dataclass(frozen=True)
class WidgetInbound:
    """A validated widget message: typed ``text``, or a button's ``payload`` with its ``title``.

    Args:
        client_id: The widget's id of the message (retries carry the same id).
        text: What Rasa receives: neutralised typed text, or the button payload.
        shown: What the transcript shows: the typed text, or the button's title.
        is_payload: True for a button press.
        customer_token: The store's signed token of a signed-in shopper, if sent.
        conversation: A conversation named in the body (must be the token's own).
    """

    client_id: str
    text: str
    shown: str
    is_payload: bool = False
    customer_token: str | None = None
    conversation: str | None = None


def parse_json_object(body: bytes, example: str) -> dict[str, Any]:
    """Decode a request body that must be a JSON object (the reasons name ``example``).

    Hostile bodies (a 5,000-digit number, 10,000-deep nesting, a lone surrogate, over
    ``DEFAULT_MAX_BODY_BYTES``) are refused like malformed ones: ``core.json_body``.

    Raises:
        InboundError: 400 for an empty, undecodable, hostile or non-object body; 413 for a body
            over the size limit.
    """
    try:
        payload = load_json_body(body, example)
    except JsonBodyError as exc:
        raise InboundError(exc.status, exc.reason) from None
    if not isinstance(payload, dict):
        raise InboundError(400, f"The JSON body must be an object, not {type(payload).__name__}.")
    return payload


def parse_widget_message(
    body: bytes, max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
) -> WidgetInbound:
    """Parse and validate a widget message body.

    ``{"client_id": "<uuid4>", "text": "..."}``, or for a quick-reply button
    ``{"client_id": ..., "payload": "/intent{...}", "title": "Button title"}``; either may add
    ``customer_token``.

    Raises:
        InboundError: 400 for malformed bodies or an empty message, 413 for over-long ones.
    """
    data = parse_json_object(body, '{"client_id": "<uuid4>", "text": "hi"}')
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not _CLIENT_ID_RE.match(client_id):
        raise InboundError(
            400,
            "'client_id' must be 8-64 characters of letters, digits, _ and - (a UUID4); "
            f"got {_describe(client_id)}.",
        )
    token = data.get("customer_token")
    if token is not None and (
        not isinstance(token, str) or not token or len(token) > MAX_CUSTOMER_TOKEN_CHARS
    ):
        raise InboundError(
            400,
            f"'customer_token' must be a non-empty string of at most {MAX_CUSTOMER_TOKEN_CHARS} "
            f"characters; got {_describe(token)}.",
        )
    conversation = data.get("conversation")
    if conversation is not None and not isinstance(conversation, str):
        raise InboundError(400, f"'conversation' must be a string; got {_describe(conversation)}.")
    if "payload" in data:
        if "text" in data:
            raise InboundError(400, "Send either 'text' (typed) or 'payload' (a button), not both.")
        payload = check_payload(data["payload"])
        title = data.get("title", "")
        if not isinstance(title, str) or len(title) > MAX_TITLE_CHARS:
            raise InboundError(
                400,
                f"'title' must be a string of at most {MAX_TITLE_CHARS} characters; "
                f"got {_describe(title)}.",
            )
        return WidgetInbound(
            client_id, payload, normalize_text(title) or payload, True, token, conversation
        )
    text = _bounded_text(data.get("text"), "text", max_message_chars)
    shown = normalize_text(text)
    if not shown:
        raise InboundError(400, "'text' is empty; type a message.")
    return WidgetInbound(client_id, neutralize_commands(shown), shown, False, token, conversation)


def parse_rest_body(
    body: bytes, max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
) -> InboundMessage:
    """Parse and validate a REST webhook body ``{"sender": ..., "message": ..., "metadata": {...}}``.

    ``message`` is typed text (a leading ``/`` is neutralised); a button press sends
    ``"payload": "/intent{...}"`` instead of ``message``.

    The content type is not trusted either way: ``curl -d`` sends JSON as form-encoded, so the body
    is parsed as JSON whatever the header says, and refused with a reason when it is not.

    Args:
        body: The raw request body.
        max_message_chars: The longest message accepted, in characters.

    Returns:
        The validated message. An empty ``text`` means the shopper sent only whitespace.

    Raises:
        InboundError: 400 for undecodable or malformed bodies, 413 for over-long messages.
    """
    payload = parse_json_object(body, '{"sender": "id", "message": "hi"}')
    sender = payload.get("sender")
    if not isinstance(sender, str) or not _SENDER_RE.match(sender):
        raise InboundError(
            400,
            f"'sender' must be 1-{MAX_SENDER_CHARS} characters of letters, digits and _.:@+-; "
            f"got {_describe(sender)}.",
        )
    if "payload" in payload and "message" not in payload:
        intent_payload = check_payload(payload["payload"])
    else:
        intent_payload = None
    message = _bounded_text(
        intent_payload if intent_payload is not None else payload.get("message"),
        "message",
        max_message_chars,
    )
    metadata = payload.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InboundError(400, f"'metadata' must be a JSON object; got {_describe(metadata)}.")
    if len(json.dumps(metadata)) > MAX_METADATA_BYTES:
        raise InboundError(413, f"'metadata' is larger than {MAX_METADATA_BYTES} bytes.")
    text = (
        intent_payload
        if intent_payload is not None
        else neutralize_commands(normalize_text(message))
    )
    return InboundMessage(sender=sender, text=text, metadata=metadata)


def _bounded_text(value: object, field: str, max_message_chars: int) -> str:
    """``value`` when it is a string of at most ``max_message_chars``; else a 400 or 413."""
    if not isinstance(value, str):
        raise InboundError(400, f"'{field}' must be a string; got {_describe(value)}.")
    if len(value) > max_message_chars:
        raise InboundError(
            413,
            f"'{field}' is {len(value)} characters long; the limit is {max_message_chars}. "
            "Send a shorter message.",
        )
    return value


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f"{shown!r} ({len(value)} characters)"
    return f"a {type(value).__name__}"
