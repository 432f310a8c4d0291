import json

import pytest

from bot.channels.inbound import InboundError, neutralize_commands, normalize_text, parse_rest_body


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_valid_message_is_normalised() -> None:
    msg = parse_rest_body(body(sender="a", message="  where is\tmy\u200b order\x00 "))
    assert msg.sender == "a"
    assert msg.text == "where is my order"


def test_whitespace_only_message_becomes_empty_text() -> None:
    assert parse_rest_body(body(sender="a", message=" \n\t ")).text == ""


@pytest.mark.parametrize(
    ("raw", "status", "fragment"),
    [
        (b"", 400, "body is empty"),
        (b"{not json", 400, "not valid JSON"),
        (b'{"sender": "a", "message": "caf\xe9"}', 400, "not valid UTF-8"),
        (b"[1, 2]", 400, "must be an object"),
        (b'{"message": "hi"}', 400, "'sender'"),
        (b'{"sender": "a b", "message": "hi"}', 400, "'sender'"),
        (b'{"sender": "a"}', 400, "'message' must be a string; got nothing"),
        (b'{"sender": "a", "message": 42}', 400, "got a int"),
        (b'{"sender": "a", "message": "hi", "metadata": [1]}', 400, "'metadata'"),
        # Hostile bodies that json.loads alone raised ValueError/RecursionError for (a 500).
        (b'{"sender": "a", "message": "hi", "n": ' + b"1" * 5000 + b"}", 400, "digits"),
        (b'{"sender": "a", "metadata": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", 400, "deep"),
        (b'{"sender": "a", "message": "\\ud800"}', 400, "lone surrogate"),
        (b'{"sender": "a", "message": "' + b"x" * 2_000_000 + b'"}', 413, "bytes"),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_malformed_bodies_are_refused_with_a_reason(raw: bytes, status: int, fragment: str) -> None:
    with pytest.raises(InboundError) as info:
        parse_rest_body(raw)
    assert info.value.status == status
    assert fragment in info.value.reason


def test_too_long_message_is_413_and_names_the_limit() -> None:
    with pytest.raises(InboundError) as info:
        parse_rest_body(body(sender="a", message="x" * 100_000), max_message_chars=2000)
    assert info.value.status == 413
    assert "100000" in info.value.reason
    assert "2000" in info.value.reason


def test_normalize_text_keeps_unicode_letters() -> None:
    assert normalize_text("Cafe\u0301  über") == "Café über"


@pytest.mark.parametrize(
    "typed", ["/restart", "/session_start", '/inform{"email": "a@b.c"}', "  /greet", "//x"]
)
def test_typed_commands_never_reach_rasa_as_commands(typed: str) -> None:
    text = parse_rest_body(body(sender="a", message=typed)).text
    assert not text.startswith("/")
    assert text == neutralize_commands(normalize_text(typed))
    assert text[1:] == typed.strip()[1:]  # only the slash changed


def test_rest_buttons_send_their_payload_in_a_field_of_their_own() -> None:
    msg = parse_rest_body(body(sender="a", payload='/inform{"order_number": "104233"}'))
    assert msg.text == '/inform{"order_number": "104233"}'
    with pytest.raises(InboundError, match="'payload' must look like"):
        parse_rest_body(body(sender="a", payload="restart"))


def test_ordinary_text_is_unchanged() -> None:
    assert neutralize_commands("where is my order / parcel?") == "where is my order / parcel?"
