"""The conversation index's filters (SQLite): each alone, combined, paged, and served by an index."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine

from bot.console.agents import AgentStore
from bot.storage.conversations import ConversationFilter, ConversationIndex, SummaryUpdate
from bot.storage.corrections import CorrectionStore
from bot.storage.handoff_tables import conversation_summaries
from tests.unit.bot.console.helpers import cheap_passwords

DAY0 = dt.datetime(2026, 12, 1, 9, 0, 0)


@pytest.fixture()
def index(app_engine: Engine) -> ConversationIndex:
    return ConversationIndex(app_engine)


def turn(at: dt.datetime, intent: str = "greet", confidence: float = 0.9, sentiment: str = "neutral",
         channel: str = "widget") -> SummaryUpdate:  # fmt: skip
    return SummaryUpdate(
        at=at,
        channel=channel,
        user_text="…",
        intent=intent,
        sentiment=sentiment,
        confidence=confidence,
    )


@pytest.fixture()
def rows(index: ConversationIndex) -> ConversationIndex:
    """Six conversations, one a day from DAY0 (c0 oldest), each with one trait."""
    days = [DAY0 + dt.timedelta(days=n) for n in range(6)]
    index.apply("c0", turn(days[0]))  # plain
    index.apply("c1", turn(days[1], channel="rest"))
    index.apply("c1", SummaryUpdate(at=days[1], handoff=True))  # handed off, REST
    index.apply("c2", turn(days[2], intent="nlu_fallback", confidence=0.25))  # fallback, low
    index.apply("c3", turn(days[3], confidence=0.45, sentiment="negative"))  # low, negative
    index.apply("c3", SummaryUpdate(at=days[3], handoff=True))  # ...and handed off
    index.apply("c4", turn(days[4], intent="out_of_scope", confidence=0.7))  # fallback
    index.apply("c4", SummaryUpdate(at=days[4], thumbs="down"))  # ...thumbs down
    index.apply("c5", turn(days[5]))
    index.apply("c5", SummaryUpdate(at=days[5], thumbs="up"))  # thumbs up only
    return index


def ids(index: ConversationIndex, **where: object) -> list[str]:
    page = index.page(where=ConversationFilter(**where))  # type: ignore[arg-type]
    return [row.conversation_id for row in page]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({}, ["c5", "c4", "c3", "c2", "c1", "c0"]),
        ({"channel": "rest"}, ["c1"]),
        ({"channel": "widget"}, ["c5", "c4", "c3", "c2", "c0"]),
        ({"since": dt.date(2026, 12, 5)}, ["c5", "c4"]),
        ({"until": dt.date(2026, 12, 2)}, ["c1", "c0"]),
        ({"since": dt.date(2026, 12, 3), "until": dt.date(2026, 12, 3)}, ["c2"]),
        ({"handed_off": True}, ["c3", "c1"]),
        ({"handed_off": False}, ["c5", "c4", "c2", "c0"]),
        ({"had_fallback": True}, ["c4", "c2"]),
        ({"had_fallback": False}, ["c5", "c3", "c1", "c0"]),
        ({"low_confidence_below": 0.5}, ["c3", "c2"]),
        ({"low_confidence_below": 0.3}, ["c2"]),
        ({"low_confidence_below": 0.25}, []),  # below, not at
        ({"negative": True}, ["c3"]),
        ({"negative": False}, ["c5", "c4", "c2", "c1", "c0"]),
        ({"thumbs_down": True}, ["c4"]),
        ({"thumbs_down": False}, ["c5", "c3", "c2", "c1", "c0"]),
        ({"reviewed": False}, ["c5", "c4", "c3", "c2", "c1", "c0"]),
        ({"reviewed": True}, []),
        # combined
        ({"low_confidence_below": 0.5, "handed_off": True}, ["c3"]),
        ({"had_fallback": True, "thumbs_down": False}, ["c2"]),
        ({"channel": "widget", "handed_off": True, "negative": True}, ["c3"]),
        ({"channel": "rest", "had_fallback": True}, []),
        ({"since": dt.date(2026, 12, 3), "low_confidence_below": 0.5, "negative": False}, ["c2"]),
    ],
)
def test_each_filter_alone_and_combined(
    rows: ConversationIndex, where: dict[str, object], expected: list[str]
) -> None:
    assert ids(rows, **where) == expected


def test_filtered_pages_go_back_by_the_keyset(rows: ConversationIndex) -> None:
    where = ConversationFilter(handed_off=False)
    first = rows.page(limit=2, where=where)
    assert [r.conversation_id for r in first] == ["c5", "c4"]
    second = rows.page(first[-1].last_event_at, limit=2, where=where)
    assert [r.conversation_id for r in second] == ["c2", "c0"]


def test_applied_filters_are_reported_without_the_unset_ones() -> None:
    where = ConversationFilter(since=dt.date(2026, 12, 1), low_confidence_below=0.5, reviewed=False)
    assert where.to_dict() == {
        "since": "2026-12-01",
        "low_confidence_below": 0.5,
        "reviewed": False,
    }
    assert ConversationFilter().to_dict() == {}


def test_proposing_a_correction_marks_the_conversation_reviewed(rows: ConversationIndex) -> None:
    agent = AgentStore(rows.engine, cheap_passwords()).add(
        "bob@example.com", "Bob", "agent", "x" * 12
    )
    moment = DAY0 + dt.timedelta(days=9)
    CorrectionStore(rows.engine, lambda: moment).propose(
        "c2", 1, "intent", "asdf", agent.id, original_intent="nlu_fallback", intent="greet"
    )
    assert ids(rows, reviewed=True) == ["c2"]
    assert "c2" not in ids(rows, reviewed=False)
    summary = rows.get("c2")
    assert summary is not None and summary.reviewed_at == moment
    assert summary.last_event_at == DAY0 + dt.timedelta(days=2)  # a review is not activity


@pytest.mark.parametrize(
    ("where", "index_name"),
    [
        (ConversationFilter(handed_off=True), "ix_conversation_summaries_handed_off"),
        (ConversationFilter(had_fallback=True), "ix_conversation_summaries_fallback"),
        (ConversationFilter(negative=True), "ix_conversation_summaries_negative"),
        (ConversationFilter(thumbs_down=True), "ix_conversation_summaries_thumbs_down"),
        (ConversationFilter(reviewed=True), "ix_conversation_summaries_reviewed"),
        (ConversationFilter(channel="rest"), "ix_conversation_summaries_channel_last_event_at"),
    ],
)
def test_sqlite_serves_each_yes_filter_from_its_index(
    index: ConversationIndex, where: ConversationFilter, index_name: str
) -> None:
    query = (
        conversation_summaries.select()
        .where(*where.conditions())
        .order_by(conversation_summaries.c.last_event_at.desc())
        .limit(50)
    )
    sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with index.engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert index_name in plan and "TEMP B-TREE" not in plan, plan
