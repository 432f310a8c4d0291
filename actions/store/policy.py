"""The store's rules as data: return window, accepted item conditions, shipping, identity lockout.

One source of truth for the store service (``actions.store.service``), the demo seeder
(``training.prepare_store``) and the replies the assistant builds. The numbers a shopper is told
(return window, fees, transit and dispatch times, carriers) are the store's settings, read from
the YAML file ``SHOPBOT_STORE_POLICY`` names (default: the demo store's ``data/demo/store/
policy.yml``, whose values follow the demo FAQ where it states them); nothing is hard-coded here.
Pure Python: no database, no Rasa.

The return window follows the published FAQ ("return products within 30 days of purchase"):
it is counted in calendar days from the date the order was placed, and the last day to ask for a
return is ``placed_at.date() + RETURN_WINDOW_DAYS`` (inclusive).
"""

from __future__ import annotations

import datetime as dt
import enum
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ACCEPTED_CONDITIONS",
    "CANCELLATION_FEE",
    "CARRIERS",
    "DEFAULT_POLICY_FILE",
    "FREE_STANDARD_SHIPPING_FROM",
    "POLICY_FILE",
    "RETURN_SHIP_BACK_DAYS",
    "RETURN_WINDOW_DAYS",
    "SHIPPING_METHODS",
    "STORE_POLICY",
    "ItemCondition",
    "LockoutPolicy",
    "ShippingMethod",
    "StorePolicy",
    "load_store_policy",
    "return_deadline",
    "shipping_method",
]

DEFAULT_POLICY_FILE = Path(__file__).resolve().parents[2] / "data" / "demo" / "store" / "policy.yml"


@dataclass(frozen=True)
class ShippingMethod:
    """A shipping method the store offers.

    Args:
        code: Value stored in ``orders.shipping_method`` (``standard``).
        label: What shoppers read (``Standard``).
        fee: Price in the store's currency (standard is free from ``free_standard_from``).
        min_days: Fewest days from dispatch to delivery (business or calendar: ``days_are``).
        max_days: Most days from dispatch to delivery.
    """

    code: str
    label: str
    fee: Decimal
    min_days: int
    max_days: int


@dataclass(frozen=True)
class StorePolicy:
    """The store's rules, as its settings file states them (see the module docstring).

    Args:
        return_window_days: Days after purchase within which an item can be returned.
        ship_back_days: Days the shopper has to send an item back once the return is opened.
        cancellation_fee: Kept from the refund when an order that has not shipped is cancelled.
        free_standard_from: Order subtotal from which standard shipping is free (None: never).
        dispatch_days: Fewest and most days before an order leaves the warehouse.
        days_are: ``"business"`` or ``"calendar"``: how transit and dispatch days are counted.
        carriers: The carriers the store ships with.
        shipping_methods: The methods offered, cheapest first as the file lists them.
        late_parcel_days: Within how many days most late parcels still arrive (None: not said).
        refund_bank_days: Fewest and most days banks take to show a refund (None: not said).
    """

    return_window_days: int
    ship_back_days: int
    cancellation_fee: Decimal
    free_standard_from: Decimal | None
    dispatch_days: tuple[int, int]
    days_are: str
    carriers: tuple[str, ...]
    shipping_methods: tuple[ShippingMethod, ...]
    late_parcel_days: int | None = None
    refund_bank_days: tuple[int, int] | None = None

    @property
    def day_word(self) -> str:
        """``"business days"`` or ``"days"``: how replies name a span of days."""
        return "business days" if self.days_are == "business" else "days"


def load_store_policy(path: Path) -> StorePolicy:
    """Read and check a store policy file.

    Raises:
        ValueError: If the file is missing, is not YAML, or a value is absent or invalid; the
            message names the file and the field.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"Cannot read the store policy {path}: {exc}") from None
    try:
        return _policy_from(data if isinstance(data, dict) else {})
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise ValueError(
            f"The store policy {path} is invalid ({type(exc).__name__}: {exc}); see "
            f"{DEFAULT_POLICY_FILE} for every field."
        ) from None


def _money(value: Any) -> Decimal:
    amount = Decimal(str(value))
    if amount < 0:
        raise ValueError(f"amounts must not be negative, got {value!r}")
    return amount


def _days(value: Any) -> tuple[int, int]:
    low, high = (int(v) for v in value)
    if not 0 <= low <= high:
        raise ValueError(f"a day range is [fewest, most] with 0 <= fewest <= most, got {value!r}")
    return low, high


def _policy_from(data: dict[str, Any]) -> StorePolicy:
    returns, shipping = data["returns"], data["shipping"]
    methods = []
    for m in shipping["methods"]:
        low, high = _days(m["days"])
        methods.append(ShippingMethod(str(m["code"]), str(m["label"]), _money(m["fee"]), low, high))
    if not methods:
        raise ValueError("shipping.methods must list at least one method")
    days_are = str(shipping.get("days_are", "calendar"))
    if days_are not in ("business", "calendar"):
        raise ValueError(f"shipping.days_are must be business or calendar, got {days_are!r}")
    window, ship_back = int(returns["window_days"]), int(returns["ship_back_days"])
    if window < 0 or ship_back < 1:
        raise ValueError("returns.window_days must be >= 0 and returns.ship_back_days >= 1")
    free = shipping.get("free_standard_from")
    late = shipping.get("late_parcel_days")
    bank = (data.get("refunds") or {}).get("bank_days")
    return StorePolicy(
        return_window_days=window,
        ship_back_days=ship_back,
        cancellation_fee=_money(data["cancellation"]["fee"]),
        free_standard_from=None if free is None else _money(free),
        dispatch_days=_days(shipping["dispatch_days"]),
        days_are=days_are,
        carriers=tuple(str(c) for c in shipping.get("carriers") or ()),
        shipping_methods=tuple(methods),
        late_parcel_days=None if late is None else int(late),
        refund_bank_days=None if bank is None else _days(bank),
    )


POLICY_FILE = Path(os.environ.get("SHOPBOT_STORE_POLICY") or DEFAULT_POLICY_FILE)
"""The store policy file this process reads (``SHOPBOT_STORE_POLICY``, else the demo's)."""

STORE_POLICY = load_store_policy(POLICY_FILE)
"""The policy this process serves, read once at start-up."""

RETURN_WINDOW_DAYS = STORE_POLICY.return_window_days
"""Days after purchase (the order date) within which an item can be returned, as the FAQ says."""

RETURN_SHIP_BACK_DAYS = STORE_POLICY.ship_back_days
"""Days the shopper has to send an item back once the return is opened."""

CANCELLATION_FEE = STORE_POLICY.cancellation_fee
"""Kept from the refund when an order that has not shipped is cancelled."""

FREE_STANDARD_SHIPPING_FROM = STORE_POLICY.free_standard_from
"""Standard shipping is free from this order subtotal (None: never free)."""

SHIPPING_METHODS: tuple[ShippingMethod, ...] = STORE_POLICY.shipping_methods

CARRIERS: tuple[str, ...] = STORE_POLICY.carriers


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
