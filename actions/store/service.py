"""The store service: orders, returns and refunds, only for the shopper who owns them.

``StoreBackend`` is the small interface the assistant's actions call; ``SqlStoreBackend`` implements
it over the order database of ``actions.store.schema`` (SQLite by default, PostgreSQL by URL). A
store with its own order system implements ``StoreBackend`` over its API and registers it with
``actions.store.runtime.set_store`` (see the README, "Connecting your own order system").

Rules live here, not in the actions:

- Ownership first. ``verify_owner`` (order number + email) and ``verify_customer_order`` (a signed-in
  customer) return an ``Ownership``; every other call takes one and re-checks it against the
  database. A wrong pair and a missing order raise the same ``NotVerified``.
- Failed checks are counted per sender in the audit log; ``LockoutPolicy`` (5 in 15 minutes →
  15 minutes' pause by default) turns them into ``LockedOut``.
- Every change is one transaction, guarded by a conditional ``UPDATE`` on the state it changes, so
  a retry or a concurrent duplicate finds the change already made and returns it (``changed`` is
  False) instead of cancelling, refunding or opening a return twice. Each change writes one audit
  row with the sender id and channel.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
import statistics
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from actions.store.policy import (
    ACCEPTED_CONDITIONS,
    CANCELLATION_FEE,
    FREE_STANDARD_SHIPPING_FROM,
    RETURN_SHIP_BACK_DAYS,
    SHIPPING_METHODS,
    ItemCondition,
    LockoutPolicy,
    return_deadline,
)
from actions.store.schema import (
    CARRIERS,
    Address,
    AuditLog,
    Customer,
    ItemStatus,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    create_engine_from_url,
    make_session_factory,
    to_money,
)
from actions.store.types import (
    Actor,
    AddressChange,
    AddressQuote,
    AlreadyShipped,
    AuditEntry,
    Cancellation,
    CancelQuote,
    ConditionNotAccepted,
    DeliveryOption,
    FinalSale,
    InvoiceView,
    ItemView,
    LockedOut,
    NewAddress,
    NoInvoice,
    NotDelivered,
    NothingToReturn,
    NotVerified,
    OrderClosed,
    OrderSummary,
    OutsideReturnWindow,
    Ownership,
    PaymentView,
    RefundView,
    ReturnableItem,
    ReturnOutcome,
    ReturnQuote,
    ReturnView,
    ShipmentView,
    StoreUnavailable,
)

logger = logging.getLogger(__name__)

__all__ = ["SqlStoreBackend", "StoreBackend", "mask_email", "utc_now"]

# Audit log action names (also what the e2e tests and the agent console look for).
VERIFY_OK = "verify_ok"
VERIFY_FAILED = "verify_failed"
VERIFY_LOCKED = "verify_locked"
ORDER_CANCELLED = "order_cancelled"
ADDRESS_CHANGED = "shipping_address_changed"
RETURN_OPENED = "return_opened"

_OPEN_RETURN = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.RECEIVED)


def utc_now() -> dt.datetime:
    """The current time as naive UTC (how the schema stores times)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def mask_email(email: str) -> str:
    """``maria.garcia@example.com`` → ``m***@example.com`` (for logs and the audit log)."""
    local, _, domain = (email or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


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
            LockedOut: The sender failed too often recently.
        """
        ...

    def verify_customer_order(self, order_number: str, customer_id: int, actor: Actor) -> Ownership:
        """Prove ownership for a signed-in customer (customer id from a verified token).

        Raises:
            NotVerified: No such order of this customer.
            LockedOut: The sender failed too often recently.
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


class SqlStoreBackend:
    """``StoreBackend`` over the SQLAlchemy schema of ``actions.store.schema``.

    Args:
        engine_or_url: An engine, or a database URL (``sqlite:///var/store/shop.db``,
            ``postgresql+psycopg2://user:pw@host/shop``). Nothing connects until the first call.
        clock: Returns "now" as naive UTC; default the real clock (tests and demos on data seeded
            for a fixed date pass a fixed one).
        lockout: The failed-verification policy.
    """

    def __init__(
        self,
        engine_or_url: Engine | str,
        clock: Callable[[], dt.datetime] | None = None,
        lockout: LockoutPolicy | None = None,
    ) -> None:
        if isinstance(engine_or_url, str):
            engine_or_url = create_engine_from_url(engine_or_url)
        self.engine: Engine = engine_or_url
        self._sessions = make_session_factory(self.engine)
        self._clock = clock or utc_now
        self.lockout = lockout or LockoutPolicy()

    def __repr__(self) -> str:
        return f"SqlStoreBackend({self.engine.url.render_as_string(hide_password=True)!r})"

    # ----------------------------------------------------------------------------------------------
    # Plumbing
    # ----------------------------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The store's current time (naive UTC)."""
        return self._clock()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A session whose database errors become ``StoreUnavailable`` (with the URL and a fix)."""
        session = self._sessions()
        try:
            yield session
        except SQLAlchemyError as exc:
            session.rollback()
            url = self.engine.url.render_as_string(hide_password=True)
            logger.exception("Store database error on %s", url)
            raise StoreUnavailable(
                f"The order database at {url} failed ({type(exc).__name__}: {exc}). Check "
                "SHOPBOT_STORE_DB_URL and run `shopbot prepare` to create and seed it."
            ) from exc
        finally:
            session.close()

    @staticmethod
    def _audit(
        session: Session,
        actor: Actor,
        action: str,
        order_number: str | None,
        at: dt.datetime,
        details: dict[str, Any],
    ) -> None:
        session.add(
            AuditLog(
                at=at,
                actor=actor.sender_id[:64],
                channel=(actor.channel or "unknown")[:32],
                action=action,
                order_number=(order_number or None) and order_number[:32],
                details=AuditLog.encode_details(details),
            )
        )

    def _failures(self, session: Session, actor: Actor, now: dt.datetime) -> list[dt.datetime]:
        since = now - self.lockout.window - self.lockout.lock_for
        rows = session.execute(
            select(AuditLog.at).where(
                AuditLog.action == VERIFY_FAILED,
                AuditLog.actor == actor.sender_id[:64],
                AuditLog.at >= since,
            )
        )
        return [row[0] for row in rows]

    def _lock_end(self, session: Session, actor: Actor, now: dt.datetime) -> dt.datetime | None:
        until = self.lockout.locked_until(self._failures(session, actor, now))
        return until if until is not None and until > now else None

    def _owned(self, session: Session, owner: Ownership, *, full: bool = False) -> Order:
        query = select(Order).where(Order.number == owner.order_number)
        if full:
            query = query.options(
                selectinload(Order.items),
                selectinload(Order.shipments),
                selectinload(Order.payments),
                selectinload(Order.refunds).selectinload(Refund.return_request),
                selectinload(Order.return_requests).selectinload(ReturnRequest.item),
                selectinload(Order.invoices),
                selectinload(Order.shipping_address),
            )
        order = session.execute(query).scalar_one_or_none()
        if order is None or order.customer_id != owner.customer_id:
            # Only reachable with a forged or stale Ownership: the actions pass what verify returned.
            logger.warning(
                "Ownership of order %s by customer %s did not hold",
                owner.order_number,
                owner.customer_id,
            )
            raise NotVerified(owner.order_number)
        return order

    # ----------------------------------------------------------------------------------------------
    # Identity
    # ----------------------------------------------------------------------------------------------

    def locked_until(self, actor: Actor) -> dt.datetime | None:
        """When the sender's lockout ends, or None when it is not locked out."""
        with self._session() as session:
            return self._lock_end(session, actor, self.now())

    def verify_owner(self, order_number: str, email: str, actor: Actor) -> Ownership:
        """Prove ownership with the order number and the order's email (see ``StoreBackend``)."""
        claimed = (email or "").strip().lower()

        def matches(order: Order | None) -> bool:
            stored = order.customer.email if order is not None else ""
            # Constant-time compare; with no order we still compare against "" to keep timing flat.
            return hmac.compare_digest(stored.encode(), claimed.encode()) and order is not None

        return self._verify(order_number, actor, "email", matches, {"email": mask_email(claimed)})

    def verify_customer_order(self, order_number: str, customer_id: int, actor: Actor) -> Ownership:
        """Prove ownership for a signed-in customer (see ``StoreBackend``)."""
        return self._verify(
            order_number,
            actor,
            "token",
            lambda order: order is not None and order.customer_id == customer_id,
            {"customer_id": customer_id},
        )

    def _verify(
        self,
        order_number: str,
        actor: Actor,
        method: str,
        matches: Callable[[Order | None], bool],
        details: dict[str, Any],
    ) -> Ownership:
        now = self.now()
        details = {**details, "method": method}
        with self._session() as session, session.begin():
            until = self._lock_end(session, actor, now)
            if until is not None:
                self._audit(session, actor, VERIFY_LOCKED, order_number, now, details)
                outcome: Ownership | dt.datetime | None = until
            else:
                order = session.execute(
                    select(Order)
                    .options(selectinload(Order.customer))
                    .where(Order.number == order_number)
                ).scalar_one_or_none()
                if matches(order):
                    assert order is not None
                    self._audit(session, actor, VERIFY_OK, order_number, now, details)
                    outcome = Ownership(order.number, order.customer_id, method)
                else:
                    self._audit(session, actor, VERIFY_FAILED, order_number, now, details)
                    session.flush()
                    outcome = self._lock_end(session, actor, now)
        # Raised after the commit, so the audit row of a failure is kept.
        if isinstance(outcome, Ownership):
            logger.info("Verified order %s for %s (%s)", order_number, actor.sender_id, method)
            return outcome
        if isinstance(outcome, dt.datetime):
            logger.warning(
                "Sender %s locked out until %s (order %s)", actor.sender_id, outcome, order_number
            )
            raise LockedOut(outcome)
        logger.warning(
            "Failed ownership check for order %s by %s via %s (%s)",
            order_number,
            actor.sender_id,
            actor.channel,
            method,
        )
        raise NotVerified(order_number)

    # ----------------------------------------------------------------------------------------------
    # Reading
    # ----------------------------------------------------------------------------------------------

    def get_order_summary(self, owner: Ownership) -> OrderSummary:
        """Status, items, shipments, payments, refunds and returns of the order."""
        with self._session() as session:
            order = self._owned(session, owner, full=True)
            return OrderSummary(
                number=order.number,
                status=_value(order.status),
                placed_at=order.placed_at,
                cancelled_at=order.cancelled_at,
                currency=order.currency,
                subtotal=order.subtotal,
                shipping_fee=order.shipping_fee,
                tax=order.tax,
                total=order.total,
                shipping_method=order.shipping_method,
                shipping_address=order.shipping_address.one_line(),
                items=tuple(_item_view(i) for i in order.items),
                shipments=tuple(_shipment_view(s) for s in order.shipments),
                payments=tuple(_payment_view(p) for p in order.payments),
                refunds=tuple(_refund_view(r) for r in order.refunds),
                returns=tuple(_return_view(r) for r in order.return_requests),
                return_deadline=return_deadline(order.placed_at),
            )

    def refund_status(self, owner: Ownership) -> tuple[RefundView, ...]:
        """The order's refunds, oldest first."""
        return self.get_order_summary(owner).refunds

    def payment_status(self, owner: Ownership) -> tuple[PaymentView, ...]:
        """The order's payments."""
        return self.get_order_summary(owner).payments

    def invoice(self, owner: Ownership) -> InvoiceView:
        """The order's latest invoice; ``NoInvoice`` before the payment is captured."""
        with self._session() as session:
            order = self._owned(session, owner, full=True)
            if not order.invoices:
                raise NoInvoice(order.number, _value(order.status))
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
                items=tuple(_item_view(i) for i in order.items),
                billed_to=f"{customer.name}, {order.shipping_address.one_line()}",
            )

    def delivery_options(self) -> tuple[DeliveryOption, ...]:
        """The shipping methods, with the median delivery time of the last 90 days' deliveries."""
        since = self.now() - dt.timedelta(days=90)
        with self._session() as session:
            rows = session.execute(
                select(
                    Order.shipping_method,
                    Shipment.carrier,
                    Shipment.shipped_at,
                    Shipment.delivered_at,
                )
                .join(Shipment, Shipment.order_id == Order.id)
                .where(Shipment.shipped_at.is_not(None), Shipment.shipped_at >= since)
            ).all()
        days: dict[str, list[float]] = {}
        carriers: set[str] = set()
        for method, carrier, shipped_at, delivered_at in rows:
            carriers.add(carrier)
            if delivered_at is not None:
                days.setdefault(method, []).append(
                    (delivered_at - shipped_at).total_seconds() / 86400
                )
        used = tuple(c for c in CARRIERS if c in carriers) + tuple(sorted(carriers - set(CARRIERS)))
        return tuple(
            DeliveryOption(
                code=m.code,
                label=m.label,
                fee=m.fee,
                free_from=FREE_STANDARD_SHIPPING_FROM if m.code == "standard" else None,
                min_days=m.min_days,
                max_days=m.max_days,
                typical_days=round(statistics.median(days[m.code]), 1)
                if days.get(m.code)
                else None,
                carriers=used or CARRIERS,
            )
            for m in SHIPPING_METHODS
        )

    def audit_trail(
        self, order_number: str | None = None, actor: str | None = None
    ) -> tuple[AuditEntry, ...]:
        """Audit rows, oldest first, optionally for one order number and/or one sender id."""
        query = select(AuditLog).order_by(AuditLog.id)
        if order_number is not None:
            query = query.where(AuditLog.order_number == order_number)
        if actor is not None:
            query = query.where(AuditLog.actor == actor[:64])
        with self._session() as session:
            return tuple(
                AuditEntry(
                    at=row.at,
                    actor=row.actor,
                    channel=row.channel,
                    action=row.action,
                    order_number=row.order_number,
                    details=row.details_dict,
                )
                for row in session.execute(query).scalars()
            )

    # ----------------------------------------------------------------------------------------------
    # Cancelling
    # ----------------------------------------------------------------------------------------------

    def quote_cancellation(self, owner: Ownership) -> CancelQuote:
        """What cancelling would refund (``AlreadyShipped`` / ``OrderClosed`` when it can't)."""
        with self._session() as session:
            order = self._owned(session, owner, full=True)
            _check_not_shipped(order)
            charged = _captured(order)
            return CancelQuote(
                order_number=order.number,
                currency=order.currency,
                total=order.total,
                refund_amount=to_money(charged - CANCELLATION_FEE) if charged else Decimal("0.00"),
                fee=CANCELLATION_FEE,
                charged=charged > 0,
                payment=_payment_label(order),
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
            order = self._owned(session, owner, full=True)
            if not changed:
                if _value(order.status) != OrderStatus.CANCELLED.value:
                    _check_not_shipped(order)  # raises: it moved on (shipped, returned...)
                outcome = _cancellation(order, changed=False)
            else:
                session.refresh(order)
                refund_total = Decimal("0.00")
                for item in order.items:
                    item.status = ItemStatus.CANCELLED
                for payment in order.payments:
                    status = _value(payment.status)
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
                outcome = _cancellation(order, changed=True)
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

    # ----------------------------------------------------------------------------------------------
    # Shipping address
    # ----------------------------------------------------------------------------------------------

    def quote_address_change(self, owner: Ownership) -> AddressQuote:
        """The address the order ships to (``AlreadyShipped`` / ``OrderClosed`` when too late)."""
        with self._session() as session:
            order = self._owned(session, owner, full=True)
            _check_not_shipped(order)
            return AddressQuote(order.number, order.shipping_address.one_line())

    def change_shipping_address(
        self, owner: Ownership, address: NewAddress, actor: Actor
    ) -> AddressChange:
        """Ship an order that has not shipped to ``address`` (idempotent)."""
        now = self.now()
        try:
            with self._session() as session, session.begin():
                order = self._owned(session, owner, full=True)
                _check_not_shipped(order)
                current = order.shipping_address
                old = current.one_line()
                if old.lower() == address.one_line().lower():
                    return AddressChange(order.number, old, old, changed=False)
                changed = self._move_order(session, order, current, address, actor, now)
        except _Conflict:
            changed = None
        if changed is None:  # it shipped or moved meanwhile: report the state as it is now
            quote = self.quote_address_change(owner)
            return AddressChange(
                owner.order_number, quote.current_address, quote.current_address, False
            )
        logger.info(
            "Order %s now ships to a new address (asked by %s)", owner.order_number, actor.sender_id
        )
        return changed

    def _move_order(
        self,
        session: Session,
        order: Order,
        current: Address,
        address: NewAddress,
        actor: Actor,
        now: dt.datetime,
    ) -> AddressChange:
        """Point the order at a new address row; raises ``_Conflict`` if its state moved on."""
        old = current.one_line()
        new = Address(
            customer_id=order.customer_id,
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            region=address.region,
            postal_code=address.postal_code,
            country=address.country,
        )
        session.add(new)
        session.flush()
        result = session.execute(
            update(Order)
            .where(
                Order.id == order.id,
                Order.status == OrderStatus.PROCESSING,
                Order.shipping_address_id == current.id,
            )
            .values(shipping_address_id=new.id)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise _Conflict(order.number)  # rolls the new address row back
        self._audit(
            session,
            actor,
            ADDRESS_CHANGED,
            order.number,
            now,
            {"from": old, "to": new.one_line(), "customer_id": order.customer_id},
        )
        return AddressChange(order.number, old, address.one_line(), changed=True)

    # ----------------------------------------------------------------------------------------------
    # Returns
    # ----------------------------------------------------------------------------------------------

    def quote_return(self, owner: Ownership) -> ReturnQuote:
        """What can be returned from the order, and the refund of each item."""
        with self._session() as session:
            order = self._owned(session, owner, full=True)
            returnable, final = self._returnable(order)
            return ReturnQuote(
                order_number=order.number,
                currency=order.currency,
                deadline=return_deadline(order.placed_at),
                items=tuple(
                    ReturnableItem(i.id, i.product_name, i.quantity, _item_refund(order, i))
                    for i in returnable
                ),
                final_sale=tuple(i.product_name for i in final),
                payment=_payment_label(order),
            )

    def _returnable(self, order: Order) -> tuple[list[OrderItem], list[OrderItem]]:
        """(returnable items, final-sale items) of a delivered order inside the window, or raise."""
        status = _value(order.status)
        if status in (OrderStatus.PROCESSING.value, OrderStatus.SHIPPED.value):
            raise NotDelivered(order.number, status)
        if status == OrderStatus.CANCELLED.value:
            raise OrderClosed(order.number, status)
        deadline = return_deadline(order.placed_at)
        if self.now().date() > deadline:
            raise OutsideReturnWindow(order.number, deadline)
        delivered = [i for i in order.items if _value(i.status) == ItemStatus.DELIVERED.value]
        returnable = [i for i in delivered if not i.final_sale]
        final = [i for i in delivered if i.final_sale]
        if not returnable:
            if final:
                raise FinalSale(order.number, tuple(i.product_name for i in final))
            open_returns = tuple(
                _return_view(r) for r in order.return_requests if r.status in _OPEN_RETURN
            )
            raise NothingToReturn(order.number, open_returns)
        return returnable, final

    def create_return(
        self,
        owner: Ownership,
        item_ids: Sequence[int],
        condition: ItemCondition,
        actor: Actor,
    ) -> ReturnOutcome:
        """Open a return for each item in ``item_ids`` (items already being returned are reused).

        Raises:
            ValueError: If ``item_ids`` is empty or names an item that is not on the order.
            ConditionNotAccepted: If ``condition`` does not qualify.
            NotDelivered, OrderClosed, OutsideReturnWindow, FinalSale, NothingToReturn.
        """
        if not item_ids:
            raise ValueError("item_ids must name at least one order item; it is empty.")
        condition = ItemCondition(condition)
        now = self.now()
        with self._session() as session, session.begin():
            order = self._owned(session, owner, full=True)
            by_id = {i.id: i for i in order.items}
            unknown = [i for i in item_ids if i not in by_id]
            if unknown:
                raise ValueError(
                    f"item_ids {unknown} are not items of order {order.number}; pick from "
                    f"{sorted(by_id)} (see quote_return)."
                )
            chosen = [by_id[i] for i in dict.fromkeys(item_ids)]
            open_by_item = {r.item_id: r for r in order.return_requests if r.status in _OPEN_RETURN}
            if all(i.id in open_by_item for i in chosen):
                # A retry: everything asked for is already on its way back.
                return self._return_outcome(order, chosen, open_by_item, condition, changed=False)
            self._returnable(order)
            if condition not in ACCEPTED_CONDITIONS:
                raise ConditionNotAccepted(order.number, condition.value)
            final = tuple(i.product_name for i in chosen if i.final_sale)
            if final:
                raise FinalSale(order.number, final)
            created = []
            for item in chosen:
                if item.id in open_by_item:
                    continue
                result = session.execute(
                    update(OrderItem)
                    .where(OrderItem.id == item.id, OrderItem.status == ItemStatus.DELIVERED)
                    .values(status=ItemStatus.RETURN_REQUESTED)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:
                    continue  # returned or being returned by a concurrent request
                request = ReturnRequest(
                    return_id=self._new_return_id(session),
                    order_id=order.id,
                    item_id=item.id,
                    reason=f"Opened in chat; item {condition.label}",
                    status=ReturnStatus.APPROVED,
                    created_at=now,
                )
                session.add(request)
                session.flush()
                open_by_item[item.id] = request
                created.append(request)
                self._audit(
                    session,
                    actor,
                    RETURN_OPENED,
                    order.number,
                    now,
                    {
                        "return_id": request.return_id,
                        "item_id": item.id,
                        "product": item.product_name[:120],
                        "condition": condition.value,
                        "refund_amount": str(_item_refund(order, item)),
                        "customer_id": owner.customer_id,
                    },
                )
            session.flush()
            for request in created:
                session.refresh(request)
            outcome = self._return_outcome(
                order, chosen, open_by_item, condition, changed=bool(created)
            )
        logger.info(
            "Returns %s for order %s (asked by %s, new: %s)",
            [r.return_id for r in outcome.returns],
            order.number,
            actor.sender_id,
            outcome.changed,
        )
        return outcome

    def _return_outcome(
        self,
        order: Order,
        chosen: list[OrderItem],
        open_by_item: dict[int, ReturnRequest],
        condition: ItemCondition,
        changed: bool,
    ) -> ReturnOutcome:
        views = []
        for item in chosen:
            request = open_by_item.get(item.id)
            if request is not None:
                views.append(
                    ReturnView(
                        return_id=request.return_id,
                        item_id=item.id,
                        product_name=item.product_name,
                        status=_value(request.status),
                        reason=request.reason,
                        created_at=request.created_at,
                    )
                )
        returned = [i for i in chosen if i.id in open_by_item]
        first = min((v.created_at for v in views), default=self.now())
        return ReturnOutcome(
            order_number=order.number,
            currency=order.currency,
            returns=tuple(views),
            refund_amount=to_money(sum((_item_refund(order, i) for i in returned), Decimal("0"))),
            ship_back_by=first.date() + dt.timedelta(days=RETURN_SHIP_BACK_DAYS),
            payment=_payment_label(order),
            condition=condition.value,
            changed=changed,
        )

    @staticmethod
    def _new_return_id(session: Session) -> str:
        """A fresh public return id ``RET-<6 digits>`` that no other return uses."""
        while True:
            candidate = f"RET-{secrets.randbelow(900000) + 100000}"
            taken = session.execute(
                select(func.count())
                .select_from(ReturnRequest)
                .where(ReturnRequest.return_id == candidate)
            ).scalar_one()
            if not taken:
                return candidate


# --------------------------------------------------------------------------------------------------
# Helpers (ORM object → plain view)
# --------------------------------------------------------------------------------------------------


class _Conflict(Exception):
    """The row a change was conditioned on moved on in between (rolls the transaction back)."""


def _value(status: Any) -> str:
    """The string value of a status enum member (or of a plain string)."""
    return str(getattr(status, "value", status))


def _check_not_shipped(order: Order) -> None:
    """Raise ``AlreadyShipped`` / ``OrderClosed`` unless the order is still processing."""
    status = _value(order.status)
    if status == OrderStatus.PROCESSING.value:
        return
    if status in (OrderStatus.CANCELLED.value, OrderStatus.RETURNED.value):
        raise OrderClosed(order.number, status)
    shipped_at = next((s.shipped_at for s in order.shipments if s.shipped_at), None)
    raise AlreadyShipped(order.number, status, shipped_at)


def _captured(order: Order) -> Decimal:
    """How much of the order was actually charged (captured payments)."""
    return to_money(
        sum(
            (p.amount for p in order.payments if _value(p.status) == PaymentStatus.CAPTURED.value),
            Decimal("0"),
        )
    )


def _payment_label(order: Order) -> str:
    """The first payment's label (``card ending 4242``), or ``your original payment method``."""
    if not order.payments:
        return "your original payment method"
    return _payment_view(order.payments[0]).label


def _item_refund(order: Order, item: OrderItem) -> Decimal:
    """An item's price plus its share of the order's tax (shipping is not refunded)."""
    line = item.line_total
    subtotal = to_money(order.subtotal)
    share = to_money(to_money(order.tax) * line / subtotal) if subtotal > 0 else Decimal("0.00")
    return to_money(line + share)


def _cancellation(order: Order, changed: bool) -> Cancellation:
    refunds = [r for r in order.refunds if r.return_request_id is None]
    refund_amount = to_money(sum((r.amount for r in refunds), Decimal("0")))
    return Cancellation(
        order_number=order.number,
        currency=order.currency,
        refund_amount=refund_amount,
        charged=refund_amount > 0,
        payment=_payment_label(order),
        refund_status=_value(refunds[-1].status) if refunds else None,
        cancelled_at=order.cancelled_at,
        changed=changed,
    )


def _item_view(item: OrderItem) -> ItemView:
    return ItemView(
        item_id=item.id,
        product_name=item.product_name,
        quantity=item.quantity,
        unit_price=item.unit_price,
        line_total=item.line_total,
        status=_value(item.status),
        final_sale=bool(item.final_sale),
    )


def _shipment_view(shipment: Shipment) -> ShipmentView:
    return ShipmentView(
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status=_value(shipment.status),
        shipped_at=shipment.shipped_at,
        estimated_delivery=shipment.estimated_delivery,
        delivered_at=shipment.delivered_at,
    )


def _payment_view(payment: Payment) -> PaymentView:
    return PaymentView(
        method=_value(payment.method),
        last4=payment.last4,
        amount=payment.amount,
        status=_value(payment.status),
        paid_at=payment.paid_at,
    )


def _refund_view(refund: Refund) -> RefundView:
    return RefundView(
        amount=refund.amount,
        status=_value(refund.status),
        reason=refund.reason,
        created_at=refund.created_at,
        completed_at=refund.completed_at,
        return_id=refund.return_request.return_id if refund.return_request is not None else None,
    )


def _return_view(request: ReturnRequest) -> ReturnView:
    return ReturnView(
        return_id=request.return_id,
        item_id=request.item_id,
        product_name=request.item.product_name if request.item is not None else "",
        status=_value(request.status),
        reason=request.reason,
        created_at=request.created_at,
    )
