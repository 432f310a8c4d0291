"""Serve the agent console with uvicorn (``python -m bot.console``; ``shopbot run`` starts it)."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from bot.console.app import build_app, build_console
from bot.console.urls import console_url
from bot.storage.migrate import upgrade_to_head
from core.logging_setup import configure_logging
from core.settings import Settings

logger = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    """Upgrade the application database, then serve the console until interrupted."""
    upgrade_to_head(settings.resolve_db_url(settings.app_db_url))
    app = build_app(build_console(settings))
    trusted = settings.console_trusted_proxies.strip()
    logger.info("Serving the agent console at %s", console_url(settings))
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.console_port,
        # X-Forwarded-* only from the configured proxies (else a client could pick its address
        # and dodge the per-address sign-in limit).
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        log_level=settings.log_level.lower(),
        server_header=False,
        # Rasa pins websockets 10, older than uvicorn's websockets support; the console's pages
        # poll over plain HTTP (queue every 2 s, an open conversation every 1 s): no websockets.
        ws="none",
    )


def main(argv: list[str] | None = None) -> int:
    """Serve the console with ``Settings()`` (``--port`` overrides ``console_port``)."""
    parser = argparse.ArgumentParser(prog="python -m bot.console", description=__doc__)
    parser.add_argument(
        "--port", type=int, help="console port (default SHOPBOT_CONSOLE_PORT or 5006)"
    )
    args = parser.parse_args(argv)
    configure_logging()
    # httpx logs every request URL at INFO, and Rasa's API token travels in the query string.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = Settings(console_port=args.port) if args.port else Settings()
    except ValueError as exc:
        logger.error("%s", exc)
        return 2
    serve(settings)
    return 0
