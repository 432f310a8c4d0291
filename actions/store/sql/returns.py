"""Returns and refunds: what can be returned, opening returns (once per item), the refunds."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from actions.store.policy import (
    ACCEPTED_CONDITIONS,
    RETURN_SHIP_BACK_DAYS,
    ItemCondition,
    return_deadline,
)
from actions.store.schema import (
    ItemStatus,
    Order,
    OrderItem,
    OrderStatus,
    ReturnRequest,
    ReturnStatus,
    to_money,
)
from actions.store.sql.base import RETURN_OPENED, SqlStoreBase
from actions.store.sql.views import item_refund, payment_label, return_view, status_value
from actions.store.types import (
    Actor,
    ConditionNotAccepted,
    FinalSale,
    NotDelivered,
    NothingToReturn,
    OrderClosed,
    OutsideReturnWindow,
    Ownership,
    RefundView,
    ReturnableItem,
    ReturnOutcome,
    ReturnQuote,
    ReturnView,
)

logger = logging.getLogger(__name__)

__all__ = ["ReturnsMixin"]


_OPEN_RETURN = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.RECEIVED)


class ReturnsMixin(SqlStoreBase):
    """``quote_return``, ``create_return`` and ``refund_status`` (see ``StoreBackend``)."""

    def quote_return(self, owner: Ownership) -> ReturnQuote:
        """What can be returned from the order, and the refund of each item."""
        with self._session() as session:
            order = self._owned(session, owner)
            returnable, final = self._returnable(order)
            return ReturnQuote(
                order_number=order.number,
                currency=order.currency,
                deadline=return_deadline(order.placed_at),
                items=tuple(
                    ReturnableItem(i.id, i.product_name, i.quantity, item_refund(order, i))
                    for i in returnable
                ),
                final_sale=tuple(i.product_name for i in final),
                payment=payment_label(order),
            )

    def _returnable(self, order: Order) -> tuple[list[OrderItem], list[OrderItem]]:
        """(returnable items, final-sale items) of a delivered order inside the window, or raise."""
        status = status_value(order.status)
        if status in (OrderStatus.PROCESSING.value, OrderStatus.SHIPPED.value):
            raise NotDelivered(order.number, status)
        if status == OrderStatus.CANCELLED.value:
            raise OrderClosed(order.number, status)
        deadline = return_deadline(order.placed_at)
        if self.now().date() > deadline:
            raise OutsideReturnWindow(order.number, deadline)
        delivered = [i for i in order.items if status_value(i.status) == ItemStatus.DELIVERED.value]
        returnable = [i for i in delivered if not i.final_sale]
        final = [i for i in delivered if i.final_sale]
        if not returnable:
            if final:
                raise FinalSale(order.number, tuple(i.product_name for i in final))
            open_returns = tuple(
                return_view(r) for r in order.return_requests if r.status in _OPEN_RETURN
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
            order = self._owned(session, owner)
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
                        "refund_amount": str(item_refund(order, item)),
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
                        status=status_value(request.status),
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
            refund_amount=to_money(sum((item_refund(order, i) for i in returned), Decimal("0"))),
            ship_back_by=first.date() + dt.timedelta(days=RETURN_SHIP_BACK_DAYS),
            payment=payment_label(order),
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

    def refund_status(self, owner: Ownership) -> tuple[RefundView, ...]:
        """The order's refunds, oldest first."""
        return self.get_order_summary(owner).refunds
