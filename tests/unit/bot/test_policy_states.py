"""The shared replay gives every policy exactly the states Rasa 3.6's own replay gives."""

from __future__ import annotations

import copy
import itertools
import warnings
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core import constants
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph

from bot import policy_states
from bot.policy_states import RASA_METHOD, states_for_tracker_history

ROOT = Path(__file__).resolve().parents[3]

with warnings.catch_warnings():  # Rasa warns on every domain load ("Slot auto-fill ...")
    warnings.simplefilter("ignore", UserWarning)
    DOMAIN = Domain.load(str(ROOT / "bot" / "domain"))


def _conversations() -> list[list[Event]]:
    """The events of every rule and story ShopBot trains on and of every test story."""
    steps = []
    for path in sorted(
        [*(ROOT / "bot" / "data").rglob("*.yml"), *(ROOT / "tests" / "stories").glob("*.yml")]
    ):
        text = path.read_text(encoding="utf-8")
        if "rules:" in text or "stories:" in text:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                steps += YAMLStoryReader(DOMAIN).read_from_file(str(path))
    trackers = TrainingDataGenerator(
        StoryGraph(steps), DOMAIN, remove_duplicates=False, augmentation_factor=0
    ).generate()
    return [list(t.events) for t in trackers]


CONVERSATIONS = _conversations()
RULE_ONLY = {
    constants.RULE_ONLY_SLOTS: ["frustrated"],
    constants.RULE_ONLY_LOOPS: list(DOMAIN.form_names),
}
ARGUMENTS = [
    {},
    {"ignore_rule_only_turns": True},
    {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY},
    {"rule_only_data": RULE_ONLY},
]


def _tracker(events: list[Event], rule: bool = False) -> DialogueStateTracker:
    tracker = DialogueStateTracker("shopper", DOMAIN.slots, is_rule_tracker=rule)
    for event in events:
        tracker.update(event)
    return tracker


def _prefixes(events: list[Event]) -> list[list[Event]]:
    return [events[:n] for n in range(1, len(events) + 1)]


def _with_reverts(events: list[Event]) -> list[list[Event]]:
    """The conversation with an undo, a rewind, a restart and a new session in its middle."""
    middle = len(events) // 2
    return [
        [*events[:middle], cut, *events[middle:]]
        for cut in (ActionReverted(), UserUtteranceReverted(), Restarted(), SessionStarted())
    ]


def _with_hidden_turns(events: list[Event]) -> list[Event]:
    """The conversation as a live tracker holds it when the rule policy predicted every other
    action from rule-only data (``hide_rule_turn``, set only at prediction time)."""
    flip = itertools.cycle((True, False))
    return [
        ActionExecuted(e.action_name, e.policy, e.confidence, hide_rule_turn=next(flip))
        if isinstance(e, ActionExecuted) and e.action_name != "action_listen"
        else e
        for e in events
    ]


def _agree(events: list[Event], rule: bool = False) -> None:
    for arguments in ARGUMENTS:
        rasas = RASA_METHOD(DOMAIN, _tracker(events, rule), **arguments)
        tracker = _tracker(events, rule)
        ours = states_for_tracker_history(DOMAIN, tracker, **arguments)
        assert ours == rasas, arguments
        # a second call on the same tracker uses the kept replay and gives the same states
        assert states_for_tracker_history(DOMAIN, tracker, **arguments) == rasas


def test_there_are_conversations_with_forms_rules_and_hidden_turns() -> None:
    assert len(CONVERSATIONS) > 50
    every = list(itertools.chain.from_iterable(CONVERSATIONS))
    assert any(isinstance(e, ActionExecuted) and e.action_name in DOMAIN.form_names for e in every)


@pytest.mark.parametrize("number", range(len(CONVERSATIONS)))
def test_every_prefix_of_every_conversation(number: int) -> None:
    events = CONVERSATIONS[number]
    for prefix in _prefixes(events):
        _agree(prefix)
    _agree(events, rule=True)
    hidden = _with_hidden_turns(events)
    for prefix in _prefixes(hidden):
        _agree(prefix)
    for changed in [*_with_reverts(events), *_with_reverts(hidden)]:
        _agree(changed)


