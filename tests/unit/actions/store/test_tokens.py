"""Signed customer tokens: valid ones name the customer; tampered, expired or foreign ones do not."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import warnings

import jwt
import pytest

from actions.store.tokens import (
    TOKEN_AUDIENCE,
    TOKEN_ISSUER,
    sign_customer_token,
    verify_customer_token,
)

NOW = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.timezone.utc)
SECRET = "a-test-secret-long-enough-for-hs512-which-wants-64-bytes-or-more!"
EXP = int((NOW + dt.timedelta(hours=12)).timestamp())
CLAIMS = {"sub": "42", "exp": EXP, "iss": TOKEN_ISSUER, "aud": TOKEN_AUDIENCE}


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_round_trip_is_a_standard_hs256_jwt() -> None:
    token = sign_customer_token(42, SECRET, now=NOW)
    assert verify_customer_token(token, SECRET, now=NOW) == 42
    assert verify_customer_token(token, SECRET, now=NOW + dt.timedelta(hours=11)) == 42
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert jwt.decode(token, options={"verify_signature": False}) == CLAIMS


def test_a_token_signed_by_any_jwt_library_with_the_same_claims_is_accepted() -> None:
    token = jwt.encode({**CLAIMS, "iat": int(NOW.timestamp())}, SECRET, algorithm="HS256")
    assert verify_customer_token(token, SECRET, now=NOW) == 42


def test_without_now_the_real_clock_decides() -> None:
    fresh = sign_customer_token(7, SECRET)
    assert verify_customer_token(fresh, SECRET) == 7
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    assert verify_customer_token(sign_customer_token(7, SECRET, expires_at=past), SECRET) is None


def _forged(claims: dict) -> str:
    header, _, signature = sign_customer_token(42, SECRET, now=NOW).split(".")
    return f"{header}.{_b64(claims)}.{signature}"


@pytest.mark.parametrize(
    "token",
    [
        _forged({**CLAIMS, "sub": "43"}),  # another customer, old signature
        sign_customer_token(42, SECRET, now=NOW)[:-2] + "AA",  # another signature
        jwt.encode(CLAIMS, SECRET, algorithm="HS512"),  # algorithm not pinned
        f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(CLAIMS)}.",  # unsigned
        jwt.encode({**CLAIMS, "aud": "someone-else"}, SECRET, algorithm="HS256"),
        jwt.encode({**CLAIMS, "iss": "someone-else"}, SECRET, algorithm="HS256"),
        jwt.encode({k: v for k, v in CLAIMS.items() if k != "exp"}, SECRET, algorithm="HS256"),
        jwt.encode({k: v for k, v in CLAIMS.items() if k != "aud"}, SECRET, algorithm="HS256"),
        jwt.encode({**CLAIMS, "sub": "0"}, SECRET, algorithm="HS256"),
        jwt.encode({**CLAIMS, "sub": "alice"}, SECRET, algorithm="HS256"),
        jwt.encode({**CLAIMS, "exp": str(EXP)}, SECRET, algorithm="HS256"),
        "v1.42.1768564800.c2lnbmF0dXJl",  # the retired hand-signed format
        "",
        42,
        None,
        sign_customer_token(42, SECRET, now=NOW) + "." * 2000,
    ],
)
def test_tampered_and_malformed_tokens_are_rejected(token: object) -> None:
    assert verify_customer_token(token, SECRET, now=NOW) is None


def test_expired_and_foreign_tokens_are_rejected(caplog: pytest.LogCaptureFixture) -> None:
    token = sign_customer_token(42, SECRET, now=NOW)
    with caplog.at_level(logging.INFO, logger="actions.store.tokens"):
        assert verify_customer_token(token, SECRET, now=NOW + dt.timedelta(hours=13)) is None
    assert "expired" in caplog.text
    # Expired from the exp second on, as PyJWT decides with leeway 0.
    assert verify_customer_token(token, SECRET, now=NOW + dt.timedelta(hours=12)) is None
    assert verify_customer_token(token, "another-secret-of-at-least-32-bytes!", now=NOW) is None
    assert verify_customer_token(token, "", now=NOW) is None


def test_explicit_expiry_and_naive_datetimes_are_utc() -> None:
    token = sign_customer_token(5, SECRET, expires_at=dt.datetime(2026, 1, 15, 13, 0))
    assert verify_customer_token(token, SECRET, now=dt.datetime(2026, 1, 15, 12, 59)) == 5
    assert verify_customer_token(token, SECRET, now=dt.datetime(2026, 1, 15, 13, 0)) is None


def test_signing_needs_a_secret_and_a_customer() -> None:
    with pytest.raises(ValueError, match="SHOPBOT_CUSTOMER_TOKEN_SECRET"):
        sign_customer_token(42, "")
    for bad in (0, -3, "42", True):
        with pytest.raises(ValueError, match="customer_id must be a positive integer"):
            sign_customer_token(bad, SECRET)  # type: ignore[arg-type]


def test_a_short_secret_still_works_but_pyjwt_warns() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        token = sign_customer_token(42, "s3cret", now=NOW)
    assert any(issubclass(w.category, jwt.InsecureKeyLengthWarning) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        assert verify_customer_token(token, "s3cret", now=NOW) == 42
