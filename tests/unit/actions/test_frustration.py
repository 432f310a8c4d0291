"""Frustration score over recorded tracker events, and the action/mixin that set the slots."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.sentiment import (
    ActionCheckFrustration,
    FrustrationSlotsMixin,
    frustration_score,
    frustration_slots,
    is_frustrated,
    turn_score,
)


def user(
    intent: str, sentiment: str = "neutral", confidence: float = 0.9, via_entity: bool = False
) -> dict[str, Any]:
    """A recorded ``user`` event as the tracker store holds it."""
    parse: dict[str, Any] = {"intent": {"name": intent, "confidence": 0.9}, "entities": []}
    if via_entity:
        parse["entities"].append(
            {"entity": "sentiment", "value": sentiment, "confidence": confidence}
        )
    else:
        parse["sentiment"] = {"label": sentiment, "confidence": confidence}
    return {"event": "user", "text": "...", "parse_data": parse}


def bot(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def test_one_bad_message_is_not_frustration() -> None:
    events = [{"event": "session_started"}, user("track_order", "negative", 0.95)]
    assert frustration_score(events) == pytest.approx(0.95 / (1 + 0.7 + 0.49))
    assert not is_frustrated(events)


def test_negative_turns_in_a_row_are_frustration() -> None:
    events = [user("greet", "positive"), bot("utter_greet"), user("track_order", "negative"),
              bot("action_listen"), user("complaint", "negative", 0.8)]  # fmt: skip
    assert is_frustrated(events)
    assert frustration_score(events) == pytest.approx((1.0 + 0.7 * 0.9) / 2.19)


def test_declining_twice_is_not_frustration() -> None:
    """The demo sentiment model rates "no, keep it" negative 0.94 and "no that's all" 0.97: a
    shopper who declines a cancellation and then says there is nothing else was offered a human."""
    events = [user("cancel_order"), bot("order_form"), user("inform"), bot("order_form"),
              user("deny", "negative", 0.94), bot("action_order_request"),
              user("deny", "negative", 0.97)]  # fmt: skip
    assert frustration_score(events) == 0.0
    assert turn_score(user("affirm", "negative", 0.9)) == 0.0
    # Anger in other words still counts.
    assert turn_score(user("track_order", "negative", 0.9)) == pytest.approx(0.9)


def test_sentiment_from_the_entity_when_parse_data_lacks_it() -> None:
    assert turn_score(user("track_order", "negative", 0.7, via_entity=True)) == pytest.approx(0.7)
    assert turn_score(user("track_order", "positive", 0.99)) == 0.0


def test_repeated_fallbacks_are_frustration() -> None:
    events = [user("nlu_fallback"), bot("utter_default"), user("nlu_fallback")]
    assert frustration_score(events) == pytest.approx((0.6 + 0.42) / 2.19 + 0.25)
    assert is_frustrated(events)
    assert not is_frustrated(events[-1:])


def test_offer_of_a_human_resets_the_window() -> None:
    angry = [user("complaint", "negative"), user("track_order", "negative")]
    assert is_frustrated(angry)
    assert frustration_score([*angry, bot("utter_offer_human")]) == 0.0
    assert frustration_score([*angry, {"event": "restart"}, user("greet", "positive")]) == 0.0


def tracker(events: list[dict[str, Any]]) -> Tracker:
    return Tracker(
        "shopper", {}, events[-1]["parse_data"], events, False, None, {}, "action_listen"
    )


def test_action_and_mixin_set_the_slots() -> None:
    events = [user("complaint", "negative"), user("get_refund", "negative", 0.95)]
    result = asyncio.run(ActionCheckFrustration().run(CollectingDispatcher(), tracker(events), {}))
    slots = {e["name"]: e["value"] for e in result if e["event"] == "slot"}
    assert slots["frustrated"] is True and slots["frustration_cause"] == "unhappy"
    assert 0.5 < slots["frustration_score"] <= 1.0
    mixin = FrustrationSlotsMixin()
    extracted = asyncio.run(mixin.extract_frustrated(CollectingDispatcher(), tracker(events), {}))
    assert extracted == {"frustrated": True}
    cause = asyncio.run(
        mixin.extract_frustration_cause(CollectingDispatcher(), tracker(events), {})
    )
    assert cause == {"frustration_cause": "unhappy"}


def test_fallbacks_alone_are_not_called_frustration() -> None:
    """Two off-topic questions from a calm shopper ("what's the weather", "what's the capital of
    australia") are offered a human as a bot that could not help, not as a frustrated shopper."""
    calm = [user("out_of_scope"), bot("utter_out_of_scope"), user("out_of_scope")]
    assert frustration_slots(calm)["frustrated"] is True
    assert frustration_slots(calm)["frustration_cause"] == "not_helped"
    angry = [user("out_of_scope"), bot("utter_out_of_scope"), user("nlu_fallback", "negative")]
    assert frustration_slots(angry)["frustration_cause"] == "unhappy"
    assert frustration_slots(calm[:1])["frustration_cause"] is None  # not frustrated: no cause


def test_open_questions_the_store_answered_are_not_fallbacks() -> None:
    """An out-of-scope reading that the FAQ then answered (action_answer_open_question) is not a
    turn the bot failed; one it could not answer still is."""

    def sources(outcome: str) -> dict[str, Any]:
        return {"event": "slot", "name": "knowledge_sources", "value": {"outcome": outcome}}

    answered = [user("out_of_scope"), bot("action_answer_open_question"), sources("passage")]
    assert frustration_score([*answered, user("nlu_fallback")]) == pytest.approx(0.6 / 2.19)
    assert not is_frustrated([*answered, user("nlu_fallback")])
    about = [user("out_of_scope"), bot("action_answer_open_question"), sources("assistant")]
    assert not is_frustrated([*about, user("nlu_fallback")])  # "what can you do?" was answered
    unanswered = [user("out_of_scope"), bot("action_answer_open_question"), sources("unknown")]
    assert is_frustrated([*unanswered, user("nlu_fallback")])
