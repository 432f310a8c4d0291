"""The store's rules as data: return window, accepted item conditions, shipping, identity lockout.

One source of truth for the store service (``actions.store.service``), the demo seeder
(``training.prepare_store``) and the replies the assistant builds. Pure Python: no database, no Rasa.

The return window follows the published FAQ ("return products within 30 days of purchase"):
it is counted in calendar days from the date the order was placed, and the last day to ask for a
return is ``placed_at.date() + RETURN_WINDOW_DAYS`` (inclusive).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "ACCEPTED_CONDITIONS",
    "CANCELLATION_FEE",
    "FREE_STANDARD_SHIPPING_FROM",
    "RETURN_SHIP_BACK_DAYS",
    "RETURN_WINDOW_DAYS",
    "SHIPPING_METHODS",
    "ItemCondition",
    "LockoutPolicy",
    "ShippingMethod",
    "return_deadline",
    "shipping_method",
]

RETURN_WINDOW_DAYS = 30
"""Days after purchase (the order date) within which an item can be returned, as the FAQ says."""

RETURN_SHIP_BACK_DAYS = 14
"""Days the shopper has to send an item back once the return is opened."""

CANCELLATION_FEE = Decimal("0.00")
"""Cancelling an order that has not shipped is free: the whole amount paid is refunded."""

FREE_STANDARD_SHIPPING_FROM = Decimal("35.00")
"""Standard shipping is free from this order subtotal (USD)."""


@dataclass(frozen=True)
class ShippingMethod:
    """A shipping method the store offers.

    Args:
        code: Value stored in ``orders.shipping_method`` (``standard``).
        label: What shoppers read (``Standard``).
        fee: Price in USD (standard is free from ``FREE_STANDARD_SHIPPING_FROM``).
        min_days: Fewest calendar days from dispatch to delivery.
        max_days: Most calendar days from dispatch to delivery.
    """

    code: str
    label: str
    fee: Decimal
    min_days: int
    max_days: int


SHIPPING_METHODS: tuple[ShippingMethod, ...] = (
    ShippingMethod("standard", "Standard", Decimal("5.99"), 3, 6),
    ShippingMethod("express", "Express", Decimal("12.99"), 2, 3),
    ShippingMethod("next_day", "Next day", Decimal("24.99"), 1, 1),
)


def shipping_method(code: str) -> ShippingMethod | None:
    """Return the shipping method with ``code``, or None for a method this store does not know."""
    return next((m for m in SHIPPING_METHODS if m.code == code), None)


class ItemCondition(str, enum.Enum):
    """What the shopper says about the item they want to return."""

    UNOPENED = "unopened"
    LIKE_NEW = "like_new"  # opened, unused, with its packaging
    DEFECTIVE = "defective"  # arrived damaged or does not work
    USED = "used"  # used, worn or damaged after delivery

    @property
    def label(self) -> str:
        """Human wording (``"unopened"``, ``"opened but like new"``...)."""
        return {
            "unopened": "unopened",
            "like_new": "opened but like new",
            "defective": "arrived damaged or defective",
            "used": "used or damaged after delivery",
        }[self.value]


ACCEPTED_CONDITIONS = frozenset(
    {ItemCondition.UNOPENED, ItemCondition.LIKE_NEW, ItemCondition.DEFECTIVE}
)
"""Conditions a return is accepted in: the FAQ asks for the original condition and packaging;
an item that arrived damaged or defective is the store's fault and always comes back."""


def return_deadline(placed_at: dt.datetime | dt.date) -> dt.date:
    """The last day a return can be opened for an order placed at ``placed_at``."""
    day = placed_at.date() if isinstance(placed_at, dt.datetime) else placed_at
    return day + dt.timedelta(days=RETURN_WINDOW_DAYS)


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failed ownership checks a conversation, a client or an order number gets.

    Failures are counted under three keys at once, and reaching any limit pauses checks:
    ``max_failures`` per conversation (sender id), ``max_failures_per_client`` per client address
    (the channel's hash of it; a fresh conversation from the same client buys no new guesses) and
    ``max_failures_per_order`` per order number (any sender; stops guessing one order's email
    from many clients). That many failures within ``window`` lock the key for ``lock_for`` from
    the failure that reached the limit. Failures are counted in the audit log, so the lock holds
    across restarts and across several action servers sharing the database.

    Raises:
        ValueError: If a value is not positive.
    """

    max_failures: int = 5
    max_failures_per_client: int = 5
    max_failures_per_order: int = 8
    window: dt.timedelta = dt.timedelta(minutes=15)
    lock_for: dt.timedelta = dt.timedelta(minutes=15)

    def __post_init__(self) -> None:
        for name in ("max_failures", "max_failures_per_client", "max_failures_per_order"):
            value = getattr(self, name)
            if value < 1:
                raise ValueError(f"{name} must be at least 1. Currently, {name} is {value}.")
        for name in ("window", "lock_for"):
            value = getattr(self, name)
            if value <= dt.timedelta(0):
                raise ValueError(
                    f"{name} must be a positive duration. Currently, {name} is {value}."
                )

    def locked_until(
        self, failures: list[dt.datetime], max_failures: int | None = None
    ) -> dt.datetime | None:
        """The end of the latest lock the ``failures`` (any order) trigger, or None.

        A lock starts at the failure that makes ``max_failures`` (default: the per-conversation
        limit) within ``window``.
        """
        times = sorted(failures)
        until: dt.datetime | None = None
        n = self.max_failures if max_failures is None else max_failures
        for i in range(n - 1, len(times)):
            if times[i] - times[i - n + 1] <= self.window:
                end = times[i] + self.lock_for
                until = end if until is None or end > until else until
        return until
