"""Handing the conversation to a human agent."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

logger = logging.getLogger(__name__)


class ActionHandoff(Action):
    """Tell the shopper a human is coming and flag the conversation for the agent queue.

    The flag lives in the tracker (``handoff_requested``) so the agent console can list waiting
    conversations straight from the tracker store.
    """

    def name(self) -> str:
        """Return the action name the domain refers to."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Reply with the handoff message and set ``handoff_requested``."""
        logger.info("Handoff requested by %s", tracker.sender_id)
        dispatcher.utter_message(response="utter_handoff")
        return [SlotSet("handoff_requested", True)]
