"""Signed widget conversation tokens (PyJWT, HS256) and bearer-header parsing.

The server issues every conversation id (128 random bits) and signs it; a widget proves which
conversation it may read and continue by presenting that token. Forged, expired and other
conversations' tokens are refused with a reason that says nothing about the conversation.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from bot.channels.inbound import InboundError

AUDIENCE = "shopbot-widget"
ALGORITHM = "HS256"
MIN_SECRET_CHARS = 32  # HS256 wants a key at least as long as its hash (RFC 7518 §3.2)
_CONVERSATION_ID_CHARS = 32

MISSING_TOKEN = (
    "This call needs the conversation token: send 'Authorization: Bearer <token>' with the token "
    "from POST /webhooks/widget/session."
)
INVALID_TOKEN = (
    "The conversation token is not valid; start a new session (POST /webhooks/widget/session)."
)
EXPIRED_TOKEN = (
    "The conversation token has expired; start a new session (POST /webhooks/widget/session)."
)


@dataclass(frozen=True)
class IssuedToken:
    """A signed token for ``conversation_id``, valid until ``expires_at`` (UTC)."""

    conversation_id: str
    token: str
    expires_at: dt.datetime

    @property
    def expires_at_iso(self) -> str:
        """``expires_at`` as ISO 8601 with a ``Z``."""
        return self.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_conversation_id() -> str:
    """A fresh, unguessable conversation id (128 random bits, hex)."""
    return secrets.token_hex(16)


def is_conversation_id(value: str) -> bool:
    """True for a string shaped like :func:`new_conversation_id`'s output."""
    if len(value) != _CONVERSATION_ID_CHARS:
        return False
    try:
        int(value, 16)
    except ValueError:
        return False
    return True


class ConversationTokens:
    """Issues and verifies conversation tokens.

    Args:
        secret: The HMAC key (``Settings.widget_secret``), at least 32 characters.
        ttl_seconds: How long a token stays valid; the widget refreshes it on each session call.
        clock: Seconds since the epoch (tests pass a fixed clock).
    """

    def __init__(
        self, secret: str, ttl_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(
                f"widget_secret must be at least {MIN_SECRET_CHARS} characters. Currently, it has "
                f"{len(secret)}; set SHOPBOT_WIDGET_SECRET to a longer random string, or leave it "
                "unset to have one generated into var/widget_secret."
            )
        if ttl_seconds <= 0:
            raise ValueError(
                f"ttl_seconds must be greater than 0. Currently, ttl_seconds is {ttl_seconds}."
            )
        self._secret = secret
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def issue(self, conversation_id: str) -> IssuedToken:
        """Sign a token for ``conversation_id``, valid for ``ttl_seconds`` from now."""
        now = int(self._clock())
        expires = now + self.ttl_seconds
        token = jwt.encode(
            {"sub": conversation_id, "aud": AUDIENCE, "iat": now, "exp": expires},
            self._secret,
            algorithm=ALGORITHM,
        )
        return IssuedToken(
            conversation_id,
            token,
            dt.datetime.fromtimestamp(expires, dt.timezone.utc).replace(tzinfo=None),
        )

    def verify(self, token: str) -> str:
        """Return the conversation id of a valid token.

        Raises:
            InboundError: 401 for a forged, malformed or expired token.
        """
        try:
            # Expiry is checked below against our own clock (tests move it), not PyJWT's.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={
                    "require": ["sub", "exp", "aud"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            raise InboundError(401, INVALID_TOKEN) from None
        expires = claims.get("exp")
        if not isinstance(expires, int):
            raise InboundError(401, INVALID_TOKEN)
        if expires <= int(self._clock()):
            raise InboundError(401, EXPIRED_TOKEN)
        conversation_id = claims.get("sub")
        if not isinstance(conversation_id, str) or not is_conversation_id(conversation_id):
            raise InboundError(401, INVALID_TOKEN)
        return conversation_id


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (None when absent or malformed)."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def secret_matches(presented: str | None, secret: str) -> bool:
    """Constant-time comparison of a presented bearer secret with the configured one."""
    if not presented or not secret:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), secret.encode("utf-8"))
