"""A throwaway PostgreSQL server on loopback for the tests: it lives in ``training.bench.postgres``
(the "Console" benchmark seeds and measures one too); this module adds the pytest skip helper."""

from __future__ import annotations

import os
from pathlib import Path

from training.bench.postgres import (
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
