"""Action tests never touch the project's database: each test gets its own store backend.

``isolated_store`` (autouse) points ``actions.store.runtime`` at a store without tables in
``tmp_path`` (any use answers ``StoreUnavailable``);
``seeded`` gives a copy of the small seeded demo store (seeded once per session) with its clock at
the seeding reference date, and ``picks`` the orders to use, found by status.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from actions.store import runtime
from actions.store.sql.backend import SqlStoreBackend
from tests.unit.actions.store.seeded import NOW, Pick, pick_orders, seed_store


@pytest.fixture(autouse=True)
def isolated_store(tmp_path: Path) -> Iterator[SqlStoreBackend]:
    store = SqlStoreBackend(f"sqlite:///{tmp_path / 'no-store.db'}", clock=lambda: NOW)
    runtime.set_store(store)
    yield store
    runtime.set_store(None)
    store.engine.dispose()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seeded-store")
    seed_store(out)
    return out / "shop.db"


@pytest.fixture(scope="session")
def picks(seeded_template: Path) -> dict[str, Pick]:
    return pick_orders(f"sqlite:///{seeded_template}")


@pytest.fixture()
def seeded(seeded_template: Path, tmp_path: Path) -> Iterator[SqlStoreBackend]:
    """A fresh copy of the seeded store, installed as the actions' backend."""
    db = tmp_path / "shop.db"
    shutil.copy(seeded_template, db)
    store = SqlStoreBackend(f"sqlite:///{db}", clock=lambda: NOW)
    runtime.set_store(store)
    yield store
    runtime.set_store(None)
    store.engine.dispose()
