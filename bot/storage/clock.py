"""Time as the application database stores it: naive UTC datetimes."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """Naive UTC now."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def utc_from_timestamp(timestamp: float) -> dt.datetime:
    """Naive UTC of a Unix timestamp (Rasa's event timestamps)."""
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None)
