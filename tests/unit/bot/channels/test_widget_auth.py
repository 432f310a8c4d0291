"""Conversation tokens: signed, expiring, bound to one conversation; bearer parsing."""

from __future__ import annotations

import jwt
import pytest

from bot.channels.inbound import InboundError
from bot.channels.widget_auth import (
    ConversationTokens,
    bearer_token,
    is_conversation_id,
    new_conversation_id,
    secret_matches,
)

SECRET = "unit-widget-secret-0123456789abcdef0123"


def test_a_new_conversation_id_is_128_random_bits() -> None:
    ids = {new_conversation_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 32 and is_conversation_id(i) for i in ids)
    assert not is_conversation_id("not-an-id") and not is_conversation_id("g" * 32)


def test_issued_token_verifies_to_its_conversation() -> None:
    tokens = ConversationTokens(SECRET, ttl_seconds=60, clock=lambda: 1_800_000_000)
    conversation = new_conversation_id()
    issued = tokens.issue(conversation)
    assert tokens.verify(issued.token) == conversation
    assert issued.expires_at_iso == "2027-01-15T08:01:00Z"


def test_expired_token_is_refused_with_401() -> None:
    now = [1_800_000_000.0]
    tokens = ConversationTokens(SECRET, ttl_seconds=60, clock=lambda: now[0])
    issued = tokens.issue(new_conversation_id())
    now[0] += 61
    with pytest.raises(InboundError) as info:
        tokens.verify(issued.token)
    assert info.value.status == 401 and "expired" in info.value.reason


@pytest.mark.parametrize(
    "forge",
    [
        # signed with another key
        lambda cid: jwt.encode({"sub": cid, "aud": "shopbot-widget", "exp": 4e9}, "x" * 40),
        # no signature at all
        lambda cid: jwt.encode({"sub": cid, "aud": "shopbot-widget", "exp": 4e9}, None, "none"),
        # right key, wrong audience (e.g. a customer token signed with the same secret)
        lambda cid: jwt.encode({"sub": cid, "aud": "store", "exp": 4e9}, SECRET),
        # right key, no expiry
        lambda cid: jwt.encode({"sub": cid, "aud": "shopbot-widget"}, SECRET),
        # right key, a subject that is not a conversation id
        lambda cid: jwt.encode({"sub": "admin", "aud": "shopbot-widget", "exp": 4e9}, SECRET),
        lambda cid: "garbage",
        lambda cid: cid,  # the bare id is not a token
    ],
)
def test_forged_tokens_are_refused_with_401_revealing_nothing(forge: object) -> None:
    tokens = ConversationTokens(SECRET, ttl_seconds=60)
    conversation = new_conversation_id()
    with pytest.raises(InboundError) as info:
        tokens.verify(forge(conversation))  # type: ignore[operator]
    assert info.value.status == 401
    assert conversation not in info.value.reason


def test_tampered_payload_is_refused() -> None:
    tokens = ConversationTokens(SECRET, ttl_seconds=60)
    header, _payload, signature = tokens.issue(new_conversation_id()).token.split(".")
    other = jwt.encode(
        {"sub": new_conversation_id(), "aud": "shopbot-widget", "exp": 4e9}, "k" * 40
    )
    with pytest.raises(InboundError):
        tokens.verify(f"{header}.{other.split('.')[1]}.{signature}")


def test_short_secrets_are_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="SHOPBOT_WIDGET_SECRET"):
        ConversationTokens("short", ttl_seconds=60)
    with pytest.raises(ValueError, match="ttl_seconds"):
        ConversationTokens(SECRET, ttl_seconds=0)


def test_bearer_header_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None


def test_secret_comparison() -> None:
    assert secret_matches("s" * 40, "s" * 40)
    assert not secret_matches("s" * 39, "s" * 40)
    assert not secret_matches(None, "s")
    assert not secret_matches("s", "")
