"""Fixtures of the console's unit tests: a migrated SQLite app database, a console with cheap
argon2 parameters and a fake clock, and an in-process HTTP client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.console.app import build_app, build_console
from bot.console.context import Console
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade_to_head
from core.settings import Settings
from tests.unit.bot.console.helpers import (
    ADMIN,
    AGENT,
    BASE_URL,
    FakeClock,
    RecordingRasa,
    TestClient,
    TrackerStore,
    cheap_passwords,
)


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "root": tmp_path,
            "app_db_url": f"sqlite:///{tmp_path / 'app.db'}",
            "console_secret": "unit-console-secret-0123456789abcdef",
            "lock_store_url": "",
            "console_rate_limit_url": "",
        }
        return Settings(**{**values, **overrides})

    return make


@pytest.fixture()
def console_factory(
    settings_factory: Callable[..., Settings], clock: FakeClock
) -> Iterator[Callable[..., Console]]:
    made: list[Console] = []

    def make(**overrides: Any) -> Console:
        settings = settings_factory(**overrides)
        url = settings.resolve_db_url(settings.app_db_url)
        upgrade_to_head(url)
        # Never the real Rasa API: a unit test that would reach the network fails loudly.
        console = build_console(
            settings, make_engine(url), cheap_passwords(), clock, rasa=RecordingRasa()
        )
        for email, name, role, password in (ADMIN, AGENT):
            if console.agents.get(email) is None:
                console.agents.add(email, name, role, password)
        made.append(console)
        return console

    yield make
    for console in made:
        console.transcripts.dispose()
        console.engine.dispose()


@pytest.fixture()
def console(console_factory: Callable[..., Console]) -> Console:
    return console_factory()


@pytest.fixture()
def client_factory(console: Console) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(app_console: Console | None = None, base_url: str = BASE_URL) -> TestClient:
        client = TestClient(build_app(app_console or console), base_url=base_url)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture()
def client(client_factory: Callable[..., TestClient]) -> TestClient:
    return client_factory()


@pytest.fixture()
def rasa(console: Console) -> RecordingRasa:
    assert isinstance(console.rasa, RecordingRasa)
    return console.rasa


@pytest.fixture()
def tracker(console: Console) -> Iterator[TrackerStore]:
    """Rasa's tracker store where the console's settings point (``var/tracker.db``)."""
    path = console.settings.sqlite_path(console.settings.tracker_store_url)
    assert path is not None
    store = TrackerStore(path)
    yield store
    store.close()
