"""Rasa's Redis lock store, made safe for several Rasa servers and a Redis restart.

Rasa 3.6's ``RedisLockStore`` keeps each conversation's queue of tickets as one JSON value and
changes it by read-modify-write, and a ticket's lifetime (60 s) counts from when it was *issued*.
With one server that is harmless; with several, two things lose turns (the Reliability benchmark
lost 2 answered messages after a ``kill -9``):

- a turn that waited behind a dead server's ticket (until it expired) holds the lock with what is
  left of its own lifetime — possibly a second — so the next turn of the conversation sees that
  ticket expired and runs *at the same time*; both save, and the tracker store, which appends the
  events beyond the stored count, drops the later one's shopper message;
- two servers changing the queue at once overwrite each other's tickets.

This store restarts a ticket's lifetime each time its server looks at the queue while waiting and
when it acquires the lock (only a dead server's ticket runs out), and makes every change of the
queue under a short Redis mutex (redis-py's ``Lock``). A turn that runs longer than the lifetime
(60 s) still loses the lock, as in Rasa. Its client also retries a command when the
connection was lost (three attempts, exponential backoff), so a Redis restart costs a turn a few
milliseconds instead of "something went wrong". Configured by
``bot.runtime_config.lock_store_config``; see docs/decisions/023-replicas.md.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

RETRIES = 3
MUTEX_TIMEOUT_S = 5.0  # a crashed holder's mutex frees itself after this


class ShopRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose client retries a command when the connection was lost."""

    red: Any  # redis.StrictRedis (imported lazily, as Rasa does)

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError, TimeoutError
        from redis.retry import Retry

        pool = self.red.connection_pool
        self.red = type(self.red)(
            connection_pool=type(pool)(
                connection_class=pool.connection_class,
                **{
                    **pool.connection_kwargs,
                    "retry": Retry(ExponentialBackoff(cap=0.5, base=0.02), RETRIES),
                    "retry_on_error": [ConnectionError, TimeoutError],
                },
            )
        )

        self._lifetimes: dict[tuple[str, int], float] = {}

    def _mutex(self, conversation_id: str) -> Any:
        """The short lock under which this conversation's ticket queue is changed."""
        return self.red.lock(
            f"{self.key_prefix}{conversation_id}:mutex",
            timeout=MUTEX_TIMEOUT_S,
            blocking_timeout=MUTEX_TIMEOUT_S,
        )

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Rasa's, under the conversation's mutex; remembers the lifetime for the renewal."""
        with self._mutex(conversation_id):
            ticket = super().issue_ticket(conversation_id, lock_lifetime)
        self._lifetimes[(conversation_id, ticket)] = lock_lifetime
        return ticket

    def update_lock(self, conversation_id: str) -> None:
        """Rasa's removal of expired tickets, under the conversation's mutex."""
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Rasa's release of a ticket, under the conversation's mutex."""
        self._lifetimes.pop((conversation_id, ticket_number), None)
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """Rasa's wait for the turn, with this ticket's lifetime restarted on every look: a
        waiting or acquiring server is alive, so only a dead server's ticket runs out."""
        lifetime = self._lifetimes.get((conversation_id, ticket), LOCK_LIFETIME)
        while True:
            with self._mutex(conversation_id):
                lock = self.get_lock(conversation_id)
                if lock is None:  # every ticket expired, ours too
                    break
                lock.remove_expired_tickets()
                for held in lock.tickets:
                    if held.number == ticket:
                        held.expires = time.time() + lifetime
                self.save_lock(lock)
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
