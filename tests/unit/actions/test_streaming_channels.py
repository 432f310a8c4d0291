"""Which conversations stream their generated answers, and where the pieces go."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk import Tracker

import actions.store.runtime as runtime
from actions.knowledge import token_pusher
from core.settings import Settings


def _tracker(sender: str, channel: str) -> Tracker:
    events = [{"event": "user", "text": "how much is the kite?", "input_channel": channel}]
    return Tracker(sender, {}, {}, events, False, None, {}, "action_listen")


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, rasa_port=5111, stream_secret="s" * 32)
    monkeypatch.setattr(runtime, "_settings", settings)


def test_telegram_and_widget_conversations_stream_to_their_channel() -> None:
    telegram = token_pusher(_tracker("telegram:42", "telegram"))
    assert telegram is not None
    assert telegram.url == "http://127.0.0.1:5111/webhooks/telegram/internal/stream"
    widget = token_pusher(_tracker("0123456789abcdef0123456789abcdef", "widget"))
    assert widget is not None and widget.url.endswith("/webhooks/widget/internal/stream")
    telegram.close()  # nothing pushed: nothing sent
    widget.close()


def test_rest_conversations_do_not_stream() -> None:
    assert token_pusher(_tracker("someone", "rest")) is None
