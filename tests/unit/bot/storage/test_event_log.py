"""The widget's event log: migrations, seq allocation under concurrency, client-id dedup."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.storage.engine import make_engine
from bot.storage.event_log import EventLog
from bot.storage.message_tables import include_in_schema_compare
from bot.storage.migrate import (
    VERSION_TABLE,
    current_revision,
    head_revision,
    table_metadata,
    upgrade_to_head,
)


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app' / 'shopbot.db'}"
    upgrade_to_head(url)
    return url


@pytest.fixture()
def log(db_url: str) -> Iterator[EventLog]:
    engine = make_engine(db_url)
    yield EventLog(engine)
    engine.dispose()


def test_upgrade_creates_the_tables_once_and_matches_the_code(db_url: str) -> None:
    assert current_revision(db_url) == head_revision()
    assert upgrade_to_head(db_url) == head_revision()  # a second run changes nothing
    engine = make_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"version_table": VERSION_TABLE, "include_name": include_in_schema_compare},
        )
        diffs = compare_metadata(context, table_metadata())
    engine.dispose()
    # The migrations create exactly what the table modules of bot/storage declare.
    assert diffs == []


def test_seqs_increase_per_conversation(log: EventLog) -> None:
    assert [log.append("a", "user", {"text": str(i)}).seq for i in range(3)] == [1, 2, 3]
    assert log.append("b", "bot", {"text": "x"}).seq == 1
    assert log.last_seq("a") == 3 and log.last_seq("b") == 1 and log.last_seq("none") == 0
    assert [e.seq for e in log.read_after("a", 1)] == [2, 3]
    assert log.read_after("a", 1)[0].payload == {"text": "1"}
    assert [e.seq for e in log.recent("a", ("user",), limit=2)] == [3, 2]


def test_a_client_id_is_stored_once_and_leaves_no_gap(log: EventLog) -> None:
    first = log.append("a", "user", {"text": "hi"}, client_id="c-000001")
    again = log.append("a", "user", {"text": "hi"}, client_id="c-000001")
    assert (first.seq, first.duplicate) == (1, False)
    assert (again.seq, again.duplicate) == (1, True)
    # The refused duplicate did not use up a seq.
    assert log.append("a", "bot", {"text": "hello"}).seq == 2
    # The same client id in another conversation is another message.
    assert log.append("b", "user", {"text": "hi"}, client_id="c-000001").duplicate is False
    assert log.seq_of_client_id("a", "c-000001") == 1 and log.seq_of_client_id("a", "x") is None


def append_concurrently_from_two_replicas(db_url: str) -> None:
    """Two engines stand for two server replicas on one database; 4 threads each, every message
    sent twice (a retry racing the original): 120 messages get seqs 1..120, each stored once."""
    engines = [make_engine(db_url), make_engine(db_url)]
    logs = [EventLog(e) for e in engines]
    results: list[tuple[int, bool]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        log = logs[n % 2]
        for i in range(15):
            for _ in range(2):
                appended = log.append(
                    "shared", "user", {"n": n, "i": i}, client_id=f"w{n}-m{i:04d}"
                )
                with lock:
                    results.append((appended.seq, appended.duplicate))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = logs[0].read_after("shared", 0, limit=1000)
    assert [e.seq for e in stored] == list(range(1, 121))  # no gap, no repeat
    assert sum(1 for _, duplicate in results if duplicate) == 120
    assert len({e.client_id for e in stored}) == 120
    for engine in engines:
        engine.dispose()


def test_concurrent_appends_from_two_replicas_get_unique_contiguous_seqs(db_url: str) -> None:
    append_concurrently_from_two_replicas(db_url)
