"""The masker: personal data in several formats is found, ordinary order text is left alone
(examples, and Hypothesis properties over generated emails, cards, phones and order text)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.privacy.directory import DirectorySource, StoreDirectory
from bot.privacy.masking import Masker, MaskerSource, luhn_ok
from tests.unit.bot.privacy.shoppers import DIRECTORY, ISABELLA

MASKER = Masker(DIRECTORY)
IDENTITY = DIRECTORY.person(ISABELLA["email"])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mail me: jo.doe+returns@shop.mail.example.co.uk!", "mail me: [email]!"),
        ("JO.DOE@EXAMPLE.COM", "[email]"),
        ("jo.doe [at] example [dot] com", "[email]"),
        ("call me on +44 20 7946 0958 please", "call me on [phone] please"),
        ("my number is 020 7946 0958", "my number is [phone]"),
        ("(555) 123-4567", "[phone]"),
        ("+1-202-555-0143 or 202.555.0143", "[phone] or [phone]"),
        ("+33 1 99 00 12 34", "[phone]"),
        ("07700 900123 is my mobile", "[phone] is my mobile"),
        ("my phone number is 555-0123", "my phone number is [phone]"),
        ("card 4111 1111 1111 1111 exp 12/27", "card [card] exp 12/27"),
        ("card 5555-5555-5555-4444", "card [card]"),
        ("amex 3782 822463 10005", "amex [card]"),
        ("I live at 12 Oak St, Austin, TX 78701", "I live at [address]"),
        ("send it to 8323 washington avenue apt 28d houston tx 77002", "send it to [address]"),
        ("PO Box 1234, London SW1A 1AA", "[address], London [address]"),
        ("Isabella Tanaka here", "[name] here"),
        (
            "my name is jamal jones and order 997542 is late",
            "my name is [name] and order 997542 is late",
        ),
        ("Tanaka, Isabella", "[name]"),
    ],
)
def test_personal_data_in_several_formats_is_masked(text: str, masked: str) -> None:
    assert MASKER.mask(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "order 104233 arrived on 2026-11-28 but the kettle is missing",
        "I was charged $24.99 for order #104233",
        "sizes 6 8 10 12 14 16 18, 3 pack, 2 x 1.5 L",
        "does it fit a 30 inch range? model WR55X10025, part 2188656",
        "the 500 gb drive and the 2 way radio, 4.5 cu. ft",
        "tracking 1Z999AA10123456784 says 12/01/2026 at 10:30",
        "cancel purchase113542617735902",
        "Hi, I'm interested in this product. This is Great Stuff",
        "Will this fit an Amana TX20QL or model 110.72802101?",
    ],
)
def test_ordinary_shopper_text_is_left_alone(text: str) -> None:
    assert MASKER.mask(text) == text


def test_order_numbers_only_on_request() -> None:
    text = "order 104233 total $104.23, ordered 2026-11-28"
    assert MASKER.mask(text) == text
    assert MASKER.with_orders(True).mask(text) == "order [order] total $104.23, ordered 2026-11-28"


def test_the_conversations_customer_is_masked_by_first_or_last_name_alone() -> None:
    text = "Thanks Isabella! Ms Tanaka, your parcel left"
    assert MASKER.mask(text) == text  # a first name alone is not enough in general ...
    assert MASKER.mask(text, IDENTITY) == "Thanks [name]! Ms [name], your parcel left"
    # ... nor is the customer's phone however it is spaced, but it is masked as hers.
    assert MASKER.mask("ring 713 5550109", IDENTITY) == "ring [phone]"


def test_nlu_entities_and_nested_values() -> None:
    from bot.privacy.masking import Span

    assert MASKER.mask("I'm Jo", extra=[Span(4, 6, "name")]) == "I'm [name]"
    value = {"a": ["x sofia.perez@example.com", 3], "b": None}
    assert MASKER.mask_value(value) == {"a": ["x [email]", 3], "b": None}


def test_the_source_reloads_its_directory_when_stale() -> None:
    now = [0.0]
    loads: list[int] = []

    def load() -> StoreDirectory:
        loads.append(1)
        return DIRECTORY if len(loads) > 1 else StoreDirectory([])

    source = MaskerSource(DirectorySource(load, reload_after_s=60, clock=lambda: now[0]))
    assert source.get().mask("Sofia Perez") == "Sofia Perez"
    now[0] = 61
    assert source.get().mask("Sofia Perez") == "[name]"
    assert source.person("SOFIA.PEREZ@example.com") is not None


# -- properties ---------------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "where",
        "is",
        "my",
        "order",
        "it",
        "arrived",
        "late",
        "the",
        "kettle",
        "was",
        "broken",
        "please",
        "refund",
        "size",
        "10",
        "$24.99",
        "2026-11-28",
        "x2",
        "thanks",
        ",",
        ".",
        "?",
        "!",
    ]
)
ORDINARY = st.lists(WORDS, min_size=0, max_size=12).map(" ".join)
LOCAL = st.from_regex(r"[a-z][a-z0-9]{0,8}(\.[a-z0-9]{1,8})?(\+[a-z0-9]{1,6})?", fullmatch=True)
DOMAIN = st.from_regex(r"([a-z]{2,8}\.){1,3}(com|org|net|co\.uk|io)", fullmatch=True)


def with_check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn_ok(body + digit):
            return body + digit
    raise AssertionError("unreachable")


CARDS = st.builds(
    lambda first, rest: with_check_digit(first + rest),
    st.sampled_from(["4", "5", "6"]),
    st.from_regex(r"[0-9]{14}", fullmatch=True),
)
PHONES = st.builds(
    lambda a, b, c, style: style.format(a=a, b=b, c=c),
    st.from_regex(r"[2-9][0-9]{2}", fullmatch=True),
    st.from_regex(r"[2-9][0-9]{2}", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.sampled_from(["({a}) {b}-{c}", "{a}-{b}-{c}", "+1 {a} {b} {c}", "{a}.{b}.{c}"]),
)
# Derandomized: the same 60 examples on every run, so CI never fails by chance.
FAST = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@FAST
@given(before=ORDINARY, local=LOCAL, domain=DOMAIN, after=ORDINARY)
def test_no_email_survives(before: str, local: str, domain: str, after: str) -> None:
    email = f"{local}@{domain}"
    masked = MASKER.mask(f"{before} {email} {after}")
    assert email not in masked and "[email]" in masked


@FAST
@given(before=ORDINARY, number=CARDS, sep=st.sampled_from(["", " ", "-"]), after=ORDINARY)
def test_no_card_survives(before: str, number: str, sep: str, after: str) -> None:
    written = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    masked = MASKER.mask(f"{before} card {written} {after}")
    assert written not in masked and number[-4:] not in masked.replace(after, "")


@FAST
@given(before=ORDINARY, phone=PHONES, after=ORDINARY)
def test_no_phone_survives(before: str, phone: str, after: str) -> None:
    masked = MASKER.mask(f"{before} call me on {phone} {after}")
    assert phone not in masked and "[phone]" in masked


@FAST
@given(text=ORDINARY, order=st.from_regex(r"[1-9][0-9]{5}", fullmatch=True))
@example(text="2026-11-28 10", order="100000")  # found by Hypothesis: a date read as a US phone
def test_ordinary_text_is_unchanged_and_masking_is_idempotent(text: str, order: str) -> None:
    message = f"{text} order {order}"
    assert MASKER.mask(message) == message
    once = MASKER.mask(f"{message} isabella.tanaka@example.org 4111 1111 1111 1111")
    assert MASKER.mask(once) == once
