"""The handoff event broker, fed the event dicts Rasa's tracker store publishes."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    AgentUttered,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SlotSet,
    UserUttered,
)
from sqlalchemy.engine import Engine

from bot.handoff.broker import HandoffEventBroker
from bot.storage.engine import make_engine


@pytest.fixture(params=["each", "batch"])
def broker(app_engine: Engine, request: pytest.FixtureRequest) -> HandoffEventBroker:
    """The broker, fed event by event (Rasa's ``publish``) or in one batch per call (ShopBot's
    tracker store's ``publish_many``): every test below must hold both ways."""
    broker = HandoffEventBroker(app_engine)
    broker._test_batched = request.param == "batch"  # type: ignore[attr-defined]
    return broker


def publish(broker: HandoffEventBroker, sender: str, *events: Event) -> None:
    """What the tracker store does with a save's new events: Rasa's ``_stream_new_events``
    publishes each; ShopBot's store hands them over together."""
    bodies: list[dict[str, Any]] = [{"sender_id": sender, **event.as_dict()} for event in events]
    if getattr(broker, "_test_batched", False):
        broker.publish_many(bodies)
        return
    for body in bodies:
        broker.publish(body)


def shopper(text: str, intent: str, sentiment: str = "neutral", channel: str = "widget") -> Event:
    return UserUttered(
        text,
        parse_data={
            "intent": {"name": intent, "confidence": 0.91},
            "entities": [],
            "sentiment": {"label": sentiment, "confidence": 0.8},
        },
        input_channel=channel,
    )


def test_a_pause_puts_the_conversation_in_the_queue_with_its_reason(
    broker: HandoffEventBroker,
) -> None:
    publish(
        broker,
        "c1",
        shopper("this is useless, get me a person", "human_handoff", "negative"),
        ActionExecuted("action_handoff"),
        BotUttered("I'm passing this conversation to a human agent."),
        SlotSet("handoff_reason", "asked"),
        ConversationPaused(),
    )
    handoff = broker.queue.current("c1")
    assert handoff is not None
    assert (handoff.status, handoff.reason, handoff.channel) == ("waiting", "asked", "widget")
    summary = broker.conversations.get("c1")
    assert summary is not None
    assert (summary.user_messages, summary.bot_messages, summary.handoffs) == (1, 1, 1)
    assert (summary.last_intent, summary.last_sentiment) == ("human_handoff", "negative")
    # The widget is told the shopper's place in the queue.
    stored = broker.widget_log.read_after("c1", 0)
    assert [(e.kind, e.payload) for e in stored] == [
        ("handoff", {"state": "waiting", "position": 1})
    ]


def test_shopper_messages_while_paused_are_counted_and_the_handoff_stays(
    broker: HandoffEventBroker,
) -> None:
    publish(broker, "c1", shopper("human please", "contact_human_agent"), ConversationPaused())
    publish(broker, "c1", shopper("hello? anyone there?", "greet"))
    assert broker.queue.current("c1") is not None
    summary = broker.conversations.get("c1")
    assert summary is not None and summary.user_messages == 2
    assert summary.last_user_text == "hello? anyone there?"


def test_a_resume_without_an_agent_means_the_shopper_left(broker: HandoffEventBroker) -> None:
    publish(broker, "c1", shopper("human please", "contact_human_agent"), ConversationPaused())
    publish(broker, "c1", ConversationResumed())
    assert broker.queue.current("c1") is None
    assert [h.status for h in broker.queue.history("c1")] == ["left"]


def test_the_verified_customer_is_shown_with_the_handoff(broker: HandoffEventBroker) -> None:
    publish(
        broker,
        "c1",
        shopper("where is my order", "track_order", channel="rest"),
        SlotSet("verified_customer", "CUST-0042"),
        shopper("I want a person", "contact_human_agent", channel="rest"),
        ConversationPaused(),
    )
    handoff = broker.queue.current("c1")
    assert handoff is not None and handoff.customer == "CUST-0042"
    assert broker.widget_log.read_after("c1", 0) == []  # not a widget conversation


def test_a_broken_database_never_fails_the_shoppers_message(
    broker: HandoffEventBroker, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    broker.queue.engine = make_engine(f"sqlite:///{tmp_path / 'not-migrated.db'}")  # no tables
    with caplog.at_level(logging.ERROR):
        publish(broker, "c1", ConversationPaused())  # must not raise
    assert "could not fold" in caplog.text


def rated(value: str) -> Event:
    """The widget's thumbs on a bot message (``WidgetInput._record_feedback``)."""
    return AgentUttered(
        text=None,
        data={"feedback": {"message_id": "m1", "value": value, "seq": 2, "channel": "widget"}},
    )


def unsure(text: str, intent: str, confidence: float, sentiment: str = "neutral") -> Event:
    return UserUttered(
        text,
        parse_data={
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "sentiment": {"label": sentiment, "confidence": 0.8},
        },
        input_channel="widget",
    )


def test_the_list_filters_columns_are_folded_turn_by_turn(broker: HandoffEventBroker) -> None:
    publish(broker, "c1", unsure("hi", "greet", 0.97))
    summary = broker.conversations.get("c1")
    assert summary is not None
    assert (summary.fallback_turns, summary.negative_turns, summary.min_confidence) == (0, 0, 0.97)
    publish(
        broker,
        "c1",
        unsure("asdf qwer", "nlu_fallback", 0.3),
        BotUttered("Sorry, I didn't get that."),
        unsure("what is the meaning of life", "out_of_scope", 0.62, "negative"),
        unsure("this is hopeless", "complaint", 0.81, "negative"),
        rated("down"),
        rated("down"),
        rated("up"),
        AgentUttered(text=None, data={"feedback": {"value": "meh"}}),  # not a thumb: ignored
        AgentUttered(text="an agent event without feedback"),
    )
    summary = broker.conversations.get("c1")
    assert summary is not None
    assert (summary.user_messages, summary.fallback_turns, summary.negative_turns) == (4, 2, 2)
    assert summary.min_confidence == 0.3  # the lowest of any turn, not the last
    assert (summary.thumbs_up, summary.thumbs_down) == (1, 2)
    assert summary.reviewed_at is None


def test_a_first_event_that_is_a_thumb_or_a_fallback_creates_the_row_with_it(
    broker: HandoffEventBroker,
) -> None:
    publish(broker, "c1", rated("down"))
    publish(broker, "c2", unsure("zzz", "nlu_fallback", 0.2, "negative"))
    first, second = broker.conversations.get("c1"), broker.conversations.get("c2")
    assert first is not None and (first.thumbs_down, first.user_messages) == (1, 0)
    assert first.min_confidence is None
    assert second is not None
    assert (second.fallback_turns, second.negative_turns, second.min_confidence) == (1, 1, 0.2)


def stored_messages(broker: HandoffEventBroker, conversation_id: str) -> list[tuple[Any, ...]]:
    from sqlalchemy import select

    from bot.storage.message_tables import conversation_messages as m

    with broker.engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                select(m.c.sender, m.c.channel, m.c.text, m.c.intent, m.c.sentiment, m.c.agent_id)
                .where(m.c.conversation_id == conversation_id)
                .order_by(m.c.id)
            )
        ]


