"""A return or refund request that is really a policy question, answered before the form asks.

"bought it in the sale, can i return it?" and "threw the box away, can i still send it back?" read
as ``get_refund`` would otherwise start ``order_form`` and get "What's your order number?". When
the message that starts the form is asked like an FAQ entry (``REFUND_FAQ_SCORE``, the FAQ
matcher's closeness) and names no order, the FAQ's answer is given, through the same verified
path as a policy intent, with a button to start the request itself; ``order_plan`` becomes
``answered`` and the form ends without asking anything (``actions.orders``).

A request that names an order, a button's payload, a form already running, the same request
again right after such an answer (the shopper wants the request itself), and the other order
requests (whose real requests are asked as closely like the FAQ's "how do I track / cancel /
change my order" as its questions are) always go on to the order number.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import form_starts_now
from actions.knowledge import answer_if_asked_like_faq
from actions.validation import order_numbers_in
from knowledge.faq_rank import REFUND_FAQ_SCORE

ANSWERED_PLAN = "answered"
# The requests whose questions are answered first, and the button that starts the request itself.
START_BUTTONS: dict[str, dict[str, str]] = {
    "get_refund": {"title": "Start a return", "payload": "/get_refund"},
    "track_refund": {"title": "Check my refund", "payload": "/track_refund"},
}


def _question_start(tracker: Tracker) -> str | None:
    """The request, when the latest message starts ``order_form`` with a question about it."""
    if not form_starts_now(tracker):
        return None
    latest = tracker.latest_message or {}
    intent = (latest.get("intent") or {}).get("name")
    text = str(latest.get("text") or "").strip()
    if intent not in START_BUTTONS or not text or text.startswith("/") or order_numbers_in(text):
        return None
    if _answered_last_turn(tracker):
        return None
    return str(intent)


def _answered_last_turn(tracker: Tracker) -> bool:
    """Whether the shopper's previous message was a request answered as a question."""
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                return False
        elif users == 1 and event.get("event") == "slot" and event.get("name") == "order_plan":
            answered = event.get("value") == ANSWERED_PLAN
            if answered:  # not only the last one: action_order_request then clears it
                return True
    return False


async def answered_question_events(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[dict[str, Any]] | None:
    """The FAQ's answer to a request asked as a question, and the plan that ends the form; None
    (nothing said) when the request is not one, so the form asks for the order as usual."""
    request = _question_start(tracker)
    if request is None:
        return None
    answered = await answer_if_asked_like_faq(
        dispatcher, tracker, REFUND_FAQ_SCORE, buttons=[START_BUTTONS[request]]
    )
    if answered is None:
        return None
    return [*answered, SlotSet("order_plan", ANSWERED_PLAN)]
