"""Drives real ShopBot servers over HTTP for the end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.request import urlopen

from bot.runner import Service, action_server, prepare_app_db, rasa_server
from core.settings import Settings
from training.bench.widget_client import Reply, post_bytes

# Fixed secrets, so the tests write nothing into the project's var/ (each at least 32 characters).
REST_SECRET = "e2e-rest-secret-0123456789abcdef0123"
WIDGET_SECRET = "e2e-widget-secret-0123456789abcdef01"
STREAM_SECRET = "e2e-stream-secret-0123456789abcdef01"
CLIENT_KEY_SECRET = "e2e-client-key-secret-0123456789abcd"


class ShopBotServers:
    """The action server and the Rasa server of one test, on free loopback ports."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.actions: Service = action_server(settings)
        self.rasa: Service = rasa_server(settings)

    @classmethod
    def for_tests(cls, root: Path, tmp_path: Path, model: Path, **overrides: Any) -> ShopBotServers:
        from tests.conftest import free_port

        values: dict[str, Any] = {
            "root": root,
            "preset": "tiny",
            "rasa_port": free_port(),
            "actions_port": free_port(),
            "api_token": "e2e-token",
            "tracker_store_url": f"sqlite:///{tmp_path / 'tracker.db'}",
            "app_db_url": f"sqlite:///{tmp_path / 'app.db'}",
            "rest_secret": REST_SECRET,
            "widget_secret": WIDGET_SECRET,
            "stream_secret": STREAM_SECRET,
            "client_key_secret": CLIENT_KEY_SECRET,
            "model_path": str(model),
            "run_dir": str(tmp_path / "run"),
        }
        return cls(Settings(**{**values, **overrides}))

    @classmethod
    def with_store_copy(
        cls, root: Path, tmp_path: Path, model: Path, **overrides: Any
    ) -> ShopBotServers:
        """:meth:`for_tests` on a private copy of the demo store (conversations write to it:
        audit log, lockouts), so tests never change ``var/store/shop.db``."""
        store_db = tmp_path / "shop.db"
        if (root / "var" / "store" / "shop.db").exists():
            shutil.copy(root / "var" / "store" / "shop.db", store_db)
        return cls.for_tests(
            root, tmp_path, model, store_db_url=f"sqlite:///{store_db}", **overrides
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.rasa_port}"

    def start(self) -> None:
        prepare_app_db(self.settings)  # like `shopbot run`: the widget's tables, upgraded to head
        self.actions.start()
        self.rasa.start()
        self.actions.wait_ready()
        self.rasa.wait_ready()

    def stop(self) -> None:
        self.rasa.stop()
        self.actions.stop()

    def restart_rasa(self) -> None:
        self.rasa.stop()
        self.rasa = rasa_server(self.settings)
        self.rasa.start()
        self.rasa.wait_ready()

    def post_raw(
        self,
        body: bytes,
        content_type: str = "application/json",
        secret: str | None = REST_SECRET,
        forwarded_for: str | None = None,
    ) -> Reply:
        """POST to the REST channel, with the server-side secret unless ``secret`` is None.

        ``forwarded_for`` plays a reverse proxy's ``X-Forwarded-For`` (believed only when the
        servers trust loopback as a proxy: ``trusted_proxies``)."""
        headers = {"Content-Type": content_type}
        if forwarded_for is not None:
            headers["X-Forwarded-For"] = forwarded_for
        if secret is not None:
            headers["Authorization"] = f"Bearer {secret}"
        return post_bytes(f"{self.base_url}/webhooks/rest/webhook", body, headers)

    def say(self, sender: str, message: str) -> Reply:
        return self.post_raw(json.dumps({"sender": sender, "message": message}).encode())

    def tracker(self, sender: str) -> dict[str, Any]:
        url = f"{self.base_url}/conversations/{sender}/tracker?token={self.settings.api_token}"
        with urlopen(url, timeout=60) as reply:
            return json.loads(reply.read())

    def stored_events(self, sender: str) -> list[dict[str, Any]]:
        """Read the conversation straight from the SQL tracker store (not through Rasa)."""
        db_file = self.settings.sqlite_path(self.settings.tracker_store_url)
        assert db_file is not None
        with sqlite3.connect(db_file) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def settled_events(
        self,
        sender: str,
        until: Callable[[list[dict[str, Any]]], bool] | None = None,
        timeout_s: float = 30.0,
    ) -> list[dict[str, Any]]:
        """The stored conversation once ``until`` holds (default: a saved turn, in action_listen).

        A channel pushes the bot's reply (widget SSE, Telegram) before Rasa saves the tracker,
        so a test that saw the reply must wait for the saved turn.
        """
        done = until or ends_a_turn
        deadline = time.monotonic() + timeout_s
        while True:
            events = self.stored_events(sender)
            if done(events) or time.monotonic() > deadline:
                return events
            time.sleep(0.1)


def ends_a_turn(events: list[dict[str, Any]]) -> bool:
    """Rasa saves a turn once, after its last action; the saved turn ends in action_listen."""
    return bool(events) and events[-1].get("name") == "action_listen"


@contextlib.contextmanager
def running_servers(root: Path, tmp_path: Path, model: Path) -> Iterator[ShopBotServers]:
    """Started servers on a store copy, stopped on exit (also when only one of them started)."""
    running = ShopBotServers.with_store_copy(root, tmp_path, model)
    try:
        running.start()
        yield running
    finally:
        running.stop()
