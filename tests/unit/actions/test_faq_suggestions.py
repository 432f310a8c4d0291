""" "I don't know" followed by the FAQ entries the question is asked like; a tapped entry answered.

The actions run over a real index and FAQ ranker (hashing embedder) with a fixed generator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge
from actions.faq_suggestions import SUGGESTIONS_TEXT
from actions.knowledge import (
    ActionAnswerFaqEntry,
    ActionAnswerOpenQuestion,
    ActionAnswerPolicy,
    ActionAnswerQuestion,
    ActionSearchProducts,
)
from actions.store import runtime
from actions.store.sql.backend import SqlStoreBackend
from core.settings import Settings
from knowledge.answer import AnswerPipeline
from knowledge.embedder import HashingEmbedder
from knowledge.faq import FaqEntry
from knowledge.faq_rank import FaqQuestionRanker
from knowledge.index import KnowledgeIndex
from knowledge.passages import faq_passage
from knowledge.placeholders import PlaceholderFilter
from knowledge.retriever import HybridRetriever

RESTOCK = FaqEntry(
    "faq-43",
    "Will you restock items that are currently out of stock?",
    "We try to restock popular items as soon as possible.",
    ("please restock the yoga mat", "when will the kettle be back in stock"),
)
CONTACT = FaqEntry(
    "faq-9",
    "How can I contact customer support?",
    "Call us at [phone number].",
    ("is there a number to ring about the yoga mat restock",),
)
NOT_KNOWN = "any chance the yoga mat gets restocked"


class Generator:
    def generate(self, prompt: str, max_new_tokens: int = 96) -> str:
        return "We try to restock popular items as soon as possible [S1]."

    def stream(self, prompt: str, max_new_tokens: int = 96) -> Iterator[str]:
        yield self.generate(prompt)


@pytest.fixture()
def pipeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnswerPipeline]:
    index = KnowledgeIndex.build([faq_passage(RESTOCK), faq_passage(CONTACT)], HashingEmbedder())
    ranker = PlaceholderFilter(FaqQuestionRanker(HybridRetriever(index)), {})
    # No passage passes the relevance gate and no entry is asked closely enough to answer:
    # every typed question gets "I don't know"; the suggestions' own floor is lower.
    pipe = AnswerPipeline(ranker, Generator(), question_score=0.999)
    monkeypatch.setattr(runtime, "_settings", Settings(open_question_min_score=0.99))
    knowledge.set_pipeline(pipe)
    yield pipe
    knowledge.set_pipeline(None)


def tracker(
    text: str,
    intent: str,
    entities: list[dict[str, Any]] | None = None,
    active_loop: dict[str, Any] | None = None,
) -> Tracker:
    return Tracker(
        sender_id="shopper-1",
        slots={},
        latest_message={"text": text, "intent": {"name": intent}, "entities": entities or []},
        events=[{"event": "user", "text": text, "parse_data": {}}],
        paused=False,
        followup_action=None,
        active_loop=active_loop or {},
        latest_action_name="action_listen",
    )


def run(action: Any, track: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, {}))
    return dispatcher.messages, events


def test_a_policy_question_not_known_offers_the_entry_it_is_asked_like(
    pipeline: AnswerPipeline,
) -> None:
    messages, events = run(ActionAnswerPolicy(), tracker(NOT_KNOWN, "product_question"))
    unknown, offer = messages
    assert unknown["text"].startswith("I don't have that information") and not unknown["buttons"]
    assert offer["text"] == SUGGESTIONS_TEXT
    # The withheld contact entry (a blank the settings leave empty) is never offered; the human
    # moves under the offer (a widget shows the latest message's buttons).
    assert offer["buttons"] == [
        {"title": RESTOCK.question, "payload": '/ask_faq{"faq_entry": "faq-43"}'},
        {"title": "Talk to a human", "payload": "/contact_human_agent"},
    ]
    assert events[0]["value"]["outcome"] == "unknown"
    assert events[0]["value"]["suggested"] == ["faq-43"]  # the console sees what was offered


def test_an_open_question_not_known_says_so_then_offers_the_entry(
    pipeline: AnswerPipeline,
) -> None:
    messages, _ = run(ActionAnswerOpenQuestion(), tracker(NOT_KNOWN, "nlu_fallback"))
    assert messages[0]["response"] == "utter_default"
    assert [b["payload"] for b in messages[1]["buttons"]] == [
        '/ask_faq{"faq_entry": "faq-43"}',
        "/contact_human_agent",
    ]


def test_a_product_search_that_finds_nothing_offers_the_entry(pipeline: AnswerPipeline) -> None:
    """No product matches (this catalog has none); the FAQ entry the message is asked like is
    offered under "couldn't find products"."""
    messages, events = run(ActionSearchProducts(), tracker(NOT_KNOWN, "product_search"))
    found, offer = messages
    assert "couldn't find products" in found["text"]
    assert offer["text"] == SUGGESTIONS_TEXT
    assert [b["payload"] for b in offer["buttons"]] == [
        '/ask_faq{"faq_entry": "faq-43"}',
        "/contact_human_agent",
    ]
    assert events[0]["value"]["outcome"] == "products"
    assert events[0]["value"]["suggested"] == ["faq-43"]


def test_do_you_sell_read_as_a_product_question_is_a_product_search(
    pipeline: AnswerPipeline,
) -> None:
    """ "do you sell yoga mats?" read as product_question gets the catalog's yes or no (here no:
    this catalog has no products), not a passage about some product; other questions do not."""
    messages, events = run(
        ActionAnswerQuestion(), tracker("do you sell yoga mats?", "product_question")
    )
    assert messages[0]["text"].startswith("Sorry, I couldn't find yoga mats in our catalog.")
    assert events[0]["value"]["outcome"] == "products"
    messages, events = run(ActionAnswerQuestion(), tracker(NOT_KNOWN, "product_question"))
    assert messages[0]["text"].startswith("I don't have that information")
    assert events[0]["value"]["outcome"] == "unknown"


@pytest.mark.parametrize(
    ("action", "intent"),
    [
        (ActionAnswerPolicy(), "place_order"),  # how the demo model reads "what can you do?"
        (ActionAnswerOpenQuestion(), "out_of_scope"),  # how the tiny model reads it
        (ActionAnswerQuestion(), "product_question"),
        (ActionSearchProducts(), "product_search"),
    ],
)
def test_what_can_you_do_gets_the_assistants_description(
    pipeline: AnswerPipeline, action: Any, intent: str
) -> None:
    messages, events = run(action, tracker("what can you do?", intent))
    assert [m.get("response") for m in messages] == ["utter_iamabot"]
    assert events[0]["value"] == {
        "question": "what can you do?",
        "outcome": "assistant",
        "citations": [],
        "sources": [],
    }


@pytest.mark.parametrize(
    ("action", "intent"),
    [
        (ActionAnswerQuestion(), "product_question"),  # how the demo model reads it
        (ActionAnswerOpenQuestion(), "out_of_scope"),
        (ActionAnswerPolicy(), "payment_methods"),
        (ActionSearchProducts(), "product_search"),
    ],
)
def test_is_the_shipping_free_gets_the_stores_shipping_fees(
    pipeline: AnswerPipeline, seeded: SqlStoreBackend, action: Any, intent: str
) -> None:
    messages, events = run(action, tracker("is the shipping free?", intent))
    [reply] = messages
    assert reply["text"].startswith("Standard shipping is free on orders from $35.00."), reply
    assert "Standard: $5.99 (free from $35.00)" in reply["text"]
    assert events[0]["value"]["outcome"] == "store_settings"


def test_nothing_is_offered_when_nothing_is_close_or_a_form_runs(
    pipeline: AnswerPipeline,
) -> None:
    messages, events = run(
        ActionAnswerOpenQuestion(), tracker("whats the capital of australia", "out_of_scope")
    )
    assert [m.get("response") for m in messages] == ["utter_out_of_scope"]
    assert events[0]["value"]["suggested"] == []
    messages, _ = run(
        ActionAnswerPolicy(),
        tracker(NOT_KNOWN, "product_question", active_loop={"name": "order_form"}),
    )
    assert len(messages) == 1  # the form's own question comes next
    assert [b["title"] for b in messages[0]["buttons"]] == ["Talk to a human"]


def test_a_tapped_entry_is_answered_from_the_faq_with_its_own_question(
    pipeline: AnswerPipeline,
) -> None:
    payload = '/ask_faq{"faq_entry": "faq-43"}'
    entities = [{"entity": "faq_entry", "value": json.loads(payload[8:])["faq_entry"]}]
    messages, events = run(ActionAnswerFaqEntry(), tracker(payload, "ask_faq", entities))
    [answer] = messages
    assert answer["text"].startswith("We try to restock popular items"), answer
    record = events[0]["value"]
    assert record["question"] == RESTOCK.question
    assert [c["doc_id"] for c in record["citations"]] == ["faq-43"]


@pytest.mark.parametrize("entry", ["faq-999", "faq-9", None])
def test_an_entry_that_cannot_be_answered_gets_the_default_reply(
    pipeline: AnswerPipeline, entry: str | None
) -> None:
    entities = [] if entry is None else [{"entity": "faq_entry", "value": entry}]
    messages, events = run(ActionAnswerFaqEntry(), tracker("/ask_faq", "ask_faq", entities))
    assert [m.get("response") for m in messages] == ["utter_default"] and events == []
