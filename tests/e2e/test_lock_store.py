"""``ShopRedisLockStore`` against a real ``redis-server``: one turn at a time per conversation,
even after a dead server's ticket, and through a Redis restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from rasa.utils.endpoints import EndpointConfig

from bot.local_servers import RedisServer, find_redis_server
from bot.storage.lock_store import ShopRedisLockStore
from tests.conftest import free_port
from tests.unit.bot.storage.test_tracker_store import in_fresh_loop  # a loop of its own

pytestmark = pytest.mark.e2e

LIFETIME_S = 2.0


@pytest.fixture()
def redis_server() -> Iterator[RedisServer]:
    if find_redis_server() is None:
        pytest.fail("redis-server is not installed (make system-deps installs it)")
    server = RedisServer(free_port()).start()
    try:
        yield server
    finally:
        server.stop()


def store_on(server: RedisServer) -> ShopRedisLockStore:
    return ShopRedisLockStore(EndpointConfig(url="127.0.0.1", type="shop", port=server.port, db=0))


def test_a_turn_that_waited_behind_a_dead_ticket_keeps_the_lock_for_its_whole_lifetime(
    redis_server: RedisServer,
) -> None:
    """Rasa counts a ticket's lifetime from its issue: a turn that waited ~2 s for a dead
    server's ticket would hold the lock for no time at all, and the next turn would run beside
    it (the tracker store then drops a shopper message)."""
    store = store_on(redis_server)
    store.issue_ticket("c", LIFETIME_S)  # a server that died holding the conversation
    spans: dict[str, tuple[float, float]] = {}

    async def turn(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with store.lock("c", lock_lifetime=LIFETIME_S, wait_time_in_seconds=0.05):
            start = time.monotonic()
            await asyncio.sleep(1.0)  # the turn's work
            spans[name] = (start, time.monotonic())

    async def both() -> None:
        await asyncio.gather(turn("first", 0.0), turn("second", 0.3))

    in_fresh_loop(both())
    first, second = spans["first"], spans["second"]
    assert second[0] >= first[1], spans  # never at the same time


def test_the_lock_works_through_a_redis_restart(redis_server: RedisServer) -> None:
    store = store_on(redis_server)

    async def turn() -> str:
        async with store.lock("c", lock_lifetime=LIFETIME_S):
            return "done"

    assert in_fresh_loop(turn()) == "done"
    redis_server.restart()
    assert in_fresh_loop(turn()) == "done"  # the pooled connection died; the command is retried
