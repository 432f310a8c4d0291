"""Two agents click Claim on the same conversation at the same moment: exactly one wins, every
time — on a SQLite file (two engines, like two console replicas) and on PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.console.agents import AgentStore
from bot.storage.engine import make_engine
from bot.storage.handoffs import Claim, HandoffQueue
from bot.storage.migrate import upgrade_to_head
from tests.unit.bot.console.helpers import cheap_passwords

ROUNDS = 50


def claim_at_once(queues: list[HandoffQueue], agent_ids: list[int], handoff_id: int) -> list[Claim]:
    """Each queue (its own engine) claims ``handoff_id`` for its agent, released together."""
    barrier = threading.Barrier(len(queues))
    results: list[Claim | BaseException] = [RuntimeError("did not finish")] * len(queues)

    def claim(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = queues[i].claim(handoff_id, agent_ids[i])
        except BaseException as exc:  # reported by the main thread
            results[i] = exc

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(queues))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    claims = [r for r in results if isinstance(r, Claim)]
    assert len(claims) == len(queues), results
    return claims


def race(url: str, rounds: int = ROUNDS) -> None:
    """``rounds`` times: open a handoff, then two threads on two engines claim it at once."""
    upgrade_to_head(url)
    engines = [make_engine(url), make_engine(url)]
    try:
        agents = AgentStore(engines[0], cheap_passwords())
        ids = [
            agents.add(f"racer{i}@example.com", f"Racer {i}", "agent", "a long passphrase").id
            for i in (1, 2)
        ]
        queues = [HandoffQueue(engine) for engine in engines]
        for n in range(rounds):
            handoff, _ = queues[0].open(f"race-{n}", "widget", "asked")
            claims = claim_at_once(queues, ids, handoff.id)
            winners = [i for i, c in enumerate(claims) if c.won]
            assert len(winners) == 1, f"round {n}: {claims}"
            stored = queues[0].get(handoff.id)
            assert stored is not None and stored.status == "claimed"
            assert stored.agent_id == ids[winners[0]]
            loser = claims[1 - winners[0]]
            assert loser.holder == f"Racer {winners[0] + 1}"  # the loser learns who has it
    finally:
        for engine in engines:
            engine.dispose()


def test_exactly_one_claim_wins_on_sqlite(tmp_path: Path) -> None:
    race(f"sqlite:///{tmp_path / 'race.db'}")


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    from tests.conftest import free_port
    from tests.e2e.postgres import PostgresServer, postgres_or_skip

    bin_dir = postgres_or_skip()
    server = PostgresServer(bin_dir, free_port()).start()
    try:
        yield server.create_database(f"race_{uuid.uuid4().hex[:8]}")
    finally:
        server.stop()


@pytest.mark.postgres
def test_exactly_one_claim_wins_on_postgres(pg_url: str) -> None:
    race(pg_url)
