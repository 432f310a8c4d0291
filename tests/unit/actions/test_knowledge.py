"""Knowledge actions on recorded trackers with a CollectingDispatcher and a deterministic pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge
from actions.knowledge import (
    ActionAnswerOpenQuestion,
    ActionAnswerPolicy,
    ActionAnswerQuestion,
    ActionSearchProducts,
    conversation_history,
)
from actions.store import runtime
from core.settings import Settings
from knowledge.answer import AnswerPipeline
from knowledge.types import Filters, Hit
from tests.unit.knowledge.answer_doubles import product_passage

KITE = product_passage(
    "abcdef0123456789abcdef0123456789",
    "Delta Kite",
    "Delta Kite\nBrand: Skyline\nPrice: $24.50\nAvailability: in stock (4 available)",
    {"price": 24.5, "currency": "USD", "in_stock": True, "url": "https://s/kite", "image": ""},
)


class FixedRetriever:
    def search(self, query: str, top_k: int = 5, filters: Filters | None = None) -> list[Hit]:
        return [Hit(passage=KITE, score=0.03, scores={"dense": 0.8})]


class FixedGenerator:
    def __init__(self, text: str) -> None:
        self.text = text

    def generate(self, prompt: str, max_new_tokens: int = 96) -> str:
        return self.text

    def stream(self, prompt: str, max_new_tokens: int = 96) -> Iterator[str]:
        yield self.text


def tracker(
    text: str, earlier: list[dict[str, Any]] | None = None, intent: str = "product_question"
) -> Tracker:
    events = [*(earlier or []), {"event": "user", "text": text, "parse_data": {}}]
    return Tracker(
        sender_id="shopper-1",
        slots={},
        latest_message={"text": text, "intent": {"name": intent}, "entities": []},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.fixture()
def pipeline() -> Iterator[AnswerPipeline]:
    pipe = AnswerPipeline(FixedRetriever(), FixedGenerator("The Delta Kite costs $24.50 [S1]."))
    knowledge.set_pipeline(pipe)
    yield pipe
    knowledge.set_pipeline(None)


def run(action: Any, track: Tracker) -> tuple[CollectingDispatcher, list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, {}))
    return dispatcher, events


def test_answer_question_replies_with_citations_and_keeps_sources(pipeline: AnswerPipeline) -> None:
    dispatcher, events = run(ActionAnswerQuestion(), tracker("How much is the Delta Kite?"))
    message = dispatcher.messages[0]
    assert message["text"].startswith("The Delta Kite costs $24.50 [1].")
    assert message["custom"]["outcome"] == "generated"
    assert message["custom"]["citations"][0]["url"] == "https://s/kite"
    assert message["custom"]["sources"][0]["passage_id"] == KITE.id
    assert events[0]["event"] == "slot" and events[0]["name"] == "knowledge_sources"
    assert events[0]["value"]["citations"][0]["doc_id"] == KITE.doc_id


def test_search_products_sends_cards(pipeline: AnswerPipeline) -> None:
    dispatcher, events = run(ActionSearchProducts(), tracker("kites under $30"))
    message = dispatcher.messages[0]
    assert "1. Delta Kite — $24.50 (in stock)" in message["text"]
    assert message["custom"]["products"][0]["id"] == KITE.doc_id
    assert events[0]["value"]["outcome"] == "products"


def test_missing_artifacts_get_a_polite_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    knowledge.set_pipeline(None)
    monkeypatch.setenv("SHOPBOT_KNOWLEDGE_DIR", str(tmp_path / "nothing-here"))
    from actions.store import runtime

    monkeypatch.setattr(runtime, "_settings", None)
    try:
        for action in (ActionAnswerQuestion(), ActionSearchProducts()):
            dispatcher, events = run(action, tracker("How much is the kite?"))
            assert dispatcher.messages[0]["text"] == knowledge.UNAVAILABLE_TEXT
            assert "Traceback" not in dispatcher.messages[0]["text"]
            assert events == []
        assert "could not be loaded" in caplog.text
    finally:
        knowledge.set_pipeline(None)


def test_warm_up_loads_the_pipeline_before_the_first_question(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    knowledge.set_pipeline(None)
    loaded = AnswerPipeline(FixedRetriever(), FixedGenerator("The Delta Kite costs $24.50 [S1]."))
    calls: list[Path] = []

    def from_dir(path: Path, *args: Any, **kwargs: Any) -> AnswerPipeline:
        calls.append(Path(path))
        return loaded

    monkeypatch.setattr(AnswerPipeline, "from_dir", staticmethod(from_dir))
    try:
        knowledge.warm_up_in_background().join(timeout=30)
        assert len(calls) == 1
        assert knowledge.get_pipeline() is loaded and len(calls) == 1  # not loaded twice
    finally:
        knowledge.set_pipeline(None)


def test_failing_pipeline_never_shows_a_stack_trace(pipeline: AnswerPipeline) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    pipeline.answer = explode  # type: ignore[method-assign]
    dispatcher, events = run(ActionAnswerQuestion(), tracker("How much is the Delta Kite?"))
    assert dispatcher.messages[0]["text"] == knowledge.UNAVAILABLE_TEXT
    assert events == []


def test_history_excludes_the_question_itself() -> None:
    earlier = [
        {"event": "user", "text": "Tell me about the Delta Kite"},
        {"event": "bot", "text": "It is a kite."},
        {"event": "action", "name": "action_listen"},
    ]
    assert conversation_history(tracker("How much is it?", earlier)) == [
        ("user", "Tell me about the Delta Kite"),
        ("bot", "It is a kite."),
    ]


def test_widget_answers_stream_their_pieces_and_share_the_stream_id(
    pipeline: AnswerPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    from actions import streaming

    posted: list[dict[str, Any]] = []

    def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> None:
        import json

        posted.append(json.loads(body))

    original = streaming.TokenPusher.__init__

    def init(self: streaming.TokenPusher, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **{**kwargs, "post": post})

    monkeypatch.setattr(streaming.TokenPusher, "__init__", init)
    monkeypatch.setenv("SHOPBOT_STREAM_SECRET", "stream-secret-0123456789abcdef0123456")
    from actions.store import runtime

    monkeypatch.setattr(runtime, "_settings", None)
    track = tracker("How much is the Delta Kite?")
    track.events[-1]["input_channel"] = "widget"
    dispatcher, _ = run(ActionAnswerQuestion(), track)
    custom = dispatcher.messages[0]["custom"]
    assert custom["display_text"] == "The Delta Kite costs $24.50 [1]."
    assert "Sources:" in dispatcher.messages[0]["text"]  # REST and the tracker keep them
    assert custom["citations"][0]["n"] == 1
    pieces = [t["text"] for batch in posted for t in batch["tokens"]]
    assert pieces and "".join(pieces).startswith("The Delta Kite costs $24.50")
    assert {batch["stream_id"] for batch in posted} == {custom["stream_id"]}


def test_other_channels_get_the_whole_answer_without_a_stream(pipeline: AnswerPipeline) -> None:
    dispatcher, _ = run(ActionAnswerQuestion(), tracker("How much is the Delta Kite?"))
    assert "stream_id" not in dispatcher.messages[0]["custom"]


def test_answer_message_keeps_what_the_console_shows(pipeline: AnswerPipeline) -> None:
    """The tracker's bot event (``custom``) holds everything the console's "Why" section reads
    (``bot.console.transcript_items.reasoning``): outcome, scored passages, citations, latencies."""
    dispatcher, _ = run(ActionAnswerQuestion(), tracker("How much is the Delta Kite?"))
    custom = dispatcher.messages[0]["custom"]
    assert custom["outcome"] in ("generated", "passage", "unknown")
    source = custom["sources"][0]
    assert {k: source[k] for k in ("passage_id", "kind", "title", "score")} == {
        "passage_id": KITE.id,
        "kind": "product",
        "title": "Delta Kite",
        "score": 0.03,
    }
    assert custom["citations"] == [
        {
            "n": 1,
            "doc_id": KITE.doc_id,
            "kind": "product",
            "title": "Delta Kite",
            "url": "https://s/kite",
        }
    ]
    assert set(custom["latency_ms"]) >= {"retrieve", "generate", "total"}


@pytest.mark.parametrize(
    ("threshold", "intent", "reply"),
    [
        (0.5, "out_of_scope", None),  # the passage (relevance 0.8) answers it
        (0.9, "out_of_scope", "utter_out_of_scope"),  # not relevant enough: the honest fallback
        (0.9, "nlu_fallback", "utter_default"),
    ],
)
def test_open_questions_answer_from_knowledge_only_when_relevant(
    pipeline: AnswerPipeline,
    monkeypatch: pytest.MonkeyPatch,
    threshold: float,
    intent: str,
    reply: str | None,
) -> None:
    monkeypatch.setattr(runtime, "_settings", Settings(open_question_min_score=threshold))
    dispatcher, events = run(
        ActionAnswerOpenQuestion(), tracker("kite price please", intent=intent)
    )
    [message] = dispatcher.messages
    if reply is None:
        assert message["text"].startswith("The Delta Kite costs $24.50 [1].")
    else:
        assert message["response"] == reply and not message.get("text")
    assert events[0]["name"] == "knowledge_sources"  # retrieval recorded either way
    assert events[0]["value"]["outcome"] == ("generated" if reply is None else "unknown")


def test_open_question_without_knowledge_says_it_did_not_understand() -> None:
    knowledge.set_pipeline(None)
    knowledge._failed_at = float("inf")  # the artifacts are missing: no load attempt
    try:
        dispatcher, events = run(ActionAnswerOpenQuestion(), tracker("hmm", intent="nlu_fallback"))
    finally:
        knowledge._failed_at = None
    assert dispatcher.messages[0]["response"] == "utter_default" and events == []


def test_policy_questions_are_answered_from_the_faq_only(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Filters | None] = []

    class RecordingRetriever(FixedRetriever):
        def search(self, query: str, top_k: int = 5, filters: Filters | None = None) -> list[Hit]:
            seen.append(filters)
            return super().search(query, top_k, filters)

    pipe = AnswerPipeline(RecordingRetriever(), FixedGenerator("The Delta Kite costs $24.50 [S1]."))
    knowledge.set_pipeline(pipe)
    try:
        run(
            ActionAnswerPolicy(),
            tracker("what's your refund policy?", intent="check_refund_policy"),
        )
    finally:
        knowledge.set_pipeline(None)
    assert seen == [Filters(kind="faq")]


def test_a_product_search_asked_like_an_faq_entry_is_answered_from_the_faq() -> None:
    """NLU read "do u gift wrap" as a product search; the store's FAQ entry is asked that way
    (its phrasing), so the FAQ answers, as for a policy intent. A real product search still lists
    products."""
    from knowledge.embedder import HashingEmbedder
    from knowledge.faq import FaqEntry
    from knowledge.faq_rank import FaqQuestionRanker
    from knowledge.index import KnowledgeIndex
    from knowledge.passages import faq_passage
    from knowledge.retriever import HybridRetriever

    wrap = FaqEntry(
        "faq-10",
        "Can I request gift wrapping for my order?",
        "Yes, we offer gift wrapping services for an additional fee.",
        ("do u gift wrap",),
    )
    index = KnowledgeIndex.build([faq_passage(wrap), KITE], HashingEmbedder())
    generator = FixedGenerator("Yes, we offer gift wrapping services for an additional fee [S1].")
    pipe = AnswerPipeline(FaqQuestionRanker(HybridRetriever(index)), generator)
    assert pipe.faq_asked_like("do u gift wrap") > 0.99
    assert AnswerPipeline(FixedRetriever(), generator).faq_asked_like("x") == float("-inf")
    knowledge.set_pipeline(pipe)
    try:
        dispatcher, events = run(
            ActionSearchProducts(), tracker("do u gift wrap", intent="product_search")
        )
        assert "gift wrapping" in dispatcher.messages[0]["text"], dispatcher.messages
        assert "products" not in (dispatcher.messages[0].get("custom") or {})
        assert [c["doc_id"] for c in events[0]["value"]["citations"]] == ["faq-10"]
        dispatcher, events = run(
            ActionSearchProducts(), tracker("kites under $30", intent="product_search")
        )
        assert events[0]["value"]["outcome"] == "products"
    finally:
        knowledge.set_pipeline(None)
