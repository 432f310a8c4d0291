"""An order request that is really a policy question, answered before the order form asks.

"bought it in the sale, can i return it?" read as ``get_refund``, or "it's sold out, can i still
order one?" read as ``track_order``, would otherwise start ``order_form`` and get "What's your
order number?". When the message that starts the form names no order and is asked like an FAQ
entry (the FAQ matcher's closeness) closely enough, the FAQ's answer is given, through the same
verified path as a policy intent (a return question with a button that starts the return);
``order_plan`` becomes ``answered`` and the form ends without asking anything
(``actions.orders``):

- a return or refund request, at ``REFUND_FAQ_SCORE`` from any entry ("can I return X?" and "I
  want to return X" are a word apart, and both are answered well by the return policy);
- any order request, at ``MISREAD_FAQ_SCORE`` from an entry whose own phrasings NLU reads as
  something other than an order request (``faq_intents.json``, written by ``shopbot train``):
  NLU misread the question. Entries NLU reads as the request itself ("How can I track my
  order?") never take it: "wheres my package" wants the tracking, not the FAQ's how-to.

A request that names an order, a button's payload, a form already running, and the same request
again right after such an answer (the shopper wants the request itself) always go on to the order
number.

The delivery answers from the store's settings (``action_delivery_options``,
``action_delivery_period``) apply the misread rule too: "if i buy a preorder and something in
stock together when does it ship" read as ``delivery_period`` is asked like the mixed-basket
entry, which NLU reads as ``place_order``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import form_starts_now
from actions.knowledge import answer_if_asked_like_faq
from actions.store.runtime import get_settings
from actions.validation import order_numbers_in
from knowledge.faq_rank import FAQ_INTENTS_FILE, MISREAD_FAQ_SCORE, REFUND_FAQ_SCORE

logger = logging.getLogger(__name__)

ANSWERED_PLAN = "answered"
# Every request order_form serves.
ORDER_REQUESTS = frozenset(
    {
        "track_order",
        "cancel_order",
        "change_order",
        "change_shipping_address",
        "get_refund",
        "track_refund",
        "check_invoice",
        "get_invoice",
        "payment_issue",
    }
)
# A return question's answer offers the return itself, one tap away. A misread question's answer
# offers nothing: "Track my order" under the on-hold answer would be an odd offer, and a request
# typed again right after goes to the form.
START_BUTTONS: dict[str, dict[str, str]] = {
    "get_refund": {"title": "Start a return", "payload": "/get_refund"},
    "track_refund": {"title": "Check my refund", "payload": "/track_refund"},
}
REFUND_REQUESTS = frozenset(START_BUTTONS)

_lock = threading.Lock()
_intents: tuple[Path, float, dict[str, str]] | None = None


def faq_entry_intents() -> dict[str, str]:
    """The intent NLU gives each FAQ entry's phrasings (empty without the file: only the return
    and refund rule applies). Read again when the file changes (a retrain)."""
    global _intents
    settings = get_settings()
    path = settings.path(settings.knowledge_dir) / FAQ_INTENTS_FILE
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    with _lock:
        if _intents is None or _intents[:2] != (path, mtime):
            try:
                entries = json.loads(path.read_text(encoding="utf-8"))["entries"]
                intents = {k: str(v["intent"]) for k, v in entries.items()}
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
                # Once per version of the file; `shopbot train --only faq-intents` rewrites it.
                logger.warning(
                    "FAQ intents %s unreadable (%r): only returns are checked", path, error
                )
                intents = {}
            _intents = (path, mtime, intents)
        return _intents[2]


def misread(kind: Collection[str], entry: str, closeness: float) -> bool:
    """Whether a message NLU read as one of ``kind``, asked like FAQ ``entry`` this closely, was
    misread: NLU reads the entry's own phrasings as an intent outside ``kind``."""
    entry_intent = faq_entry_intents().get(entry)
    return closeness >= MISREAD_FAQ_SCORE and entry_intent is not None and entry_intent not in kind


def asked_instead(request: str, entry: str, closeness: float) -> bool:
    """Whether a ``request`` asked like FAQ ``entry`` this closely is a question to answer."""
    if request in REFUND_REQUESTS and closeness >= REFUND_FAQ_SCORE:
        return True
    return misread(ORDER_REQUESTS, entry, closeness)


async def misread_question_events(
    dispatcher: CollectingDispatcher, tracker: Tracker, kind: Collection[str]
) -> list[dict[str, Any]] | None:
    """The FAQ's answer to a message NLU misread as one of ``kind`` (None, nothing said, when it
    was not misread: the caller answers as usual)."""
    return await answer_if_asked_like_faq(
        dispatcher, tracker, lambda entry, closeness: misread(kind, entry, closeness)
    )


def _question_start(tracker: Tracker) -> str | None:
    """The request, when the latest message starts ``order_form`` and may be a question."""
    if not form_starts_now(tracker):
        return None
    latest = tracker.latest_message or {}
    intent = (latest.get("intent") or {}).get("name")
    text = str(latest.get("text") or "").strip()
    if intent not in ORDER_REQUESTS or not text or text.startswith("/") or order_numbers_in(text):
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
        dispatcher,
        tracker,
        lambda entry, closeness: asked_instead(request, entry, closeness),
        buttons=[START_BUTTONS[request]] if request in START_BUTTONS else [],
    )
    if answered is None:
        return None
    return [*answered, SlotSet("order_plan", ANSWERED_PLAN)]
