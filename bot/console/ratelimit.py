"""Sign-in rate limits, per account and per client address, with the ``limits`` library.

Storage: Redis when a Redis URL is configured (shared by every console replica, survives a
restart), else in this process's memory (one console process: the default deployment).
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from typing import Any

from bot.console.agents import normalise_email
from core.settings import Settings

logger = logging.getLogger(__name__)


def _import_limits() -> Any:
    # limits 2.4 (the newest that accepts Rasa's pin packaging<21) imports pkg_resources, which
    # warns that it is deprecated; the warning is about limits' packaging, not our use.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=Warning)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pkg_resources")
        import limits
        import limits.storage
        import limits.strategies
    return limits


def storage_url(settings: Settings) -> str:
    """Where the limits are counted: ``console_rate_limit_url``, a Redis lock store, or memory."""
    if settings.console_rate_limit_url:
        return settings.console_rate_limit_url
    return settings.redis_url or "memory://"


@dataclass(frozen=True)
class Decision:
    """Whether an attempt may proceed, and for how long the caller should wait if not."""

    allowed: bool
    retry_after_s: int = 0


class SigninLimiter:
    """Counts sign-in attempts in a moving window, per account and per client address.

    Every attempt counts (successful or not, existing account or not), so the reply never depends
    on whether an account exists.

    Args:
        per_account: A ``limits`` rate, e.g. ``5 per minute``.
        per_address: A ``limits`` rate, e.g. ``20 per minute``.
        url: ``memory://`` or ``redis://host:port/db``.
    """

    def __init__(self, per_account: str, per_address: str, url: str = "memory://") -> None:
        limits = _import_limits()
        self._items: dict[str, Any] = {}
        for name, rate in (("per_account", per_account), ("per_address", per_address)):
            try:
                self._items[name] = limits.parse(rate)
            except ValueError:
                raise ValueError(
                    f"{name} must be a rate such as '5 per minute'. Currently, {name} is {rate!r} "
                    "(SHOPBOT_CONSOLE_SIGNIN_LIMIT_ACCOUNT / _ADDRESS)."
                ) from None
        self.url = url
        # The strategy keeps only a weak reference to its storage: hold the storage here.
        self._storage = limits.storage.storage_from_string(url)
        self._limiter = limits.strategies.MovingWindowRateLimiter(self._storage)
        logger.info(
            "Sign-in rate limits: %s per account, %s per address, stored in %s",
            per_account,
            per_address,
            url.split("@")[-1],
        )

    def attempt(self, email: str, address: str) -> Decision:
        """Count one sign-in attempt; refuse it when either limit is exhausted."""
        keys = (
            ("per_account", f"shopbot-console-signin:account:{normalise_email(email)}"),
            ("per_address", f"shopbot-console-signin:address:{address}"),
        )
        allowed = True
        for name, key in keys:
            if not self._limiter.hit(self._items[name], key):
                allowed = False
        if allowed:
            return Decision(True)
        return Decision(False, self._retry_after(keys))

    def _retry_after(self, keys: tuple[tuple[str, str], ...]) -> int:
        waits = []
        for name, key in keys:
            reset_at, remaining = self._limiter.get_window_stats(self._items[name], key)
            if remaining <= 0:
                waits.append(max(1, int(reset_at - time.time()) + 1))
        return max(waits, default=1)

    def reset(self) -> None:
        """Forget every count (tests)."""
        self._storage.reset()
