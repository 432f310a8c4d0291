"""The return flow inside ``order_form``: which item, in what condition (then the confirmation).

The store service decides eligibility (window, delivery, final sale, condition); this module only
reads what the shopper typed into item ids and an ``ItemCondition``, and asks for the item.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.identity import ownership_of
from actions.store.policy import ACCEPTED_CONDITIONS, ItemCondition
from actions.store.replies import refusal_text, return_items_text
from actions.store.runtime import get_store
from actions.store.types import ConditionNotAccepted, ReturnableItem, ReturnQuote, StoreError
from actions.validation import shorten

logger = logging.getLogger(__name__)

# Checked in this order: "unopened" before "opened", "never used" before "used", "arrived damaged"
# before the ambiguous "damaged".
_CONDITION_PHRASES: tuple[tuple[ItemCondition, tuple[str, ...]], ...] = (
    (
        ItemCondition.UNOPENED,
        ("unopened", "not opened", "never opened", "sealed", "still in the box", "new in box"),
    ),
    (
        ItemCondition.DEFECTIVE,
        (
            "arrived damaged",
            "damaged on arrival",
            "damaged in shipping",
            "damaged in transit",
            "damaged during shipping",
            "came damaged",
            "faulty",
            "defective",
            "broken on arrival",
            "doesn't work",
            "does not work",
            "not working",
            "dead on arrival",
            "arrived broken",
            "stopped working",
            "won't turn on",
            "doesn't turn on",
            "does not turn on",
        ),
    ),
    (
        ItemCondition.LIKE_NEW,
        ("like new", "as new", "never used", "not used", "unused", "opened", "perfect condition"),
    ),
    (
        ItemCondition.USED,
        (
            "used",
            "worn",
            "wore",
            "washed",
            "scratched",
            "damaged it",
            "broke it",
            "i damaged",
            "wear",
            "played with",
        ),
    ),
)
# "never even opened it", "haven't opened the box": a negation a few words before "opened".
_NOT_OPENED = re.compile(
    r"\b(?:never|not|hasn'?t|haven'?t|didn'?t)\s+(?:\w+\s+){0,3}?"
    r"(?:open(?:ed)?|taken it out|took it out)\b"
)
# Damage found on delivery: "the screen was cracked when it arrived", "came with a dent".
_DAMAGED_ON_ARRIVAL = re.compile(
    r"\b(?:broken|cracked|damaged|dented|smashed|shattered|crushed|torn|leaking)\b"
    r".{0,30}\b(?:arrived|arrival|delivered|delivery|came|got it|in the box|out of the box)\b"
)
_NOT_NAME_WORDS = frozenset(
    {"the", "one", "and", "return", "want", "both", "all", "item", "items", "please", "just"}
)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
_ALL = re.compile(r"\b(all|everything|both|whole order|all of them|entire order)\b", re.IGNORECASE)


def parse_condition(value: object) -> ItemCondition | None:
    """The ``ItemCondition`` a shopper's words describe, or None when unclear ("damaged")."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.lower().replace("’", "'").replace("_", " ").split())
    if _NOT_OPENED.search(text):
        return ItemCondition.UNOPENED
    if _DAMAGED_ON_ARRIVAL.search(text):
        return ItemCondition.DEFECTIVE
    for condition, phrases in _CONDITION_PHRASES:
        if text == condition.value.replace("_", " ") or any(p in text for p in phrases):
            return condition
    return None


