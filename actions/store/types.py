"""What the store service hands out: plain frozen dataclasses and domain errors (no ORM objects).

A store that connects its own backend returns these same types from its ``StoreBackend``.
Money is always a cent-quantised ``Decimal``; times are naive UTC ``datetime``; dates are ``date``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from actions.store.policy import FREE_STANDARD_SHIPPING_FROM, ShippingMethod

__all__ = [
    "Actor",
    "AddressChange",
    "AddressQuote",
    "AlreadyShipped",
    "AuditEntry",
    "CancelQuote",
    "Cancellation",
    "ConditionNotAccepted",
    "DeliveryOption",
    "FinalSale",
    "InvoiceView",
    "ItemView",
    "LockedOut",
    "NewAddress",
    "NoInvoice",
    "NotDelivered",
    "NotVerified",
    "NothingToReturn",
    "OrderClosed",
    "OrderSummary",
    "OutsideReturnWindow",
    "Ownership",
    "PaymentView",
    "RefundView",
    "ReturnOutcome",
    "ReturnQuote",
    "ReturnView",
    "ReturnableItem",
    "ShipmentView",
    "StoreError",
    "StoreUnavailable",
]


# --------------------------------------------------------------------------------------------------
# Who asks
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who asks for something, for the audit log and the lockout.

    Args:
        sender_id: The conversation's sender id (one shopper on one channel).
        channel: The input channel (``rest``, ``telegram``, ``widget``...).
        client: The client address as the channel hashed it (opaque, keyed, never the raw
            address); empty when the channel does not know it. Failed identity checks are also
            counted per client, so a fresh conversation from the same client buys no new guesses.
    """

    sender_id: str
    channel: str = "unknown"
    client: str = ""


@dataclass(frozen=True)
class Ownership:
    """Proof, issued by the service, that a customer owns an order.

    Args:
        order_number: The 6-digit order number.
        customer_id: The owner's customer id.
        method: How ownership was proven: ``email`` (order number + email) or ``token``.
    """

    order_number: str
    customer_id: int
    method: str = "email"


# --------------------------------------------------------------------------------------------------
# Views of an order
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    """One order line."""

    item_id: int
    product_name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    status: str
    final_sale: bool


@dataclass(frozen=True)
class ShipmentView:
    """A parcel with its carrier tracking."""

    carrier: str
    tracking_number: str
    status: str
    shipped_at: dt.datetime | None
    estimated_delivery: dt.date | None
    delivered_at: dt.datetime | None


@dataclass(frozen=True)
class PaymentView:
    """A payment (card payments show only the last four digits)."""

    method: str
    last4: str | None
    amount: Decimal
    status: str
    paid_at: dt.datetime | None

    @property
    def label(self) -> str:
        """``"card ending 4242"``, ``"PayPal"``, ``"gift card"``..."""
        names = {
            "card": "card",
            "paypal": "PayPal",
            "apple_pay": "Apple Pay",
            "google_pay": "Google Pay",
            "gift_card": "gift card",
        }
        name = names.get(self.method, self.method.replace("_", " "))
        return f"{name} ending {self.last4}" if self.last4 else name


@dataclass(frozen=True)
class RefundView:
    """Money on its way back (for a cancellation or a return)."""

    amount: Decimal
    status: str
    reason: str
    created_at: dt.datetime
    completed_at: dt.datetime | None
    return_id: str | None


@dataclass(frozen=True)
class ReturnView:
    """A return request (RMA) for one item."""

    return_id: str
    item_id: int
    product_name: str
    status: str
    reason: str
    created_at: dt.datetime


@dataclass(frozen=True)
class OrderSummary:
    """Everything a shopper may see about their own order."""

    number: str
    status: str
    placed_at: dt.datetime
    cancelled_at: dt.datetime | None
    currency: str
    subtotal: Decimal
    shipping_fee: Decimal
    tax: Decimal
    total: Decimal
    shipping_method: str
    shipping_address: str
    items: tuple[ItemView, ...]
    shipments: tuple[ShipmentView, ...]
    payments: tuple[PaymentView, ...]
    refunds: tuple[RefundView, ...]
    returns: tuple[ReturnView, ...]
    return_deadline: dt.date


@dataclass(frozen=True)
class InvoiceView:
    """The invoice of a paid order."""

    number: str
    order_number: str
    issued_at: dt.datetime
    amount: Decimal
    currency: str
    subtotal: Decimal
    shipping_fee: Decimal
    tax: Decimal
    items: tuple[ItemView, ...]
    billed_to: str


