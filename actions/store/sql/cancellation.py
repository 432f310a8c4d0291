"""Cancelling an order that has not shipped, and refunding what was charged (exactly once)."""

from __future__ import annotations

import logging
from decimal import Decimal

from sqlalchemy import update

from actions.store.policy import CANCELLATION_FEE
from actions.store.schema import (
    ItemStatus,
    Order,
    OrderStatus,
    PaymentStatus,
    Refund,
    RefundStatus,
    to_money,
)
from actions.store.sql.base import ORDER_CANCELLED, SqlStoreBase
from actions.store.sql.views import (
    cancellation_view,
    captured_amount,
    check_not_shipped,
    payment_label,
    status_value,
)
from actions.store.types import Actor, Cancellation, CancelQuote, Ownership

logger = logging.getLogger(__name__)

__all__ = ["CancellationMixin"]


class CancellationMixin(SqlStoreBase):
    """``quote_cancellation`` and ``cancel_order`` (see ``StoreBackend``)."""

    def quote_cancellation(self, owner: Ownership) -> CancelQuote:
        """What cancelling would refund (``AlreadyShipped`` / ``OrderClosed`` when it can't)."""
        with self._session() as session:
            order = self._owned(session, owner)
            check_not_shipped(order)
            charged = captured_amount(order)
            return CancelQuote(
                order_number=order.number,
                currency=order.currency,
                total=order.total,
                refund_amount=to_money(charged - CANCELLATION_FEE) if charged else Decimal("0.00"),
                fee=CANCELLATION_FEE,
                charged=charged > 0,
                payment=payment_label(order),
                item_count=sum(i.quantity for i in order.items),
            )

    def cancel_order(self, owner: Ownership, actor: Actor) -> Cancellation:
        """Cancel an order that has not shipped and refund what was charged (idempotent)."""
        now = self.now()
        with self._session() as session, session.begin():
            # The conditional UPDATE comes first: it takes the write lock (SQLite) or the row lock
            # (PostgreSQL), so a concurrent duplicate waits and then matches no row.
            result = session.execute(
                update(Order)
                .where(
                    Order.number == owner.order_number,
                    Order.customer_id == owner.customer_id,
                    Order.status == OrderStatus.PROCESSING,
                )
                .values(status=OrderStatus.CANCELLED, cancelled_at=now)
                .execution_options(synchronize_session=False)
            )
            changed = result.rowcount == 1
            order = self._owned(session, owner)
            if not changed:
                if status_value(order.status) != OrderStatus.CANCELLED.value:
                    check_not_shipped(order)  # raises: it moved on (shipped, returned...)
                outcome = cancellation_view(order, changed=False)
            else:
                session.refresh(order)
                refund_total = Decimal("0.00")
                for item in order.items:
                    item.status = ItemStatus.CANCELLED
                for payment in order.payments:
                    status = status_value(payment.status)
                    if status in (PaymentStatus.AUTHORIZED.value, PaymentStatus.PENDING.value):
                        payment.status = PaymentStatus.VOIDED  # release the hold; nothing charged
                    elif status == PaymentStatus.CAPTURED.value:
                        amount = to_money(payment.amount - CANCELLATION_FEE)
                        if amount > 0:
                            refund_total += amount
                            session.add(
                                Refund(
                                    order=order,
                                    amount=amount,
                                    status=RefundStatus.PROCESSING,
                                    reason="Order cancelled by the shopper in chat",
                                    created_at=now,
                                )
                            )
                session.flush()
                session.refresh(order)
                outcome = cancellation_view(order, changed=True)
                self._audit(
                    session,
                    actor,
                    ORDER_CANCELLED,
                    order.number,
                    now,
                    {
                        "refund_amount": str(refund_total),
                        "currency": order.currency,
                        "payment": outcome.payment,
                        "customer_id": owner.customer_id,
                    },
                )
        if changed:
            logger.info(
                "Order %s cancelled by %s via %s",
                owner.order_number,
                actor.sender_id,
                actor.channel,
            )
        else:
            logger.info(
                "Order %s was already cancelled (repeat from %s)",
                owner.order_number,
                actor.sender_id,
            )
        return outcome
