"""A return or refund request that is a policy question: answered from the FAQ when the form
starts, over a real index and FAQ ranker (hashing embedder), through the form's validation action.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge, order_questions
from actions.forms import ValidateOrderForm
from actions.orders import ActionDeliveryOptions, ActionDeliveryPeriod, ActionOrderRequest
from core.settings import Settings
from knowledge.answer import AnswerPipeline
from knowledge.embedder import HashingEmbedder
from knowledge.faq import FaqEntry
from knowledge.faq_rank import (
    FAQ_INTENTS_FILE,
    MISREAD_FAQ_SCORE,
    REFUND_FAQ_SCORE,
    FaqQuestionRanker,
)
from knowledge.index import KnowledgeIndex
from knowledge.passages import faq_passage
from knowledge.retriever import HybridRetriever
from tests.unit.actions.store.dialogue import make_tracker
from tests.unit.actions.test_knowledge import FixedGenerator

GIFT = FaqEntry(
    "faq-48",
    "Can I return a product if it was purchased as a gift?",
    "Yes, you can return a product purchased as a gift.",
    ("someone gave me this as a present, can i return it",),
)
QUESTION = "someone gave me this as a present, can i return it"
REQUEST = "start a return for my order please"
READ_ENTRY_INTENTS = order_questions.faq_entry_intents  # the real reader, before any stand-in
DOMAIN = {"forms": {"order_form": {"required_slots": ["order_number", "email"]}}, "slots": {}}


@pytest.fixture(autouse=True)
def entry_intents(monkeypatch: pytest.MonkeyPatch) -> None:
    """NLU reads the gift entry's own phrasings as a return request (not the machine's files)."""
    monkeypatch.setattr(order_questions, "faq_entry_intents", lambda: {"faq-48": "get_refund"})


@pytest.fixture()
def pipeline() -> Iterator[AnswerPipeline]:
    index = KnowledgeIndex.build([faq_passage(GIFT)], HashingEmbedder())
    generator = FixedGenerator("Yes, you can return a product purchased as a gift [S1].")
    pipe = AnswerPipeline(FaqQuestionRanker(HybridRetriever(index)), generator)
    assert pipe.faq_asked_like(QUESTION) >= REFUND_FAQ_SCORE
    assert pipe.faq_asked_like(REQUEST) < REFUND_FAQ_SCORE
    knowledge.set_pipeline(pipe)
    yield pipe
    knowledge.set_pipeline(None)


def user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def starting_form(
    text: str,
    intent: str = "get_refund",
    earlier: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    starts: bool = True,
) -> Tracker:
    """The tracker the validation action gets: the form's active_loop event follows the message
    when the form starts on it (Rasa sets ``active_loop`` both when it starts and later)."""
    events = [*(earlier or []), {"event": "action", "name": "action_listen"}, user(text, intent)]
    if starts:
        events.append({"event": "active_loop", "name": "order_form"})
    return Tracker(
        sender_id="shopper-1",
        slots={"requested_slot": None, **(slots or {})},
        latest_message={"text": text, "intent": {"name": intent}, "entities": []},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": "order_form"},
        latest_action_name="action_listen",
    )


def validate(track: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateOrderForm().run(dispatcher, track, DOMAIN))
    return events, dispatcher.messages


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_a_return_question_is_answered_from_the_faq_and_the_form_asks_nothing(
    pipeline: AnswerPipeline,
) -> None:
    events, messages = validate(starting_form(QUESTION))
    assert len(messages) == 1, messages
    assert "gift" in messages[0]["text"]
    assert messages[0]["buttons"] == [{"title": "Start a return", "payload": "/get_refund"}]
    slots = slots_of(events)
    assert [c["doc_id"] for c in slots["knowledge_sources"]["citations"]] == ["faq-48"]
    assert slots["order_plan"] == "answered"
    assert slots["requested_slot"] is None  # the form ends here


def test_a_refund_question_offers_to_check_the_refund(pipeline: AnswerPipeline) -> None:
    _, messages = validate(starting_form(QUESTION, intent="track_refund"))
    assert messages[0]["buttons"] == [{"title": "Check my refund", "payload": "/track_refund"}]


@pytest.mark.parametrize(
    ("track", "why"),
    [
        (starting_form(REQUEST), "a request, not asked like the FAQ"),
        (starting_form(f"{QUESTION}? order 104233"), "it names the order"),
        (starting_form("/get_refund"), "a button's payload"),
        (
            starting_form(QUESTION, intent="track_order"),
            "another request, asked like an entry NLU reads as an order request",
        ),
        (starting_form(QUESTION, starts=False), "the form was already running"),
        (
            starting_form(
                QUESTION,
                earlier=[
                    user(QUESTION, "get_refund"),
                    {"event": "slot", "name": "order_plan", "value": "answered"},
                    {"event": "slot", "name": "order_plan", "value": None},
                ],
            ),
            "asked again right after the answer: the shopper wants the return itself",
        ),
    ],
)
def test_requests_go_on_to_the_order_number(
    pipeline: AnswerPipeline, track: Tracker, why: str
) -> None:
    events, messages = validate(track)
    assert not any(m.get("text") and "gift" in m["text"] for m in messages), why
    assert slots_of(events).get("order_plan") != "answered", why
    assert "requested_slot" not in slots_of(events), why  # Rasa asks the order number


def test_without_the_knowledge_pipeline_the_form_asks_as_usual(monkeypatch: Any) -> None:
    monkeypatch.setattr(knowledge, "get_pipeline", lambda: None)
    events, messages = validate(starting_form(QUESTION))
    assert messages == []
    assert slots_of(events).get("order_plan") != "answered"
    assert "requested_slot" not in slots_of(events)  # Rasa asks the next slot, as usual


def test_a_stale_plan_is_cleared_when_the_form_starts_again() -> None:
    """Found trying the demo: "no" to a cancellation stopped the form with its plan kept, and the
    next "where is my order 997542" was asked the cancellation question again."""
    stale = {"order_plan": "cancel", "order_confirmed": "no"}
    events, _ = validate(starting_form(REQUEST, intent="track_order", slots=stale))
    assert slots_of(events)["order_plan"] is None
    assert slots_of(events)["order_confirmed"] is None
    events, _ = validate(starting_form(REQUEST, intent="track_order", slots=stale, starts=False))
    assert "order_plan" not in slots_of(events)


def test_the_request_action_adds_nothing_after_an_answered_question() -> None:
    track = starting_form(QUESTION, slots={"order_plan": "answered"})
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionOrderRequest().run(dispatcher, track, {}))
    assert dispatcher.messages == []
    assert {"event": "slot", "timestamp": None, "name": "order_plan", "value": None} in events


def test_an_order_request_asked_like_an_entry_nlu_reads_otherwise_is_a_misread_question(
    pipeline: AnswerPipeline, monkeypatch: Any
) -> None:
    """Any order request asked like an entry whose own phrasings NLU reads as another intent is
    answered, with the button of the request NLU read; an entry NLU reads as an order request
    (or none known) leaves the form to ask."""
    for entry_intent, answered in (
        ("place_order", True),
        ("out_of_scope", True),
        ("track_order", False),
        ("get_invoice", False),
        (None, False),
    ):
        intents = {} if entry_intent is None else {"faq-48": entry_intent}
        monkeypatch.setattr(order_questions, "faq_entry_intents", lambda i=intents: i)
        events, messages = validate(starting_form(QUESTION, intent="track_order"))
        assert (slots_of(events).get("order_plan") == "answered") is answered, entry_intent
        if answered:  # no "Track my order" under an answer about something else
            assert not messages[0].get("buttons"), messages
    assert order_questions.asked_instead("get_refund", "faq-48", REFUND_FAQ_SCORE)
    assert not order_questions.asked_instead("cancel_order", "faq-48", MISREAD_FAQ_SCORE - 0.01)


def test_entry_intents_are_read_from_the_knowledge_directory_and_again_after_a_retrain(
    tmp_path: Any, monkeypatch: Any
) -> None:
    settings = Settings(knowledge_dir=str(tmp_path))
    monkeypatch.setattr(order_questions, "get_settings", lambda: settings)
    assert READ_ENTRY_INTENTS() == {}  # no file: only the refund rule
    path = tmp_path / FAQ_INTENTS_FILE
    path.write_text('{"entries": {"faq-48": {"intent": "place_order", "share": 0.9}}}')
    assert READ_ENTRY_INTENTS() == {"faq-48": "place_order"}
    path.write_text('{"entries": {"faq-48": {"intent": "track_order", "share": 0.7}}}')
    import os

    os.utime(path, (1, 1))  # a different mtime, as a retrain writes
    assert READ_ENTRY_INTENTS() == {"faq-48": "track_order"}
    path.write_text("not json")
    os.utime(path, (2, 2))
    assert READ_ENTRY_INTENTS() == {}  # logged; the refund rule still applies


def test_a_delivery_question_nlu_misread_is_answered_from_the_faq(
    pipeline: AnswerPipeline, monkeypatch: pytest.MonkeyPatch, seeded: Any
) -> None:
    """The delivery answers come from the store's settings, unless the message is asked like an
    entry whose own phrasings NLU reads as something other than a delivery question."""
    track = make_tracker({}, intent="delivery_period", text=QUESTION, active=False)
    monkeypatch.setattr(order_questions, "faq_entry_intents", lambda: {"faq-48": "place_order"})
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionDeliveryPeriod().run(dispatcher, track, {}))
    assert "gift" in dispatcher.messages[0]["text"]
    assert [c["doc_id"] for c in slots_of(events)["knowledge_sources"]["citations"]] == ["faq-48"]
    monkeypatch.setattr(
        order_questions, "faq_entry_intents", lambda: {"faq-48": "delivery_options"}
    )
    for action in (ActionDeliveryPeriod(), ActionDeliveryOptions()):
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, track, {}))
        assert "gift" not in dispatcher.messages[0]["text"], action.name()
        assert events == []
