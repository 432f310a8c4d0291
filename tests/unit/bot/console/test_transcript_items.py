"""Tracker rows as transcript items: entities, the knowledge answer's reasoning, thumbs."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from bot.console.transcript_items import MAX_PASSAGES, to_item
from tests.unit.bot.console.helpers import bot_event, feedback_event, user_event

# The bot message of ActionAnswerQuestion as Rasa stores it (``data.custom`` = json_message),
# copied from a run of tests/unit/actions/test_knowledge.py's deterministic pipeline.
KITE_ID = "abcdef0123456789abcdef0123456789"
KITE_TEXT = "The Delta Kite costs $24.50 [1].\n\nSources: [1] Delta Kite (https://s/kite)"
KITE_CUSTOM: dict[str, Any] = {
    "outcome": "generated",
    "citations": [
        {
            "n": 1,
            "doc_id": KITE_ID,
            "kind": "product",
            "title": "Delta Kite",
            "url": "https://s/kite",
        }
    ],
    "sources": [
        {
            "passage_id": f"p:{KITE_ID}#0",
            "doc_id": KITE_ID,
            "kind": "product",
            "title": "Delta Kite",
            "score": 0.03,
            "scores": {"dense": 0.8},
        }
    ],
    "latency_ms": {
        "retrieve": 0.04,
        "prompt": 0.45,
        "generate": 1.14,
        "verify": 0.18,
        "total": 1.81,
    },
    "display_text": "The Delta Kite costs $24.50 [1].",
}


def row(data: dict[str, Any], event_id: int = 1) -> Any:
    """A row of Rasa's ``events`` table (as ``SQLTrackerStore`` writes it)."""
    return SimpleNamespace(
        id=event_id,
        type_name=data["event"],
        timestamp=data.get("timestamp"),
        intent_name=((data.get("parse_data") or {}).get("intent") or {}).get("name"),
        action_name=data.get("name"),
        data=json.dumps(data),
    )


def test_user_turn_entities_with_extractor_and_span() -> None:
    text = "where is order 482913 for the blue mug"
    entities = [
        {
            "entity": "order_number",
            "start": 15,
            "end": 21,
            "confidence_entity": 0.9981,
            "value": "482913",
            "extractor": "DIETClassifier",
        },
        {
            "entity": "product",
            "value": "blue mug",
            "start": 30,
            "end": 38,
            "extractor": "RegexEntityExtractor",
        },
        {"entity": "size", "value": "large", "extractor": "CustomLookup"},  # no span
        {"value": "no name"},
    ]
    item = to_item(row(user_event(text, "order_status", 0.97, entities=entities)))
    assert item is not None
    mood = {"entity": "sentiment", "value": "neutral", "extractor": "BertSentimentAnalyzer"}
    with_sentiment = user_event(
        text, "order_status", 0.97, sentiment=("neutral", 0.8), entities=[*entities, mood]
    )
    shown = to_item(row(with_sentiment))
    assert shown is not None and shown["sentiment"] == {"label": "neutral", "confidence": 0.8}
    assert shown["entities"] == item["entities"]  # the analyzer's slot copy is not a chip
    assert item["entities"] == [
        {
            "name": "order_number",
            "value": "482913",
            "extractor": "DIETClassifier",
            "confidence": 0.998,
            "start": 15,
            "end": 21,
            "span": "482913",
        },
        {
            "name": "product",
            "value": "blue mug",
            "extractor": "RegexEntityExtractor",
            "confidence": None,
            "start": 30,
            "end": 38,
            "span": "blue mug",
        },
        {
            "name": "size",
            "value": "large",
            "extractor": "CustomLookup",
            "confidence": None,
            "start": None,
            "end": None,
            "span": None,
        },
    ]


def test_knowledge_answer_carries_its_reasoning() -> None:
    item = to_item(row(bot_event(KITE_TEXT, custom=KITE_CUSTOM)))
    assert item is not None and item["author"] == "bot" and item["text"] == KITE_TEXT
    assert item["reasoning"] == {
        "outcome": "generated",
        "outcome_text": "Generated answer, every fact verified against the passages",
        "passages": [
            {
                "id": f"p:{KITE_ID}#0",
                "doc_id": KITE_ID,
                "kind": "product",
                "title": "Delta Kite",
                "score": 0.03,
            }
        ],
        "more_passages": 0,
        "citations": [{"n": 1, "title": "Delta Kite", "url": "https://s/kite", "kind": "product"}],
        "latency_ms": {
            "retrieve": 0.0,
            "prompt": 0.5,
            "generate": 1.1,
            "verify": 0.2,
            "total": 1.8,
        },
    }


def test_passages_are_ranked_and_capped() -> None:
    sources = [
        {**KITE_CUSTOM["sources"][0], "passage_id": f"p{i}", "score": 0.01 + i / 1000}
        for i in range(8)
    ]
    custom = {**KITE_CUSTOM, "outcome": "passage", "sources": sources}
    item = to_item(row(bot_event("Delta Kite — $24.50, in stock.", custom=custom)))
    assert item is not None
    why = item["reasoning"]
    assert why["outcome_text"].startswith("Verified passage")
    assert [p["id"] for p in why["passages"]] == ["p7", "p6", "p5", "p4", "p3"]
    assert len(why["passages"]) == MAX_PASSAGES and why["more_passages"] == 3
    assert why["passages"][0]["score"] == 0.017


def test_fallback_and_non_knowledge_messages() -> None:
    unknown = {"outcome": "unknown", "citations": [], "sources": [], "latency_ms": {}}
    item = to_item(row(bot_event("I don't know that, sorry.", custom=unknown)))
    assert item is not None and item["reasoning"]["outcome"] == "unknown"
    assert item["reasoning"]["outcome_text"].startswith("Fallback")
    products = to_item(row(bot_event("Here are 2 kites", custom={"products": [{"id": "a"}]})))
    assert products is not None and products["reasoning"] is None
    odd = {"outcome": "generated", "sources": "x", "citations": [1, {"title": 2}], "latency_ms": 3}
    item = to_item(row(bot_event("odd", custom=odd)))
    assert item is not None and item["reasoning"]["passages"] == []
    assert item["reasoning"]["citations"] == [{"n": 2, "title": "", "url": "", "kind": ""}]
    agent = to_item(row(bot_event("hi", {"kind": "agent", "agent": "Ann"}, custom=KITE_CUSTOM)))
    assert agent is not None and agent["reasoning"] is None  # only the bot's own answers


def test_thumbs_are_feedback_items() -> None:
    item = to_item(row(feedback_event("down", "The Delta Kite costs $24.50 [1]."), 9))
    assert item == {
        "id": 9,
        "at": "2026-11-30T00:53:24.000Z",
        "type": "feedback",
        "value": "down",
        "message_id": "9f1c",
        "rated_text": "The Delta Kite costs $24.50 [1].",
        "channel": "widget",
        "refers_to": None,  # the reader finds the rated bot message
    }
    meh = feedback_event("meh", "x")
    assert to_item(row(meh)) is None
    assert to_item(row({"event": "agent", "text": "hi", "data": None})) is None
