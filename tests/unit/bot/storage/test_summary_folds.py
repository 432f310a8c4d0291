"""A turn's events folded into the conversation's row in one UPDATE
(``ConversationIndex.apply_many``) leave exactly what folding them one at a time leaves: the
summary row, the stored messages with their channels, and the daily turn counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.storage.conversations import ConversationIndex, SummaryUpdate
from bot.storage.engine import make_engine
from bot.storage.handoff_tables import conversation_summaries
from bot.storage.messages import NewMessage, conversation_messages, shopper_turns_daily
from bot.storage.migrate import upgrade_to_head

T0 = dt.datetime(2026, 12, 7, 9, 0, 0)


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def shopper(
    seconds: int,
    text: str,
    intent: str,
    confidence: float | None,
    sentiment: str = "neutral",
    channel: str | None = "widget",
) -> SummaryUpdate:
    message = NewMessage("user", text, intent=intent, confidence=confidence, sentiment=sentiment)
    return SummaryUpdate(
        at=at(seconds),
        channel=channel,
        user_text=text,
        intent=intent,
        sentiment=sentiment,
        confidence=confidence,
        message=message,
    )


def bot(seconds: int, text: str) -> SummaryUpdate:
    return SummaryUpdate(at=at(seconds), bot_message=True, message=NewMessage("bot", text))


GREETED = [shopper(0, "hi there", "greet", 0.97), bot(1, "Hi! How can I help?")]

SCENARIOS: dict[str, tuple[list[SummaryUpdate], list[SummaryUpdate]]] = {
    "a tracking turn that verifies the customer": (
        GREETED,
        [
            shopper(10, "where is my order 104233", "track_order", 0.88),
            SummaryUpdate(at=at(11), customer="ada@example.com"),
            bot(12, "Order 104233 shipped on 3 December."),
            bot(12, "Anything else?"),
        ],
    ),
    "a message before the turn that tells another channel": (
        GREETED,
        [
            bot(20, "Are you still there?"),
            shopper(21, "useless bot", "nlu_fallback", 0.0, "negative", channel="telegram"),
            bot(22, "Sorry, I didn't get that."),
        ],
    ),
    "the lowest confidence of several turns": (
        [shopper(0, "hello", "greet", 0.3), bot(1, "Hi!")],
        [
            shopper(30, "cancel it", "cancel_order", 0.5, channel=None),
            shopper(31, "yes cancel", "affirm", 0.2, channel=None),
            shopper(32, "ok", "affirm", 0.9, channel=None),
        ],
    ),
    "feedback, handoffs and no confidence": (
        GREETED,
        [
            SummaryUpdate(at=at(40), thumbs="up"),
            SummaryUpdate(at=at(41), thumbs="down"),
            SummaryUpdate(at=at(41), thumbs="down"),
            shopper(42, "a human please", "human_handoff", None, "negative", channel=None),
            SummaryUpdate(at=at(43), handoff=True),
            SummaryUpdate(at=at(44), handoff=True),
        ],
    ),
    "the conversation's first turn (no row yet)": (
        [],
        [shopper(0, "do you sell kettles?", "product_search", 0.76), bot(1, "Yes: ...")],
    ),
}


def _engine(path: Path) -> Engine:
    url = f"sqlite:///{path}"
    upgrade_to_head(url)
    return make_engine(url)


def _stored(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(conversation_summaries)).mappings().one()
        messages = conn.execute(
            select(conversation_messages).order_by(conversation_messages.c.id)
        ).mappings()
        turns = conn.execute(select(shopper_turns_daily)).mappings()
        return {
            "summary": dict(row),
            "messages": [{k: v for k, v in m.items() if k != "id"} for m in messages],
            "turns": sorted(tuple(sorted(t.items())) for t in turns),
        }


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_turn_folded_at_once_stores_what_one_at_a_time_stores(name: str, tmp_path: Path) -> None:
    history, turn = SCENARIOS[name]
    one_by_one, together = _engine(tmp_path / "one.db"), _engine(tmp_path / "together.db")
    for engine in (one_by_one, together):
        for change in history:
            ConversationIndex(engine).apply("c1", change)
    for change in turn:
        ConversationIndex(one_by_one).apply("c1", change)
    ConversationIndex(together).apply_many("c1", turn)
    assert _stored(together) == _stored(one_by_one)
