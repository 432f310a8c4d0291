"""Validation of ``order_form``: the order number and the email address, by format."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.validation import normalize_email, normalize_order_number, shorten

logger = logging.getLogger(__name__)


class ValidateOrderForm(FormValidationAction):
    """Checks the format of the order number and email before anything is looked up."""

    def name(self) -> str:
        """Return the action name the domain refers to."""
        return "validate_order_form"

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
