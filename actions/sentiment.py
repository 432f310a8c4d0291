"""The action server's frustration slots: the ``ValidationAction`` mixin and an explicit action.

The score itself is :mod:`core.frustration` (pure functions of the tracker's events, shared with
the Rasa server's local slot validation, :mod:`bot.local_slot_validation`).

Wiring (domain + the one ``action_validate_slot_mappings`` of the action server)::

    slots:
      frustrated: {type: bool, initial_value: false, influence_conversation: true,
                   mappings: [{type: custom}]}
      frustration_score: {type: float, influence_conversation: false, mappings: [{type: custom}]}
      frustration_cause: {type: categorical, values: [unhappy, not_helped],
                          influence_conversation: false, mappings: [{type: custom}]}

    class ValidateSlotMappings(FrustrationSlotsMixin, ValidationAction): ...

or run :class:`ActionCheckFrustration` (``action_check_frustration``) where a flow needs it.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from core.frustration import (
    DEFAULT_CONFIG,
    FRUSTRATION_SLOTS,
    FrustrationConfig,
    frustration_score,
    frustration_slots,
    is_frustrated,
    turn_score,
)

__all__ = [
    "FRUSTRATION_SLOTS",
    "ActionCheckFrustration",
    "FrustrationConfig",
    "FrustrationSlotsMixin",
    "frustration_score",
    "frustration_slots",
    "is_frustrated",
    "turn_score",
]

logger = logging.getLogger(__name__)


class FrustrationSlotsMixin:
    """``extract_frustrated`` / ``extract_frustration_score`` / ``extract_frustration_cause`` for
    a ``ValidationAction``.

    Mix into the action server's one ``ValidationAction`` so the custom-mapped slots are
    recomputed after every user message.
    """

    frustration_config: FrustrationConfig = DEFAULT_CONFIG

    async def extract_frustrated(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Return ``{"frustrated": bool}`` for the current tracker."""
        return {
            "frustrated": frustration_slots(tracker.events, self.frustration_config)["frustrated"]
        }

    async def extract_frustration_score(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Return ``{"frustration_score": float}`` for the current tracker."""
        slots = frustration_slots(tracker.events, self.frustration_config)
        return {"frustration_score": slots["frustration_score"]}

    async def extract_frustration_cause(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Return ``{"frustration_cause": "unhappy" | "not_helped" | None}``."""
        slots = frustration_slots(tracker.events, self.frustration_config)
        return {"frustration_cause": slots["frustration_cause"]}


class ActionCheckFrustration(Action):
    """Set ``frustration_score``, ``frustrated`` and ``frustration_cause`` from the recent user
    turns."""

    def name(self) -> str:
        """Return the action name the domain refers to."""
        return "action_check_frustration"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Compute the score and return the frustration slots' events."""
        slots = frustration_slots(tracker.events)
        logger.debug("Frustration of %s: %.3f", tracker.sender_id, slots["frustration_score"])
        return [SlotSet(name, slots[name]) for name in FRUSTRATION_SLOTS]