def parse_items(value: object, items: tuple[ReturnableItem, ...]) -> list[ReturnableItem]:
    """The items a reply names: a list number ("2", "the 2nd", "the second"), "all", or part of a
    name, several joined by "and" / "&" / "," ("the bottle and the mat", "both the charger and
    the mat")."""
    if not isinstance(value, str) or not items:
        return []
    text = value.strip().lower()
    by_name = _items_by_name(text, items)
    if len(by_name) > 1:
        return by_name
    if _ALL.search(text):
        return list(items)
    numbers = [int(n) for n in re.findall(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", text)]
    numbers += [n for word, n in _ORDINALS.items() if re.search(rf"\b{word}\b", text)]
    picked = []
    for n in numbers:
        index = n - 1 if n > 0 else len(items) + n
        if 0 <= index < len(items) and items[index] not in picked:
            picked.append(items[index])
    return picked or by_name


def _items_by_name(text: str, items: tuple[ReturnableItem, ...]) -> list[ReturnableItem]:
    """The items named in the parts of ``text`` split at "and", "&", "," and "plus"."""
    picked: list[ReturnableItem] = []
    for part in re.split(r"\band\b|&|,|\bplus\b", text):
        for item in _item_by_name(part, items):
            if item not in picked:
                picked.append(item)
    return picked


def _item_by_name(text: str, items: tuple[ReturnableItem, ...]) -> list[ReturnableItem]:
    """The one item whose name shares the most words with ``text`` (none on a tie)."""
    words = set(re.findall(r"[a-z0-9]{3,}", text)) - _NOT_NAME_WORDS
    scored = [
        (len(words & set(re.findall(r"[a-z0-9]{3,}", item.product_name.lower()))), item)
        for item in items
    ]
    best = max((score for score, _ in scored), default=0)
    matches = [item for score, item in scored if score == best and best > 0]
    return matches if len(matches) == 1 else []


def chosen_items(tracker: Tracker, quote: ReturnQuote) -> list[ReturnableItem]:
    """The items in the ``return_item`` slot (comma-separated item ids) that are in ``quote``."""
    raw = str(tracker.get_slot("return_item") or "")
    ids = {int(part) for part in raw.split(",") if part.strip().isdigit()}
    return [item for item in quote.items if item.item_id in ids]


def readable_condition(text: str, tracker: Tracker) -> str | None:
    """``text`` when it describes a condition (for ``extract_item_condition``), else None."""
    return text if parse_condition(text) is not None else None


def readable_item_choice(text: str, tracker: Tracker) -> str | None:
    """``text`` when it picks items of the order's return quote (for ``extract_return_item``)."""
    owner = ownership_of(tracker)
    if owner is None:
        return None
    try:
        quote = get_store().quote_return(owner)
    except StoreError:
        return None  # validate_return_item explains, once the form asks again
    return text if parse_items(text, quote.items) else None


def validate_return_item(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    """Turn the shopper's choice into item ids (``"234,235"``), or ask again."""
    owner = ownership_of(tracker)
    if owner is None:
        return {"return_item": None}
    try:
        quote = get_store().quote_return(owner)
    except StoreError as error:
        dispatcher.utter_message(text=refusal_text(error))
        return {"return_item": None, "order_plan": "refused"}
    picked = parse_items(value, quote.items)
    if not picked:
        logger.info("Unclear return item %r from %s", shorten(value), tracker.sender_id)
        dispatcher.utter_message(
            text=f'Sorry, I couldn\'t tell which item "{shorten(value)}" means. '
            'Please reply with its number from the list, or "all".'
        )
        return {"return_item": None}
    return {"return_item": ",".join(str(item.item_id) for item in picked)}


def validate_item_condition(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    """Accept one of the conditions (as the shopper words it), or ask again with the options."""
    condition = parse_condition(value)
    if condition is None:
        dispatcher.utter_message(response="utter_unclear_item_condition", bad_value=shorten(value))
        return {"item_condition": None}
    owner = ownership_of(tracker)
    if condition not in ACCEPTED_CONDITIONS and owner is not None:
        logger.info("Return of order %s refused: item %s", owner.order_number, condition.value)
        dispatcher.utter_message(
            text=refusal_text(ConditionNotAccepted(owner.order_number, condition.value))
        )
        return {"item_condition": condition.value, "order_plan": "refused"}
    return {"item_condition": condition.value}


class ActionAskReturnItem(Action):
    """List the returnable items of the verified order and ask which one."""

    def name(self) -> str:
        """Return the action name the domain refers to."""
        return "action_ask_return_item"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask with a numbered list (and buttons) of the items that can be returned."""
        owner = ownership_of(tracker)
        if owner is None:
            return []
        try:
            quote = get_store().quote_return(owner)
        except StoreError as error:
            dispatcher.utter_message(text=refusal_text(error))
            return [SlotSet("order_plan", "refused"), SlotSet("requested_slot", None)]
        # Button payloads carry the choice as an entity, so a click never depends on the NLU.
        buttons = [
            {"title": str(n), "payload": f'/inform{{"return_item": "{n}"}}'}
            for n in range(1, len(quote.items) + 1)
        ]
        if len(quote.items) > 1:
            buttons.append({"title": "All", "payload": '/inform{"return_item": "all"}'})
        dispatcher.utter_message(text=return_items_text(quote), buttons=buttons)
        return []
