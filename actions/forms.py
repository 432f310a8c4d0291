"""Validation of ``order_form``: the order number and the email address by format, then (through
``actions.identity``, ``actions.orders`` and ``actions.returns``) ownership and the request's steps."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import orders, returns
from actions.validation import normalize_email, normalize_order_number, shorten

logger = logging.getLogger(__name__)


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

    def validate_order_number(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Accept a 6-digit order number (``#`` and spaces allowed); otherwise ask again."""
        number = normalize_order_number(slot_value)
        if number is None:
            logger.info("Rejected order number %r from %s", shorten(slot_value), tracker.sender_id)
            dispatcher.utter_message(
                response="utter_invalid_order_number", bad_value=shorten(slot_value)
            )
            return {"order_number": None}
        return {"order_number": number}

    def validate_email(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Accept a well-formed email address (lower-cased); otherwise ask again."""
        email = normalize_email(slot_value)
        if email is None:
            logger.info("Rejected email %r from %s", shorten(slot_value), tracker.sender_id)
            dispatcher.utter_message(response="utter_invalid_email", bad_value=shorten(slot_value))
            return {"email": None}
        return {"email": email}

    def validate_return_item(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Which item(s) to return: a list number, "all", or part of the name."""
        return returns.validate_return_item(slot_value, dispatcher, tracker)

    def validate_item_condition(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The item's condition (unopened, like new, arrived damaged, used)."""
        return returns.validate_item_condition(slot_value, dispatcher, tracker)

    def validate_new_address(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A full postal address."""
        return orders.validate_new_address(slot_value, dispatcher, tracker)

    def validate_order_confirmed(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A yes to this change of this order."""
        return orders.validate_order_confirmed(slot_value, dispatcher, tracker)
