"""``shopbot telegram``: polling for development, the webhook's registration, deep-link codes.

``--polling`` removes any webhook and relays ``getUpdates`` to the running Rasa server's Telegram
webhook (with the secret), so polling and webhook mode share one code path: the channel in
``bot/channels/telegram.py``. An update is confirmed to Telegram (the next ``offset``) only after
the Rasa server accepted it. ``--set-webhook`` registers ``SHOPBOT_TELEGRAM_PUBLIC_URL`` (what
``shopbot run`` does at start-up); ``--link-code <customer token>`` stores a one-time code and
prints the deep link that links a Telegram user to that store customer.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

import httpx
from telegram import Bot
from telegram.error import TelegramError

from bot.channels.telegram import SECRET_HEADER, build_application
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade_to_head
from bot.storage.telegram import TelegramLinks
from core.settings import Settings

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/telegram/webhook"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
POLL_TIMEOUT_S = 25
RETRY_S = 2.0


def make_bot(settings: Settings) -> Bot:
    """The configured bot (no network until used)."""
    if not settings.telegram_token:
        raise ValueError(
            "telegram_token is empty: set SHOPBOT_TELEGRAM_TOKEN to the token from @BotFather."
        )
    return build_application(settings.telegram_token, settings.telegram_api_url).bot


def local_webhook(settings: Settings) -> str:
    """The Rasa server's Telegram webhook on this machine."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    return f"http://{host}:{settings.rasa_port}{WEBHOOK_PATH}"


def public_webhook(settings: Settings) -> str:
    """The webhook address Telegram is given (``telegram_public_url`` + the channel's path)."""
    url = settings.telegram_public_url.rstrip("/")
    if not url.startswith("https://"):
        raise ValueError(
            "telegram_public_url must be an https:// address (Telegram calls webhooks over "
            f"HTTPS only). Currently, it is {settings.telegram_public_url!r} "
            "(set SHOPBOT_TELEGRAM_PUBLIC_URL, or use `shopbot telegram --polling`)."
        )
    return url + WEBHOOK_PATH


async def set_webhook(settings: Settings) -> str:
    """Register the public webhook with its secret; returns the URL."""
    url = public_webhook(settings)
    async with make_bot(settings) as bot:
        await bot.set_webhook(
            url, secret_token=settings.ensure_telegram_secret(), allowed_updates=ALLOWED_UPDATES
        )
    logger.info("Telegram webhook set to %s", url)
    return url


async def relay_updates(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Poll ``getUpdates`` and POST each update to the local webhook until ``stop`` is set.

    Returns how many updates were relayed.
    """
    stop = stop or asyncio.Event()
    target = local_webhook(settings)
    headers = {SECRET_HEADER: settings.ensure_telegram_secret()}
    relayed = 0
    async with make_bot(settings) as bot, httpx.AsyncClient(timeout=30) as http:
        await bot.delete_webhook()
        logger.info("Polling Telegram for @%s; relaying to %s", bot.username, target)
        offset = 0
        while not stop.is_set():
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT_S, allowed_updates=ALLOWED_UPDATES
                )
            except TelegramError as exc:
                logger.warning("getUpdates failed (%s); retrying in %.0f s", exc, RETRY_S)
                await asyncio.sleep(RETRY_S)
                continue
            for update in updates:
                try:
                    reply = await http.post(target, json=update.to_dict(), headers=headers)
                except httpx.HTTPError as exc:
                    logger.warning(
                        "The Rasa server did not take update %d: %s", update.update_id, exc
                    )
                    break
                if reply.status_code >= 500:
                    logger.warning("The Rasa server answered %d; retrying", reply.status_code)
                    break
                offset = update.update_id + 1
                relayed += 1
            else:
                continue
            await asyncio.sleep(RETRY_S)
    return relayed


def link_code(settings: Settings, customer_token: str) -> str:
    """Store a one-time code for ``customer_token``; returns it."""
    url = settings.resolve_db_url(settings.app_db_url)
    upgrade_to_head(url)
    return TelegramLinks(make_engine(url)).create_code(customer_token)


def main(argv: list[str] | None = None) -> int:
    """``shopbot telegram``."""
    parser = argparse.ArgumentParser(prog="shopbot telegram", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--polling", action="store_true", help="relay getUpdates to `shopbot run`")
    action.add_argument("--set-webhook", action="store_true", help="register the public webhook")
    action.add_argument("--delete-webhook", action="store_true", help="remove the webhook")
    action.add_argument("--link-code", metavar="CUSTOMER_TOKEN", help="make a deep-link code")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
        if args.link_code:
            code = link_code(settings, args.link_code)
            username = asyncio.run(_username(settings))
            print(f"https://t.me/{username}?start={code}")
        elif args.set_webhook:
            print(asyncio.run(set_webhook(settings)))
        elif args.delete_webhook:
            asyncio.run(_delete_webhook(settings))
        else:
            asyncio.run(relay_updates(settings))
    except (ValueError, TelegramError) as exc:
        logger.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


async def _username(settings: Settings) -> str:
    async with make_bot(settings) as bot:
        return str(bot.username)


async def _delete_webhook(settings: Settings) -> None:
    async with make_bot(settings) as bot:
        await bot.delete_webhook()
    logger.info("Telegram webhook removed")
