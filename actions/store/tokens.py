"""Signed customer tokens: how the store's widget vouches for a signed-in shopper.

The store's web server (which knows who is signed in) issues a token for the customer id and
passes it with every chat message as ``metadata.customer_token``; the action server checks it with
the same secret (``SHOPBOT_CUSTOMER_TOKEN_SECRET``). With a valid token the shopper's own orders
need no email.

A token is a JSON Web Token signed with HS256 (PyJWT): ``sub`` is the customer id as a string,
``exp`` the expiry in unix seconds, ``iss`` is :data:`TOKEN_ISSUER` and ``aud``
:data:`TOKEN_AUDIENCE`. Verification pins the algorithm to HS256 (no ``none``, no algorithm taken
from the token's header), requires all four claims and allows no clock leeway, so any store
backend with a JWT library can issue tokens without Python.
"""

from __future__ import annotations

import datetime as dt
import logging

import jwt

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_TTL",
    "TOKEN_AUDIENCE",
    "TOKEN_ISSUER",
    "sign_customer_token",
    "verify_customer_token",
]

DEFAULT_TTL = dt.timedelta(hours=12)
TOKEN_ISSUER = "shopbot-store"
"""``iss`` of every customer token: the store's web server issues it."""
TOKEN_AUDIENCE = "shopbot"
"""``aud`` of every customer token: only the assistant accepts it."""

_ALGORITHMS = ["HS256"]
_REQUIRED_CLAIMS = ["sub", "exp", "iss", "aud"]
# A token comes from the outside: refuse to parse anything much longer than a real one (~200).
_MAX_TOKEN_CHARS = 1024


def _unix(moment: dt.datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return int(aware.timestamp())


def sign_customer_token(
    customer_id: int,
    secret: str,
    expires_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Return a token for ``customer_id`` valid until ``expires_at`` (default: 12 hours from now).

    Naive datetimes are taken as UTC. PyJWT warns (``InsecureKeyLengthWarning``) when ``secret``
    is shorter than 32 bytes; use a long random one.

    Raises:
        ValueError: If ``secret`` is empty or ``customer_id`` is not a positive integer.
    """
    if not secret:
        raise ValueError(
            "secret must not be empty; set SHOPBOT_CUSTOMER_TOKEN_SECRET to a long random string "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)."
        )
    if isinstance(customer_id, bool) or not isinstance(customer_id, int) or customer_id <= 0:
        raise ValueError(
            f"customer_id must be a positive integer. Currently, it is {customer_id!r}."
        )
    start = now or dt.datetime.now(dt.timezone.utc)
    claims = {
        "sub": str(customer_id),
        "exp": _unix(expires_at or start + DEFAULT_TTL),
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHMS[0])


def verify_customer_token(token: object, secret: str, now: dt.datetime | None = None) -> int | None:
    """Return the customer id of a valid, unexpired ``token``; None for anything else.

    A token is expired from its ``exp`` second on (PyJWT's rule, no leeway). ``now`` replaces the
    clock (tests, replays). Never raises on bad input (a token comes from the outside); each
    rejection is logged.
    """
    if not secret or not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_CHARS:
        return None
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=_ALGORITHMS,
            audience=TOKEN_AUDIENCE,
            issuer=TOKEN_ISSUER,
            leeway=0,
            # With an explicit ``now`` the expiry is checked below against it, not the clock.
            options={"require": _REQUIRED_CLAIMS, "verify_exp": now is None},
        )
    except jwt.ExpiredSignatureError:
        logger.info("Rejected an expired customer token")
        return None
    except jwt.InvalidSignatureError:
        logger.warning("Rejected a customer token with a bad signature")
        return None
    except jwt.InvalidTokenError as exc:
        logger.warning("Rejected a malformed customer token (%s)", exc)
        return None
    customer, expires = claims["sub"], claims["exp"]
    if not (
        isinstance(customer, str)
        and customer.isascii()
        and customer.isdigit()
        and int(customer) > 0
    ):
        logger.warning("Rejected a customer token whose sub %r is not a customer id", customer)
        return None
    if not isinstance(expires, int) or isinstance(expires, bool):
        logger.warning("Rejected a customer token whose exp %r is not unix seconds", expires)
        return None
    if now is not None and expires <= _unix(now):
        logger.info("Rejected an expired customer token for customer %s", customer)
        return None
    return int(customer)