def test_every_message_is_stored_for_search_and_the_first_agent_reply_is_stamped(
    broker: HandoffEventBroker,
) -> None:
    def marked(text: str, at: float, **shopbot: Any) -> Event:
        return Event.from_parameters(
            {"event": "bot", "text": text, "metadata": {"shopbot": shopbot}, "timestamp": at}
        )

    publish(
        broker,
        "c1",
        BotUttered("Hi! I'm the store assistant."),  # before the shopper: channel unknown yet
        shopper("my parcel is late", "track_order", "negative", channel="rest"),
        BotUttered(data={"buttons": [{"title": "Yes", "payload": "/affirm"}]}),  # no text
        SlotSet("handoff_reason", "asked"),
        ConversationPaused(),
        marked(
            "Bob from the support team joined the conversation.",
            1_796_000_100.0,
            kind="handoff",
            state="joined",
            agent="Bob",
        ),
        marked("Hi, I'm Bob. Let me look.", 1_796_000_160.0, kind="agent", agent="Bob", agent_id=4),
        shopper("thanks", "thank", channel="rest"),
        marked("It arrives tomorrow.", 1_796_000_220.0, kind="agent", agent="Bob", agent_id=4),
    )
    assert stored_messages(broker, "c1") == [
        ("bot", "unknown", "Hi! I'm the store assistant.", None, None, None),
        ("user", "rest", "my parcel is late", "track_order", "negative", None),
        ("notice", "rest", "Bob from the support team joined the conversation.", None, None, None),
        ("agent", "rest", "Hi, I'm Bob. Let me look.", None, None, 4),
        ("user", "rest", "thanks", "thank", "neutral", None),
        ("agent", "rest", "It arrives tomorrow.", None, None, 4),
    ]
    handoff = broker.queue.current("c1")
    assert handoff is not None
    from sqlalchemy import select

    from bot.storage.handoff_tables import handoffs

    with broker.engine.connect() as conn:
        first_reply = conn.execute(select(handoffs.c.first_reply_at)).scalar_one()
    assert first_reply == dt.datetime(
        2026, 11, 30, 0, 56
    )  # the first agent message, not the notice
    summary = broker.conversations.get("c1")
    assert summary is not None and (summary.user_messages, summary.bot_messages) == (2, 5)