@dataclass(frozen=True)
class DeliveryOption:
    """A shipping method with its price and how long it takes.

    ``typical_days`` is the median dispatch-to-delivery time measured on the store's recent
    deliveries (None when there are none yet).
    """

    code: str
    label: str
    fee: Decimal
    free_from: Decimal | None
    min_days: int
    max_days: int
    typical_days: float | None
    carriers: tuple[str, ...]

    @classmethod
    def of(
        cls, method: ShippingMethod, typical_days: float | None, carriers: tuple[str, ...]
    ) -> DeliveryOption:
        """The option of ``method`` at the store's prices (standard free from a subtotal)."""
        return cls(
            code=method.code,
            label=method.label,
            fee=method.fee,
            free_from=FREE_STANDARD_SHIPPING_FROM if method.code == "standard" else None,
            min_days=method.min_days,
            max_days=method.max_days,
            typical_days=typical_days,
            carriers=carriers,
        )


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log."""

    at: dt.datetime
    actor: str
    channel: str
    action: str
    order_number: str | None
    details: dict[str, object]


# --------------------------------------------------------------------------------------------------
# Quotes and results of changes
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CancelQuote:
    """What cancelling would do, before the shopper confirms.

    ``refund_amount`` is what goes back; ``charged`` is False when the payment was only authorised
    (the hold is released and nothing is refunded).
    """

    order_number: str
    currency: str
    total: Decimal
    refund_amount: Decimal
    fee: Decimal
    charged: bool
    payment: str
    item_count: int


@dataclass(frozen=True)
class Cancellation:
    """The result of a cancellation; ``changed`` is False when the order was already cancelled."""

    order_number: str
    currency: str
    refund_amount: Decimal
    charged: bool
    payment: str
    refund_status: str | None
    cancelled_at: dt.datetime
    changed: bool


@dataclass(frozen=True)
class NewAddress:
    """A postal address typed by the shopper (``country`` is ISO 3166-1 alpha-2)."""

    line1: str
    city: str
    region: str
    postal_code: str
    line2: str | None = None
    country: str = "US"

    def one_line(self) -> str:
        """``"12 Oak St, Austin, TX 78701, US"``."""
        street = ", ".join(part for part in (self.line1, self.line2) if part)
        return f"{street}, {self.city}, {self.region} {self.postal_code}, {self.country}"


@dataclass(frozen=True)
class AddressQuote:
    """The address an order ships to now, before the shopper confirms a change."""

    order_number: str
    current_address: str


@dataclass(frozen=True)
class AddressChange:
    """The result of an address change; ``changed`` is False when it already shipped there."""

    order_number: str
    old_address: str
    new_address: str
    changed: bool


@dataclass(frozen=True)
class ReturnableItem:
    """An item that can be returned, with the refund it would bring (price + its tax share)."""

    item_id: int
    product_name: str
    quantity: int
    refund_amount: Decimal


@dataclass(frozen=True)
class ReturnQuote:
    """What can be returned from an order and until when.

    ``final_sale`` lists delivered items that cannot be returned because they were sold as final.
    """

    order_number: str
    currency: str
    deadline: dt.date
    items: tuple[ReturnableItem, ...]
    final_sale: tuple[str, ...]
    payment: str


@dataclass(frozen=True)
class ReturnOutcome:
    """The returns opened (or found already open) for the chosen items.

    ``changed`` is False when every chosen item already had an open return (a retry).
    """

    order_number: str
    currency: str
    returns: tuple[ReturnView, ...]
    refund_amount: Decimal
    ship_back_by: dt.date
    payment: str
    condition: str
    changed: bool


# --------------------------------------------------------------------------------------------------
# Domain errors
# --------------------------------------------------------------------------------------------------


class StoreError(Exception):
    """Base class of the store's domain errors (the message is for logs, not for shoppers)."""


class StoreUnavailable(StoreError):
    """The order database cannot be reached or is not set up."""


class NotVerified(StoreError):
    """The order number and the proof do not match (or there is no such order).

    Deliberately the same error for both, so no reply reveals whether an order exists.
    """

    def __init__(self, order_number: str) -> None:
        super().__init__(f"ownership of order {order_number!r} not proven")
        self.order_number = order_number


class LockedOut(StoreError):
    """Too many failed ownership checks from this sender; retry after ``until`` (naive UTC)."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__(f"sender locked out until {until.isoformat()}")
        self.until = until


class AlreadyShipped(StoreError):
    """The order left the warehouse: it can no longer be cancelled or changed."""

    def __init__(self, order_number: str, status: str, shipped_at: dt.datetime | None) -> None:
        super().__init__(f"order {order_number} is {status}")
        self.order_number = order_number
        self.status = status
        self.shipped_at = shipped_at


class OrderClosed(StoreError):
    """The order is cancelled or returned: nothing more can change on it."""

    def __init__(self, order_number: str, status: str) -> None:
        super().__init__(f"order {order_number} is {status}")
        self.order_number = order_number
        self.status = status


class NotDelivered(StoreError):
    """A return was asked for an order that has not been delivered."""

    def __init__(self, order_number: str, status: str) -> None:
        super().__init__(f"order {order_number} is {status}, not delivered")
        self.order_number = order_number
        self.status = status


class OutsideReturnWindow(StoreError):
    """The return window closed on ``deadline``."""

    def __init__(self, order_number: str, deadline: dt.date) -> None:
        super().__init__(f"order {order_number}: return window closed on {deadline.isoformat()}")
        self.order_number = order_number
        self.deadline = deadline


class FinalSale(StoreError):
    """The chosen items were sold as final sale."""

    def __init__(self, order_number: str, products: tuple[str, ...]) -> None:
        super().__init__(f"order {order_number}: final sale items {products}")
        self.order_number = order_number
        self.products = products


class NothingToReturn(StoreError):
    """No item of the order can be returned (already returned or a return is open)."""

    def __init__(self, order_number: str, open_returns: tuple[ReturnView, ...]) -> None:
        super().__init__(f"order {order_number}: nothing left to return")
        self.order_number = order_number
        self.open_returns = open_returns


class ConditionNotAccepted(StoreError):
    """The item's condition does not qualify for a return."""

    def __init__(self, order_number: str, condition: str) -> None:
        super().__init__(f"order {order_number}: condition {condition!r} not accepted")
        self.order_number = order_number
        self.condition = condition


class NoInvoice(StoreError):
    """The order has no invoice yet (the payment was not captured)."""

    def __init__(self, order_number: str, status: str) -> None:
        super().__init__(f"order {order_number} has no invoice (status {status})")
        self.order_number = order_number
        self.status = status
