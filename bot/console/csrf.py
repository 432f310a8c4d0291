"""CSRF protection of the console's state-changing requests.

Signed in: the synchroniser token pattern — each session holds a random token (``secrets``),
every form carries it in ``csrf_token`` and every script sends it in ``X-CSRF-Token``.
Before sign-in (the sign-in form itself, against login CSRF): a signed double submit — a random
nonce in an HttpOnly cookie and the same nonce signed with itsdangerous in the form. Both compare
in constant time (``hmac.compare_digest``). A cross-site ``Origin`` is refused as well.
"""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
SIGNIN_NONCE_COOKIE = "shopbot_console_signin"
SIGNIN_TOKEN_MAX_AGE_S = 3600


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two tokens; missing or empty never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


async def submitted_token(request: Request) -> str | None:
    """The CSRF token a request carries: the ``X-CSRF-Token`` header or the form field."""
    header = request.headers.get(HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another origin (``Origin`` header)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not sent by every client; the token check still applies
    own = f"{request.url.scheme}://{request.url.netloc}"
    return origin == own


class SigninTokens:
    """Signed double-submit tokens of the sign-in form (itsdangerous, salted, time-limited).

    Args:
        secret: The console's signing key (``Settings.ensure_console_secret()``).
    """

    def __init__(self, secret: str) -> None:
        if len(secret) < 32:
            raise ValueError(
                f"the console secret must have at least 32 characters. Currently, it has "
                f"{len(secret)}; set SHOPBOT_CONSOLE_SECRET or let ShopBot generate one."
            )
        self._serializer = URLSafeTimedSerializer(secret, salt="shopbot-console-signin")

    @staticmethod
    def new_nonce() -> str:
        """A fresh random nonce for the sign-in cookie."""
        return secrets.token_urlsafe(32)

    def sign(self, nonce: str) -> str:
        """The form token for ``nonce``."""
        return str(self._serializer.dumps(nonce))

    def verify(self, nonce: str | None, token: str | None) -> bool:
        """Whether ``token`` is a fresh, valid signature of the cookie's ``nonce``."""
        if not nonce or not token:
            return False
        try:
            signed = self._serializer.loads(token, max_age=SIGNIN_TOKEN_MAX_AGE_S)
        except BadSignature:  # includes SignatureExpired
            return False
        return isinstance(signed, str) and tokens_match(signed, nonce)
