"""The process-wide store backend and settings, created lazily on first use.

Nothing here runs at import time: the first ``get_store()`` reads ``Settings()`` (the
``SHOPBOT_*`` environment), resolves ``store_db_url`` and builds a ``SqlStoreBackend``. A store that
connects its own order system calls ``set_store(MyBackend())`` from a module the action server
imports (any module in ``actions/``); tests call it with a backend on a temporary database.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from actions.store.service import StoreBackend
    from core.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["customer_token_secret", "fixed_clock", "get_settings", "get_store", "set_store"]

_lock = threading.Lock()
_store: StoreBackend | None = None
_settings: Settings | None = None


def get_settings() -> Settings:
    """The settings of this process (read once from the environment)."""
    global _settings
    with _lock:
        if _settings is None:
            from core.settings import Settings

            _settings = Settings()
        return _settings


def fixed_clock(value: str) -> dt.datetime:
    """Parse ``store_now`` (``2026-01-15`` or ``2026-01-15T10:30:00``) as naive UTC.

    Raises:
        ValueError: If ``value`` is not an ISO date or datetime.
    """
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"store_now must be an ISO date or datetime such as 2026-01-15T10:30:00. Currently, "
            f"store_now is {value!r} (set SHOPBOT_STORE_NOW, or leave it empty for the real clock)."
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment


def get_store() -> StoreBackend:
    """The store backend: the one passed to ``set_store``, or SQL on ``Settings().store_db_url``."""
    global _store
    settings = get_settings()
    with _lock:
        if _store is None:
            from actions.store.sql.backend import SqlStoreBackend

            url = settings.resolve_db_url(settings.store_db_url)
            clock = None
            if settings.store_now:
                frozen = fixed_clock(settings.store_now)
                logger.warning("Store clock fixed at %s (SHOPBOT_STORE_NOW)", frozen.isoformat())

                def clock() -> dt.datetime:
                    return frozen

            _store = SqlStoreBackend(url, clock=clock)
            logger.info("Store backend: %r", _store)
        return _store


def set_store(store: StoreBackend | None) -> None:
    """Use ``store`` from now on (None: build the default SQL backend again on next use)."""
    global _store
    with _lock:
        _store = store


def customer_token_secret() -> str:
    """The HMAC key of customer tokens (empty: tokens are not accepted)."""
    return get_settings().customer_token_secret
