"""Returns and refunds over the seeded demo store: one RMA per item, the refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from actions.store.policy import ItemCondition
from actions.store.schema import AuditLog, OrderItem, ReturnRequest
from actions.store.sql.backend import SqlStoreBackend
from actions.store.types import (
    ConditionNotAccepted,
    FinalSale,
    NotDelivered,
    NothingToReturn,
    OrderClosed,
    OutsideReturnWindow,
)
from tests.unit.actions.store.seeded import NOW
from tests.unit.actions.store.sql.helpers import SHOPPER, count, owner


def test_return_inside_the_window_opens_one_rma_per_item(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    proof = owner(seeded, picks["delivered"])
    quote = seeded.quote_return(proof)
    assert len(quote.items) >= 2 and quote.deadline >= NOW.date()
    item = quote.items[0]
    outcome = seeded.create_return(proof, [item.item_id], ItemCondition.UNOPENED, SHOPPER)
    assert outcome.changed and outcome.refund_amount == item.refund_amount
    (ret,) = outcome.returns
    assert ret.return_id.startswith("RET-") and ret.status == "approved"
    retry = seeded.create_return(proof, [item.item_id], ItemCondition.UNOPENED, SHOPPER)
    assert not retry.changed and retry.returns[0].return_id == ret.return_id
    assert count(seeded, ReturnRequest, return_id=ret.return_id) == 1
    assert count(seeded, AuditLog, action="return_opened") == 1
    with seeded.engine.connect() as conn:
        status = conn.execute(select(OrderItem.status).where(OrderItem.id == item.item_id)).scalar()
    assert status == "return_requested"
    # The item is no longer offered; the others still are.
    assert item.item_id not in [i.item_id for i in seeded.quote_return(proof).items]


def test_return_refusals(seeded: SqlStoreBackend, picks: dict) -> None:
    with pytest.raises(OutsideReturnWindow) as window:
        seeded.quote_return(owner(seeded, picks["outside"]))
    assert window.value.deadline < NOW.date()
    with pytest.raises(NotDelivered):
        seeded.quote_return(owner(seeded, picks["shipped"]))
    with pytest.raises(NotDelivered):
        seeded.quote_return(owner(seeded, picks["processing"]))
    with pytest.raises(OrderClosed):
        seeded.quote_return(owner(seeded, picks["cancelled"]))
    with pytest.raises(NothingToReturn):
        seeded.quote_return(owner(seeded, picks["returned"]))
    proof = owner(seeded, picks["delivered_one"])
    item = seeded.quote_return(proof).items[0]
    with pytest.raises(ConditionNotAccepted):
        seeded.create_return(proof, [item.item_id], ItemCondition.USED, SHOPPER)
    assert count(seeded, AuditLog, action="return_opened") == 0


def test_final_sale_items_are_not_returnable(seeded: SqlStoreBackend, picks: dict) -> None:
    proof = owner(seeded, picks["delivered_one"])
    item = seeded.quote_return(proof).items[0]
    with seeded.engine.begin() as conn:
        conn.execute(update(OrderItem).where(OrderItem.id == item.item_id).values(final_sale=True))
    with pytest.raises(FinalSale) as final:
        seeded.quote_return(proof)
    assert final.value.products == (item.product_name,)
    with pytest.raises(FinalSale):
        seeded.create_return(proof, [item.item_id], ItemCondition.UNOPENED, SHOPPER)


def test_refund_status_of_a_cancelled_order(seeded: SqlStoreBackend, picks: dict) -> None:
    refunds = seeded.refund_status(owner(seeded, picks["cancelled"]))
    assert refunds and refunds[0].return_id is None
