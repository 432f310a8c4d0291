"""A throwaway PostgreSQL server on loopback for the tests: it lives in ``bot.local_servers``
(the "Console" benchmark seeds and measures one too); this module adds the pytest skip helper."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from bot.local_servers import (
    SUPERUSER,
    PostgresServer,
    find_postgres_bin,
    missing_reason,
)

__all__ = [
    "SUPERUSER",
    "PostgresServer",
    "find_postgres_bin",
    "missing_reason",
    "postgres_or_skip",
    "started_postgres",
]


def postgres_or_skip() -> Path:
    """The PostgreSQL ``bin`` folder; skip the test when there is none, unless
    ``SHOPBOT_REQUIRE_POSTGRES=1`` (``make test`` sets it): then a missing server fails."""
    reason = missing_reason()
    if reason:
        import pytest

        if os.environ.get("SHOPBOT_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    bin_dir = find_postgres_bin()
    assert bin_dir is not None
    return bin_dir


@contextlib.contextmanager
def started_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server on a free loopback port (see :func:`postgres_or_skip`), stopped after."""
    from tests.conftest import free_port

    running = PostgresServer(postgres_or_skip(), free_port()).start()
    try:
        yield running
    finally:
        running.stop()
