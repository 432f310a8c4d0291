"""The ops channel's readiness checks, against a loopback stand-in for the action server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from bot.channels.ops import OpsInput, health_url, readiness
from bot.runtime_config import render_runtime_config
from core.settings import Settings
from tests.conftest import free_port


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture()
def action_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhook"
    finally:
        server.shutdown()
        server.server_close()


def agent(url: str | None, loaded: bool = True) -> SimpleNamespace:
    return SimpleNamespace(
        is_ready=lambda: loaded, action_endpoint=SimpleNamespace(url=url) if url else None
    )


def test_ready_when_the_model_is_loaded_and_the_action_server_answers(action_server: str) -> None:
    assert asyncio.run(readiness(agent(action_server))) == {"model": "ok", "action_server": "ok"}


def test_not_ready_names_what_is_missing() -> None:
    closed = f"http://127.0.0.1:{free_port()}/webhook"
    checks = asyncio.run(readiness(agent(closed, loaded=False)))
    assert checks["model"] == "not loaded"
    assert checks["action_server"].startswith("unreachable")
    assert asyncio.run(readiness(None)) == {
        "model": "not loaded",
        "action_server": "not configured",
    }


def test_health_url_sits_beside_the_webhook() -> None:
    assert health_url("http://10.0.0.5:5055/webhook?x=1") == "http://10.0.0.5:5055/health"


def test_the_channel_reads_its_token_from_the_credentials() -> None:
    channel = OpsInput.from_credentials({"metrics_token": "t0ken"})
    assert isinstance(channel, OpsInput) and channel.metrics_token == "t0ken"
    assert OpsInput.from_credentials(None).metrics_token == ""  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("field", "attribute", "values", "variable"),
    [
        ("rasa_reply_check", "reply_check", ("prebuilt", "rasa"), "SHOPBOT_RASA_REPLY_CHECK"),
        ("slot_validation", "slot_validation", ("local", "remote"), "SHOPBOT_SLOT_VALIDATION"),
    ],
)
def test_the_channels_switches_come_from_the_settings(
    tmp_path: Path, field: str, attribute: str, values: tuple[str, str], variable: str
) -> None:
    for value in values:
        settings = Settings(root=tmp_path, **{field: value})  # type: ignore[arg-type]
        _, credentials = render_runtime_config(settings, tmp_path / value)
        given = yaml.safe_load(credentials.read_text())["bot.channels.ops.OpsInput"]
        channel = OpsInput.from_credentials(given)
        assert isinstance(channel, OpsInput) and getattr(channel, attribute) == value
    assert getattr(OpsInput.from_credentials(None), attribute) == values[0]  # the default
    with pytest.raises(ValueError, match=variable):
        Settings(root=tmp_path, **{field: "nonsense"})  # type: ignore[arg-type]
