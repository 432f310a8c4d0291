"""Identity and lockout: prove that an order is the sender's, count the failures, lock them out.

A wrong pair and a missing order raise the same ``NotVerified``; failures are audit rows
(``verify_failed``), so ``LockoutPolicy`` holds across restarts and action servers.

Failures count under three keys at once (limits in ``LockoutPolicy``); any key that reaches its
limit within 15 minutes pauses checks for 15 minutes from the failure that reached it:

- the conversation (``AuditLog.actor``, the sender id): 5 failures, as always;
- the client (``"client"`` in the row's ``details`` JSON: the channel's keyed hash of the client
  address, ``Actor.client``): 5 failures, the same as a conversation, because the point is that
  a fresh conversation id from the same client buys no new guesses. Shoppers behind one shared
  address (an office, a carrier's NAT) share that budget; the lockout reply offers a human agent.
  Skipped when the channel does not know the client;
- the order number (``AuditLog.order_number``, any sender): 8 failures, a little above the other
  two, so one shopper's typos (stopped at 5 by their own conversation and client) never lock the
  real owner out; reaching it takes guesses from at least two clients. It bounds guessing one
  order's email from many clients to 8 per lock period. A signed-in customer's token proof is no
  guess, so the per-order lock never blocks it: strangers cannot lock owners out of their orders.

The reply to a locked-out shopper is the same whichever key tripped (only the log names it).
The client is matched in SQL with a LIKE on the JSON text, narrowed by the indexed ``action`` and
``at`` columns (portable to SQLite and PostgreSQL, no schema change), then exactly in Python
(SQLite's LIKE ignores ASCII case).
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from actions.store.schema import AuditLog, Order
from actions.store.sql.base import VERIFY_FAILED, VERIFY_LOCKED, VERIFY_OK, SqlStoreBase, mask_email
from actions.store.types import Actor, LockedOut, NotVerified, Ownership

logger = logging.getLogger(__name__)

__all__ = ["CLIENT_MAX_CHARS", "IdentityMixin", "client_key"]

CLIENT_MAX_CHARS = 128
"""Longest client hash kept (a keyed SHA-256 in hex is 64); longer values are cut, consistently."""


def client_key(actor: Actor) -> str:
    """The client hash the lockout counts under (``""`` when the channel did not send one)."""
    return (actor.client or "").strip()[:CLIENT_MAX_CHARS]


def _client_in(details: str | None) -> str:
    """The ``client`` recorded in an audit row's details JSON (``""`` when none)."""
    try:
        parsed = json.loads(details or "{}")
    except ValueError:
        return ""
    found = parsed.get("client") if isinstance(parsed, dict) else None
    return found if isinstance(found, str) else ""


class _Lock(NamedTuple):
    """A running lock: when it ends and which keys (``conversation``, ``client``, ``order``) hold it."""

    until: dt.datetime
    keys: tuple[str, ...]


class IdentityMixin(SqlStoreBase):
    """``verify_owner``, ``verify_customer_order`` and ``locked_until`` (see ``StoreBackend``)."""

    def _lock(
        self, session: Session, actor: Actor, now: dt.datetime, order_number: str | None
    ) -> _Lock | None:
        """The lock running now on the sender, its client or ``order_number`` (None: no lock)."""
        sender = actor.sender_id[:64]
        client = client_key(actor)
        order = (order_number or "")[:32]
        keys = [AuditLog.actor == sender]
        if client:
            # The pair exactly as ``encode_details`` writes it inside the JSON object.
            pair = AuditLog.encode_details({"client": client})[1:-1]
            keys.append(AuditLog.details.contains(pair, autoescape=True))
        if order:
            keys.append(AuditLog.order_number == order)
        rows = session.execute(
            select(AuditLog.at, AuditLog.actor, AuditLog.order_number, AuditLog.details).where(
                AuditLog.action == VERIFY_FAILED,
                AuditLog.at >= now - self.lockout.window - self.lockout.lock_for,
                or_(*keys),
            )
        ).all()
        failures: dict[str, list[dt.datetime]] = {"conversation": [], "client": [], "order": []}
        for at, row_actor, row_order, details in rows:
            if row_actor == sender:
                failures["conversation"].append(at)
            if client and _client_in(details) == client:
                failures["client"].append(at)
            if order and row_order == order:
                failures["order"].append(at)
        limits = {
            "conversation": self.lockout.max_failures,
            "client": self.lockout.max_failures_per_client,
            "order": self.lockout.max_failures_per_order,
        }
        ends = {}
        for key, times in failures.items():
            until = self.lockout.locked_until(times, limits[key])
            if until is not None and until > now:
                ends[key] = until
        if not ends:
            return None
        return _Lock(max(ends.values()), tuple(ends))

    def locked_until(self, actor: Actor) -> dt.datetime | None:
        """When the lockout of the sender (or of its client) ends, or None when there is none.

        Per-order locks are not included: they hold only for the order number they count.
        """
        with self._session() as session:
            lock = self._lock(session, actor, self.now(), None)
            return lock.until if lock is not None else None

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
        if client_key(actor):
            details["client"] = client_key(actor)
        # A token proof is no guess: the per-order lock (which strangers can trip) does not hold it.
        counted_order = None if method == "token" else order_number
        with self._session() as session, session.begin():
            lock = self._lock(session, actor, now, counted_order)
            if lock is not None:
                self._audit(session, actor, VERIFY_LOCKED, order_number, now, details)
                outcome: Ownership | _Lock | None = lock
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
                    outcome = self._lock(session, actor, now, counted_order)
        # Raised after the commit, so the audit row of a failure is kept.
        if isinstance(outcome, Ownership):
            logger.info("Verified order %s for %s (%s)", order_number, actor.sender_id, method)
            return outcome
        if isinstance(outcome, _Lock):
            # The shopper's reply is the same whichever key tripped; the log says which.
            logger.warning(
                "Identity checks locked until %s for sender %s (order %s; locked by %s)",
                outcome.until,
                actor.sender_id,
                order_number,
                ", ".join(outcome.keys),
            )
            raise LockedOut(outcome.until)
        logger.warning(
            "Failed ownership check for order %s by %s via %s (%s)",
            order_number,
            actor.sender_id,
            actor.channel,
            method,
        )
        raise NotVerified(order_number)
