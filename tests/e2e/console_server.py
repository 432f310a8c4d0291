"""The real agent console process on a free loopback port, for the e2e and browser tests."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.console.agents import AgentStore
from bot.runner import Service, console
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade_to_head
from core.settings import Settings

CONSOLE_SECRET = "e2e-console-secret-0123456789abcdef0"
ADMIN = ("ada@example.com", "Ada Admin", "admin", "ada's e2e passphrase")
AGENT = ("bob@example.com", "Bob Agent", "agent", "bob's e2e passphrase")


class ConsoleServer:
    """``python -m bot.console`` with its own application database under ``tmp_path``."""

    def __init__(
        self, root: Path, tmp_path: Path, beside: Settings | None = None, **overrides: Any
    ) -> None:
        """``beside``: the settings of running Rasa + action servers whose application database,
        tracker store, HTTP API token and ports the console shares (the handoff tests);
        ``overrides``: other settings of the console beside them (the served model's copy)."""
        from tests.conftest import free_port

        if beside is not None:
            self.settings = dataclasses.replace(
                beside, console_port=free_port(), console_secret=CONSOLE_SECRET, **overrides
            )
            self.service = console(self.settings)
            return
        self.settings = Settings(
            root=root,
            preset="tiny",
            rasa_port=free_port(),
            actions_port=free_port(),
            demo_port=free_port(),
            console_port=free_port(),
            app_db_url=f"sqlite:///{tmp_path / 'app.db'}",
            tracker_store_url=f"sqlite:///{tmp_path / 'tracker.db'}",
            console_secret=CONSOLE_SECRET,
            run_dir=str(tmp_path / "run"),
        )
        self.service: Service = console(self.settings)

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.console_port}"

    def start(self) -> ConsoleServer:
        """Create the tables and the two test agents, then start the process and wait for it."""
        db_url = self.settings.resolve_db_url(self.settings.app_db_url)
        upgrade_to_head(db_url)
        engine = make_engine(db_url)
        store = AgentStore(engine)
        for email, name, role, password in (ADMIN, AGENT):
            if store.get(email) is None:
                store.add(email, name, role, password)
        engine.dispose()
        self.service.start()
        self.service.wait_ready(timeout=60)
        return self

    def restart(self) -> None:
        self.service.stop()
        self.service = console(self.settings)
        self.service.start()
        self.service.wait_ready(timeout=60)

    def stop(self) -> None:
        self.service.stop()


@contextlib.contextmanager
def running_console(
    root: Path, tmp_path: Path, beside: Settings | None = None, **overrides: Any
) -> Iterator[ConsoleServer]:
    """A started :class:`ConsoleServer`, stopped on exit (for module-scoped fixtures)."""
    server = ConsoleServer(root, tmp_path, beside, **overrides)
    try:
        server.start()
        yield server
    finally:
        server.stop()
