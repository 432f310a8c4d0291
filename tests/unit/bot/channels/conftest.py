"""A widget service on a fresh application database in ``tmp_path``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.widget_auth import ConversationTokens
from bot.channels.widget_service import WidgetService
from bot.channels.widget_stream import StreamHub
from bot.storage.engine import make_engine
from bot.storage.event_log import EventLog
from bot.storage.migrate import upgrade_to_head

WIDGET_SECRET = "unit-widget-secret-0123456789abcdef0123"
STREAM_SECRET = "unit-stream-secret-0123456789abcdef0123"


@pytest.fixture()
def event_log(tmp_path: Path) -> Iterator[EventLog]:
    url = f"sqlite:///{tmp_path / 'shopbot.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    yield EventLog(engine)
    engine.dispose()


@pytest.fixture()
def service(event_log: EventLog) -> WidgetService:
    return WidgetService(
        ConversationTokens(WIDGET_SECRET, ttl_seconds=3600),
        event_log,
        StreamHub(),
        STREAM_SECRET,
        max_message_chars=100,
    )
