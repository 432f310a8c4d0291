"""A copy of a conversation's tracker without replaying every event into it.

Before it runs each predicted action, Rasa 3.6's processor copies the tracker (``_run_action``:
``tracker.copy()``, so a rejected action's events can be dropped), and its form actions do the
same. ``DialogueStateTracker.copy`` builds a new tracker and applies every event of the
conversation to it again (``travel_back_in_time(inf)``): ~4% of the Rasa server's CPU under the
Throughput mix, growing with the conversation.

:func:`copy_tracker` builds the same tracker from the state the original already holds: Rasa's
new tracker (``init_copy``: the slots copied, the same sender, history limit and rule flag, no
model or assistant id, as Rasa's copy has none), the same event objects, each slot's value and
whether it has been set, and the state that applying the events sets (paused, the follow-up
action, the latest action, user message and bot message, the active loop). It relies on what
Rasa relies on for every tracker it stores: the state is what its events make of it.
``tests/unit/bot/test_tracker_copy.py`` checks every attribute against Rasa's copy on every prefix
of the conversations ShopBot trains and tests on. Installed by :mod:`bot.rasa_server` with
:mod:`bot.policy_states` (``SHOPBOT_SHARED_STATES``); it does nothing when Rasa's method is not
the one it replaces.
"""

from __future__ import annotations

import dataclasses

from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_methods

RASA_METHOD = DialogueStateTracker.copy


def copy_tracker(self: DialogueStateTracker) -> DialogueStateTracker:
    """Rasa's ``DialogueStateTracker.copy`` (every event applied again), from the held state."""
    if self._max_event_history is not None or type(self.slots) is not dict:
        # A history limit: the events kept no longer make the state. Any-slot trackers (no
        # domain) make slots on first use. Both: Rasa's way.
        return RASA_METHOD(self)
    new = self.init_copy()
    new.events.extend(self.events)
    for name, slot in self.slots.items():
        copied = new.slots[name]
        copied._value = slot._value
        copied._has_been_set = slot._has_been_set
    new._paused = self._paused
    new.followup_action = self.followup_action
    new.latest_action = self.latest_action
    new.latest_message = self.latest_message
    new.latest_bot_utterance = self.latest_bot_utterance
    # Rasa changes the active loop in place (interrupted, rejected): the copy gets its own.
    new.active_loop = dataclasses.replace(self.active_loop) if self.active_loop else None
    return new


def install() -> bool:
    """Copy trackers from their state; True when it is in place."""
    return rasa_methods.replace(
        DialogueStateTracker,
        "copy",
        copy_tracker,
        RASA_METHOD,
        "Trackers are copied from their state, not by replaying their events",
    )
