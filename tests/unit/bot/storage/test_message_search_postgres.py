"""Message search and the analytics report on a real PostgreSQL server (loopback, started by the
test): the migration's GIN index, the same hand-checked answers as on SQLite, hostile queries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from bot.storage.conversations import ConversationFilter
from bot.storage.engine import make_engine
from bot.storage.message_search import MessageSearch
from bot.storage.message_tables import TEXT_SEARCH_INDEX, conversation_messages
from bot.storage.migrate import upgrade_to_head
from tests.conftest import free_port
from tests.e2e.postgres import PostgresServer, postgres_or_skip
from tests.unit.bot.storage.test_analytics import check_report, load
from tests.unit.bot.storage.test_message_search import check_injection, check_search

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    bin_dir = postgres_or_skip()
    server = PostgresServer(bin_dir, free_port()).start()
    try:
        url = server.create_database(f"app_{uuid.uuid4().hex[:8]}")
        upgrade_to_head(url)
        engine = make_engine(url)
        load(engine)
        yield engine
        engine.dispose()
    finally:
        server.stop()


def test_the_migration_makes_the_gin_index(pg_engine: Engine) -> None:
    with pg_engine.connect() as conn:
        definition = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
            {"name": TEXT_SEARCH_INDEX},
        ).scalar_one()
    assert "USING gin (search_vector)" in definition
    with pg_engine.connect() as conn:
        generated = conn.execute(
            text(
                "SELECT generation_expression FROM information_schema.columns "
                "WHERE table_name = 'conversation_messages' AND column_name = 'search_vector'"
            )
        ).scalar_one()
    assert generated == "to_tsvector('simple'::regconfig, text)"


def test_search_answers_on_postgres(pg_engine: Engine) -> None:
    check_search(MessageSearch(pg_engine))


def test_hostile_queries_never_raise_on_postgres(pg_engine: Engine) -> None:
    check_injection(MessageSearch(pg_engine))


def test_the_grouped_query_and_the_planner_estimates_on_postgres(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.storage.message_search

    search = MessageSearch(pg_engine)
    with pg_engine.connect() as conn:
        assert search._estimated_matches(conn, ["parcel"], None) >= 1
        assert not search._group_at_once(conn, ["parcel"], None, 50)  # no filter: stream
        assert isinstance(
            search._group_at_once(conn, ["parcel"], ConversationFilter(handed_off=True), 50), bool
        )
    monkeypatch.setattr(bot.storage.message_search, "STREAM_BUDGET", 0)  # never stream
    check_search(search)
    check_injection(search)


def test_the_search_condition_is_served_by_the_gin_index(pg_engine: Engine) -> None:
    query = MessageSearch(pg_engine)._matches(["parcel"], None)
    (condition,) = [c for c in query.whereclause.clauses if "search_vector" in str(c)]  # type: ignore[union-attr]
    sql = str(
        select(conversation_messages.c.id)
        .where(condition)
        .compile(pg_engine, compile_kwargs={"literal_binds": True})
    )
    with pg_engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))  # six rows: make the planner show its hand
        plan = "\n".join(str(row[0]) for row in conn.execute(text(f"EXPLAIN {sql}")))
    assert f"Bitmap Index Scan on {TEXT_SEARCH_INDEX}" in plan, plan


def test_report_on_postgres(pg_engine: Engine) -> None:
    check_report(pg_engine)
