"""The rule policy's search for the rules that match a conversation, without the needless checks.

To predict, Rasa 3.6's rule policy narrows every rule it learned to those that match the
conversation, one state at a time from the latest back (``RulePolicy._get_possible_keys``): each
rule still in the running is checked against the state (``_is_rule_applicable``), which first
decodes and reverses the rule's states — a new list per rule per state — and answers "applicable"
without looking once the state lies further back than the rule is long. So for a conversation of
40 states it checks the last few rules 40 times and rebuilds each one's reversed states every time:
~7% of the Rasa server's CPU under the Throughput mix (2026-12-07).

:func:`get_possible_keys` keeps each rule's reversed states (decoded once per process), checks a
state exactly as ``_is_rule_applicable`` does (the same conversation-start cases, Rasa's own
``_does_rule_match_state``), and stops going back once the state lies further back than every
remaining rule is long — the point from which Rasa's loop can remove nothing. The set returned
is Rasa's: ``tests/unit/bot/test_rule_keys.py`` compares both on every prefix of ShopBot's
conversations against rule keys built from them. Installed by :mod:`bot.rasa_server` with
:mod:`bot.policy_states` (``SHOPBOT_SHARED_STATES``); it does nothing when Rasa's method is not
the one it replaces.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION

logger = logging.getLogger(__name__)

RASA_METHOD = RulePolicy._get_possible_keys
_RASA_QUALNAME = "RulePolicy._get_possible_keys"


@functools.lru_cache(maxsize=4096)
def reversed_states(rule_key: str) -> tuple[Any, ...]:
    """The rule's states, latest first (``_rule_key_to_state`` decodes them; cached)."""
    return tuple(reversed(RulePolicy._rule_key_to_state(rule_key)))


def _applicable(rule: tuple[Any, ...], turn_index: int, state: dict[str, Any]) -> bool:
    """Rasa's ``_is_rule_applicable`` for a rule's reversed states."""
    if turn_index >= len(rule):
        return True
    current_previous_action = state.get(PREVIOUS_ACTION)
    rule_previous_action = rule[turn_index].get(PREVIOUS_ACTION)
    if not rule_previous_action and not current_previous_action:
        return True
    if not rule_previous_action or not current_previous_action:
        return False
    return bool(RulePolicy._does_rule_match_state(rule[turn_index], state))


def get_possible_keys(
    self: RulePolicy, lookup: dict[str, str], states: list[dict[str, Any]]
) -> set[str]:
    """Rasa's ``RulePolicy._get_possible_keys``: the rule keys of ``lookup`` that match
    ``states``."""
    rules = {key: reversed_states(key) for key in lookup}
    longest = max((len(rule) for rule in rules.values()), default=0)
    for turn_index, state in enumerate(reversed(states)):
        if turn_index >= longest:
            break  # every rule left is applicable this far back
        rules = {k: r for k, r in rules.items() if _applicable(r, turn_index, state)}
        longest = max((len(rule) for rule in rules.values()), default=0)
    return set(rules)


def install() -> bool:
    """Use :func:`get_possible_keys` in the rule policy; True when it is in place."""
    current = RulePolicy._get_possible_keys
    if current is get_possible_keys:
        return True
    if getattr(current, "__qualname__", "") != _RASA_QUALNAME or current is not RASA_METHOD:
        logger.warning("Rasa's rule lookup is not the one expected; left as it is")
        return False
    RulePolicy._get_possible_keys = get_possible_keys  # type: ignore[method-assign]
    logger.info("The rule policy checks each rule only as far back as it is long")
    return True
