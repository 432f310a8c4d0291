"""Invoices and payments of an order."""

from __future__ import annotations

import logging

from actions.store.schema import Customer
from actions.store.sql.base import SqlStoreBase
from actions.store.sql.views import item_view, status_value
from actions.store.types import InvoiceView, NoInvoice, Ownership, PaymentView

logger = logging.getLogger(__name__)

__all__ = ["BillingMixin"]


class BillingMixin(SqlStoreBase):
    """``invoice`` and ``payment_status`` (see ``StoreBackend``)."""

    def invoice(self, owner: Ownership) -> InvoiceView:
        """The order's latest invoice; ``NoInvoice`` before the payment is captured."""
        with self._session() as session:
            order = self._owned(session, owner)
            if not order.invoices:
                raise NoInvoice(order.number, status_value(order.status))
            invoice = order.invoices[-1]
            customer = session.get(Customer, order.customer_id)
            assert customer is not None
            return InvoiceView(
                number=invoice.number,
                order_number=order.number,
                issued_at=invoice.issued_at,
                amount=invoice.amount,
                currency=order.currency,
                subtotal=order.subtotal,
                shipping_fee=order.shipping_fee,
                tax=order.tax,
                items=tuple(item_view(i) for i in order.items),
                billed_to=f"{customer.name}, {order.shipping_address.one_line()}",
            )

    def payment_status(self, owner: Ownership) -> tuple[PaymentView, ...]:
        """The order's payments."""
        return self.get_order_summary(owner).payments
