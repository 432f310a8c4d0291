"""The verifier has no number holes: a value planted in an otherwise supported answer is rejected
in every spelling (digits, words, compounds, ordinals, fractions, percentages, ranges, money in
several currencies, dates, times), and a supported value re-spelled is accepted, so the verifier
does not simply reject everything.

The passages are the store's own: FAQ entries and products of the demo data and the generator
fixture store, with the value under test written into them in one spelling and the answer using
another (Hypothesis, derandomized: the same examples on every run).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from knowledge.catalog.jsonl import read_catalog_jsonl
from knowledge.catalog.load import load_catalog
from knowledge.faq import load_faq_csv, read_faq_jsonl
from knowledge.passages import faq_passage, product_passages
from knowledge.prompt import evidence_text, group_by_document
from knowledge.render import render_passage
from knowledge.types import Passage
from knowledge.verifier import Verifier
from tests.unit.knowledge import spellings as sp

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "generator"
DEMO_CATALOG = ROOT / "data" / "demo" / "catalog" / "amazon_products_sample1000.csv"
DEMO_FAQ = ROOT / "data" / "demo" / "faq" / "ecommerce_faq.csv"
FAST = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
VERIFIER = Verifier()
NUMBER_FACTS = ("price", "percentage", "quantity", "number", "fraction", "ordinal", "date", "time")


@functools.cache
def fixture_faq(faq_id: str) -> Passage:
    return faq_passage(next(e for e in read_faq_jsonl(FIXTURES / "faq.jsonl") if e.id == faq_id))


@functools.cache
def demo_faq(faq_id: str) -> Passage:
    return faq_passage(next(e for e in load_faq_csv(DEMO_FAQ) if e.id == faq_id))


@functools.cache
def demo_products() -> dict[str, list[Passage]]:
    return {p.id: product_passages(p) for p in load_catalog(DEMO_CATALOG).products}


@functools.cache
def guillow() -> list[Passage]:
    products = read_catalog_jsonl(FIXTURES / "catalog.jsonl")
    return product_passages(next(p for p in products if p.name.startswith("Guillow")))


def written(passages: Sequence[Passage], old: str, new: str) -> list[Passage]:
    """The passages with ``old`` written as ``new`` (in the text and the title)."""
    assert any(old in p.text for p in passages), old
    return [
        replace(p, text=p.text.replace(old, new), title=p.title.replace(old, new)) for p in passages
    ]


def unsupported(answer: str, passages: Sequence[Passage]) -> list[str]:
    return VERIFIER.verify(answer, passages).unsupported


def absent(value: int, passages: Sequence[Passage]) -> bool:
    """Whether ``value`` is written nowhere in the passages, in digits or in words (an independent
    check, so a planted value is surely unsupported)."""
    text = "\n".join(evidence_text(p) for p in passages).lower()
    return str(value) not in text.replace(",", "") and sp.words(value) not in text


# --- Quantities with a unit: "30 days" in the return policy (faq-3). ----------------------------


def returns_with(days: str) -> list[Passage]:
    return written([fixture_faq("faq-3")], "30 days", days)


def returns_answer(days: str) -> str:
    return f"You can return products within {days} of purchase for a full refund [S1]."


@FAST
@given(n=st.integers(1, 10**6), source=st.integers(0, 9), answer=st.integers(0, 9))
@example(n=30, source=0, answer=4)  # "30 days" in the FAQ, "thirty days" in the answer
def test_days_re_spelled_are_supported(n: int, source: int, answer: int) -> None:
    passages = returns_with(sp.days(n, source))
    assert unsupported(returns_answer(sp.days(n, answer)), passages) == []


@FAST
@given(n=st.integers(1, 10**6), planted=st.integers(1, 10**6), style=st.integers(0, 9))
def test_planted_days_are_rejected_in_every_spelling(n: int, planted: int, style: int) -> None:
    assume(planted != n)
    facts = unsupported(returns_answer(sp.days(planted, style)), returns_with(sp.days(n, 0)))
    assert any(f.startswith("quantity") for f in facts), facts


@pytest.mark.parametrize("unit", ["weeks", "months", "business days", "hours", "years"])
def test_the_right_number_of_another_unit_is_rejected(unit: str) -> None:
    facts = unsupported(returns_answer(f"30 {unit}"), [fixture_faq("faq-3")])
    assert facts == [f"quantity 30 {unit}"]


# --- Ranges: "3-5 business days" in the shipping FAQ (faq-5). ------------------------------------


def shipping_with(low: int, high: int, style: int) -> list[Passage]:
    return written(
        [fixture_faq("faq-5")], "3-5 business days", sp.day_range(low, high, "business days", style)
    )


@FAST
@given(
    low=st.integers(3, 40),
    span=st.integers(1, 30),
    source=st.integers(0, 5),
    answer=st.integers(0, 5),
)
def test_ranges_re_spelled_are_supported(low: int, span: int, source: int, answer: int) -> None:
    high = low + span
    said = (
        f"Standard shipping usually takes {sp.day_range(low, high, 'business days', answer)} [S1]."
    )
    assert unsupported(said, shipping_with(low, high, source)) == []


@FAST
@given(
    low=st.integers(3, 40),
    span=st.integers(1, 30),
    planted=st.integers(3, 99),
    end=st.sampled_from(["low", "high"]),
    style=st.integers(0, 5),
)
def test_a_range_with_one_unsupported_end_is_rejected(
    low: int, span: int, planted: int, end: str, style: int
) -> None:
    high = low + span
    assume(planted not in (low, high))
    ends = (planted, high) if end == "low" else (low, planted)
    assume(ends[0] < ends[1])
    said = f"Standard shipping usually takes {sp.day_range(*ends, 'business days', style)} [S1]."
    facts = unsupported(said, shipping_with(low, high, 0))
    assert any(f.startswith("quantity") for f in facts), facts


# --- Money in several currencies: the Guillow's price. -------------------------------------------


def guillow_priced(spelled: str) -> list[Passage]:
    return written(guillow(), "$28.91", spelled)


def price_answer(spelled: str) -> str:
    return f"The Guillow Airplane Design Studio costs {spelled} [S1]."


@FAST
@given(
    cents=st.integers(1, 10**7),
    currency=st.sampled_from(sp.CURRENCIES),
    source=st.integers(0, 100),
    answer=st.integers(0, 100),
)
def test_prices_re_spelled_are_supported(
    cents: int, currency: str, source: int, answer: int
) -> None:
    passages = guillow_priced(sp.money(cents, currency, source))
    assert unsupported(price_answer(sp.money(cents, currency, answer)), passages) == []


@FAST
@given(
    cents=st.integers(1, 10**7),
    planted=st.integers(1, 10**7),
    currency=st.sampled_from(sp.CURRENCIES),
    style=st.integers(0, 100),
)
def test_planted_prices_are_rejected_in_every_currency_and_spelling(
    cents: int, planted: int, currency: str, style: int
) -> None:
    assume(planted != cents)
    facts = unsupported(
        price_answer(sp.money(planted, currency, style)),
        guillow_priced(sp.money(cents, currency, 0)),
    )
    assert any(f.startswith("price") for f in facts), facts


@FAST
@given(
    cents=st.integers(1, 10**7),
    currencies=st.lists(st.sampled_from(sp.CURRENCIES), min_size=2, max_size=2, unique=True),
    source=st.integers(0, 100),
    answer=st.integers(0, 100),
)
def test_the_right_amount_in_another_currency_is_rejected(
    cents: int, currencies: list[str], source: int, answer: int
) -> None:
    passages = guillow_priced(sp.money(cents, currencies[0], source))
    facts = unsupported(price_answer(sp.money(cents, currencies[1], answer)), passages)
    assert any(f.startswith("price") for f in facts), facts


# --- Percentages: "100% Polyester" of a demo product. --------------------------------------------

SLEEPOVER = "a84f14dd0114d78f178b16f093cab0e0"  # Disney Sofia The First Sleepover Set


@FAST
@given(n=st.integers(1, 99), source=st.integers(0, 5), answer=st.integers(0, 5))
def test_percentages_re_spelled_are_supported(n: int, source: int, answer: int) -> None:
    passages = written(
        demo_products()[SLEEPOVER], "100% Polyester", f"{sp.percent(n, source)} Polyester"
    )
    assert unsupported(f"The set is {sp.percent(n, answer)} polyester [S1].", passages) == []


@FAST
@given(n=st.integers(1, 99), planted=st.integers(1, 10**4), style=st.integers(0, 5))
def test_planted_percentages_are_rejected(n: int, planted: int, style: int) -> None:
    assume(planted != n)
    passages = written(demo_products()[SLEEPOVER], "100% Polyester", f"{n}% Polyester")
    facts = unsupported(f"The set is {sp.percent(planted, style)} polyester [S1].", passages)
    assert any(f.startswith(("percentage", "promise")) for f in facts), facts


# --- Dates: "Date First Available: November 19, 2012" of a demo product. -------------------------

COMMON_CORE = "d82015ffbf4cd54b0edfb890002971f3"
DATES = st.tuples(st.integers(1990, 2099), st.integers(1, 12), st.integers(1, 28))


def common_core_dated(spelled: str) -> list[Passage]:
    return written(demo_products()[COMMON_CORE], "November 19, 2012", spelled)


@FAST
@given(day=DATES, source=st.integers(0, 7), answer=st.integers(0, 7))
def test_dates_re_spelled_are_supported(
    day: tuple[int, int, int], source: int, answer: int
) -> None:
    passages = common_core_dated(sp.date(*day, source))
    said = f"It was first available on {sp.date(*day, answer)} [S1]."
    assert unsupported(said, passages) == []


@FAST
@given(day=DATES, planted=DATES, style=st.integers(0, 7))
def test_planted_dates_are_rejected_in_every_spelling(
    day: tuple[int, int, int], planted: tuple[int, int, int], style: int
) -> None:
    assume(planted != day)
    facts = unsupported(
        f"It was first available on {sp.date(*planted, style)} [S1].",
        common_core_dated(sp.date(*day, 0)),
    )
    assert any(f.startswith("date") for f in facts), facts


# --- Ordinals: "30th Birthday" plates of a demo product. -----------------------------------------

PLATES = "dc1855caea4c65e837576f848cda1ef5"


def ordinal(n: int, style: int) -> str:
    return sp.ordinal_digits(n) if style % 3 == 0 else sp.ordinal_words(n, hyphen=style % 3 == 1)


@FAST
@given(n=st.integers(1, 120), source=st.integers(0, 2), answer=st.integers(0, 2))
def test_ordinals_re_spelled_are_supported(n: int, source: int, answer: int) -> None:
    passages = written(demo_products()[PLATES], "30th", ordinal(n, source))
    said = f"The plates are made for a {ordinal(n, answer)} birthday [S1]."
    assert unsupported(said, passages) == []


@FAST
@given(planted=st.integers(1, 10**4), style=st.integers(0, 2))
def test_planted_ordinals_are_rejected(planted: int, style: int) -> None:
    assume(planted != 30)
    said = f"The plates are made for a {ordinal(planted, style)} birthday [S1]."
    facts = unsupported(said, demo_products()[PLATES])
    assert any(f.startswith("ordinal") for f in facts), facts


# --- Fractions: the Guillow's weight written as a fraction of a pound. ----------------------------

FRACTION_SPELLINGS = [(v, s) for v, ss in sp.FRACTIONS.items() for s in ss if not s.endswith("of")]


@FAST
@given(source=st.sampled_from(FRACTION_SPELLINGS), answer=st.integers(0, 5))
def test_fractions_re_spelled_are_supported(source: tuple[Fraction, str], answer: int) -> None:
    value, spelled = source
    passages = written(guillow(), "13.4 ounces", f"{spelled} pound")
    other = sp.FRACTIONS[value][answer % len(sp.FRACTIONS[value])]
    other += " a pound" if other.endswith(" of") else " pound"  # "a third" alone is an ordinal
    assert unsupported(f"It weighs {other} [S1].", passages) == []


@FAST
@given(source=st.sampled_from(FRACTION_SPELLINGS), planted=st.sampled_from(FRACTION_SPELLINGS))
def test_planted_fractions_are_rejected(
    source: tuple[Fraction, str], planted: tuple[Fraction, str]
) -> None:
    assume(planted[0] != source[0])
    passages = written(guillow(), "13.4 ounces", f"{source[1]} pound")
    facts = unsupported(f"It weighs {planted[1]} pound [S1].", passages)
    assert any(f.startswith("quantity") for f in facts), facts


# --- Plain numbers, digits and words: the Guillow's "(12 available)". ----------------------------


@FAST
@given(n=st.integers(13, 10**7), source=st.integers(0, 4), answer=st.integers(0, 4))
def test_numbers_re_spelled_are_supported(n: int, source: int, answer: int) -> None:
    passages = written(guillow(), "12 available", f"{sp.integer(n, source)} available")
    assert unsupported(f"There are {sp.integer(n, answer)} available [S1].", passages) == []


@FAST
@given(planted=st.integers(0, 10**7), style=st.integers(0, 4))
def test_planted_numbers_are_rejected_in_every_spelling(planted: int, style: int) -> None:
    assume(absent(planted, guillow()))
    facts = unsupported(f"There are {sp.integer(planted, style)} available [S1].", guillow())
    assert any(f.startswith("number") for f in facts), facts


# --- Times of day: the support hours of the contact FAQ (faq-9, its placeholder filled). ---------

TIMES = st.tuples(st.integers(0, 23), st.sampled_from([0, 30]))


def contact_hours(opens: tuple[int, int], closes: tuple[int, int], style: int) -> list[Passage]:
    hours = f"Monday to Friday, {sp.time_of_day(*opens, style)} to {sp.time_of_day(*closes, style)}"
    return written([demo_faq("faq-9")], "[working hours]", hours)


@FAST
@given(opens=TIMES, closes=TIMES, source=st.integers(0, 5), answer=st.integers(0, 5))
def test_times_re_spelled_are_supported(
    opens: tuple[int, int], closes: tuple[int, int], source: int, answer: int
) -> None:
    assume(opens < closes)
    said = (
        f"Our team is available Monday to Friday, {sp.time_of_day(*opens, answer)} to "
        f"{sp.time_of_day(*closes, answer)} [S1]."
    )
    assert unsupported(said, contact_hours(opens, closes, source)) == []


@FAST
@given(opens=TIMES, closes=TIMES, planted=TIMES, style=st.integers(0, 5))
def test_planted_times_are_rejected(
    opens: tuple[int, int], closes: tuple[int, int], planted: tuple[int, int], style: int
) -> None:
    assume(planted not in (opens, closes))
    said = f"Our team is available Monday to Friday, from {sp.time_of_day(*planted, style)} [S1]."
    facts = unsupported(said, contact_hours(opens, closes, 0))
    assert any(f.startswith("time") for f in facts), facts


# --- Any kind, planted after a supported sentence. -----------------------------------------------

PLANTS: list[Callable[[int, int], str]] = [
    lambda n, s: sp.integer(n, s),
    lambda n, s: sp.days(n, s),
    lambda n, s: sp.percent(n, s),
    lambda n, s: ordinal(n, s),
    lambda n, s: sp.money(n * 100 + 7, sp.CURRENCIES[s % len(sp.CURRENCIES)], s),
    lambda n, s: sp.day_range(n, n + 5, "days", s),
    lambda n, s: sp.date(2000 + n % 99, 1 + n % 12, 1 + n % 28, s),
    lambda n, s: sp.time_of_day(n % 24, 15, s),
]


@FAST
@given(kind=st.integers(0, len(PLANTS) - 1), n=st.integers(31, 10**5), style=st.integers(0, 50))
def test_any_value_planted_in_a_supported_answer_is_rejected(kind: int, n: int, style: int) -> None:
    assume(absent(n, guillow()))
    supported = "The Guillow Airplane Design Studio costs $28.91 [S1]."
    assert unsupported(supported, guillow()) == []
    planted = PLANTS[kind](n, style)
    assert unsupported(f"{supported} It ships with {planted} [S1].", guillow()), planted


# --- Examples of each spelling kind, and the whole demo store read against itself. ---------------


@pytest.mark.parametrize(
    ("answer", "fact"),
    [
        ("You can return products within thirteen days [S1].", "quantity thirteen days"),
        ("You can return products within twenty-five days [S1].", "quantity twenty-five days"),
        (
            "You can return products within one hundred and five days [S1].",
            "quantity one hundred and five days",
        ),
        ("You can return products within a month [S1].", "quantity a month"),
        ("You can return products within 30 to 60 days [S1].", "quantity 30 to 60 days"),
        ("You can return products within 30 days for 25% back [S1].", "percentage 25%"),
        ("Your third return is free of charge [S1].", "ordinal third"),
        ("Half of the price is refunded [S1].", "fraction Half"),
        ("Returns are accepted until March 3, 2026 [S1].", "date March 3, 2026"),
        ("Returns are accepted until 2026-03-14 [S1].", "date 2026-03-14"),
        ("Returns cost C$5 [S1].", "price C$5"),
        ("Returns cost ¥500 [S1].", "price ¥500"),
        ("Returns cost ₹500 [S1].", "price ₹500"),
        ("Returns cost 5 AUD [S1].", "price 5 AUD"),
        ("Call us before 5 pm [S1].", "time 5 pm"),
        ("Use return code RT-42 [S1].", "code RT-42"),
    ],
)
def test_each_spelling_kind_is_checked(answer: str, fact: str) -> None:
    assert fact in unsupported(answer, [fixture_faq("faq-3")])


@pytest.mark.parametrize(
    "answer",
    [
        "You can return products within thirty days of purchase for a full refund [S1].",
        "You can return products within a 30-day window for a full refund [S1].",
        "Standard shipping usually takes three to five business days [S2].",
        "Standard shipping usually takes between 3 and 5 business days [S2].",
        "Express shipping can take one-two business days [S2].",
    ],
)
def test_supported_policy_facts_in_other_spellings_are_accepted(answer: str) -> None:
    assert unsupported(answer, [fixture_faq("faq-3"), fixture_faq("faq-5")]) == []


def test_demo_products_and_faq_entries_support_their_own_rendering() -> None:
    """No false rejection on the store's own data: each product's concise rendering (what the
    passage fallback shows) and each FAQ answer verifies against its document (promises quoted
    from product text aside: product text is no authority for them, by design). Every third
    product keeps this test near 2 s; all 995 pass (measured when the reader was written)."""
    products = list(demo_products().values())[::3]
    groups = [*products, *([faq_passage(e)] for e in load_faq_csv(DEMO_FAQ))]
    problems = {}
    for group in groups:
        group = group_by_document(group)[0]
        verdict = VERIFIER.verify(f"{render_passage(group)} [S1]", group, generated=False)
        numbers = [u for u in verdict.unsupported if u.startswith((*NUMBER_FACTS, "code", "name"))]
        if numbers:
            problems[group[0].title] = numbers
    assert problems == {}
