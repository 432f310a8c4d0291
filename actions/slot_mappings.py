"""The action server's one global slot validation: recomputes frustration after every message."""

from __future__ import annotations

from rasa_sdk.forms import ValidationAction

from actions.sentiment import FrustrationSlotsMixin


class ValidateSlotMappings(FrustrationSlotsMixin, ValidationAction):
    """``action_validate_slot_mappings``: fills the custom-mapped ``frustrated`` and
    ``frustration_score`` slots from the sentiment and intents of the recent user turns."""
