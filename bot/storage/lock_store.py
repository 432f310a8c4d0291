"""Rasa's Redis lock store, surviving a Redis restart.

Rasa 3.6's ``RedisLockStore`` builds its client without retries, so after Redis restarts the first
command on each pooled connection fails and that turn gets "something went wrong". This store is
the same class with redis-py's own retry (three attempts, exponential backoff, on connection
errors and timeouts): a restart costs a turn a few milliseconds instead of the shopper's message.
Configured by ``bot.runtime_config.lock_store_config``; see docs/decisions/023-replicas.md.
"""

from __future__ import annotations

from typing import Any

from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

RETRIES = 3


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
