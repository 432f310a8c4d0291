"""ShopSQLTrackerStore on a real PostgreSQL server, loaded the way the Rasa server loads it (from
the ``tracker_store`` section ``bot.runtime_config`` writes): the same events published and the
same rows stored as by Rasa's own SQL store."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import create_tracker_store
from rasa.utils.endpoints import EndpointConfig

from bot.runtime_config import tracker_store_config
from core.settings import Settings
from tests.e2e.postgres import PostgresServer, started_postgres
from tests.unit.bot.storage.test_tracker_store import (
    DOMAIN,
    SESSION,
    Recording,
    in_fresh_loop,
    play,
    turn,
)

pytestmark = [pytest.mark.postgres, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with started_postgres() as running:
        yield running


def rows(url: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as db:
            return [
                tuple(r)
                for r in db.execute(
                    sa.text(
                        "SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
                        "FROM events ORDER BY id"
                    )
                )
            ]
    finally:
        engine.dispose()


def test_loaded_from_the_runtime_config_it_matches_rasas_store(
    server: PostgresServer, tmp_path: Path
) -> None:
    turns = [SESSION, turn("where is my order", 2.0), turn("it's 104233", 3.0)]
    published = []
    stored = []
    for streaming in ("rasa", "count"):
        url = server.create_database(f"tracker_{uuid.uuid4().hex[:8]}")
        settings = Settings(root=tmp_path, tracker_store_url=url, tracker_streaming=streaming)
        section = tracker_store_config(url, settings)
        broker = Recording()
        store = create_tracker_store(EndpointConfig.from_dict(section), DOMAIN, broker)
        expected = "ShopSQLTrackerStore" if streaming == "count" else "SQLTrackerStore"
        assert type(store).__name__ == expected
        play(store, turns)  # type: ignore[arg-type]
        published.append(broker.published)
        stored.append(rows(url))
    assert published[1] == published[0] and len(published[1]) == len(SESSION) + 10
    assert stored[1] == stored[0]


def test_a_turn_saved_while_postgres_is_down_is_stored_once_it_is_back(
    server: PostgresServer, tmp_path: Path
) -> None:
    """Rasa's store would keep the turn in memory only; ours tries again (and checks pooled
    connections, which the restart made stale)."""
    import threading

    url = server.create_database(f"tracker_{uuid.uuid4().hex[:8]}")
    settings = Settings(root=tmp_path, tracker_store_url=url, tracker_streaming="count")
    section = tracker_store_config(url, settings)
    store = create_tracker_store(EndpointConfig.from_dict(section), DOMAIN, Recording())
    play(store, [SESSION, turn("where is my order", 2.0)])  # type: ignore[arg-type]

    async def second_turn() -> None:
        tracker = await store.retrieve("shopper-1")
        assert tracker is not None
        for event in turn("it's 104233", 3.0):
            tracker.update(event)
        server.pause()  # the turn was read; the database goes away before it is saved
        back = threading.Timer(1.0, server.start)
        back.start()
        try:
            await store.save(tracker)
        finally:
            back.join()

    in_fresh_loop(second_turn())
    users = [r[5] for r in rows(url) if r[1] == "user"]
    assert [json.loads(u)["text"] for u in users] == ["where is my order", "it's 104233"]
