"""Where the console is reachable (a light module: ``bot.runner`` imports it)."""

from __future__ import annotations

from core.settings import Settings


def console_url(settings: Settings) -> str:
    """The console's address for agents (loopback when bound to every interface)."""
    scheme = "https" if settings.console_https else "http"
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    return f"{scheme}://{host}:{settings.console_port}/"
