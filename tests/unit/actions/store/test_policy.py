"""The store's rules come from its policy file; the demo file follows the demo FAQ."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from actions.store.policy import (
    DEFAULT_POLICY_FILE,
    STORE_POLICY,
    load_store_policy,
)
from actions.store.replies import day_span, delivery_options_text
from actions.store.types import DeliveryOption

FAQ = Path(__file__).resolve().parents[4] / "data" / "demo" / "faq" / "ecommerce_faq.csv"


def faq_answer(question: str) -> str:
    with FAQ.open(encoding="utf-8") as rows:
        return next(r["answer"] for r in csv.DictReader(rows) if r["question"] == question)


def test_the_demo_policy_states_what_the_demo_faq_states() -> None:
    policy = load_store_policy(DEFAULT_POLICY_FILE)
    assert "within 30 days of purchase" in faq_answer("What is your return policy?")
    assert policy.return_window_days == 30
    transit = faq_answer("How long does shipping take?")
    methods = {m.code: m for m in policy.shipping_methods}
    assert "3-5 business days" in transit and (
        methods["standard"].min_days,
        methods["standard"].max_days,
    ) == (3, 5)
    assert "1-2 business days" in transit and (
        methods["express"].min_days,
        methods["express"].max_days,
    ) == (1, 2)
    assert policy.days_are == "business"


def test_replies_say_what_the_policy_says() -> None:
    options = [
        DeliveryOption.of(m, None, STORE_POLICY.carriers) for m in STORE_POLICY.shipping_methods
    ]
    text = delivery_options_text(options)
    assert "Standard: $5.99 (free from $35.00), 3–5 business days after dispatch" in text
    assert "Next day: $24.99, 1 business day after dispatch" in text
    assert "within 1–2 business days" in text  # dispatch, from the file (was hard-coded)
    assert text.startswith("We ship with UPS, FedEx, USPS, DHL.")
    assert day_span(2, 2) == "2 business days"


def test_a_store_sets_its_own_rules(tmp_path: Path) -> None:
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    mine = tmp_path / "policy.yml"
    mine.write_text(
        text.replace("window_days: 30", "window_days: 60").replace('fee: "0.00"', 'fee: "2.50"'),
        encoding="utf-8",
    )
    policy = load_store_policy(mine)
    assert policy.return_window_days == 60 and policy.cancellation_fee == Decimal("2.50")


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (("window_days: 30", "window_days: soon"), "window_days|invalid literal"),
        (("days: [3, 5]", "days: [5, 3]"), "fewest"),
        (('fee: "5.99"', 'fee: "-1"'), "negative"),
        (("days_are: business", "days_are: weekdays"), "business or calendar"),
        (("returns:", "retours:"), "returns"),
    ],
)
def test_a_broken_policy_file_is_refused_with_the_field(
    tmp_path: Path, edit: tuple[str, str], reason: str
) -> None:
    broken = tmp_path / "policy.yml"
    broken.write_text(
        DEFAULT_POLICY_FILE.read_text(encoding="utf-8").replace(*edit), encoding="utf-8"
    )
    with pytest.raises(ValueError, match=reason):
        load_store_policy(broken)


def test_a_missing_policy_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Cannot read the store policy"):
        load_store_policy(tmp_path / "nope.yml")


def test_optional_promises_are_left_out_when_the_store_does_not_state_them(tmp_path: Path) -> None:
    lines = DEFAULT_POLICY_FILE.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if "late_parcel_days" not in line and "bank_days" not in line]
    mine = tmp_path / "policy.yml"
    mine.write_text("\n".join(kept), encoding="utf-8")
    policy = load_store_policy(mine)
    assert policy.late_parcel_days is None and policy.refund_bank_days is None
    assert STORE_POLICY.late_parcel_days == 2 and STORE_POLICY.refund_bank_days == (5, 10)