def test_a_long_conversation_of_every_story_one_after_the_other() -> None:
    events = [e for conversation in CONVERSATIONS[::3] for e in conversation]
    _agree(events)
    _agree(events[: len(events) // 3])


def _growing(events: list[Event], chunk: int = 1) -> None:
    """One tracker, ``chunk`` events at a time, asked after each chunk as the policies ask."""
    tracker = _tracker([])
    for start in range(0, len(events), chunk):
        for event in events[start : start + chunk]:
            tracker.update(event)
        for arguments in ARGUMENTS[:2]:  # the memoization policy's, then the rule policy's
            assert states_for_tracker_history(DOMAIN, tracker, **arguments) == RASA_METHOD(
                DOMAIN, tracker, **arguments
            ), (len(tracker.events), arguments)


@pytest.mark.parametrize("number", range(len(CONVERSATIONS)))
def test_a_growing_conversation_continues_the_replay(number: int) -> None:
    events = CONVERSATIONS[number]
    _growing(events)
    _growing(_with_hidden_turns(events))
    for changed in _with_reverts(events):
        _growing(changed)
        _growing(changed, chunk=4)  # a revert among several new events


def test_one_replay_per_tracker_continued_with_new_events(monkeypatch: pytest.MonkeyPatch) -> None:
    replays: list[int] = []
    original = DialogueStateTracker.init_copy

    def counted(self: DialogueStateTracker) -> Any:
        replays.append(1)
        return original(self)

    monkeypatch.setattr(DialogueStateTracker, "init_copy", counted)
    tracker = _tracker(CONVERSATIONS[0])
    replays.clear()
    for arguments in ARGUMENTS:
        states_for_tracker_history(DOMAIN, tracker, **arguments)
    assert len(replays) == 1
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("where is my order", {"name": "track_order"}))
    states_for_tracker_history(DOMAIN, tracker)
    assert len(replays) == 1  # new events: the replay goes on from where it stopped
    tracker.update(UserUtteranceReverted())
    states_for_tracker_history(DOMAIN, tracker)
    assert len(replays) == 2  # the rewind took back replayed events: from the start
    states_for_tracker_history(DOMAIN, _tracker(CONVERSATIONS[0]))
    assert len(replays) == 3  # another tracker: its own replay


def test_a_message_featurized_differently_is_replayed_again() -> None:
    message = UserUttered("where is my order", {"name": "track_order"})
    tracker = _tracker([ActionExecuted("action_listen"), message, ActionExecuted("order_form")])
    before = states_for_tracker_history(DOMAIN, tracker)
    message.use_text_for_featurization = False  # what DefinePrevUserUtteredFeaturization does
    after = states_for_tracker_history(DOMAIN, tracker)
    assert after == RASA_METHOD(DOMAIN, tracker) != before


def test_changing_the_states_given_changes_nothing_kept() -> None:
    tracker = _tracker([*CONVERSATIONS[1], SlotSet("frustrated", True), ActionExecuted("x")])
    first = states_for_tracker_history(DOMAIN, tracker)
    expected = copy.deepcopy(first)
    for state in first:  # what the featurizers do to the last user input, and more
        for sub in state.values():
            sub.clear()
        state.clear()
    assert states_for_tracker_history(DOMAIN, tracker) == expected


def test_install_replaces_rasas_method_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Domain, "states_for_tracker_history", RASA_METHOD)
    assert policy_states.install() is True
    assert Domain.states_for_tracker_history is states_for_tracker_history
    assert policy_states.install() is True  # idempotent
    monkeypatch.setattr(Domain, "states_for_tracker_history", lambda *a, **k: [])
    assert policy_states.install() is False  # not Rasa 3.6's method: left alone
