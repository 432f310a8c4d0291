"""Full-text search over messages (SQLite FTS5): terms, filters, paging, snippets, the query plan,
and a shopper's query syntax that never raises. ``check_search`` and ``check_injection`` run on
PostgreSQL too (test_message_search_postgres.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine

from bot.storage.conversations import ConversationFilter
from bot.storage.message_search import (
    MAX_TERMS,
    BadQuery,
    MessageSearch,
    fts5_query,
    search_terms,
    snippet,
)
from bot.storage.message_tables import conversation_messages
from tests.unit.bot.storage.message_data import publish_dataset

# What shoppers type and agents paste: FTS5 and tsquery syntax, quotes, control characters.
HOSTILE = [
    '"', '""', "'", "*", "^", ":", "(", ")", "-", "+", "NEAR(", "NEAR(a b, 2)", "a OR b", "AND",
    "NOT parcel", "parcel AND (refund", 'parcel" OR "x', '"unclosed phrase', "text:parcel",
    "^parcel", "parcel*", "-parcel", "{parcel}", "[parcel]", "\\", "%", "_", "a\x00b", "\x1b[0m",
    "'; DROP TABLE conversation_messages; --", "parcel & refund | !x", "parcel <-> refund",
    "🙂", "déjà vu", "x" * 200, " ".join(["w"] * 50),
]  # fmt: skip


@pytest.fixture()
def searcher(app_engine: Engine) -> MessageSearch:
    publish_dataset(app_engine)
    return MessageSearch(app_engine)


def ids(search: MessageSearch, query: str, **where: object) -> list[str]:
    found = search.search(query, ConversationFilter(**where))  # type: ignore[arg-type]
    return [hit.summary.conversation_id for hit in found]


def check_search(search: MessageSearch) -> None:
    """The hand-checked answers (message_data.py), on any backend."""
    assert ids(search, "parcel") == ["c2", "c1"]  # c2's agent reply is its newest match
    assert ids(search, "PARCEL damaged") == ["c2"]  # every word, any case, any order
    assert ids(search, '"damaged parcel"') == ["c2"]  # a phrase: its words in a row
    assert ids(search, '"parcel damaged"') == []
    assert ids(search, "order 4821") == ["c6"]
    assert ids(search, "order") == ["c6", "c3"]  # shopper, bot and agent messages alike
    assert ids(search, "joined") == ["c2"]  # the console's notices too
    assert ids(search, "nothing-like-this") == []
    # Combined with the list's filters.
    assert ids(search, "order", channel="rest") == ["c3"]
    assert ids(search, "parcel", handed_off=True) == ["c2"]
    assert ids(search, "parcel", handed_off=False) == ["c1"]
    assert ids(search, "parcel", negative=True, had_fallback=True) == ["c2"]
    assert ids(search, "parcel", since=dt.date(2026, 12, 2)) == []
    # Each conversation once, with its newest matching message; pages go back by hit_before.
    first = search.search("parcel", limit=1)
    assert [h.summary.conversation_id for h in first] == ["c2"]
    assert first[0].sender == "agent"
    assert first[0].parts == [
        ("So sorry about the damaged ", False), ("parcel", True), (": a refund is on its way.", False),
    ]  # fmt: skip
    second = search.search("parcel", hit_before=first[0].message_id, limit=1)
    assert [h.summary.conversation_id for h in second] == ["c1"]
    assert second[0].sender == "bot" and second[0].snippet_text == "Your parcel ships tomorrow."
    assert search.search("parcel", hit_before=second[0].message_id) == []
    hit = search.search('"now"')[0]
    assert hit.to_dict()["match"]["parts"] == [
        {"text": 'cancel order 4821 "', "match": False},
        {"text": "now", "match": True},
        {"text": '"', "match": False},
    ]


def check_injection(search: MessageSearch) -> None:
    """No query raises; words inside operators are still found."""
    for query in HOSTILE:
        search.search(query)  # raises nothing
        search.search(query, ConversationFilter(channel="widget", handed_off=True))
    assert ids(search, "NOT parcel") == []  # NOT is a word here, and no message has it
    assert ids(search, "-parcel") == ["c2", "c1"]
    assert ids(search, "parcel*") == ["c2", "c1"]
    assert ids(search, "{parcel}") == ["c2", "c1"]
    assert ids(search, 'parcel" OR "x') == []  # parcel, OR and x all required
    assert ids(search, '"unclosed phrase') == []
    assert ids(search, "'; DROP TABLE conversation_messages; --") == []
    with search.engine.connect() as conn:  # still there
        assert conn.execute(select(conversation_messages.c.id)).first() is not None


def test_search_answers(searcher: MessageSearch) -> None:
    check_search(searcher)


def test_hostile_queries_never_raise(searcher: MessageSearch) -> None:
    check_injection(searcher)


def test_the_grouped_query_gives_the_same_pages(
    searcher: MessageSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.storage.message_search

    monkeypatch.setattr(bot.storage.message_search, "STREAM_BUDGET", 0)  # never stream
    check_search(searcher)
    check_injection(searcher)


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("refund damaged", ["refund", "damaged"]),
        ('  "damaged   parcel"  refund ', ["damaged parcel", "refund"]),
        ('"', []),
        ("* ( ) : ^ -", []),
        ("parcel Parcel PARCEL", ["parcel"]),
        ('x" OR "y', ['x"', "OR", '"y']),
        ("a\x00b", ["a", "b"]),
    ],
)
def test_search_terms(query: str, terms: list[str]) -> None:
    assert search_terms(query) == terms


def test_terms_become_quoted_phrases() -> None:
    assert fts5_query(['x"', "OR", "two words"]) == '"x""" "OR" "two words"'
    assert len(search_terms(" ".join(f"w{n}" for n in range(20)))) == MAX_TERMS
    with pytest.raises(BadQuery, match=r"q must be at most 200 characters\. Currently, it has 201"):
        search_terms("x" * 201)


def test_snippets_cut_long_messages_around_the_match() -> None:
    long = "word " * 60 + "the parcel arrived broken " + "more " * 60
    parts = snippet(long, ["parcel"])
    assert parts[0] == ("…", False) and parts[-1] == ("…", False)
    assert ("parcel", True) in parts and sum(len(t) for t, _ in parts) <= 165
    assert snippet("Crème brûlée", ["creme"]) == [("Crème", True), (" brûlée", False)]
    assert snippet("no match here", ["zzz"]) == [("no match here", False)]


def test_sqlite_walks_the_full_text_index_newest_first(searcher: MessageSearch) -> None:
    query = searcher._matches(["parcel"], ConversationFilter(handed_off=True))
    query = query.limit(50).params(below=1_000_000)
    sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with searcher.engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "VIRTUAL TABLE INDEX" in plan and "TEMP B-TREE" not in plan, plan
