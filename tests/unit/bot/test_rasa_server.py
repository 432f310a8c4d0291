"""``python -m bot.rasa_server``: Rasa's command line, building its app for asyncio's event loop."""

from __future__ import annotations

import asyncio
import inspect
import warnings
from typing import Any

import pytest

with warnings.catch_warnings():  # sanic_cors (imported by Rasa's server) uses distutils' versions
    warnings.simplefilter("ignore", DeprecationWarning)
    import rasa.core.run

from bot import rasa_server
from bot.runner import rasa_server as rasa_service
from core.settings import Settings


class RecordedApp:
    """What ``configure_app`` returns, as far as ``install`` uses it: listeners by event."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs

    def register_listener(self, listener: Any, event: str) -> None:
        self.kwargs.setdefault("listeners", []).append((event, listener))


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Rasa's ``configure_app`` replaced by a recorder with its signature, then installed over."""
    calls: list[dict[str, Any]] = []
    original = rasa.core.run.configure_app

    def configure_app(*args: Any, **kwargs: Any) -> RecordedApp:
        calls.append(kwargs)
        return RecordedApp(kwargs)

    configure_app.__signature__ = inspect.signature(original)  # type: ignore[attr-defined]
    monkeypatch.setattr(rasa.core.run, "configure_app", configure_app)
    rasa_server.install()
    rasa_server.install()  # idempotent: wrapped once
    return calls


def test_rasa_builds_its_app_without_uvloop_whatever_it_asks(
    recorded: list[dict[str, Any]],
) -> None:
    rasa.core.run.configure_app(None, use_uvloop=True, port=5005)
    rasa.core.run.configure_app(None, port=5005)
    assert [c["use_uvloop"] for c in recorded] == [False, False]
    assert all(c["port"] == 5005 for c in recorded)


def test_the_app_freezes_its_loaded_heap_and_closes_its_action_connections(
    recorded: list[dict[str, Any]],
) -> None:
    rasa.core.run.configure_app(None, port=5005)
    listeners = {event: listener.__name__ for event, listener in recorded[0]["listeners"]}
    assert listeners == {
        "after_server_start": "_freeze_loaded_heap",
        "after_server_stop": "_close_action_sessions",
    }


def test_the_wrapper_keeps_the_signature_rasa_reads(recorded: list[dict[str, Any]]) -> None:
    # rasa.utils.common.minimal_kwargs passes only the arguments the signature names.
    parameters = inspect.signature(rasa.core.run.configure_app).parameters
    assert {"input_channels", "port", "endpoints", "use_uvloop"} <= set(parameters)


def test_rasas_switch_puts_back_asyncios_loop() -> None:
    """What the switch relies on: Rasa's configure_app(use_uvloop=False) resets the policy that
    aiogram sets to uvloop's on import."""
    uvloop = pytest.importorskip("uvloop")
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        app = rasa.core.run.configure_app(None, use_uvloop=False, port=5005)
        assert app.config.USE_UVLOOP is False
        assert not isinstance(asyncio.get_event_loop_policy(), uvloop.EventLoopPolicy)
    finally:
        asyncio.set_event_loop_policy(None)


def test_the_runner_starts_rasa_through_it(tmp_path: Any) -> None:
    service = rasa_service(Settings(root=tmp_path, run_dir=str(tmp_path / "run")))
    assert service.command[1:4] == ["-m", "bot.rasa_server", "run"]
    assert service.env["SANIC_BACKLOG"] == "1024"


def test_the_runner_gives_rasa_the_settings_it_was_started_with(tmp_path: Any) -> None:
    """The NLU components read their runtime from the environment in the Rasa process: the
    Throughput baseline's ``nlu_runtime="torch"`` never reached it while only ``SHOPBOT_HOME``
    was passed."""
    settings = Settings(root=tmp_path, run_dir=str(tmp_path / "run"), nlu_runtime="torch")
    env = rasa_service(settings).env
    assert env["SHOPBOT_NLU_RUNTIME"] == "torch"
    assert env["SHOPBOT_HOME"] == str(tmp_path)
