"""A tracker copied from its state is the tracker Rasa 3.6's copy (every event applied again)
gives, attribute by attribute, on every prefix of ShopBot's conversations."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    Event,
    LoopInterrupted,
    SlotSet,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot import tracker_copy
from bot.tracker_copy import RASA_METHOD, copy_tracker
from tests.unit.bot.test_policy_states import (
    CONVERSATIONS,
    DOMAIN,
    _prefixes,
    _tracker,
    _with_hidden_turns,
    _with_reverts,
)


def _held(tracker: DialogueStateTracker) -> dict[str, Any]:
    """Everything a tracker holds, slots as (value, set), events by identity."""
    held = {k: v for k, v in vars(tracker).items() if k not in ("slots", "events")}
    held.pop("_shopbot_policy_replay", None)
    held["slots"] = {n: (s.value, s.has_been_set, type(s)) for n, s in tracker.slots.items()}
    held["events"] = [id(e) for e in tracker.events]
    held["state"] = tracker.current_state(EventVerbosity.ALL)
    held["past"] = tracker.past_states(DOMAIN)
    return held


def _agree(events: list[Event]) -> None:
    tracker = _tracker(events)
    tracker.model_id, tracker.assistant_id = "model", "shopbot"  # as the processor sets them
    ours, rasas = copy_tracker(tracker), RASA_METHOD(tracker)
    assert _held(ours) == _held(rasas)
    assert ours.events is not tracker.events and ours.slots is not tracker.slots
    assert all(ours.slots[n] is not s for n, s in tracker.slots.items())
    if tracker.active_loop is not None:
        assert ours.active_loop is not tracker.active_loop


LOOPS = [
    BotUttered("What's your order number?", {"buttons": []}),
    ActionExecuted("action_listen"),
    ActiveLoop("order_form"),
    SlotSet("requested_slot", "order_number"),
    LoopInterrupted(True),
    ActionExecutionRejected("order_form"),
    ConversationPaused(),
]


@pytest.mark.parametrize("number", range(len(CONVERSATIONS)))
def test_every_prefix_copies_as_rasa_copies(number: int) -> None:
    events = CONVERSATIONS[number]
    for prefix in _prefixes([*events, *LOOPS]):
        _agree(prefix)
    for changed in [*_with_reverts(events), _with_hidden_turns(events)]:
        _agree(changed)


def test_a_change_to_the_copy_leaves_the_original_alone() -> None:
    tracker = _tracker([*CONVERSATIONS[0], *LOOPS[:3]])
    before = _held(tracker)
    copied = copy_tracker(tracker)
    copied.update(SlotSet("requested_slot", "email"))
    copied.update(ActionExecutionRejected("order_form"))
    copied.update(ActiveLoop(None))
    assert _held(tracker) == before


def test_a_history_limit_is_copied_rasas_way(monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = DialogueStateTracker("shopper", DOMAIN.slots, max_event_history=3)
    for event in CONVERSATIONS[0]:
        tracker.update(event)
    calls: list[int] = []
    monkeypatch.setattr(tracker_copy, "RASA_METHOD", lambda t: calls.append(1) or RASA_METHOD(t))
    copy_tracker(tracker)
    assert calls == [1]


def test_install_replaces_rasas_method_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DialogueStateTracker, "copy", RASA_METHOD)
    assert tracker_copy.install() is True
    assert DialogueStateTracker.copy is copy_tracker
    assert tracker_copy.install() is True
    monkeypatch.setattr(DialogueStateTracker, "copy", lambda self: self)
    assert tracker_copy.install() is False
