"""The widget channel's construction from credentials.yml."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.widget import WidgetInput
from bot.channels.widget_output import WidgetOutputChannel
from tests.unit.bot.channels.conftest import STREAM_SECRET, WIDGET_SECRET


def test_credentials_name_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'app_db_url'"):
        WidgetInput.from_credentials({"widget_secret": WIDGET_SECRET})
    with pytest.raises(ValueError, match="'widget_secret'"):
        WidgetInput.from_credentials({"app_db_url": f"sqlite:///{tmp_path / 'a.db'}"})
    with pytest.raises(ValueError, match="SHOPBOT_WIDGET_SECRET"):
        WidgetInput.from_credentials(
            {"app_db_url": f"sqlite:///{tmp_path / 'a.db'}", "widget_secret": "short"}
        )


def test_a_configured_channel_serves_under_webhooks_widget(tmp_path: Path) -> None:
    channel = WidgetInput.from_credentials(
        {
            "app_db_url": f"sqlite:///{tmp_path / 'a.db'}",
            "widget_secret": WIDGET_SECRET,
            "stream_secret": STREAM_SECRET,
            "session_ttl": 60,
        }
    )
    assert isinstance(channel, WidgetInput)
    assert channel.url_prefix() == "widget" and channel.service.tokens.ttl_seconds == 60
    assert isinstance(channel.get_output_channel(), WidgetOutputChannel)
    assert not (tmp_path / "a.db").exists()  # nothing is opened until the first request
