"""Cancelling over the seeded demo store: refunds exactly once, never after shipping."""

from __future__ import annotations

from decimal import Decimal

import pytest

from actions.store.addresses import parse_address
from actions.store.schema import AuditLog, Refund
from actions.store.sql.backend import SqlStoreBackend
from actions.store.types import Actor, AlreadyShipped, OrderClosed
from tests.unit.actions.store.sql.helpers import SHOPPER, count, owner


def test_cancel_refunds_once_and_is_idempotent(seeded: SqlStoreBackend, picks: dict) -> None:
    proof = owner(seeded, picks["processing"])
    quote = seeded.quote_cancellation(proof)
    assert quote.charged and quote.refund_amount == quote.total and quote.fee == Decimal("0.00")
    refunds_before = count(seeded, Refund)
    first = seeded.cancel_order(proof, SHOPPER)
    again = seeded.cancel_order(proof, Actor("shopper-1", "telegram"))
    assert first.changed and not again.changed
    assert first.refund_amount == again.refund_amount == quote.total
    assert count(seeded, Refund) == refunds_before + 1
    assert count(seeded, AuditLog, action="order_cancelled") == 1
    summary = seeded.get_order_summary(proof)
    assert summary.status == "cancelled" and all(i.status == "cancelled" for i in summary.items)
    assert summary.refunds[-1].status == "processing"
    with pytest.raises(OrderClosed):
        seeded.quote_cancellation(proof)


def test_cancel_of_an_authorised_payment_voids_it(seeded: SqlStoreBackend, picks: dict) -> None:
    proof = owner(seeded, picks["authorized"])
    refunds_before = count(seeded, Refund)
    quote = seeded.quote_cancellation(proof)
    assert not quote.charged and quote.refund_amount == Decimal("0.00")
    result = seeded.cancel_order(proof, SHOPPER)
    assert result.changed and not result.charged
    assert seeded.payment_status(proof)[0].status == "voided"
    assert count(seeded, Refund) == refunds_before


def test_shipped_orders_cannot_be_cancelled_or_moved(seeded: SqlStoreBackend, picks: dict) -> None:
    proof = owner(seeded, picks["shipped"])
    with pytest.raises(AlreadyShipped) as shipped:
        seeded.cancel_order(proof, SHOPPER)
    assert shipped.value.status == "shipped" and shipped.value.shipped_at is not None
    with pytest.raises(AlreadyShipped):
        seeded.change_shipping_address(proof, parse_address("1 Elm St, Boise, ID 83702"), SHOPPER)
    assert seeded.get_order_summary(proof).status == "shipped"
    assert count(seeded, AuditLog, action="order_cancelled") == 0


def test_concurrent_cancellations_refund_once(seeded: SqlStoreBackend, picks: dict) -> None:
    from concurrent.futures import ThreadPoolExecutor

    proof = owner(seeded, picks["processing"])
    refunds_before = count(seeded, Refund)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda i: seeded.cancel_order(proof, Actor(f"tab-{i}", "rest")), range(4))
        )
    assert sum(r.changed for r in results) == 1
    assert {r.refund_amount for r in results} == {results[0].refund_amount}
    assert count(seeded, Refund) == refunds_before + 1
    assert count(seeded, AuditLog, action="order_cancelled") == 1
