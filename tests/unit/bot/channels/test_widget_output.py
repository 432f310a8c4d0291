"""Rasa bot messages → widget events: one bot event per message, structured parts, no internals."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.channels.widget_output import WidgetOutputChannel, widget_events

ANSWER_CUSTOM = {
    "outcome": "generated",
    "display_text": "The Delta Kite costs $24.50 [1].",
    "citations": [
        {"n": 1, "doc_id": "abc", "kind": "product", "title": "Delta Kite", "url": "https://s/k"}
    ],
    "sources": [{"passage_id": "p:abc#0", "score": 0.8}],
    "latency_ms": {"total": 12.0},
    "stream_id": "s-1",
}


def test_a_knowledge_answer_becomes_one_bot_event_without_internals() -> None:
    message = {
        "text": "The Delta Kite costs $24.50 [1].\n\nSources: [1] Delta Kite",
        "custom": ANSWER_CUSTOM,
    }
    [(kind, event)] = widget_events(message)
    assert kind == "bot"
    assert event["text"] == "The Delta Kite costs $24.50 [1]."
    assert event["citations"] == [
        {"n": 1, "title": "Delta Kite", "url": "https://s/k", "kind": "product"}
    ]
    assert event["stream_id"] == "s-1"
    assert len(event["message_id"]) == 32
    assert "sources" not in event and "latency_ms" not in event and "outcome" not in event


def test_product_cards_and_buttons() -> None:
    message = {
        "text": "Here is one match:",
        "buttons": [{"title": "More", "payload": "/search_more"}, {"title": "", "payload": "/x"}],
        "custom": {
            "products": [
                {
                    "id": "p1",
                    "name": "Kite",
                    "price": 24.5,
                    "currency": "USD",
                    "in_stock": True,
                    "url": "https://s/k",
                    "image": "",
                    "brand": "Sky",
                },
                {"name": "No price", "price": "n/a", "in_stock": "maybe"},
                {"id": "broken"},
            ]
        },
    }
    [(_, event)] = widget_events(message)
    assert event["buttons"] == [{"title": "More", "payload": "/search_more"}]
    assert event["products"] == [
        {
            "id": "p1",
            "name": "Kite",
            "price": 24.5,
            "currency": "USD",
            "in_stock": True,
            "image": "",
            "url": "https://s/k",
        },
        {
            "id": "",
            "name": "No price",
            "price": None,
            "currency": "USD",
            "in_stock": None,
            "image": "",
            "url": "",
        },
    ]


def test_handoff_state_and_empty_messages() -> None:
    events = widget_events({"custom": {"handoff": {"state": "waiting", "position": 2}}})
    assert events == [("handoff", {"state": "waiting", "position": 2})]
    assert widget_events({"custom": {"handoff": {"state": "bogus"}}}) == []
    assert widget_events({"text": ""}) == []


def test_the_output_channel_appends_each_message() -> None:
    stored: list[tuple[str, dict[str, Any]]] = []

    async def store(conversation: str, kind: str, payload: dict[str, Any]) -> int:
        assert conversation == "c"
        stored.append((kind, payload))
        return len(stored)

    channel = WidgetOutputChannel(store)

    async def send() -> None:
        await channel.send_response(
            "c", {"text": "Hi", "buttons": [{"title": "A", "payload": "/a"}]}
        )
        await channel.send_text_message("c", "plain")
        await channel.send_image_url("c", "https://s/i.png")
        await channel.send_custom_json("c", {"products": [{"name": "Kite", "price": 1}]})

    asyncio.run(send())
    assert [p.get("text") for _, p in stored] == ["Hi", "plain", "", ""]
    assert stored[0][1]["buttons"] == [{"title": "A", "payload": "/a"}]
    assert stored[2][1]["image"] == "https://s/i.png"
    assert stored[3][1]["products"][0]["name"] == "Kite"
    assert WidgetOutputChannel.name() == "widget"


def test_console_messages_arrive_as_agent_and_handoff_events() -> None:
    # What Rasa's BotUttered.message() gives for the console's events: metadata merged in.
    agent = {"text": "Hi, I'm Ana.", "shopbot": {"kind": "agent", "agent": "Ana", "agent_id": 3}}
    [(kind, event)] = widget_events(agent)
    assert kind == "agent" and event["text"] == "Hi, I'm Ana." and event["agent"] == "Ana"
    assert "agent_id" not in event
    joined = {
        "text": "Ana from the support team joined the conversation.",
        "shopbot": {"kind": "handoff", "state": "joined", "agent": "Ana"},
    }
    assert widget_events(joined) == [
        ("handoff", {"state": "joined", "agent": "Ana", "text": joined["text"]})
    ]
    notice = {"text": "No agent is online right now.", "shopbot": {"kind": "notice"}}
    [(kind, event)] = widget_events(notice)
    assert kind == "bot" and event["text"] == "No agent is online right now."
