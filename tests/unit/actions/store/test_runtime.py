"""The process-wide store: built lazily from the SHOPBOT_* settings, clock fixable for demos."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from actions.store import runtime
from actions.store.sql.backend import SqlStoreBackend


def test_get_store_is_built_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPBOT_HOME", str(tmp_path))
    monkeypatch.setenv("SHOPBOT_STORE_DB_URL", "sqlite:///var/store/shop.db")
    monkeypatch.setenv("SHOPBOT_STORE_NOW", "2026-01-15T12:00:00+01:00")
    monkeypatch.setattr(runtime, "_settings", None)
    runtime.set_store(None)
    store = runtime.get_store()
    assert isinstance(store, SqlStoreBackend) and store is runtime.get_store()
    assert str(tmp_path / "var" / "store" / "shop.db") in str(store.engine.url)
    assert store.now() == dt.datetime(2026, 1, 15, 11, 0)
    assert not (tmp_path / "var" / "store" / "shop.db").exists(), "nothing opened yet"
    store.engine.dispose()


def test_a_bad_store_now_names_the_setting() -> None:
    with pytest.raises(ValueError, match="SHOPBOT_STORE_NOW"):
        runtime.fixed_clock("next tuesday")
