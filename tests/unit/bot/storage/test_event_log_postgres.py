"""The widget's event log on a real PostgreSQL server (loopback, started by the test): the
migration, and seq allocation and dedup under concurrent writers from two engines."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from bot.storage.migrate import current_revision, head_revision, upgrade_to_head
from tests.conftest import free_port
from tests.e2e.postgres import PostgresServer, postgres_or_skip
from tests.unit.bot.storage.test_event_log import append_concurrently_from_two_replicas

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    bin_dir = postgres_or_skip()
    server = PostgresServer(bin_dir, free_port()).start()
    try:
        yield server.create_database(f"app_{uuid.uuid4().hex[:8]}")
    finally:
        server.stop()


def test_migration_and_concurrent_appends_on_postgres(pg_url: str) -> None:
    assert upgrade_to_head(pg_url) == head_revision()
    assert current_revision(pg_url) == head_revision()
    append_concurrently_from_two_replicas(pg_url)
