"""The frustration slots computed in the Rasa server equal what the action server's
``action_validate_slot_mappings`` gives through Rasa's own call, turn by turn."""

from __future__ import annotations

import asyncio
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.slot_mappings import ValidateSlotMappings
from bot import local_slot_validation
from bot.local_slot_validation import RASA_METHOD, validate_locally

with warnings.catch_warnings():  # Rasa warns on every domain load ("Slot auto-fill ...")
    warnings.simplefilter("ignore", UserWarning)
    DOMAIN = Domain.load(str(Path(__file__).resolve().parents[3] / "bot" / "domain"))


def said(intent: str, sentiment: str = "neutral", confidence: float = 0.9) -> UserUttered:
    """A user turn as the NLU pipeline parses it (intent and the sentiment parse data)."""
    entities = [{"entity": "sentiment", "value": sentiment, "confidence": confidence}]
    return UserUttered(
        f"({intent}, {sentiment})",
        intent={"name": intent, "confidence": 0.9},
        entities=entities,
        parse_data={
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities,
            "sentiment": {"label": sentiment, "confidence": confidence},
        },
    )


async def _sdk_call(_: Any, name: str, output_channel: Any, nlg: Any, tracker: Any, domain: Any):  # type: ignore[no-untyped-def]
    """What Rasa's RemoteAction does, in process: the tracker as JSON to the SDK action, its
    events back as JSON."""
    assert name == "action_validate_slot_mappings"
    state = json.loads(json.dumps(tracker.current_state(EventVerbosity.ALL)))
    events = await ValidateSlotMappings().run(
        CollectingDispatcher(), Tracker.from_dict(state), domain.as_dict()
    )
    return [Event.from_parameters(e) for e in json.loads(json.dumps(events))]


def extracted(events: list[Event], method: Any, monkeypatch: pytest.MonkeyPatch) -> list[SlotSet]:
    """The events of ``action_extract_slots`` after ``events``, ``method`` as the validation step."""
    monkeypatch.setattr(ActionExtractSlots, "_execute_validation_action", method)
    monkeypatch.setattr(ActionExtractSlots, "_run_custom_action", _sdk_call, raising=False)
    tracker = DialogueStateTracker.from_events("shopper", events, slots=DOMAIN.slots)
    out = asyncio.run(ActionExtractSlots(None).run(None, None, tracker, DOMAIN))  # type: ignore[arg-type]
    assert all(isinstance(e, SlotSet) for e in out)
    return out


def slots_after(
    events: list[Event], method: Any, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """The slots the turn's extracted events set."""
    return {e.key: e.value for e in extracted(events, method, monkeypatch)}


def state_after(events: list[Event], method: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every slot's value and whether it has been set, once the turn's events are applied, and
    the states the policies see."""
    out = extracted(events, method, monkeypatch)
    tracker = DialogueStateTracker.from_events("shopper", [*events, *out], slots=DOMAIN.slots)
    tracker.update(ActionExecuted("action_listen"))
    slots = {name: (s.value, s.has_been_set) for name, s in tracker.slots.items()}
    return slots, tracker.past_states(DOMAIN), tracker.past_states(DOMAIN, omit_unset_slots=True)


CONVERSATIONS = {
    "a greeting": [said("greet")],
    "one angry message": [said("greet"), said("order_status", "negative", 0.97)],
    "angry twice": [said("complaint", "negative", 0.9), said("order_status", "negative", 0.95)],
    "two fallbacks": [said("nlu_fallback"), said("out_of_scope")],
    "after the offer of a human": [
        said("complaint", "negative", 0.99),
        ActionExecuted("utter_offer_human"),
        said("thank", "positive"),
    ],
}


@pytest.mark.parametrize("name", list(CONVERSATIONS))
def test_local_slots_equal_the_action_servers(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    events = [ActionExecuted("action_session_start"), SessionStarted(), *CONVERSATIONS[name]]
    remote = slots_after(events, RASA_METHOD, monkeypatch)
    local = slots_after(events, validate_locally, monkeypatch)
    # The local path leaves out the signal slots set again to the value they hold.
    assert {k: v for k, v in remote.items() if k in local} == local
    assert state_after(events, validate_locally, monkeypatch) == state_after(
        events, RASA_METHOD, monkeypatch
    )


def test_a_signal_slot_is_set_only_when_it_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    start = [ActionExecuted("action_session_start"), SessionStarted()]
    first = slots_after([*start, said("greet")], validate_locally, monkeypatch)
    # The first message sets all four, even to their initial values (they have not been set).
    assert first == {
        "sentiment": "neutral",
        "frustrated": False,
        "frustration_score": 0.0,
        "frustration_cause": None,
    }
    calm = [*start, said("greet"), *[SlotSet(k, v) for k, v in first.items()]]
    assert slots_after([*calm, said("order_status")], validate_locally, monkeypatch) == {}
    angry = slots_after([*calm, said("complaint", "negative", 0.99)], validate_locally, monkeypatch)
    assert angry["sentiment"] == "negative" and angry["frustration_score"] > 0
    # Rasa's own path sets them again on every message.
    assert set(slots_after([*calm, said("order_status")], RASA_METHOD, monkeypatch)) == set(first)


def test_angry_twice_is_frustrated_on_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        *CONVERSATIONS["angry twice"],
    ]
    assert slots_after(events, validate_locally, monkeypatch)["frustrated"] is True
    assert slots_after(events, RASA_METHOD, monkeypatch)["frustrated"] is True


def test_the_action_servers_validation_does_nothing_else() -> None:
    # The local path computes only the frustration slots: a new extract_/validate_ method on the
    # action server's ValidationAction must be added to bot/local_slot_validation.py too.
    methods = {m for m in dir(ValidateSlotMappings) if m.startswith(("extract_", "validate_"))}
    assert methods == {
        "extract_frustrated",
        "extract_frustration_score",
        "extract_frustration_cause",
    }


def test_install_replaces_rasas_step_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ActionExtractSlots, "_execute_validation_action", RASA_METHOD)
    assert local_slot_validation.install() is True
    assert ActionExtractSlots._execute_validation_action is validate_locally
    assert local_slot_validation.install() is True  # idempotent
    monkeypatch.setattr(ActionExtractSlots, "_execute_validation_action", lambda *a: [])
    assert local_slot_validation.install() is False  # not Rasa 3.6's method: left alone
