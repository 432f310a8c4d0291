"""Renders the Rasa server's ``endpoints.yml`` and ``credentials.yml`` from the settings.

Rasa's SQL tracker store takes dialect/host/port/db fields rather than a URL; ShopBot is configured
with one URL per store, translated here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from core.settings import Settings

_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}


SHOP_TRACKER_STORE = "bot.storage.tracker_store.ShopSQLTrackerStore"


def store_type(settings: Settings) -> str:
    """Rasa's ``SQL`` store (the baseline) or ours, which streams a turn's events by a count."""
    return SHOP_TRACKER_STORE if settings.tracker_streaming == "count" else "SQL"


def tracker_store_config(url: str, settings: Settings) -> dict[str, Any]:
    """Translate a SQLAlchemy URL into Rasa's ``tracker_store`` section.

    Args:
        url: ``sqlite:///var/tracker.db`` (relative to the project) or
            ``postgresql://user:password@host:5432/dbname``.
        settings: For resolving relative SQLite paths.

    Raises:
        ValueError: For schemes other than sqlite and postgresql.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    dialect = _DIALECTS.get(scheme)
    if dialect is None:
        raise ValueError(
            f"tracker_store_url must start with sqlite:/// or postgresql://. Currently, it is {url!r}."
        )
    if dialect == "sqlite":
        db_file = settings.sqlite_path(url)
        if db_file is None:
            raise ValueError(
                f"tracker_store_url names no SQLite file: {url!r}. Use sqlite:///var/tracker.db."
            )
        db_file.parent.mkdir(parents=True, exist_ok=True)
        return {"type": store_type(settings), "dialect": "sqlite", "db": str(db_file)}
    config: dict[str, Any] = {
        "type": store_type(settings),
        "dialect": parts.scheme,
        "url": parts.hostname or "localhost",
        "port": parts.port or 5432,
        "db": parts.path.lstrip("/") or "rasa",
    }
    if parts.username:
        config["username"] = unquote(parts.username)
    if parts.password:
        config["password"] = unquote(parts.password)
    return config


def lock_store_config(url: str) -> dict[str, Any] | None:
    """Translate ``redis://[:password@]host:port/db`` into Rasa's ``lock_store`` section."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "redis":
        raise ValueError(f"lock_store_url must start with redis://. Currently, it is {url!r}.")
    config: dict[str, Any] = {
        "type": "bot.storage.lock_store.ShopRedisLockStore",  # Rasa's, retrying a lost connection
        "url": parts.hostname or "localhost",
        "port": parts.port or 6379,
        "db": int(parts.path.lstrip("/") or 0),
    }
    if parts.password:
        config["password"] = unquote(parts.password)
    return config


def rest_channel_config(settings: Settings) -> dict[str, Any]:
    """The REST channel's ``credentials.yml`` section (its secret generated when unset)."""
    config: dict[str, Any] = {
        "max_message_chars": settings.max_message_chars,
        "auth": settings.rest_auth,
    }
    if settings.rest_auth:
        config["secret"] = settings.ensure_rest_secret()
    config.update(client_key_config(settings))
    return config


def client_key_config(settings: Settings) -> dict[str, Any]:
    """What a channel needs to hash the client address (``core/client_key.py``)."""
    return {
        "client_key_secret": settings.ensure_client_key_secret(),
        "trusted_proxies": settings.trusted_proxies,
    }


def widget_channel_config(settings: Settings) -> dict[str, Any]:
    """The web widget channel's ``credentials.yml`` section (secrets generated when unset)."""
    return {
        "app_db_url": settings.resolve_db_url(settings.app_db_url),
        "widget_secret": settings.ensure_widget_secret(),
        "session_ttl": settings.widget_session_ttl,
        "stream_secret": settings.ensure_stream_secret(),
        "max_message_chars": settings.max_message_chars,
        **client_key_config(settings),
        **stream_bus_config(settings),
    }


def stream_bus_config(settings: Settings) -> dict[str, Any]:
    """With a Redis lock store (several Rasa servers), the widget's streams share a Redis bus."""
    return {"stream_bus_url": settings.redis_url} if settings.redis_url else {}


def telegram_channel_config(settings: Settings) -> dict[str, Any]:
    """The Telegram channel's ``credentials.yml`` section (its webhook secret generated when unset).

    The inbound rate limit is counted in the Redis lock store when there is one (shared by every
    replica), else in the Rasa server's memory.
    """
    config: dict[str, Any] = {
        "token": settings.telegram_token,
        "secret": settings.ensure_telegram_secret(),
        "app_db_url": settings.resolve_db_url(settings.app_db_url),
        "max_message_chars": settings.max_message_chars,
        "stream_secret": settings.ensure_stream_secret(),  # the action server pushes answers
    }
    if settings.telegram_api_url:
        config["api_url"] = settings.telegram_api_url
    if settings.redis_url:
        config["rate_limit_url"] = settings.redis_url
    return config


def event_broker_config(settings: Settings) -> dict[str, Any]:
    """The ``event_broker`` section: ours, folding tracker events into the handoff queue."""
    return {
        "type": "bot.handoff.broker.HandoffEventBroker",
        "app_db_url": settings.resolve_db_url(settings.app_db_url),
    }


def render_runtime_config(settings: Settings, out_dir: Path) -> tuple[Path, Path]:
    """Write ``endpoints.yml`` and ``credentials.yml`` for the Rasa server into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    endpoints: dict[str, Any] = {
        "action_endpoint": {"url": f"http://{settings.host}:{settings.actions_port}/webhook"},
        "tracker_store": tracker_store_config(settings.tracker_store_url, settings),
    }
    lock_store = lock_store_config(settings.lock_store_url)
    if lock_store:
        endpoints["lock_store"] = lock_store
    endpoints["event_broker"] = event_broker_config(settings)
    credentials = {
        "bot.channels.ops.OpsInput": {
            "metrics_token": settings.metrics_token,
            "reply_check": settings.rasa_reply_check,
            "slot_validation": settings.slot_validation,
        },
        "bot.channels.rest.ShopRestInput": rest_channel_config(settings),
        "bot.channels.widget.WidgetInput": widget_channel_config(settings),
    }
    if settings.telegram_token:  # the channel only when a bot is configured
        credentials["bot.channels.telegram.TelegramInput"] = telegram_channel_config(settings)
    endpoints_file = out_dir / "endpoints.yml"
    credentials_file = out_dir / "credentials.yml"
    endpoints_file.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
    credentials_file.write_text(yaml.safe_dump(credentials, sort_keys=False), encoding="utf-8")
    credentials_file.chmod(0o600)  # it holds the channels' secrets
    return endpoints_file, credentials_file
