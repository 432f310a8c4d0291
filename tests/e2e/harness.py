"""Drives real ShopBot servers over HTTP for the end-to-end tests."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from bot.runner import Service, action_server, rasa_server
from core.settings import Settings


@dataclass
class Reply:
    status: int
    body: Any

    @property
    def texts(self) -> list[str]:
        return [m.get("text", "") for m in self.body] if isinstance(self.body, list) else []

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


class ShopBotServers:
    """The action server and the Rasa server of one test, on free loopback ports."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.actions: Service = action_server(settings)
        self.rasa: Service = rasa_server(settings)

    @classmethod
    def for_tests(cls, root: Path, tmp_path: Path, model: Path, **overrides: Any) -> ShopBotServers:
        from tests.conftest import free_port

        settings = Settings(
            root=root,
            preset="tiny",
            rasa_port=free_port(),
            actions_port=free_port(),
            api_token="e2e-token",
            tracker_store_url=f"sqlite:///{tmp_path / 'tracker.db'}",
            model_path=str(model),
            run_dir=str(tmp_path / "run"),
            **overrides,
        )
        return cls(settings)

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.rasa_port}"

    def start(self) -> None:
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

    def post_raw(self, body: bytes, content_type: str = "application/json") -> Reply:
        request = Request(
            f"{self.base_url}/webhooks/rest/webhook",
            data=body,
            headers={"Content-Type": content_type},
            method="POST",
        )
        try:
            with urlopen(request, timeout=120) as reply:
                return Reply(reply.status, json.loads(reply.read() or b"null"))
        except HTTPError as error:
            raw = error.read()
            try:
                return Reply(error.code, json.loads(raw))
            except json.JSONDecodeError:
                return Reply(error.code, raw.decode("utf-8", "replace"))

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
