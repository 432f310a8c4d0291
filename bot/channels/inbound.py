"""Validation and normalisation of what a channel receives, before it reaches Rasa.

Pure functions, no Rasa or Sanic imports: every channel (REST, widget, Telegram) uses the same
rules, and the rules are unit-tested on their own.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MAX_MESSAGE_CHARS = 2000
MAX_SENDER_CHARS = 128
MAX_METADATA_BYTES = 16_384
# Control characters except tab and newline; they carry no meaning for the bot and break logs.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_SENDER_RE = re.compile(r"^[A-Za-z0-9_.:@+\-]{1,128}$")


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


def parse_rest_body(
    body: bytes, max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
) -> InboundMessage:
    """Parse and validate a REST webhook body ``{"sender": ..., "message": ..., "metadata": {...}}``.

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
    if not body:
        raise InboundError(
            400, 'The request body is empty; send JSON like {"sender": "id", "message": "hi"}.'
        )
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InboundError(
            400, f"The request body is not valid UTF-8 (byte {exc.start}); send UTF-8 encoded JSON."
        ) from None
    try:
        payload = json.loads(decoded)
    except json.JSONDecodeError as exc:
        raise InboundError(
            400,
            f"The request body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            'send JSON like {"sender": "id", "message": "hi"}.',
        ) from None
    if not isinstance(payload, dict):
        raise InboundError(400, f"The JSON body must be an object, not {type(payload).__name__}.")
    sender = payload.get("sender")
    if not isinstance(sender, str) or not _SENDER_RE.match(sender):
        raise InboundError(
            400,
            f"'sender' must be 1-{MAX_SENDER_CHARS} characters of letters, digits and _.:@+-; "
            f"got {_describe(sender)}.",
        )
    message = payload.get("message")
    if not isinstance(message, str):
        raise InboundError(400, f"'message' must be a string; got {_describe(message)}.")
    if len(message) > max_message_chars:
        raise InboundError(
            413,
            f"'message' is {len(message)} characters long; the limit is {max_message_chars}. "
            "Send a shorter message.",
        )
    metadata = payload.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InboundError(400, f"'metadata' must be a JSON object; got {_describe(metadata)}.")
    if len(json.dumps(metadata)) > MAX_METADATA_BYTES:
        raise InboundError(413, f"'metadata' is larger than {MAX_METADATA_BYTES} bytes.")
    return InboundMessage(sender=sender, text=normalize_text(message), metadata=metadata)


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f"{shown!r} ({len(value)} characters)"
    return f"a {type(value).__name__}"
