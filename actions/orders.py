"""Order requests after ``order_form`` has collected a well-formed order number and email."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

logger = logging.getLogger(__name__)

_REQUEST_WORDS = {
    "track_order": "track",
    "cancel_order": "cancel",
    "change_order": "change",
    "change_shipping_address": "change the shipping address of",
    "get_refund": "get a refund for",
    "track_refund": "check the refund of",
    "check_invoice": "check the invoice of",
    "get_invoice": "get the invoice of",
    "payment_issue": "sort out the payment of",
}


class ActionOrderRequest(Action):
    """Acknowledge the collected order details for the requested operation."""

    def name(self) -> str:
        """Return the action name the domain refers to."""
        return "action_order_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Confirm the order number, email and requested operation."""
        request = tracker.get_slot("order_request") or "track_order"
        number = tracker.get_slot("order_number")
        email = tracker.get_slot("email")
        verb = _REQUEST_WORDS.get(request, "look at")
        logger.info("Order request %s for order %s from %s", request, number, tracker.sender_id)
        dispatcher.utter_message(
            text=f"Thanks! I have order #{number} and {email}. I'll {verb} that order for you "
            "as soon as I've matched it with our records."
        )
        return []
