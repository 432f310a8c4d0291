"""Signed customer tokens: valid ones name the customer; tampered, expired or foreign ones do not."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.store.tokens import sign_customer_token, verify_customer_token

NOW = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.timezone.utc)


def test_round_trip() -> None:
    token = sign_customer_token(42, "s3cret", now=NOW)
    assert verify_customer_token(token, "s3cret", now=NOW) == 42
    assert verify_customer_token(token, "s3cret", now=NOW + dt.timedelta(hours=11)) == 42


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.replace("v1.42.", "v1.43.", 1),  # another customer id
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # another signature
        lambda t: t.split(".", 1)[1],  # no version
        lambda t: "",
        lambda t: 42,
        lambda t: t + "." * 300,
    ],
)
def test_tampered_tokens_are_rejected(mutate) -> None:
    token = sign_customer_token(42, "s3cret", now=NOW)
    assert verify_customer_token(mutate(token), "s3cret", now=NOW) is None


def test_expired_and_foreign_tokens_are_rejected() -> None:
    token = sign_customer_token(42, "s3cret", now=NOW)
    assert verify_customer_token(token, "s3cret", now=NOW + dt.timedelta(hours=13)) is None
    assert verify_customer_token(token, "other", now=NOW) is None
    assert verify_customer_token(token, "", now=NOW) is None


def test_signing_needs_a_secret_and_a_customer() -> None:
    with pytest.raises(ValueError, match="SHOPBOT_CUSTOMER_TOKEN_SECRET"):
        sign_customer_token(42, "")
    with pytest.raises(ValueError, match="customer_id must be a positive integer"):
        sign_customer_token(0, "s3cret")
