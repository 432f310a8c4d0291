"""The channel against the fake Bot API on loopback: Telegram's flood answers and the webhook."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.telegram import build_application
from bot.channels.telegram_cli import set_webhook
from bot.channels.telegram_output import TelegramOutputChannel
from core.settings import Settings
from training.bench.telegram_fake import TOKEN, FakeTelegram


@pytest.fixture()
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as api:
        yield api


# python-telegram-bot 22.x's own RetryAfter constructor reads its deprecated int ``retry_after``.
@pytest.mark.filterwarnings(
    "ignore:Deprecated since version v22.2:telegram.warnings.PTBDeprecationWarning"
)
def test_retry_after_is_honoured(fake: FakeTelegram) -> None:
    fake.refuse_next("sendMessage", retry_after=1)

    async def go() -> None:
        application = build_application(TOKEN, fake.url)
        async with application.bot as bot:
            await TelegramOutputChannel(bot).send_response("telegram:42", {"text": "hi"})

    asyncio.run(go())
    sends = fake.calls_of("sendMessage")
    assert len(sends) == 2  # refused once with 429, sent again by AIORateLimiter
    assert sends[1].at - sends[0].at >= 1.0


def test_shopbot_run_registers_the_webhook_with_its_secret(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    settings = Settings(
        root=tmp_path,
        telegram_token=TOKEN,
        telegram_api_url=fake.url,
        telegram_public_url="https://shop.example.com",
    )
    from bot.runner import telegram_line

    line = telegram_line(settings)
    assert "https://shop.example.com/webhooks/telegram/webhook" in line
    assert fake.webhook["url"] == "https://shop.example.com/webhooks/telegram/webhook"
    assert fake.webhook["secret_token"] == settings.telegram_secret
    assert fake.webhook["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert asyncio.run(set_webhook(settings)).startswith("https://")
