"""The store service: orders, returns and refunds, only for the shopper who owns them.

``StoreBackend`` is the small interface the assistant's actions call; ``SqlStoreBackend``
(``actions.store.sql.backend``, one module per feature in ``actions/store/sql/``) implements it over
the order database of ``actions.store.schema`` (SQLite by default, PostgreSQL by URL). A store with
its own order system implements ``StoreBackend`` over its API and registers it with
``actions.store.runtime.set_store`` (see the README, "Connecting your own order system").

Rules live in the backend, not in the actions:

- Ownership first. ``verify_owner`` (order number + email) and ``verify_customer_order`` (a signed-in
  customer) return an ``Ownership``; every other call takes one and re-checks it against the
  database. A wrong pair and a missing order raise the same ``NotVerified``.
- Failed checks are counted in the audit log per sender, per client address and per order
  number; ``LockoutPolicy`` (5 per sender or client, 8 per order number, in 15 minutes → 15
  minutes' pause by default) turns them into ``LockedOut``.
- Every change is one transaction, guarded by a conditional ``UPDATE`` on the state it changes, so
  a retry or a concurrent duplicate finds the change already made and returns it (``changed`` is
  False) instead of cancelling, refunding or opening a return twice. Each change writes one audit
  row with the sender id and channel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from actions.store.policy import ItemCondition
from actions.store.types import (
    Actor,
    AddressChange,
    AddressQuote,
    Cancellation,
    CancelQuote,
    DeliveryOption,
    InvoiceView,
    NewAddress,
    OrderSummary,
    Ownership,
    PaymentView,
    RefundView,
    ReturnOutcome,
    ReturnQuote,
)

__all__ = ["StoreBackend"]


@runtime_checkable
class StoreBackend(Protocol):
    """What the assistant needs from a store's order system.

    Every method that reads or changes an order takes the ``Ownership`` that ``verify_owner`` or
    ``verify_customer_order`` returned, and raises ``NotVerified`` if it does not match the order.
    Changing methods are idempotent: repeating one returns the first result with ``changed=False``.
    Errors are the ``StoreError`` subclasses of ``actions.store.types``; an unreachable backend
    raises ``StoreUnavailable``.
    """

    def now(self) -> dt.datetime:
        """The store's current time (naive UTC)."""
        ...

    def verify_owner(self, order_number: str, email: str, actor: Actor) -> Ownership:
        """Prove ownership with the order number and the email on the order.

        Raises:
            NotVerified: No such order, or the email is not the order's (indistinguishable).
            LockedOut: The sender, its client or the order had too many failed checks recently.
        """
        ...

    def verify_customer_order(self, order_number: str, customer_id: int, actor: Actor) -> Ownership:
        """Prove ownership for a signed-in customer (customer id from a verified token).

        Raises:
            NotVerified: No such order of this customer.
            LockedOut: The sender, its client or the order had too many failed checks recently.
        """
        ...

    def locked_until(self, actor: Actor) -> dt.datetime | None:
        """When the sender's lockout ends, or None when it is not locked out."""
        ...

    def get_order_summary(self, owner: Ownership) -> OrderSummary:
        """Status, items, shipments, payments, refunds and returns of the order."""
        ...

    def quote_cancellation(self, owner: Ownership) -> CancelQuote:
        """What cancelling would refund. Raises ``AlreadyShipped`` or ``OrderClosed``."""
        ...

    def cancel_order(self, owner: Ownership, actor: Actor) -> Cancellation:
        """Cancel an order that has not shipped and refund it (idempotent)."""
        ...

    def quote_address_change(self, owner: Ownership) -> AddressQuote:
        """The current shipping address. Raises ``AlreadyShipped`` or ``OrderClosed``."""
        ...

    def change_shipping_address(
        self, owner: Ownership, address: NewAddress, actor: Actor
    ) -> AddressChange:
        """Ship an order that has not shipped to ``address`` (idempotent)."""
        ...

    def quote_return(self, owner: Ownership) -> ReturnQuote:
        """What can be returned and the refund per item.

        Raises:
            NotDelivered, OrderClosed, OutsideReturnWindow, FinalSale, NothingToReturn.
        """
        ...

    def create_return(
        self,
        owner: Ownership,
        item_ids: Sequence[int],
        condition: ItemCondition,
        actor: Actor,
    ) -> ReturnOutcome:
        """Open a return (RMA) for each item (idempotent per item).

        Raises:
            ConditionNotAccepted and the errors of ``quote_return``.
        """
        ...

    def refund_status(self, owner: Ownership) -> tuple[RefundView, ...]:
        """The order's refunds, oldest first."""
        ...

    def invoice(self, owner: Ownership) -> InvoiceView:
        """The order's invoice. Raises ``NoInvoice`` before payment is captured."""
        ...

    def payment_status(self, owner: Ownership) -> tuple[PaymentView, ...]:
        """The order's payments."""
        ...

    def delivery_options(self) -> tuple[DeliveryOption, ...]:
        """The shipping methods with fees and delivery times."""
        ...
