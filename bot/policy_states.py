"""One replay of the conversation, shared by the policies and continued from prediction to prediction.

To predict the next action, each of ShopBot's policies asks for the conversation's states
(``Domain.states_for_tracker_history``): the memoization policy once, the rule policy twice (with
the last message's text, then its intent). Each time Rasa 3.6 replays every event of the
conversation into a new tracker (``generate_all_prior_trackers``) and builds the state at every
action from all the slots (``get_active_state``) — three replays of the same events per
prediction, two or more predictions per shopper message. Under the Throughput mix that was
~11% of the Rasa server's CPU, two thirds of it the replay itself.

:func:`states_for_tracker_history` runs Rasa's own loop, with its own arguments
(``ignore_rule_only_turns``, ``rule_only_data``), over steps it keeps on the tracker: what each
step of the replay gives (the state, whether the turn is hidden, the follow-up action, the latest
action and the active loop), on fresh copies of the states, which the featurizers change in
place. The next policy asking about the same events gets the kept steps; the next prediction on
the same tracker (after the action's events) continues the replay from where it stopped when the
events Rasa applies (``applied_events``: without the reverted ones) begin with the ones replayed,
and replays from the start when they do not (an undo, a rewind, a restart, a form's loop).
Rasa changes one thing in place on an event object that a state depends on — how the last user
message is featurized (``DefinePrevUserUtteredFeaturization``) — so each step remembers that flag
and kept steps whose message changed it are replayed again.

The answer is Rasa's: ``tests/unit/bot/test_policy_states.py`` compares both on every prefix of
conversations with forms, rules, hidden turns, reverts and restarts, fresh and growing one event
at a time. Installed by :mod:`bot.rasa_server` when ``SHOPBOT_SHARED_STATES`` is on (the
default; off is Rasa's own replay per call, the benchmark's baseline). It does nothing when
Rasa's method is not the one it replaces (another Rasa version).
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

from rasa.shared.core import constants
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_methods

RASA_METHOD = Domain.states_for_tracker_history


class Step(NamedTuple):
    """What Rasa's loop reads from the replayed tracker at one step."""

    state: dict[str, Any]
    hide_rule_turn: bool
    followup_action: str | None
    latest_action_name: str | None
    active_loop_name: str | None
    prev_action: dict[str, Any] | None
    message: UserUttered | None
    """The latest user message: its state depends on ``use_text_for_featurization``, which Rasa
    changes in place on the event object (``DefinePrevUserUtteredFeaturization``)."""
    text_for_featurization: bool | None
    """That flag when the step was taken."""


class _Replay(NamedTuple):
    domain: Domain
    omit_unset_slots: bool
    size: int
    last_event: Event | None
    applied: list[Event]
    steps: list[Step]
    """The steps at each action of ``applied``; the replay continues from ``replayed``."""
    replayed: DialogueStateTracker
    every_step: list[Step]
    """``steps`` and the step after the last event."""


_KEPT = "_shopbot_policy_replay"
"""The tracker's attribute that keeps its replay, for the next prediction on the same tracker."""


def _step(domain: Domain, tr: DialogueStateTracker, hide: bool, omit: bool) -> Step:
    message = tr.latest_message
    return Step(
        domain.get_active_state(tr, omit_unset_slots=omit),
        hide,
        tr.followup_action,
        tr.latest_action_name,
        tr.active_loop_name,
        domain._get_prev_action_sub_state(tr),
        message,
        message.use_text_for_featurization if message is not None else None,
    )


def _still_true(steps: list[Step]) -> bool:
    """Whether no step's user message has changed how it is featurized since the step."""
    return all(
        s.message is None or s.message.use_text_for_featurization == s.text_for_featurization
        for s in steps
    )


def replay(domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool) -> list[Step]:
    """The steps of the tracker's replay (Rasa's ``generate_all_prior_trackers``): the kept ones
    when the tracker holds the same events, the kept ones and the new events' when its applied
    events continue the ones replayed, else a new replay."""
    events = tracker.events
    size, last_event = len(events), events[-1] if events else None
    kept: _Replay | None = tracker.__dict__.get(_KEPT)
    if (
        kept is None
        or kept.domain is not domain
        or kept.omit_unset_slots != omit_unset_slots
        or not _still_true(kept.steps)
    ):
        kept = None
    elif kept.size == size and kept.last_event is last_event and _still_true(kept.every_step[-1:]):
        return kept.every_step  # the steps before the last were checked just above
    applied = tracker.applied_events()
    done = len(kept.applied) if kept is not None else 0
    if kept is not None and done <= len(applied) and all(map(operator.is_, kept.applied, applied)):
        del tracker.__dict__[_KEPT]  # continued in place: kept again only once complete
        tr, steps = kept.replayed, kept.steps
    else:
        tr, steps, done = tracker.init_copy(), [], 0
    for event in applied[done:]:
        if isinstance(event, ActionExecuted):
            steps.append(_step(domain, tr, event.hide_rule_turn, omit_unset_slots))
        tr.update(event)
    every_step = [*steps, _step(domain, tr, False, omit_unset_slots)]
    tracker.__dict__[_KEPT] = _Replay(
        domain, omit_unset_slots, size, last_event, applied, steps, tr, every_step
    )
    return every_step


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
    return rasa_methods.replace(
        Domain,
        "states_for_tracker_history",
        states_for_tracker_history,
        RASA_METHOD,
        "The policies share one replay of the conversation, continued between predictions",
    )
