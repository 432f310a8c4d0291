"""Fill the frustration slots inside the Rasa server instead of calling the action server.

After every user message Rasa 3.6's ``action_extract_slots`` calls the action server's
``action_validate_slot_mappings`` (``ActionExtractSlots._execute_validation_action``): the whole
tracker as JSON over HTTP, Rasa's check of the reply, the SDK's tracker parse — for two slots,
``frustrated`` and ``frustration_score``, computed by a pure function of the events
(:func:`core.frustration.frustration_slots`, which the action server's action also uses). Greetings, thanks and every other turn that needs
no custom action paid that round trip, and under load they waited behind the action server's
generator work.

:func:`install` replaces that one method with :func:`validate_locally`, which computes the same
slots from the same events in the Rasa server and returns the events Rasa's own method returns
after the SDK's ``ValidationAction``: the SDK's validation events (its extracted frustration slots
and the turn's other global slot events, unchanged: ShopBot defines no ``validate_<slot>``), then
Rasa's extracted slot events it did not return — less the per-turn signal slots
(``PER_TURN_SLOTS``) set again to the value they already hold. It is installed by the ``ops`` channel at start-up
when ``SHOPBOT_SLOT_VALIDATION=local`` (the default); ``remote`` keeps Rasa's call (the Throughput
benchmark's baseline). It does nothing when Rasa's method is not the one it replaces (another Rasa
version): the action server is then called as before. ``tests/unit/bot/test_local_slot_validation``
checks both paths give the same slots, and that the action server's validation action still does
nothing else.
"""

from __future__ import annotations

from typing import Any, cast

from rasa.core.actions.action import ActionExtractSlots
from rasa.shared.core.constants import ACTION_VALIDATE_SLOT_MAPPINGS
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_methods
from core.frustration import FRUSTRATION_SLOTS, frustration_slots

PER_TURN_SLOTS = frozenset({"sentiment", *FRUSTRATION_SLOTS})
"""Slots set from every user message (its sentiment, the frustration over the last turns).
Only a change is kept: the same value again changes no slot, no policy state and nothing a
reader of the conversation needs, and those three events were a fifth of every stored
conversation's events, each one stored, published, read back, replayed by every policy and
posted to the action server with every later call (2026-12-07, issue 17)."""

RASA_METHOD = ActionExtractSlots._execute_validation_action
"""Rasa's own method, as imported (the tests compare both)."""


async def validate_locally(
    self: ActionExtractSlots,
    extraction_events: list[Event],
    output_channel: Any,
    nlg: Any,
    tracker: DialogueStateTracker,
    domain: Any,
) -> list[Event]:
    """Rasa's ``_execute_validation_action``, with the frustration slots computed here."""
    slot_events = [event for event in extraction_events if isinstance(event, SlotSet)]
    if ACTION_VALIDATE_SLOT_MAPPINGS not in domain.user_actions:
        return cast(list[Event], slot_events)
    events = [e.as_dict() for e in tracker.events_after_latest_restart()]
    events += [e.as_dict() for e in slot_events]
    computed = [SlotSet(name, value) for name, value in frustration_slots(events).items()]
    # The SDK returns a SlotSet for every global slot set since the user's message: its own two,
    # and Rasa's extracted ones with their values (no validate_<slot> changes them).
    validated = [e for e in slot_events if e.key not in FRUSTRATION_SLOTS] + computed
    return cast(list[Event], [e for e in validated if not _unchanged_signal(e, tracker)])


def _unchanged_signal(event: SlotSet, tracker: DialogueStateTracker) -> bool:
    """A per-turn signal slot set again to the value it already holds (and has been set to)."""
    if event.key not in PER_TURN_SLOTS:
        return False
    slot = tracker.slots.get(event.key)
    return bool(slot is not None and slot.has_been_set and slot.value == event.value)


def install() -> bool:
    """Compute the frustration slots in this process; True when it is in place."""
    return rasa_methods.replace(
        ActionExtractSlots,
        "_execute_validation_action",
        validate_locally,
        RASA_METHOD,
        "Frustration slots are computed in the Rasa server (no action server call)",
    )