def test_a_batch_whose_transaction_fails_keeps_every_other_change(
    broker: HandoffEventBroker, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """One change the database refuses must not take the rest of its turn with it."""
    apply = broker.conversations.apply_many

    def refuse_boom(conversation_id: str, changes: list[Any]) -> None:
        if any(c.user_text == "boom" for c in changes):
            raise RuntimeError("the database refused it")
        apply(conversation_id, changes)

    monkeypatch.setattr(broker.conversations, "apply_many", refuse_boom)
    with caplog.at_level(logging.ERROR):
        publish(
            broker,
            "c1",
            shopper("where is my order", "track_order", channel="rest"),
            BotUttered("What is the order number?"),
            shopper("boom", "inform", channel="rest"),
            BotUttered("Thanks, looking it up."),
        )
    stored = [row[2] for row in stored_messages(broker, "c1")]
    assert stored == ["where is my order", "What is the order number?", "Thanks, looking it up."]
    assert "could not fold" in caplog.text


def test_a_turn_is_one_transaction_and_a_pause_still_comes_after_its_message(
    app_engine: Engine,
) -> None:
    """A saved turn's shopper and bot messages are one transaction, with Rasa's action events
    between them; a pause still sees the messages before it (its reason and channel)."""
    broker = HandoffEventBroker(app_engine)
    applied: list[int] = []
    apply = broker.conversations.apply_many

    def counted(conversation_id: str, changes: list[Any]) -> None:
        applied.append(len(changes))
        apply(conversation_id, changes)

    broker.conversations.apply_many = counted  # type: ignore[method-assign]
    turn = [
        shopper("where is my order", "track_order", channel="rest"),
        ActionExecuted("order_form"),
        BotUttered("What is the order number?"),
        ActionExecuted("action_listen"),
    ]
    broker.publish_many([{"sender_id": "c1", **e.as_dict()} for e in turn])
    assert applied == [2]
    handoff = [
        shopper("I want a human", "human_handoff", channel="rest"),
        SlotSet("handoff_reason", "asked"),
        ActionExecuted("action_handoff"),
        ConversationPaused(),
        BotUttered("A person will be with you shortly."),
    ]
    broker.publish_many([{"sender_id": "c1", **e.as_dict()} for e in handoff])
    # The shopper's message before the pause, the pause's handoff count, the bot's message after.
    assert applied[1:] == [1, 1, 1]
    waiting = broker.queue.open_handoffs()
    assert [(h.conversation_id, h.channel, h.reason) for h in waiting] == [("c1", "rest", "asked")]
