"""Identity and lockout: prove that an order is the sender's, count the failures, lock them out.

A wrong pair and a missing order raise the same ``NotVerified``; failures are audit rows
(``verify_failed``), so ``LockoutPolicy`` holds across restarts and action servers.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from actions.store.schema import AuditLog, Order
from actions.store.sql.base import VERIFY_FAILED, VERIFY_LOCKED, VERIFY_OK, SqlStoreBase, mask_email
from actions.store.types import Actor, LockedOut, NotVerified, Ownership

logger = logging.getLogger(__name__)

__all__ = ["IdentityMixin"]


class IdentityMixin(SqlStoreBase):
    """``verify_owner``, ``verify_customer_order`` and ``locked_until`` (see ``StoreBackend``)."""

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
