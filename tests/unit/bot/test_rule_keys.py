"""The rule policy's search with early stopping finds exactly the rules Rasa 3.6's search finds."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import SHOULD_NOT_BE_SET

from bot import rule_keys
from bot.policy_states import RASA_METHOD as RASA_STATES
from bot.rule_keys import RASA_METHOD, get_possible_keys
from tests.unit.bot.test_policy_states import CONVERSATIONS, DOMAIN, _prefixes, _tracker

POLICY = RulePolicy.__new__(RulePolicy)  # the search reads nothing of the policy itself


def _states(events: list[Any]) -> list[dict[str, Any]]:
    return RASA_STATES(DOMAIN, _tracker(events))


def _lookup() -> dict[str, str]:
    """Rule keys as the rule policy stores them (its states as JSON), of one to five states
    ending at every point of every conversation, some with a value that should not be set."""
    randomly = random.Random(7)
    keys: dict[str, str] = {}
    for events in CONVERSATIONS:
        states = _states(events)
        for end in range(1, len(states) + 1):
            for length in range(1, 6):
                rule = json.loads(json.dumps(states[max(0, end - length) : end]))
                if randomly.random() < 0.2:
                    for sub in rule[-1].values():
                        for name in list(sub)[:1]:
                            sub[name] = SHOULD_NOT_BE_SET
                keys[json.dumps(rule)] = "some_action"
    return keys


LOOKUP = _lookup()


def test_the_rules_are_many_and_of_several_lengths() -> None:
    assert len(LOOKUP) > 300
    assert {len(json.loads(k)) for k in LOOKUP} == {1, 2, 3, 4, 5}


@pytest.mark.parametrize("number", range(0, len(CONVERSATIONS), 5))
def test_every_prefix_finds_rasas_rules(number: int) -> None:
    for prefix in _prefixes(CONVERSATIONS[number])[1::2]:
        states = _states(prefix)
        rasas = RASA_METHOD(POLICY, LOOKUP, states)
        assert get_possible_keys(POLICY, LOOKUP, states) == rasas
        for at in (0, len(states) // 2):  # a state that should not be set, set
            changed = json.loads(json.dumps(states))
            for sub in changed[at].values() if changed else ():
                for name in list(sub)[:1]:
                    sub[name] = "a value"
            assert get_possible_keys(POLICY, LOOKUP, changed) == RASA_METHOD(
                POLICY, LOOKUP, changed
            )


def test_no_rules_and_no_states() -> None:
    assert get_possible_keys(POLICY, {}, _states(CONVERSATIONS[0])) == set()
    assert get_possible_keys(POLICY, LOOKUP, []) == RASA_METHOD(POLICY, LOOKUP, [])


def test_install_replaces_rasas_method_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RulePolicy, "_get_possible_keys", RASA_METHOD)
    assert rule_keys.install() is True
    assert RulePolicy._get_possible_keys is get_possible_keys
    assert rule_keys.install() is True
    monkeypatch.setattr(RulePolicy, "_get_possible_keys", lambda *a: set())
    assert rule_keys.install() is False
