"""ORM rows → the plain views of ``actions.store.types``, and the order-state checks on them."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from actions.store.schema import (
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    ReturnRequest,
    Shipment,
    to_money,
)
from actions.store.types import (
    AlreadyShipped,
    Cancellation,
    ItemView,
    OrderClosed,
    PaymentView,
    RefundView,
    ReturnView,
    ShipmentView,
)

logger = logging.getLogger(__name__)

__all__ = [
    "cancellation_view",
    "captured_amount",
    "check_not_shipped",
    "item_refund",
    "item_view",
    "payment_label",
    "payment_view",
    "refund_view",
    "return_view",
    "shipment_view",
    "status_value",
]


def status_value(status: Any) -> str:
    """The string value of a status enum member (or of a plain string)."""
    return str(getattr(status, "value", status))


def check_not_shipped(order: Order) -> None:
    """Raise ``AlreadyShipped`` / ``OrderClosed`` unless the order is still processing."""
    status = status_value(order.status)
    if status == OrderStatus.PROCESSING.value:
        return
    if status in (OrderStatus.CANCELLED.value, OrderStatus.RETURNED.value):
        raise OrderClosed(order.number, status)
    shipped_at = next((s.shipped_at for s in order.shipments if s.shipped_at), None)
    raise AlreadyShipped(order.number, status, shipped_at)


def captured_amount(order: Order) -> Decimal:
    """How much of the order was actually charged (captured payments)."""
    return to_money(
        sum(
            (
                p.amount
                for p in order.payments
                if status_value(p.status) == PaymentStatus.CAPTURED.value
            ),
            Decimal("0"),
        )
    )


def payment_label(order: Order) -> str:
    """The first payment's label (``card ending 4242``), or ``your original payment method``."""
    if not order.payments:
        return "your original payment method"
    return payment_view(order.payments[0]).label


def item_refund(order: Order, item: OrderItem) -> Decimal:
    """An item's price plus its share of the order's tax (shipping is not refunded)."""
    line = item.line_total
    subtotal = to_money(order.subtotal)
    share = to_money(to_money(order.tax) * line / subtotal) if subtotal > 0 else Decimal("0.00")
    return to_money(line + share)


def cancellation_view(order: Order, changed: bool) -> Cancellation:
    """The outcome of a cancellation: the refunds that are not for returns, and their total."""
    refunds = [r for r in order.refunds if r.return_request_id is None]
    refund_amount = to_money(sum((r.amount for r in refunds), Decimal("0")))
    return Cancellation(
        order_number=order.number,
        currency=order.currency,
        refund_amount=refund_amount,
        charged=refund_amount > 0,
        payment=payment_label(order),
        refund_status=status_value(refunds[-1].status) if refunds else None,
        cancelled_at=order.cancelled_at,
        changed=changed,
    )


def item_view(item: OrderItem) -> ItemView:
    """An order item as ``ItemView``."""
    return ItemView(
        item_id=item.id,
        product_name=item.product_name,
        quantity=item.quantity,
        unit_price=item.unit_price,
        line_total=item.line_total,
        status=status_value(item.status),
        final_sale=bool(item.final_sale),
    )


def shipment_view(shipment: Shipment) -> ShipmentView:
    """A shipment as ``ShipmentView``."""
    return ShipmentView(
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status=status_value(shipment.status),
        shipped_at=shipment.shipped_at,
        estimated_delivery=shipment.estimated_delivery,
        delivered_at=shipment.delivered_at,
    )


def payment_view(payment: Payment) -> PaymentView:
    """A payment as ``PaymentView``."""
    return PaymentView(
        method=status_value(payment.method),
        last4=payment.last4,
        amount=payment.amount,
        status=status_value(payment.status),
        paid_at=payment.paid_at,
    )


def refund_view(refund: Refund) -> RefundView:
    """A refund as ``RefundView`` (with its return id when it refunds a return)."""
    return RefundView(
        amount=refund.amount,
        status=status_value(refund.status),
        reason=refund.reason,
        created_at=refund.created_at,
        completed_at=refund.completed_at,
        return_id=refund.return_request.return_id if refund.return_request is not None else None,
    )


def return_view(request: ReturnRequest) -> ReturnView:
    """A return request as ``ReturnView``."""
    return ReturnView(
        return_id=request.return_id,
        item_id=request.item_id,
        product_name=request.item.product_name if request.item is not None else "",
        status=status_value(request.status),
        reason=request.reason,
        created_at=request.created_at,
    )
