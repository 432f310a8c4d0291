"""``shopbot forget`` and ``shopbot retention`` with Rasa's tracker store and ShopBot's database
on a real PostgreSQL server (loopback, started by the test)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from bot.console.transcript import events as tracker_events
from bot.privacy import forget, retention
from bot.storage.audit import AuditLog
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade_to_head
from core.settings import Settings
from tests.e2e.postgres import PostgresServer, started_postgres
from tests.unit.bot.console.helpers import FakeClock, TrackerStore
from tests.unit.bot.privacy.shoppers import (
    ISABELLA,
    SOFIA,
    dump,
    isabella_events,
    seed_everywhere,
    sofia_events,
    write_store_db,
)

pytestmark = pytest.mark.postgres
EPOCH = dt.datetime(1970, 1, 1)


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with started_postgres() as running:
        yield running


def pg_tracker(url: str) -> TrackerStore:
    """The tests' tracker-store writer on PostgreSQL (Rasa's ``events`` table)."""
    store = TrackerStore.__new__(TrackerStore)
    store.engine = create_engine(url, future=True)
    tracker_events.metadata.create_all(store.engine)
    return store


@pytest.fixture()
def world(
    server: PostgresServer, tmp_path: Path
) -> Iterator[tuple[Settings, Engine, TrackerStore]]:
    suffix = uuid.uuid4().hex[:8]
    app_url = server.create_database(f"app_{suffix}")
    tracker_url = server.create_database(f"tracker_{suffix}")
    upgrade_to_head(app_url)
    settings = Settings(
        root=tmp_path,
        app_db_url=app_url,
        tracker_store_url=tracker_url,
        store_db_url=write_store_db(tmp_path / "shop.db"),
        client_key_secret="unit-client-key-secret-0123456789abcdef",
    )
    engine = make_engine(app_url)
    tracker = pg_tracker(tracker_url)
    old = FakeClock().now - dt.timedelta(days=100)
    start = (old - EPOCH).total_seconds()
    seed_everywhere(engine, tracker, "c-isa", isabella_events(start=start), old, ISABELLA["email"])
    recent = FakeClock().now - dt.timedelta(days=1)
    seed_everywhere(
        engine,
        tracker,
        "c-sofia",
        sofia_events(start=(recent - EPOCH).total_seconds()),
        recent,
        SOFIA["email"],
    )
    yield settings, engine, tracker
    tracker.close()
    engine.dispose()


def test_forget_on_postgres(world: tuple[Settings, Engine, TrackerStore]) -> None:
    settings, engine, tracker = world
    assert forget.main(["--email", ISABELLA["email"]], settings=settings) == 0
    everything = dump(engine, tracker)
    for secret in ("isabella", "tanaka", "washington", "7946 0958", "c-isa"):
        assert secret not in everything
    assert "sofia.perez@example.com" in everything and "c-sofia" in everything
    assert len(AuditLog(engine).recent("forget")) == 1


def test_retention_anonymises_then_deletes_on_postgres(
    world: tuple[Settings, Engine, TrackerStore],
) -> None:
    settings, engine, tracker = world
    clock = FakeClock()
    argv = ["--older-than", "30", "--mode", "anonymise"]
    assert retention.main(argv, settings=settings, clock=clock) == 0
    everything = dump(engine, tracker)
    assert "c-isa" in everything and "isabella" not in everything
    assert "shopbot_anonymised" in everything and "sofia.perez@example.com" in everything
    assert retention.main(argv, settings=settings, clock=clock) == 0  # already anonymised
    assert len(AuditLog(engine).recent("retention")) == 1

    assert retention.main(["--older-than", "30"], settings=settings, clock=clock) == 0
    everything = dump(engine, tracker)
    assert "c-isa" not in everything and "c-sofia" in everything
