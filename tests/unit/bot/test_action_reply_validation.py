"""The prebuilt action reply validator decides exactly as Rasa 3.6's own check does."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import action_reply_validation
from bot.action_reply_validation import install, validate_action_result

RASAS_OWN = RemoteAction.__dict__["_validate_action_result"]

SLOT = {"event": "slot", "timestamp": None, "name": "order_number", "value": "104233"}
REPLIES: dict[str, dict[str, Any]] = {
    "empty": {},
    "slots and a reply": {
        "events": [SLOT, {"event": "active_loop", "name": None}],
        "responses": [{"text": "Your order has shipped.", "buttons": [], "custom": {"n": 1}}],
    },
    "a followup": {"events": [{"event": "followup", "name": "action_listen"}], "responses": []},
    "events not a list": {"events": {"event": "slot"}, "responses": []},
    "an event without its name": {"events": [{"timestamp": 1}], "responses": []},
    "an unknown event": {"events": [{"event": "teleport"}], "responses": []},
    "a response that is not an object": {"events": [], "responses": ["hello"]},
    "a slot event without a name": {"events": [{"event": "slot", "value": 1}]},
}


def rasas_verdict(reply: dict[str, Any]) -> str:
    try:
        return "ok" if RASAS_OWN(RemoteAction("action_x", None), reply) else "false"
    except ValidationError as error:
        return error.message


def ours(reply: dict[str, Any]) -> str:
    try:
        return "ok" if validate_action_result(RemoteAction("action_x", None), reply) else "false"
    except ValidationError as error:
        return error.message


@pytest.mark.parametrize("name", list(REPLIES))
def test_the_verdict_and_the_message_are_rasas(name: str) -> None:
    assert ours(REPLIES[name]) == rasas_verdict(REPLIES[name])


def test_bad_replies_are_refused_and_good_ones_pass() -> None:
    verdicts = {name: ours(reply) for name, reply in REPLIES.items()}
    assert [n for n, v in verdicts.items() if v == "ok"] == [
        "empty",
        "slots and a reply",
        "a followup",
    ]
    assert all(
        "Failed to validate Action server response" in v for v in verdicts.values() if v != "ok"
    )


def test_install_replaces_rasas_method_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RASAS_OWN)
    assert install() and install()
    assert RemoteAction._validate_action_result is validate_action_result
    with pytest.raises(ValidationError):
        RemoteAction("action_x", None)._validate_action_result({"events": [{"event": "teleport"}]})


def test_another_rasas_method_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def someone_elses(self: RemoteAction, result: dict[str, Any]) -> bool:
        return True

    monkeypatch.setattr(RemoteAction, "_validate_action_result", someone_elses)
    assert install() is False
    assert RemoteAction._validate_action_result is someone_elses


def test_the_schema_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    action_reply_validation.reply_validator.cache_clear()
    checks: list[int] = []
    cls = type(action_reply_validation.reply_validator())
    original = cls.check_schema
    monkeypatch.setattr(cls, "check_schema", lambda schema: checks.append(1) or original(schema))
    action_reply_validation.reply_validator.cache_clear()
    for _ in range(5):
        ours(REPLIES["an unknown event"])  # refused replies go through the full check
    assert len(checks) == 1


KINDS = [
    alt["properties"]["event"]["const"]
    for alt in RemoteAction.action_response_format_spec()["properties"]["events"]["items"]["oneOf"]
]
FIELDS = ["name", "value", "timestamp", "metadata", "text", "entities", "parse_data", "policy"]
FIELDS += ["confidence", "action_text", "hide_rule_turn", "data", "date_time", "intent"]
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from(FIELDS), inner),
    max_leaves=4,
)
EVENTS = st.builds(
    lambda kind, fields: {**fields, "event": kind} if kind else fields,
    st.sampled_from([*KINDS, "teleport", 3, None]),
    st.dictionaries(st.sampled_from(FIELDS), JSONISH, max_size=4),
)


@settings(max_examples=400, deadline=None)
@given(
    events=st.lists(EVENTS, max_size=4) | JSONISH,
    responses=st.lists(st.dictionaries(st.sampled_from(["text", "buttons"]), JSONISH)) | JSONISH,
)
def test_the_dispatching_check_agrees_with_the_full_one(events: Any, responses: Any) -> None:
    dispatch = action_reply_validation.event_dispatch()
    assert dispatch is not None
    for reply in ({"events": events, "responses": responses}, {"events": events}, events):
        assert dispatch.is_valid(reply) == action_reply_validation.reply_validator().is_valid(reply)


@pytest.mark.parametrize("name", list(REPLIES))
def test_the_dispatching_check_agrees_on_every_reply_here(name: str) -> None:
    dispatch = action_reply_validation.event_dispatch()
    assert dispatch is not None
    full = action_reply_validation.reply_validator().is_valid(REPLIES[name])
    assert dispatch.is_valid(REPLIES[name]) == full
