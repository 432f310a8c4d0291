"""The tracker store's kept trackers: a retrieval answered from memory gives exactly what reading
the table gives, and the table wins whenever it changed since the save (a real SQLite file)."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.storage import tracker_store
from bot.storage.tracker_store import ShopSQLTrackerStore
from tests.unit.bot.storage.test_tracker_store import DOMAIN, SESSION, in_fresh_loop, turn

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
SENDER = "shopper-1"


def store_on(db_file: Path) -> ShopSQLTrackerStore:
    return ShopSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db_file))


def held(tracker: DialogueStateTracker | None) -> Any:
    """What a tracker holds: its events and state as Rasa serialises them, its slots (value and
    whether set) and the states the policies see."""
    if tracker is None:
        return None
    slots = {n: (s.value, s.has_been_set) for n, s in tracker.slots.items()}
    state = tracker.current_state(EventVerbosity.ALL)
    return [e.as_dict() for e in tracker.events], slots, state, tracker.past_states(DOMAIN)


def from_table(db_file: Path) -> Any:
    """The tracker as a store that keeps nothing reads it."""
    return held(in_fresh_loop(store_on(db_file).retrieve(SENDER)))


def a_form_turn(stamp: float) -> list[Event]:
    return [
        UserUttered(
            "cancel my order", {"name": "cancel_order", "confidence": 0.9}, timestamp=stamp
        ),
        ActionExecuted("order_form", timestamp=stamp + 0.1),
        ActiveLoop("order_form", timestamp=stamp + 0.2),
        SlotSet("requested_slot", "order_number", timestamp=stamp + 0.3),
        BotUttered("What's your order number?", timestamp=stamp + 0.4),
        ActionExecuted("action_listen", timestamp=stamp + 0.5),
    ]


def play(store: ShopSQLTrackerStore, turns: list[list[Event]], db_file: Path) -> list[bool]:
    """Play the turns as the processor does (retrieve, update, save); after each save, compare the
    next retrieval with the table's. Return, per turn, whether it was answered from memory."""
    answered: list[bool] = []

    async def run() -> None:
        for events in turns:
            tracker = await store.retrieve(SENDER) or store.init_tracker(SENDER)
            tracker.model_id = "model"  # as the processor sets it
            for event in events:
                tracker.update(event)
            await store.save(tracker)
            answered.append(SENDER in store._kept)

    in_fresh_loop(run())
    return answered


def test_a_kept_tracker_is_the_one_the_table_gives(tmp_path: Path) -> None:
    db_file = tmp_path / "t.db"
    store = store_on(db_file)
    turns = [SESSION, turn("where is my order", 2.0), a_form_turn(3.0), turn("it's 104233", 4.0)]
    kept = play(store, turns, db_file)
    # The first save holds action_session_start, before the session's start: not the session.
    assert kept == [False, True, True, True]
    assert held(in_fresh_loop(store.retrieve(SENDER))) == from_table(db_file)


def test_the_retrieved_tracker_is_a_copy(tmp_path: Path) -> None:
    db_file = tmp_path / "t.db"
    store = store_on(db_file)
    play(store, [SESSION, turn("where is my order", 2.0), turn("again", 3.0)], db_file)
    first = in_fresh_loop(store.retrieve(SENDER))
    assert first is not None
    first.update(SlotSet("order_number", "999999"))  # a turn that fails before its save
    first.update(ActiveLoop("order_form"))
    assert held(in_fresh_loop(store.retrieve(SENDER))) == from_table(db_file)


def test_rows_another_server_saved_win(tmp_path: Path) -> None:
    db_file = tmp_path / "t.db"
    mine, theirs = store_on(db_file), store_on(db_file)
    play(mine, [SESSION, turn("where is my order", 2.0), turn("again", 3.0)], db_file)
    play(theirs, [turn("it's 104233", 4.0)], db_file)  # another replica answered the next turn
    assert held(in_fresh_loop(mine.retrieve(SENDER))) == from_table(db_file)
    assert SENDER not in mine._kept


def test_an_erased_conversation_is_not_answered_from_memory(tmp_path: Path) -> None:
    db_file = tmp_path / "t.db"
    store = store_on(db_file)
    play(store, [SESSION, turn("where is my order", 2.0), turn("again", 3.0)], db_file)
    with sqlite3.connect(db_file) as db:
        db.execute("DELETE FROM events WHERE sender_id = ?", (SENDER,))
    assert in_fresh_loop(store.retrieve(SENDER)) is None


def test_a_turn_that_starts_a_new_session_is_read_from_the_table(tmp_path: Path) -> None:
    db_file = tmp_path / "t.db"
    store = store_on(db_file)
    new_session = [
        ActionExecuted("action_session_start", timestamp=9.0),
        SessionStarted(timestamp=9.1),
        ActionExecuted("action_listen", timestamp=9.2),
        *turn("hello again", 10.0),
    ]
    kept = play(store, [SESSION, turn("a", 2.0), turn("b", 3.0), new_session], db_file)
    assert kept == [False, True, True, False]
    assert held(in_fresh_loop(store.retrieve(SENDER))) == from_table(db_file)
    assert play(store, [turn("c", 11.0)], db_file) == [True]
    assert held(in_fresh_loop(store.retrieve(SENDER))) == from_table(db_file)


def test_at_most_so_many_conversations_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracker_store, "KEPT_CONVERSATIONS", 2)
    store = store_on(tmp_path / "t.db")

    async def run() -> None:
        for sender in ("a", "b", "c"):
            for events in (SESSION, turn("hello", 2.0)):
                tracker = await store.retrieve(sender) or store.init_tracker(sender)
                for event in events:
                    tracker.update(event)
                await store.save(tracker)

    in_fresh_loop(run())
    assert list(store._kept) == ["b", "c"]


def test_a_new_domain_reads_the_table(tmp_path: Path) -> None:
    db_file = tmp_path / "t.db"
    store = store_on(db_file)
    play(store, [SESSION, turn("where is my order", 2.0), turn("again", 3.0)], db_file)
    with warnings.catch_warnings():  # Rasa warns on every domain load
        warnings.simplefilter("ignore", UserWarning)
        store.domain = Domain.from_dict(DOMAIN.as_dict())  # a model loaded since: another domain
    assert held(in_fresh_loop(store.retrieve(SENDER))) == from_table(db_file)
    assert SENDER not in store._kept
