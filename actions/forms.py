"""Validation of ``order_form``: the order number and the email address by format, then (through
``actions.identity``, ``actions.orders`` and ``actions.returns``) ownership and the request's steps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import orders, returns
from actions.validation import normalize_email, normalize_order_number, shorten

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


def _format_check(slot: str, normalize: Callable[[Any], str | None]) -> _Check:
    """``normalize`` the value; when that gives None, say why (``utter_invalid_<slot>``) and
    leave the slot empty so the form asks again."""

    def check(
        slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        normalized = normalize(slot_value)
        if normalized is None:
            label = slot.replace("_", " ")
            logger.info("Rejected %s %r from %s", label, shorten(slot_value), tracker.sender_id)
            dispatcher.utter_message(
                response=f"utter_invalid_{slot}", bad_value=shorten(slot_value)
            )
        return {slot: normalized}

    return check


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
        """Validate the slots, then check ownership and choose the request's plan."""
        events = orders.start_events(tracker) + orders.stray_order_number_events(tracker)
        validated = await super().get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(validated)
        return events + validated + orders.after_validation_events(dispatcher, tracker)

    # Format first: a malformed value is asked for again before anything is looked up.
    validate_order_number = _validator(
        _format_check("order_number", normalize_order_number),
        "Accept a 6-digit order number (``#`` and spaces allowed); otherwise ask again.",
    )
    validate_email = _validator(
        _format_check("email", normalize_email),
        "Accept a well-formed email address (lower-cased); otherwise ask again.",
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
