"""ShopSQLTrackerStore publishes exactly what Rasa's SQLTrackerStore publishes, and stores the same
rows, without reading the session back (a real SQLite file each; a recording broker)."""

from __future__ import annotations

import asyncio
import sqlite3
import warnings
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot.storage.tracker_store import ShopSQLTrackerStore

T = TypeVar("T")

# Rasa 3.6's SQLTrackerStore builds its engine URL with SQLAlchemy's deprecated ``URL()``.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

with warnings.catch_warnings():  # Rasa warns on every domain load ("Slot auto-fill ...")
    warnings.simplefilter("ignore", UserWarning)
    DOMAIN = Domain.load(str(Path(__file__).resolve().parents[4] / "bot" / "domain"))


class Recording(EventBroker):
    """Keeps every published event (the handoff broker is tested for real end to end)."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)


def turn(text: str, stamp: float) -> list[Event]:
    return [
        UserUttered(text, {"name": "track_order", "confidence": 0.9}, timestamp=stamp),
        SlotSet("order_number", "104233", timestamp=stamp + 0.1),
        ActionExecuted("utter_ask_email", timestamp=stamp + 0.2),
        BotUttered("What is your email?", timestamp=stamp + 0.3),
        ActionExecuted("action_listen", timestamp=stamp + 0.4),
    ]


SESSION = [
    ActionExecuted("action_session_start", timestamp=1.0),
    SessionStarted(timestamp=1.1),
    ActionExecuted("action_listen", timestamp=1.2),
]


def in_fresh_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` in a new event loop on a thread of its own: after other tests in the same
    interpreter (Rasa's, Sanic's) this thread may still count as running a loop, and
    ``asyncio.run()`` refuses to start then."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def play(store: SQLTrackerStore, turns: list[list[Event]]) -> None:
    async def run() -> None:
        for events in turns:
            tracker = await store.retrieve("shopper-1") or store.init_tracker("shopper-1")
            for event in events:
                tracker.update(event)
            await store.save(tracker)

    in_fresh_loop(run())


def rows(db_file: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_file) as db:
        return db.execute(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events "
            "ORDER BY id"
        ).fetchall()


@pytest.mark.parametrize("sessions", [1, 2])
def test_the_same_events_are_published_and_stored_as_by_rasas_store(
    tmp_path: Path, sessions: int
) -> None:
    turns = [SESSION, turn("where is my order", 2.0), turn("it's 104233", 3.0)]
    if sessions == 2:  # a new session in the same conversation: counts restart at its start
        later = [
            ActionExecuted("action_session_start", timestamp=9.0),
            SessionStarted(timestamp=9.1),
            ActionExecuted("action_listen", timestamp=9.2),
        ]
        turns += [later + turn("hello again", 10.0), turn("track it", 11.0)]
    published: list[list[dict[str, Any]]] = []
    stored = []
    for cls in (SQLTrackerStore, ShopSQLTrackerStore):
        broker = Recording()
        db_file = tmp_path / f"{cls.__name__}.db"
        play(cls(domain=DOMAIN, dialect="sqlite", db=str(db_file), event_broker=broker), turns)
        published.append(broker.published)
        stored.append(rows(db_file))
    assert published[1] == published[0]
    assert stored[1] == stored[0]
    assert len(published[1]) == sum(len(t) for t in turns)  # every event once, none twice


def test_it_never_reads_the_session_back_to_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ShopSQLTrackerStore(
        domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"), event_broker=Recording()
    )
    play(store, [SESSION, turn("where is my order", 2.0)])

    async def no_retrieve(*_: Any, **__: Any) -> None:
        raise AssertionError("save read the conversation back")

    tracker = in_fresh_loop(store.retrieve("shopper-1"))
    assert tracker is not None
    monkeypatch.setattr(store, "retrieve", no_retrieve)
    monkeypatch.setattr(store, "_retrieve", no_retrieve)
    for event in turn("it's 104233", 3.0):
        tracker.update(event)
    in_fresh_loop(store.save(tracker))
    assert len(rows(tmp_path / "t.db")) == len(SESSION) + 10


@pytest.mark.parametrize("cls", [SQLTrackerStore, ShopSQLTrackerStore])
def test_a_turn_answered_from_an_empty_tracker_keeps_its_shopper_message(
    tmp_path: Path, cls: type[SQLTrackerStore]
) -> None:
    """When the retrieval fails, Rasa answers the turn from a new in-memory tracker; Rasa's
    store then finds no new events by position and drops the turn (seen as 'answered but lost'
    under faults). Ours notices that the tracker does not continue the stored events."""
    db_file = tmp_path / f"{cls.__name__}.db"
    store = cls(domain=DOMAIN, dialect="sqlite", db=str(db_file), event_broker=Recording())
    play(store, [SESSION, turn("where is my order", 2.0)])
    fresh = store.init_tracker("shopper-1")  # what Rasa uses after a failed retrieval
    for event in [
        ActionExecuted("action_session_start", timestamp=5.0),
        SessionStarted(timestamp=5.1),
        ActionExecuted("action_listen", timestamp=5.2),
        *turn("it arrived broken", 6.0),
    ]:
        fresh.update(event)
    in_fresh_loop(store.save(fresh))
    users = [r[5] for r in rows(db_file) if r[1] == "user"]
    kept = any("it arrived broken" in u for u in users)
    assert kept is (cls is ShopSQLTrackerStore)


@pytest.mark.parametrize("sessions", [1, 2])
def test_retrieval_gives_the_tracker_rasas_store_gives(tmp_path: Path, sessions: int) -> None:
    """ShopBot's store reads the rows with one Core query; Rasa's with ORM objects: the latest
    session (and the whole conversation) must come back as the same events and slots."""
    turns = [SESSION, turn("where is my order", 2.0), turn("it's 104233", 3.0)]
    if sessions == 2:
        turns += [
            [
                ActionExecuted("action_session_start", timestamp=9.0),
                SessionStarted(timestamp=9.1),
                SlotSet("order_number", None, timestamp=9.15),
                ActionExecuted("action_listen", timestamp=9.2),
                *turn("hello again", 10.0),
            ]
        ]
    db_file = tmp_path / "t.db"
    play(ShopSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db_file)), turns)

    async def read(cls: type[SQLTrackerStore]) -> list[Any]:
        store = cls(domain=DOMAIN, dialect="sqlite", db=str(db_file))
        latest = await store.retrieve("shopper-1")
        full = await store.retrieve_full_tracker("shopper-1")
        missing = await store.retrieve("nobody")
        assert latest is not None and full is not None and missing is None
        return [
            [e.as_dict() for e in latest.events],
            latest.current_slot_values(),
            [e.as_dict() for e in full.events],
        ]

    ours, rasas = in_fresh_loop(read(ShopSQLTrackerStore)), in_fresh_loop(read(SQLTrackerStore))
    assert ours == rasas
    assert len(ours[2]) == sum(len(t) for t in turns)
    # the latest session starts at its session_started event (action_session_start is before it)
    assert len(ours[0]) == (len(ours[2]) if sessions == 1 else len(turns[-1])) - 1


def test_sqlite_connections_are_pooled_and_write_ahead_logged(tmp_path: Path) -> None:
    """Rasa opens a new SQLite connection for every session and syncs a rollback journal on every
    commit (NullPool, journal_mode=delete): about half of the store's time per turn."""
    store = ShopSQLTrackerStore(
        domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"), event_broker=Recording()
    )
    play(store, [SESSION, turn("where is my order", 2.0), turn("it's 104233", 3.0)])
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert store.engine.pool.checkedin() >= 1  # kept for the next turn, not closed
    assert len(rows(tmp_path / "t.db")) == len(SESSION) + 10
