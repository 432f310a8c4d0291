"""action_handoff pauses the bot with a reason; texts come from the settings, never invented."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff
from actions.handoff import ActionHandoff, contact_text, handoff_reason, handoff_text
from core.settings import Settings


def user(intent: str, text: str = "...") -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def tracker(*events: dict[str, Any]) -> Tracker:
    return Tracker("c1", {}, {}, list(events), False, None, {}, "action_listen")


def test_an_explicit_request_is_asked() -> None:
    assert handoff_reason(tracker(user("contact_human_agent"))) == "asked"
    assert handoff_reason(tracker(user("greet"), action("utter_greet"), user("human_handoff"))) == (
        "asked"
    )


def test_an_accepted_offer_after_fallbacks_is_fallbacks() -> None:
    events = [
        user("nlu_fallback"),
        action("utter_default"),
        action("action_listen"),
        user("out_of_scope"),
        action("utter_offer_human"),
        action("action_listen"),
        user("affirm", "yes please"),
    ]
    assert handoff_reason(tracker(*events)) == "fallbacks"


def test_an_accepted_offer_after_complaints_is_frustration() -> None:
    events = [
        user("complaint", "this is the third time my parcel is late"),
        action("utter_offer_human"),
        action("action_listen"),
        user("affirm", "yes"),
    ]
    assert handoff_reason(tracker(*events)) == "frustration"


def test_account_deletion_goes_to_a_person() -> None:
    assert handoff_reason(tracker(user("delete_account"), action("utter_delete_account"))) == (
        "account"
    )


def test_nothing_unconfigured_is_promised(tmp_path: Any) -> None:
    bare = Settings(root=tmp_path)
    assert "available" not in handoff_text(bare)
    assert "@" not in contact_text(bare) and "human" in contact_text(bare)
    store = Settings(
        root=tmp_path,
        support_email="help@shop.example",
        support_phone="+1 555 0100",
        support_hours="Mon–Fri 9:00–17:00 CET",
    )
    assert "Mon–Fri 9:00–17:00 CET" in handoff_text(store)
    text = contact_text(store)
    assert "help@shop.example" in text and "+1 555 0100" in text and "9:00–17:00" in text


def test_the_action_pauses_the_conversation(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setattr(handoff, "_settings", lambda: Settings(root=tmp_path))
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionHandoff().run(dispatcher, tracker(user("contact_human_agent")), {}))
    assert [e["event"] for e in events] == ["slot", "slot", "action", "pause"]
    assert events[1] == {
        "event": "slot",
        "timestamp": None,
        "name": "handoff_reason",
        "value": "asked",
    }
    assert events[2]["name"] == "action_listen"
    assert dispatcher.messages[0]["text"] == handoff_text(Settings(root=tmp_path))
