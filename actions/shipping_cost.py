"""Questions about what shipping costs ("is the shipping free?"), read from their words.

The store's shipping fees and its free-shipping threshold are settings (``data/demo/store/
policy.yml``), answered by ``action_delivery_options``. The intent classifier sends most such
questions there, but not all: the demo model reads "is the shipping free?" as a product question
(the knowledge actions then answered from the FAQ's international-shipping entry, "costs will be
calculated during the checkout"), "how much is shipping" as ``delivery_period`` (delivery times,
no fee), "how much do you charge for delivery" as out of scope and "whats the delivery charge" as
``check_cancellation_fee``. The actions that receive such a question answer it from the store's
shipping settings instead (decision 039's readers).

Only a question about the fee itself counts: a shipping word and a cost word, and nothing that
makes it a question about something else (a return's postage, a destination abroad, a
cancellation, an order of the shopper's that went wrong, how much *longer*).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.store.policy import SHIPPING_METHODS
from actions.store.replies import delivery_options_text, money
from actions.store.runtime import get_store
from actions.store.service import StoreBackend
from actions.store.types import DeliveryOption, StoreUnavailable

__all__ = [
    "asks_shipping_cost",
    "delivery_options_of",
    "shipping_cost_answered",
    "shipping_cost_text",
]

MAX_WORDS = 25
"""Longer messages tell a story (a late parcel, a wrong charge) rather than ask the fee."""

_SHIPPING = re.compile(
    r"\b(?:shipping|shippin|ship|shipped|delivery|deliveries|deliver|postage|post and packing|"
    r"p\s*&\s*p|p\s*\+\s*p|courier)\b",
    re.IGNORECASE,
)
_COST = re.compile(
    r"\b(?:free|cost|costs|costing|charge|charges|fee|fees|price|prices|pricing|how much|"
    r"pay for|paying for|expensive|cheap|cheapest|spend)\b",
    re.IGNORECASE,
)
_ELSEWHERE = re.compile(
    r"\b(?:return|returns|returning|returned|back|exchange|exchanges|swap|refund|refunds|"
    r"refunded|cancel|cancels|cancelling|canceling|cancellation|international|internationally|"
    r"abroad|overseas|worldwide|outside|country|countries|customs|duty|duties|import|"
    r"tax|taxes|vat|late|never|lost|missing|damaged|broken|insurance|"
    r"charged me|overcharged|double charged|my order|order number|invoice|receipt|"
    r"price (?:match|matching|drop|drops|change|changes|protection)|"
    r"how much (?:longer|time|more time)|how long|how many days|how fast|how quick|how quickly|"
    r"when)\b"
    # "shipping to canada": a destination, which the store's flat rates do not speak for.
    r"|\b(?:ship|shipping|deliver|delivery|postage|send)\s+(?:it\s+|them\s+)?to\s+"
    r"(?!me\b|my\b|you\b|your\b|us\b|our\b|the\b|a\b|an\b|this\b|that\b|it\b|home\b)\w+"
    # An order number is a delivery of the shopper's own.
    r"|\d{5,}",
    re.IGNORECASE,
)
_FREE = re.compile(r"\bfree\b", re.IGNORECASE)


def asks_shipping_cost(text: str) -> bool:
    """Whether ``text`` asks what shipping costs or whether it is free."""
    text = text.strip()
    if not text or len(text.split()) > MAX_WORDS:
        return False
    return bool(_SHIPPING.search(text) and _COST.search(text) and not _ELSEWHERE.search(text))


def delivery_options_of(store: StoreBackend) -> tuple[DeliveryOption, ...]:
    """The store's shipping methods; its settings' methods when the order database is down."""
    try:
        return store.delivery_options()
    except StoreUnavailable:
        return tuple(DeliveryOption.of(m, typical_days=None, carriers=()) for m in SHIPPING_METHODS)


def shipping_cost_text(question: str, options: Sequence[DeliveryOption]) -> str:
    """The shipping methods with their fees; a question about free shipping gets its answer
    first ("Standard shipping is free on orders from $35.00."), from the same settings."""
    text = delivery_options_text(options)
    if not (_FREE.search(question) and asks_shipping_cost(question)):
        return text
    free = [f"{o.label} shipping is free." for o in options if o.fee == 0]
    free += [
        f"{o.label} shipping is free on orders from {money(o.free_from)}."
        for o in options
        if o.fee != 0 and o.free_from is not None
    ]
    lead = " ".join(free) if free else "None of our shipping methods is free."
    return f"{lead} {text}"


def shipping_cost_answered(
    dispatcher: CollectingDispatcher, tracker: Tracker, store: StoreBackend | None = None
) -> bool:
    """Answer the latest message from the store's shipping settings when it asks what shipping
    costs (:func:`asks_shipping_cost`); whether it did. ``store``: the running store's by
    default."""
    text = str(tracker.latest_message.get("text") or "")
    if not asks_shipping_cost(text):
        return False
    options = delivery_options_of(store if store is not None else get_store())
    dispatcher.utter_message(text=shipping_cost_text(text, options))
    return True
