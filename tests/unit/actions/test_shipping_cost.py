"""Questions about what shipping costs are answered from the store's shipping settings, whatever
intent NLU gave them; questions about a return's postage, a destination, a cancellation, a
delivery's time or a shopper's own order are not taken."""

from __future__ import annotations

from decimal import Decimal

import pytest

from actions.orders import ActionCancellationFee, ActionDeliveryOptions, ActionDeliveryPeriod
from actions.shipping_cost import asks_shipping_cost, shipping_cost_text
from actions.store.sql.backend import SqlStoreBackend
from actions.store.types import DeliveryOption
from tests.unit.actions.store.dialogue import make_tracker, run


@pytest.mark.parametrize(
    "text",
    [
        "is the shipping free?",
        "how much is shipping",
        "how much do you charge for delivery",
        "whats the delivery charge",
        "free shipping?",
        "do u do free delivery",
        "is postage free",
        "how much is p&p",
        "whats the minimum spend for free shipping",
        "how much does next day delivery cost",
        "do you ship for free",
        "is shipping to my house expensive",
    ],
)
def test_questions_about_the_fee_are_read(text: str) -> None:
    assert asks_shipping_cost(text)


@pytest.mark.parametrize(
    "text",
    [
        "do i have to pay for return shipping",  # a return's postage: the returns policy
        "how much does it cost to send it back",
        "is there a fee to cancel delivery",  # the cancellation fee
        "how much longer will delivery take",  # time, not money
        "how long does free shipping take",
        "how much does shipping to canada cost",  # a destination the flat rates do not cover
        "do you ship internationally for free",
        "i was charged for delivery on order 104233",  # the shopper's own order
        "my parcel never arrived",
        "is this lego set free",  # no shipping word
        "how much is the lego set",
        "where is my delivery",  # no cost word
        "will there be a price drop before delivery",  # the product's price
        "",
        "hi, I ordered a kite last week and paid for express delivery because it was for my "
        "son's birthday on saturday, can you tell me what happened to it please thanks",
    ],
)
def test_other_questions_are_left_alone(text: str) -> None:
    assert not asks_shipping_cost(text)


def option(label: str, fee: str, free_from: str | None = None) -> DeliveryOption:
    return DeliveryOption(
        code=label.lower(),
        label=label,
        fee=Decimal(fee),
        free_from=None if free_from is None else Decimal(free_from),
        min_days=1,
        max_days=2,
        typical_days=None,
        carriers=("UPS",),
    )


def test_a_free_shipping_question_gets_the_threshold_first() -> None:
    options = [option("Standard", "5.99", "35.00"), option("Express", "12.99")]
    text = shipping_cost_text("is the shipping free?", options)
    assert text.startswith("Standard shipping is free on orders from $35.00. We ship with UPS.")
    assert "Express: $12.99" in text
    # Asked the fee without "free", the methods alone (they carry the threshold too); so is a
    # question about somewhere else the flat rates do not speak for.
    assert shipping_cost_text("how much is shipping", options).startswith("We ship with UPS.")
    assert shipping_cost_text("free delivery to canada?", options).startswith("We ship with UPS.")


def test_free_shipping_is_denied_only_from_the_settings() -> None:
    assert shipping_cost_text("free delivery?", [option("Pickup", "0"), option("Courier", "9")])
    assert shipping_cost_text("free delivery?", [option("Pickup", "0")]).startswith(
        "Pickup shipping is free."
    )
    assert shipping_cost_text("free delivery?", [option("Courier", "9.00")]).startswith(
        "None of our shipping methods is free."
    )


@pytest.mark.parametrize(
    ("action", "intent", "text"),
    [
        (ActionDeliveryPeriod(), "delivery_period", "how much is shipping"),
        (ActionCancellationFee(), "check_cancellation_fee", "whats the delivery charge"),
        (ActionDeliveryOptions(), "delivery_options", "is there free shipping"),
    ],
)
def test_the_store_actions_answer_the_fee(
    seeded: SqlStoreBackend, action: object, intent: str, text: str
) -> None:
    _, messages = run(action, make_tracker({}, intent=intent, text=text, active=False))
    [reply] = messages
    assert "Standard: $5.99 (free from $35.00)" in reply["text"], reply
    assert reply["text"].startswith("Standard shipping is free on orders from $35.00") == (
        "free" in text
    )


def test_the_actions_own_questions_keep_their_answers(seeded: SqlStoreBackend) -> None:
    tracker = make_tracker(
        {}, intent="delivery_period", text="how long does delivery take", active=False
    )
    _, period = run(ActionDeliveryPeriod(), tracker)
    assert "$5.99" not in period[0]["text"] and "business days" in period[0]["text"]
    tracker = make_tracker(
        {}, intent="check_cancellation_fee", text="is there a fee to cancel", active=False
    )
    _, fee = run(ActionCancellationFee(), tracker)
    assert "$5.99" not in fee[0]["text"]
