"""Per-user inbound rate limit of the Telegram channel, with the ``limits`` library.

A user who sends more than ``rate`` messages (``"20 per minute"``) gets one friendly note per
window, and their extra messages are dropped (logged), so a flood costs one database insert per
update and nothing else. Counted in Redis when one is configured (shared by every replica, as the
console's sign-in limits), else in this process's memory.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_RATE = "20 per minute"
SLOW_DOWN = (
    "You're sending messages faster than I can answer. Please wait a moment; I'll read your "
    "messages again in about a minute."
)


def _limits() -> Any:
    # limits 2.4 (the newest Rasa's packaging pin allows) imports pkg_resources, which warns.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=Warning)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pkg_resources")
        import limits
        import limits.storage
        import limits.strategies
    return limits


@dataclass(frozen=True)
class Admission:
    """Whether to handle a user's message, and whether to tell them to slow down."""

    allowed: bool
    warn: bool = False


class InboundLimiter:
    """Counts each Telegram user's messages in a moving window.

    Args:
        rate: A ``limits`` rate such as ``20 per minute``.
        url: ``memory://`` or ``redis://host:port/db``.
    """

    def __init__(self, rate: str = DEFAULT_RATE, url: str = "memory://") -> None:
        limits = _limits()
        try:
            self._rate = limits.parse(rate)
        except ValueError:
            raise ValueError(
                f"rate must be a rate such as '20 per minute'. Currently, rate is {rate!r} "
                "(rate_limit in the telegram channel's credentials)."
            ) from None
        # One note per window of the rate's length.
        self._note = limits.RateLimitItemPerSecond(1, self._rate.get_expiry())
        self._storage = limits.storage.storage_from_string(url)  # held: the strategy's ref is weak
        self._limiter = limits.strategies.MovingWindowRateLimiter(self._storage)

    def admit(self, user_id: int) -> Admission:
        """Count one message of ``user_id``."""
        if self._limiter.hit(self._rate, f"shopbot-telegram:user:{user_id}"):
            return Admission(True)
        warn = self._limiter.hit(self._note, f"shopbot-telegram:note:{user_id}")
        return Admission(False, warn)
