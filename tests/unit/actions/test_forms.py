"""The order form's validation action, on recorded trackers with a CollectingDispatcher."""

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidateOrderForm


def tracker_with(
    slots: dict[str, Any], requested: str, text: str, intent: str = "inform"
) -> Tracker:
    return Tracker(
        sender_id="shopper-1",
        slots={**slots, "requested_slot": requested},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": [],
        },
        events=[
            {"event": "action", "name": "action_listen"},
            {
                "event": "user",
                "text": text,
                "parse_data": {"intent": {"name": "inform"}, "entities": []},
            },
            {"event": "slot", "name": requested, "value": slots[requested]},
        ],
        paused=False,
        followup_action=None,
        active_loop={"name": "order_form"},
        latest_action_name="action_listen",
    )


DOMAIN = {"forms": {"order_form": {"required_slots": ["order_number", "email"]}}, "slots": {}}


def run_validation(
    slots: dict[str, Any], requested: str, text: str, intent: str = "inform"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ValidateOrderForm().run(dispatcher, tracker_with(slots, requested, text, intent), DOMAIN)
    )
    return events, dispatcher.messages


def test_valid_order_number_is_normalised() -> None:
    events, messages = run_validation(
        {"order_number": "#104233", "email": None}, "order_number", "#104233"
    )
    assert {"event": "slot", "timestamp": None, "name": "order_number", "value": "104233"} in events
    assert messages == []


def test_invalid_order_number_is_cleared_and_explained() -> None:
    events, messages = run_validation({"order_number": "12", "email": None}, "order_number", "12")
    assert {"event": "slot", "timestamp": None, "name": "order_number", "value": None} in events
    assert messages[0]["response"] == "utter_invalid_order_number"
    assert messages[0]["bad_value"] == "12"


def test_the_request_restated_is_not_called_a_bad_order_number() -> None:
    """ "i said i want to cancel my order" at the order number question got "... doesn't look like
    one of our order numbers"; it is the same request again: the bot says it still needs the
    number (the form asks again). Another request's words are still explained as invalid."""
    text = "i said i want to cancel my order"
    slots = {"order_number": text, "email": None, "order_request": "cancel_order"}
    events, messages = run_validation(slots, "order_number", text, intent="cancel_order")
    assert {"event": "slot", "timestamp": None, "name": "order_number", "value": None} in events
    assert messages == [
        {**messages[0], "response": "utter_restated_request", "needed": "order number"}
    ]
    _, messages = run_validation(slots, "order_number", "track it", intent="track_order")
    assert messages[0]["response"] == "utter_invalid_order_number"
    wrong = "cancel my order number 12"  # a number, however short, is an attempt
    _, messages = run_validation(
        {**slots, "order_number": wrong}, "order_number", wrong, "cancel_order"
    )
    assert messages[0]["response"] == "utter_invalid_order_number"


def test_invalid_email_is_cleared_and_explained() -> None:
    slots = {"order_number": "104233", "email": "maria@"}
    events, messages = run_validation(slots, "email", "maria@")
    assert {"event": "slot", "timestamp": None, "name": "email", "value": None} in events
    assert messages[0]["response"] == "utter_invalid_email"


def test_valid_email_is_lower_cased() -> None:
    slots = {"order_number": "104233", "email": "Maria.Garcia@Example.com"}
    events, _ = run_validation(slots, "email", "Maria.Garcia@Example.com")
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "email",
        "value": "maria.garcia@example.com",
    } in events


def test_an_emails_digits_do_not_replace_the_order_number() -> None:
    # Found by the attack suite: at the email question, "100017@example.com" also gave the NLU an
    # order_number entity, which replaced the order being checked.
    text = "100017@example.com"
    tracker = Tracker(
        sender_id="shopper-1",
        slots={"order_number": "100017", "email": text, "requested_slot": "email"},
        latest_message={"text": text, "intent": {"name": "inform"}, "entities": []},
        events=[
            {"event": "slot", "name": "order_number", "value": "104233"},
            {"event": "slot", "name": "requested_slot", "value": "email"},
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": text, "parse_data": {"intent": {"name": "inform"}}},
            {"event": "slot", "name": "order_number", "value": "100017"},
            {"event": "slot", "name": "email", "value": text},
        ],
        paused=False,
        followup_action=None,
        active_loop={"name": "order_form"},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateOrderForm().run(dispatcher, tracker, DOMAIN))
    slots = [(e["name"], e["value"]) for e in events if e["event"] == "slot"]
    # The stray entity is undone before validation; then ownership is checked (no store here).
    assert slots[0] == ("order_number", "104233")
    assert ("email", text) in slots
    assert ("order_number", "100017") not in slots
    assert not any(m.get("response") == "utter_invalid_order_number" for m in dispatcher.messages)
