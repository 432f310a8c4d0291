"""The number reader: every spelling of a value reads as the same canonical quantity (examples, and
Hypothesis round trips through an independent speller in ``spellings``)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.numbers import Quantity, QuantityIndex, digits_text, mentions, parse_number_words
from tests.unit.knowledge import spellings

# Derandomized: the same examples on every run, so CI never fails by chance.
FAST = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def read(text: str) -> list[str]:
    """The canonical quantities of ``text``, one string per mention."""
    return [" | ".join(str(q) for q in m.quantities) for m in mentions(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Plain numbers and number words, 13-19 and compounds included.
        ("1,000 and 1000 and 28.910", ["1000", "1000", "28.91"]),
        ("thirteen, sixteen, seventeen, eighteen, nineteen", ["13", "16", "17", "18", "19"]),
        ("seventy, eighty, twenty-five, twenty five", ["70", "80", "25", "25"]),
        ("one hundred and five, a hundred, two thousand", ["105", "100", "2000"]),
        ("two thousand and five, 1.5 million, a dozen", ["2005", "1500000", "12"]),
        ("one thousand and two thousand", ["1000", "2000"]),
        # Ordinals.
        ("3rd, 21st, third, twenty-first, 100th", ["#3", "#21", "#3", "#21", "#100"]),
        # Fractions.
        ("1/2, ½, half, a quarter, three quarters", ["0.5", "0.5", "0.5", "0.25", "0.75"]),
        ("1 1/2, 1½, one and a half, 51⁄2", ["1.5", "1.5", "1.5", "5.5"]),
        # Money in several currencies and spellings.
        ("$1,000, 1000 dollars, USD 1000, US$1000", ["USD 1000"] * 4),
        ("C$5, 5 CAD, 5 Canadian dollars, CA$5", ["CAD 5"] * 4),
        ("A$5, AUD 5, 5 Australian dollars", ["AUD 5"] * 3),
        ("€5, 5 euros, 5€, EUR 5", ["EUR 5"] * 4),
        ("£5, GBP 5, 5 pounds sterling", ["GBP 5"] * 3),
        ("¥500, 500 yen, JPY 500", ["JPY 500"] * 3),
        ("₹500, Rs. 500, 500 rupees, INR 500", ["INR 500"] * 4),
        ("99 cents, twelve dollars", ["USD 0.99", "USD 12"]),
        # Percentages.
        ("25%, 25 percent, twenty-five per cent", ["25%"] * 3),
        # Units, spelled differently.
        ("30 days, thirty days, 30-day, thirty-day", ["30 day"] * 4),
        ("10 lbs, 10 pounds, 10 lb", ["10 pound"] * 3),
        (
            '13.4ounces, 13.4 oz, 9.75", 12in, 12 in.',
            ["13.4 ounce"] * 2 + ["9.75 inch"] + ["12 inch"] * 2,
        ),
        (
            "7.2V, 500g, an hour, half a day, twice",
            ["7.2 volt", "500 gram", "1 hour", "0.5 day", "2 times"],
        ),
        ("3-5 business days", ["3 business day | 5 business day"]),
        # Ranges and dimensions share their unit or currency.
        ("10-15 days, 10 to 15 days, between 10 and 15 days", ["10 day | 15 day"] * 3),
        ("$10-15, $10 to $15, 10-15%", ["USD 10 | USD 15"] * 2 + ["10% | 15%"]),
        ("3.5 x 6.2 x 13 inches", ["3.5 inch | 6.2 inch | 13 inch"]),
        # Dates, ISO-normalised; partial dates keep what they name.
        ("2026-03-14, March 14, 2026, 14 March 2026, 3/14/2026", ["2026-03-14"] * 4),
        ("14.03.2026, the fourteenth of March 2026, Mar. 14 2026", ["2026-03-14"] * 3),
        ("March 14, March 2026", ["--03-14", "2026-03"]),
        # Times of day.
        ("9am, 9:00 a.m., 09:00, 5 pm, 17:00", ["09:00", "09:00", "09:00", "17:00", "17:00"]),
        ("9am-5pm", ["09:00 | 17:00"]),
    ],
)
def test_spellings_read_as_one_canonical_value(text: str, expected: list[str]) -> None:
    assert read(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Item Model Number: GW-142", []),  # codes: the verifier checks them whole, verbatim
        ("ASIN: B07KMVJJK7", []),
        ("3D printing pen, model 3377B, RB16-22W, U.3270L", []),
        ("no one will call; this one is blue; only one left", ["1"]),  # "one" as a pronoun
        ("the one-year warranty", ["1 year"]),
        ("12 in stock", ["12"]),  # "in" is no inch
        ("Only 3 may be ordered", ["3"]),  # "may" is no month
        ("a third option, a third of the price", ["#3", "0.3333333333333333"]),
        ("Elenco Breadboard - 9425 — $34.95", ["9425", "USD 34.95"]),  # a spaced em dash separates
    ],
)
def test_what_is_not_a_number_is_not_read_as_one(text: str, expected: list[str]) -> None:
    assert read(text) == expected


def test_number_words_become_digits_for_phrase_lists() -> None:
    assert digits_text("a one hundred percent refund") == "a 100 percent refund"
    assert digits_text("within thirty days, no one else") == "within 30 days, no one else"


def test_partial_dates_and_ordinals_are_supported_by_a_full_date() -> None:
    index = QuantityIndex(mentions("Date First Available: March 14, 2026"))
    assert index.supports(Quantity("date", date=(None, 3, 14)))
    assert index.supports(Quantity("date", date=(2026, 3, None)))
    assert index.supports(Quantity("ordinal", Fraction(14)))
    assert not index.supports(Quantity("date", date=(2025, 3, 14)))
    assert not index.supports(Quantity("date", date=(None, 3, 15)))


@FAST
@given(n=st.integers(0, 10**10), hyphen=st.booleans(), british=st.booleans())
def test_every_whole_number_in_words_parses_back(n: int, hyphen: bool, british: bool) -> None:
    assert parse_number_words(spellings.words(n, hyphen=hyphen, british=british)) == n


@FAST
@given(n=st.integers(1, 10**6), hyphen=st.booleans())
def test_every_ordinal_parses_back_in_words_and_digits(n: int, hyphen: bool) -> None:
    for spelled in (spellings.ordinal_words(n, hyphen=hyphen), spellings.ordinal_digits(n)):
        assert read(f"the {spelled} order") == [f"#{n}"], spelled


@FAST
@given(
    cents=st.integers(1, 10**8),
    currency=st.sampled_from(spellings.CURRENCIES),
    style=st.integers(0, 200),
)
def test_every_money_spelling_reads_as_amount_and_currency(
    cents: int, currency: str, style: int
) -> None:
    spelled = spellings.money(cents, currency, style)
    (mention,) = mentions(f"It costs {spelled} today.")
    assert mention.quantities == (Quantity("money", Fraction(cents, 100), currency),), spelled


@FAST
@given(
    year=st.integers(1990, 2099),
    month=st.integers(1, 12),
    day=st.integers(1, 28),
    style=st.integers(0, spellings.DATE_STYLES - 1),
)
def test_every_date_spelling_reads_as_the_iso_date(
    year: int, month: int, day: int, style: int
) -> None:
    spelled = spellings.date(year, month, day, style)
    assert read(f"Available from {spelled} on.") == [f"{year}-{month:02d}-{day:02d}"], spelled


@FAST
@given(hour=st.integers(0, 23), minute=st.sampled_from([0, 15, 30, 45]), style=st.integers(0, 5))
def test_every_time_spelling_reads_as_the_time_of_day(hour: int, minute: int, style: int) -> None:
    spelled = spellings.time_of_day(hour, minute, style)
    assert read(f"We open at {spelled} daily.") == [f"{hour:02d}:{minute:02d}"], spelled


@pytest.mark.parametrize(
    ("value", "spelled"), [(v, s) for v, ss in spellings.FRACTIONS.items() for s in ss]
)
def test_every_fraction_spelling_reads_as_its_value(value: Fraction, spelled: str) -> None:
    (mention,) = mentions(f"Fill it {spelled} full.")
    assert mention.quantities[0].value == value, spelled
