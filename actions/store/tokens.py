"""Signed customer tokens: how the store's widget vouches for a signed-in shopper.

The store's web server (which knows who is signed in) issues a token for the customer id and
passes it with every chat message as ``metadata.customer_token``; the action server checks it with
the same secret (``SHOPBOT_CUSTOMER_TOKEN_SECRET``). With a valid token the shopper's own orders
need no email. Format: ``v1.<customer id>.<expiry, unix seconds>.<HMAC-SHA256, base64url>``, where
the HMAC covers ``v1.<customer id>.<expiry>``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_TTL", "sign_customer_token", "verify_customer_token"]

DEFAULT_TTL = dt.timedelta(hours=12)
_VERSION = "v1"


def _signature(payload: str, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


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

    Naive datetimes are taken as UTC.

    Raises:
        ValueError: If ``secret`` is empty or ``customer_id`` is not a positive integer.
    """
    if not secret:
        raise ValueError(
            "secret must not be empty; set SHOPBOT_CUSTOMER_TOKEN_SECRET to a long random string "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)."
        )
    if not isinstance(customer_id, int) or customer_id <= 0:
        raise ValueError(
            f"customer_id must be a positive integer. Currently, it is {customer_id!r}."
        )
    start = now or dt.datetime.now(dt.timezone.utc)
    payload = f"{_VERSION}.{customer_id}.{_unix(expires_at or start + DEFAULT_TTL)}"
    return f"{payload}.{_signature(payload, secret)}"


def verify_customer_token(token: object, secret: str, now: dt.datetime | None = None) -> int | None:
    """Return the customer id of a valid, unexpired ``token``; None for anything else.

    Never raises on bad input (a token comes from the outside); each rejection is logged.
    """
    if not secret or not isinstance(token, str) or len(token) > 200:
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _VERSION:
        logger.warning("Rejected a malformed customer token")
        return None
    version, customer, expires, signature = parts
    if not hmac.compare_digest(_signature(f"{version}.{customer}.{expires}", secret), signature):
        logger.warning("Rejected a customer token with a bad signature")
        return None
    if not (customer.isdigit() and expires.isdigit()):
        return None
    if int(expires) < _unix(now or dt.datetime.now(dt.timezone.utc)):
        logger.info("Rejected an expired customer token for customer %s", customer)
        return None
    return int(customer)
