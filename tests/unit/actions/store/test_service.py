"""The ``StoreBackend`` protocol: the SQL backend satisfies it."""

from __future__ import annotations

from actions.store.service import StoreBackend
from actions.store.sql.backend import SqlStoreBackend


def test_sql_backend_satisfies_the_protocol(seeded: SqlStoreBackend) -> None:
    assert isinstance(seeded, StoreBackend)
