"""The Telegram channel's configuration: credentials only with a token, the webhook address."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.channels.telegram_cli import local_webhook, public_webhook
from bot.runtime_config import render_runtime_config
from core.settings import Settings

CHANNEL = "bot.channels.telegram.TelegramInput"


def test_no_token_no_telegram_channel(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, telegram_token="")
    _, credentials = render_runtime_config(settings, tmp_path / "run")
    assert CHANNEL not in yaml.safe_load(credentials.read_text())
    assert not (tmp_path / "var" / "telegram_secret").exists()


def test_a_token_adds_the_channel_with_a_generated_secret(tmp_path: Path) -> None:
    settings = Settings(
        root=tmp_path,
        telegram_token="123:abc",
        telegram_api_url="http://127.0.0.1:9/",
        lock_store_url="redis://127.0.0.1:6379/0",
    )
    _, credentials = render_runtime_config(settings, tmp_path / "run")
    channel = yaml.safe_load(credentials.read_text())[CHANNEL]
    assert channel["token"] == "123:abc"
    assert channel["secret"] == (tmp_path / "var" / "telegram_secret").read_text().strip()
    assert len(channel["secret"]) >= 32
    assert channel["api_url"] == "http://127.0.0.1:9/"
    assert channel["rate_limit_url"] == "redis://127.0.0.1:6379/0"
    assert channel["stream_secret"] == settings.stream_secret
    assert settings.describe()["telegram_token"] == "***"
    assert settings.telegram_push_url.endswith("/webhooks/telegram/internal/stream")


def test_webhook_addresses(tmp_path: Path) -> None:
    settings = Settings(
        root=tmp_path, telegram_public_url="https://shop.example.com/", rasa_port=5100
    )
    assert public_webhook(settings) == "https://shop.example.com/webhooks/telegram/webhook"
    assert local_webhook(settings) == "http://127.0.0.1:5100/webhooks/telegram/webhook"
    with pytest.raises(ValueError, match="SHOPBOT_TELEGRAM_PUBLIC_URL"):
        public_webhook(Settings(root=tmp_path, telegram_public_url="http://shop.example.com"))
