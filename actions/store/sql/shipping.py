"""Shipping: moving an unshipped order to a new address (exactly once), and the delivery options."""

from __future__ import annotations

import datetime as dt
import logging
import statistics

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actions.store.policy import CARRIERS, SHIPPING_METHODS
from actions.store.schema import Address, Order, OrderStatus, Shipment
from actions.store.sql.base import ADDRESS_CHANGED, Conflict, SqlStoreBase
from actions.store.sql.views import check_not_shipped
from actions.store.types import (
    Actor,
    AddressChange,
    AddressQuote,
    DeliveryOption,
    NewAddress,
    Ownership,
)

logger = logging.getLogger(__name__)

__all__ = ["ShippingMixin"]


class ShippingMixin(SqlStoreBase):
    """``quote_address_change``, ``change_shipping_address`` and ``delivery_options``."""

    def quote_address_change(self, owner: Ownership) -> AddressQuote:
        """The address the order ships to (``AlreadyShipped`` / ``OrderClosed`` when too late)."""
        with self._session() as session:
            order = self._owned(session, owner)
            check_not_shipped(order)
            return AddressQuote(order.number, order.shipping_address.one_line())

    def change_shipping_address(
        self, owner: Ownership, address: NewAddress, actor: Actor
    ) -> AddressChange:
        """Ship an order that has not shipped to ``address`` (idempotent)."""
        now = self.now()
        try:
            with self._session() as session, session.begin():
                order = self._owned(session, owner)
                check_not_shipped(order)
                current = order.shipping_address
                old = current.one_line()
                if old.lower() == address.one_line().lower():
                    return AddressChange(order.number, old, old, changed=False)
                changed = self._move_order(session, order, current, address, actor, now)
        except Conflict:
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
        """Point the order at a new address row; raises ``Conflict`` if its state moved on."""
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
            raise Conflict(order.number)  # rolls the new address row back
        self._audit(
            session,
            actor,
            ADDRESS_CHANGED,
            order.number,
            now,
            {"from": old, "to": new.one_line(), "customer_id": order.customer_id},
        )
        return AddressChange(order.number, old, address.one_line(), changed=True)

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
            DeliveryOption.of(
                m,
                typical_days=round(statistics.median(days[m.code]), 1)
                if days.get(m.code)
                else None,
                carriers=used or CARRIERS,
            )
            for m in SHIPPING_METHODS
        )
