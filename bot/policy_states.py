"""One replay of the conversation per prediction, shared by every policy that asks for its states.

To predict the next action, each of ShopBot's policies asks for the conversation's states
(``Domain.states_for_tracker_history``): the memoization policy once, the rule policy twice (with
the last message's text, then its intent). Each time Rasa 3.6 replays every event of the
conversation into a new tracker (``generate_all_prior_trackers``) and builds the state at every
action from all the slots (``get_active_state``) — three replays of the same events per
prediction, two or more predictions per shopper message. Under the Throughput mix that was
~11% of the Rasa server's CPU, two thirds of it the replay itself.

:func:`states_for_tracker_history` replays once per tracker and event count and keeps what each
step of the replay gives (the state, whether the turn is hidden, the follow-up action, the latest
action and the active loop); each call then runs Rasa's own loop over those steps with its own
arguments (``ignore_rule_only_turns``, ``rule_only_data``) on fresh copies of the states, which
the featurizers change in place. The answer is Rasa's: ``tests/unit/bot/test_policy_states.py``
compares both on every prefix of conversations with forms, rules, reverts and restarts.

The replay is kept for the last tracker asked about only, and used again while it holds the
same events (the same number, the same last event object): every prediction's policies run one
after the other on one tracker in one call of Rasa's graph. Installed by
:mod:`bot.rasa_server` when ``SHOPBOT_SHARED_STATES`` is on (the default; off is Rasa's own
replay per call, the benchmark's baseline). It does nothing when Rasa's method is not the one it
replaces (another Rasa version).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, NamedTuple

from rasa.shared.core import constants
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

RASA_METHOD = Domain.states_for_tracker_history
_RASA_QUALNAME = "Domain.states_for_tracker_history"


class Step(NamedTuple):
    """What Rasa's loop reads from the replayed tracker at one step."""

    state: dict[str, Any]
    hide_rule_turn: bool
    followup_action: str | None
    latest_action_name: str | None
    active_loop_name: str | None
    prev_action: dict[str, Any] | None


class _Replay(NamedTuple):
    tracker: DialogueStateTracker
    domain: Domain
    size: int
    last_event: Any
    omit_unset_slots: bool
    steps: list[Step]


_last = threading.local()


def replay(domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool) -> list[Step]:
    """The steps of the tracker's replay, from the last call's when it holds the same events."""
    events = tracker.events
    count, last_event = len(events), events[-1] if events else None
    kept: _Replay | None = getattr(_last, "replay", None)
    if (
        kept is not None
        and kept.tracker is tracker
        and kept.domain is domain
        and kept.size == count
        and kept.last_event is last_event
        and kept.omit_unset_slots == omit_unset_slots
    ):
        return kept.steps
    steps = [
        Step(
            domain.get_active_state(tr, omit_unset_slots=omit_unset_slots),
            hide_rule_turn,
            tr.followup_action,
            tr.latest_action_name,
            tr.active_loop_name,
            domain._get_prev_action_sub_state(tr),
        )
        for tr, hide_rule_turn in tracker.generate_all_prior_trackers()
    ]
    _last.replay = _Replay(tracker, domain, count, last_event, omit_unset_slots, steps)
    return steps


def _fresh(step: Step, prev_action: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of the step's state, each sub-state copied, holding ``prev_action`` (the copy of
    the step's previous action) as its previous action, the same object, as Rasa's does."""
    return {
        kind: prev_action if sub is step.prev_action else dict(sub)
        for kind, sub in step.state.items()
    }


def states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Rasa 3.6's ``Domain.states_for_tracker_history`` over the shared replay (its loop, line
    for line, reading the step instead of the replayed tracker)."""
    states: list[dict[str, Any]] = []
    last_ml_action_sub_state = None
    turn_was_hidden = False
    for step in replay(self, tracker, omit_unset_slots):
        prev_action = dict(step.prev_action) if step.prev_action is not None else None
        if ignore_rule_only_turns:
            if not turn_was_hidden:
                last_ml_action_sub_state = prev_action
            if not step.followup_action and step.latest_action_name != step.active_loop_name:
                turn_was_hidden = step.hide_rule_turn
            if turn_was_hidden:
                continue
        state = _fresh(step, prev_action)
        if ignore_rule_only_turns:
            self._remove_rule_only_features(state, rule_only_data)
            if states:
                self._substitute_rule_only_user_input(state, states[-1])
            if last_ml_action_sub_state:
                state[constants.PREVIOUS_ACTION] = last_ml_action_sub_state
        states.append(self._clean_state(state))
    return states


def install() -> bool:
    """Share one replay among the policies; True when it is in place."""
    current = Domain.states_for_tracker_history
    if current is states_for_tracker_history:
        return True
    if getattr(current, "__qualname__", "") != _RASA_QUALNAME or current is not RASA_METHOD:
        logger.warning("Rasa's policy states are not the ones expected; left as they are")
        return False
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]
    logger.info("The policies share one replay of the conversation per prediction")
    return True
