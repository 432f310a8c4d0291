"""Seeding into PostgreSQL (tracker events by COPY) writes the same conversations as into SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage.handoff_tables import conversation_summaries, handoffs
from bot.storage.message_tables import conversation_messages, shopper_turns_daily
from tests.e2e.postgres import PostgresServer, started_postgres
from tests.unit.training.test_seed_conversations import (
    app_rows,
    make_corpus_root,
    small_args,
    tracker_events,
)
from training.bench.seed_conversations import seed

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with started_postgres() as running:
        yield running


def test_postgres_and_sqlite_get_the_same_conversations(
    server: PostgresServer, tmp_path: Path
) -> None:
    root = make_corpus_root(tmp_path / "corpus")
    suffix = uuid.uuid4().hex[:8]
    on_pg = small_args(
        tmp_path,
        tracker_url=server.create_database(f"tracker_{suffix}"),
        app_db_url=server.create_database(f"app_{suffix}"),
    )
    on_sqlite = small_args(tmp_path)
    pg_report, sqlite_report = seed(on_pg, root), seed(on_sqlite, root)
    assert (pg_report.events, pg_report.handoffs) == (sqlite_report.events, sqlite_report.handoffs)
    assert tracker_events(on_pg.tracker_url) == tracker_events(on_sqlite.tracker_url)
    for table in (conversation_summaries, handoffs):
        key = "conversation_id"
        pg_rows = sorted(app_rows(on_pg.app_db_url, table), key=lambda r: r[key])
        sqlite_rows = sorted(app_rows(on_sqlite.app_db_url, table), key=lambda r: r[key])
        assert pg_rows == sqlite_rows
    # The message rows (search) and the shopper turns per day (analytics) too.
    for table in (conversation_messages, shopper_turns_daily):
        pg_rows = sorted(app_rows(on_pg.app_db_url, table), key=repr)
        sqlite_rows = sorted(app_rows(on_sqlite.app_db_url, table), key=repr)
        assert len(pg_rows) == len(sqlite_rows) > 0
        assert pg_rows == sqlite_rows, table.name
