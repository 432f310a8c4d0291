"""Validation of ``order_form``: the order number and the email address by format, then (through
``actions.identity``, ``actions.orders`` and ``actions.returns``) ownership and the request's steps.

While the form asks a slot, the answer is read from the shopper's own words as well as from the
NLU: ``extract_<slot>`` takes the message when the slot's deterministic reader understands it
(an order number or an email in the sentence, an item, a condition, an address, a plain yes),
whatever intent the classifier gave it ("the shark" as ``out_of_scope``, "used it a couple of
times" as ``deny``). A message no reader understands fills nothing, so the form is rejected and
the form's rules (a no, a human) or the other policies answer it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import order_questions, orders, returns
from actions.store.addresses import AddressError, parse_address
from actions.validation import emails_in, order_numbers_in, shorten, value_in_message
from actions.yes_no import has_doubt, opens_with_no, opens_with_yes

logger = logging.getLogger(__name__)

_Check = Callable[[Any, CollectingDispatcher, Tracker], dict[str, Any]]
"""Validation of one slot value: the slots to set (``{slot: None}`` asks again)."""

_SlotValidator = Callable[[Any, Any, CollectingDispatcher, Tracker, DomainDict], dict[str, Any]]


def _validator(check: _Check, doc: str) -> _SlotValidator:
    """The ``validate_<slot>`` method ``FormValidationAction`` looks up, running ``check``."""

    def validate(
        self: Any,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return check(slot_value, dispatcher, tracker)

    validate.__doc__ = doc
    return validate


def _format_check(slot: str, find: Callable[[str], list[str]]) -> _Check:
    """The one value ``find`` reads in the message (else in the slot's value); when there is none
    or several, say why (``utter_invalid_<slot>``) and leave the slot empty so the form asks again.
    """

    def check(
        slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        text = (tracker.latest_message or {}).get("text")
        normalized = value_in_message(text, slot_value, find)
        if normalized is None:
            label = slot.replace("_", " ")
            logger.info("Rejected %s %r from %s", label, shorten(slot_value), tracker.sender_id)
            if _restated(tracker):  # "i said i want to cancel my order": not a bad number
                dispatcher.utter_message(response="utter_restated_request", needed=label)
            else:
                dispatcher.utter_message(
                    response=f"utter_invalid_{slot}", bad_value=shorten(slot_value)
                )
        return {slot: normalized}

    return check


def _restated(tracker: Tracker) -> bool:
    """Whether the latest message asks again for the request the form is working on, with no
    attempt at a value in it (no digit, no @: "my order number is 12" is a wrong number)."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    text = str(message.get("text") or "")
    if any(c.isdigit() for c in text) or "@" in text:
        return False
    return bool(intent) and intent == tracker.get_slot("order_request")


_Reader = Callable[[str, Tracker], Any]
"""The slot value a message's text gives (None: the text is not an answer to the question)."""

_SlotExtractor = Callable[[Any, CollectingDispatcher, Tracker, DomainDict], dict[str, Any]]


def _extractor(slot: str, read: _Reader, doc: str) -> _SlotExtractor:
    """The ``extract_<slot>`` method ``FormValidationAction`` looks up: while the form asks
    ``slot`` and the slot mappings filled nothing this turn, the value ``read`` gets from the text.
    """

    def extract(
        self: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != slot or slot in tracker.slots_to_validate():
            return {}
        text = (tracker.latest_message or {}).get("text")
        if not isinstance(text, str) or not text.strip() or text.startswith("/"):
            return {}
        value = read(text, tracker)
        if value is None and slot in DESCRIBED_SLOTS and _misread_no(text, tracker):
            value = text  # the slot's validation says what it could not tell and asks again
        if value is None:
            return {}
        logger.info("Read %s from the words of %s", slot, tracker.sender_id)
        return {slot: value}

    extract.__doc__ = doc
    return extract


DESCRIBED_SLOTS = frozenset({"return_item", "item_condition"})
"""The return's questions a shopper answers in a description ("it doesnt fit", "not what i
ordered"): a reply the NLU reads as ``deny`` is usually one of those, not a wish to stop."""

_STOP = re.compile(
    r"\b(?:stop|cancel|quit|exit|anymore|any more|don'?t want|do not want|changed my mind|"
    r"forget|never ?mind|leave it)\b",
    re.IGNORECASE,
)


def _latest_intent(tracker: Tracker) -> str | None:
    """The intent the NLU gave the latest message."""
    name = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    return str(name) if name is not None else None


def _misread_no(text: str, tracker: Tracker) -> bool:
    """Whether a message the NLU read as ``deny`` neither opens with a no nor asks to stop: "it
    doesnt fit" at the condition question is a reason, and stopping the return for it would lose
    the order and email the shopper has given."""
    intent = _latest_intent(tracker)
    return intent == "deny" and not opens_with_no(text) and not _STOP.search(text)


def _one_found(find: Callable[[str], list[str]]) -> _Reader:
    return lambda text, tracker: text if len(find(text)) == 1 else None


def _address(text: str, tracker: Tracker) -> str | None:
    try:
        parse_address(text)
    except AddressError:
        return None
    return text


def _plain_yes_or_no(text: str, tracker: Tracker) -> str | None:
    # A no the NLU read as deny is left to the form's "no" rule (the form stops, as designed).
    intent = _latest_intent(tracker)
    if opens_with_no(text):
        return None if intent == "deny" else "no"
    return "yes" if opens_with_yes(text) and not has_doubt(text) else None


def _delegate(module: ModuleType, function: str) -> _Check:
    """Call ``module.function`` (looked up at call time, so tests can replace it)."""

    def check(
        slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        result: dict[str, Any] = getattr(module, function)(slot_value, dispatcher, tracker)
        return result

    return check


class ValidateOrderForm(FormValidationAction):
    """Checks the format of the order number and email before anything is looked up, then
    ownership and the steps of the request (``actions.orders``)."""

    def name(self) -> str:
        """Return the action name the domain refers to."""
        return "validate_order_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Order number, email (not for a signed-in shopper), then the request's own steps."""
        return orders.required_order_slots(tracker)

    async def get_validation_events(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Validate the slots, then check ownership and choose the request's plan; a request
        that starts as a policy question is answered from the FAQ and the form ends."""
        events = orders.start_events(tracker) + orders.stray_order_number_events(tracker)
        answered = await order_questions.answered_question_events(dispatcher, tracker)
        if answered is not None:
            tracker.add_slots(answered)
            return events + answered
        validated = await super().get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(validated)
        return events + validated + orders.after_validation_events(dispatcher, tracker)

    # Format first: a malformed value is asked for again before anything is looked up.
    validate_order_number = _validator(
        _format_check("order_number", order_numbers_in),
        "Accept one 6-digit order number (``#``, spaces and hyphens allowed); otherwise ask again.",
    )
    validate_email = _validator(
        _format_check("email", emails_in),
        "Accept one well-formed email address (lower-cased); otherwise ask again.",
    )

    # The shopper's words, when the slot mappings (NLU intent and entities) filled nothing.
    extract_order_number = _extractor(
        "order_number", _one_found(order_numbers_in), "One order number in the sentence."
    )
    extract_email = _extractor("email", _one_found(emails_in), "One email address in the sentence.")
    extract_return_item = _extractor(
        "return_item", returns.readable_item_choice, "A choice among the listed items."
    )
    extract_item_condition = _extractor(
        "item_condition", returns.readable_condition, "A condition the shopper describes."
    )
    extract_new_address = _extractor("new_address", _address, "A full postal address.")
    extract_order_confirmed = _extractor(
        "order_confirmed",
        _plain_yes_or_no,
        'A reply that opens with a plain yes ("correct, go ahead") or no ("nah, keep it").',
    )

    # The request's own steps: each is the function of that feature's module.
    validate_return_item = _validator(
        _delegate(returns, "validate_return_item"),
        'Which item(s) to return: a list number, "all", or part of the name.',
    )
    validate_item_condition = _validator(
        _delegate(returns, "validate_item_condition"),
        "The item's condition (unopened, like new, arrived damaged, used).",
    )
    validate_new_address = _validator(
        _delegate(orders, "validate_new_address"), "A full postal address."
    )
    validate_order_confirmed = _validator(
        _delegate(orders, "validate_order_confirmed"), "A yes to this change of this order."
    )
