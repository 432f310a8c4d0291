"""What every feature of the SQL store backend shares: sessions, ownership, the audit log.

``SqlStoreBase`` opens sessions (database errors become ``StoreUnavailable``), re-checks an
``Ownership`` against the database (``_owned``), writes and reads audit rows and builds the order
summary every feature starts from. The feature mixins (``identity``, ``cancellation``, ``shipping``,
``returns``, ``billing``) extend it; ``actions.store.sql.backend.SqlStoreBackend`` combines them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.store.policy import LockoutPolicy, return_deadline
from actions.store.schema import (
    AuditLog,
    Order,
    create_engine_from_url,
    make_session_factory,
)
from actions.store.sql.views import (
    item_view,
    payment_view,
    refund_view,
    return_view,
    shipment_view,
    status_value,
)
from actions.store.types import (
    Actor,
    AuditEntry,
    NotVerified,
    OrderSummary,
    Ownership,
    StoreUnavailable,
)

logger = logging.getLogger(__name__)

__all__ = [
    "ADDRESS_CHANGED",
    "ORDER_CANCELLED",
    "RETURN_OPENED",
    "VERIFY_FAILED",
    "VERIFY_LOCKED",
    "VERIFY_OK",
    "Conflict",
    "SqlStoreBase",
    "mask_email",
    "utc_now",
]


# Audit log action names (also what the e2e tests and the agent console look for).
VERIFY_OK = "verify_ok"
VERIFY_FAILED = "verify_failed"
VERIFY_LOCKED = "verify_locked"
ORDER_CANCELLED = "order_cancelled"
ADDRESS_CHANGED = "shipping_address_changed"
RETURN_OPENED = "return_opened"


class Conflict(Exception):
    """The row a change was conditioned on moved on in between (rolls the transaction back)."""


def utc_now() -> dt.datetime:
    """The current time as naive UTC (how the schema stores times)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def mask_email(email: str) -> str:
    """``maria.garcia@example.com`` → ``m***@example.com`` (for logs and the audit log)."""
    local, _, domain = (email or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


class SqlStoreBase:
    """Sessions, ownership checks, the audit log and the order summary of the SQL store backend.

    Args:
        engine_or_url: An engine, or a database URL (see ``SqlStoreBackend``).
        clock: Returns "now" as naive UTC; default the real clock.
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

    def _owned(self, session: Session, owner: Ownership) -> Order:
        """The owner's order. Its items, shipments, payments and the rest load when first read,
        inside the caller's session: every caller builds its views there. Loading them up front
        with ``selectinload`` options issued as many queries and took twice as long (the options'
        cache keys are rebuilt for every query; 6.2 vs 3.2 ms an order summary, 2026-12-07)."""
        query = select(Order).where(Order.number == owner.order_number)
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

    def get_order_summary(self, owner: Ownership) -> OrderSummary:
        """Status, items, shipments, payments, refunds and returns of the order."""
        with self._session() as session:
            order = self._owned(session, owner)
            return OrderSummary(
                number=order.number,
                status=status_value(order.status),
                placed_at=order.placed_at,
                cancelled_at=order.cancelled_at,
                currency=order.currency,
                subtotal=order.subtotal,
                shipping_fee=order.shipping_fee,
                tax=order.tax,
                total=order.total,
                shipping_method=order.shipping_method,
                shipping_address=order.shipping_address.one_line(),
                items=tuple(item_view(i) for i in order.items),
                shipments=tuple(shipment_view(s) for s in order.shipments),
                payments=tuple(payment_view(p) for p in order.payments),
                refunds=tuple(refund_view(r) for r in order.refunds),
                returns=tuple(return_view(r) for r in order.return_requests),
                return_deadline=return_deadline(order.placed_at),
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
