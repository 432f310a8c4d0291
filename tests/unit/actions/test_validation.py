import pytest

from actions.validation import (
    emails_in,
    inside_an_email,
    normalize_email,
    normalize_order_number,
    order_numbers_in,
    shorten,
    value_in_message,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("104233", "104233"),
        ("#104233", "104233"),
        ("order 104233 please", "104233"),
        ("104 233", "104233"),
        (104233, "104233"),
        ("12345", None),
        ("1042331", None),
        ("104233 and 551203", None),
        ("abc", None),
        (None, None),
        (["104233"], None),
    ],
)
def test_normalize_order_number(raw: object, expected: str | None) -> None:
    assert normalize_order_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Maria.Garcia@Example.com", "maria.garcia@example.com"),
        ("my email is a.chen@example.org.", "a.chen@example.org"),
        ("o'brien+shop@mail.example.co.uk", "o'brien+shop@mail.example.co.uk"),
        ("maria@", None),
        ("not an email", None),
        ("a@b.c", None),
        (42, None),
    ],
)
def test_normalize_email(raw: object, expected: str | None) -> None:
    assert normalize_email(raw) == expected


def test_shorten_single_line() -> None:
    assert shorten("a\nb") == "a b"
    assert len(shorten("x" * 100, 10)) == 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sure, it's 551 203", ["551203"]),
        ("order num 551-203 from last week", ["551203"]),
        ("#551 203?", ["551203"]),
        ("551203, bought 2 mugs", ["551203"]),
        ("either 551203 or 551204", ["551203", "551204"]),
        ("551203 ... yes 551203", ["551203"]),
        ("invoice INV-2025-551203", []),
        ("mail me at kim.551203@example.com", []),
        ("call 555 120 3344", []),
        ("delivered 2026-11-28 10:00", []),
        ("it was 55120", []),
    ],
)
def test_order_numbers_in_a_sentence(text: str, expected: list[str]) -> None:
    assert order_numbers_in(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sure: Kim.Lu@Example.com, thanks", ["kim.lu@example.com"]),
        ("the one I use is d'arcy@example.co.nz.", ["d'arcy@example.co.nz"]),
        ("'kim@example.com'", ["kim@example.com"]),
        ("kim@example.com or kim@work.example.com", ["kim@example.com", "kim@work.example.com"]),
        ("kim at example dot com", []),
        ("kim@localhost", []),
    ],
)
def test_emails_in_a_sentence(text: str, expected: list[str]) -> None:
    assert emails_in(text) == expected


def test_the_message_decides_over_the_slot_value() -> None:
    # The NLU kept the last of two addresses; the message names two, so ask again.
    assert value_in_message("kim@a.com or kim@b.com", "kim@b.com", emails_in) is None
    # The NLU read part of an address; the message has the whole one.
    assert value_in_message("d'arcy@example.com", "arcy@example.com", emails_in) == (
        "d'arcy@example.com"
    )
    # A button payload or an earlier value: the slot's value.
    assert value_in_message("", "551203", order_numbers_in) == "551203"
    assert value_in_message(None, 551203, order_numbers_in) == "551203"


def test_digits_inside_an_email_are_not_an_order_number() -> None:
    # Found by the attack suite: the whole message was an address that starts with six digits.
    assert inside_an_email("100017@example.com", "100017")
    assert inside_an_email("it's 100017@example.com ok", 100017)
    # The same digits typed on their own are an order number.
    assert not inside_an_email("100017, my email is 100017@example.com", "100017")
    assert not inside_an_email("100017", "100017")
    # A value from an earlier turn that this message does not mention.
    assert not inside_an_email("yes please", "551203")
    # At the order number question, an email with six digits is no order number.
    assert value_in_message("100017@example.com", "100017", order_numbers_in) is None


def test_order_numbers_in_other_digits_are_read_as_ascii() -> None:
    # Found by the attack suite: full-width digits were accepted but never matched a real order.
    assert order_numbers_in("１０４２３３") == ["104233"]
    assert normalize_order_number("order ٥٥١٢٠٣") == "551203"
    assert order_numbers_in("000123") == ["000123"]
