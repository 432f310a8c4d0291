"""The SQL backend's shared plumbing: ownership re-checks, the summary, the audit log, errors."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from actions.store.schema import AuditLog, Payment
from actions.store.sql.backend import SqlStoreBackend
from actions.store.types import Actor, NotVerified, Ownership, StoreUnavailable
from tests.unit.actions.store.seeded import NOW
from tests.unit.actions.store.sql.helpers import SHOPPER, count, owner


def test_a_forged_ownership_is_refused(seeded: SqlStoreBackend, picks: dict) -> None:
    forged = Ownership(picks["processing"].number, picks["shipped"].customer_id)
    with pytest.raises(NotVerified):
        seeded.get_order_summary(forged)
    with pytest.raises(NotVerified):
        seeded.cancel_order(forged, SHOPPER)
    assert count(seeded, AuditLog, action="order_cancelled") == 0


def test_order_summary_has_tracking_and_items(seeded: SqlStoreBackend, picks: dict) -> None:
    summary = seeded.get_order_summary(owner(seeded, picks["shipped"]))
    assert summary.status == "shipped" and summary.shipments
    shipment = summary.shipments[0]
    assert shipment.carrier and shipment.tracking_number and shipment.estimated_delivery
    assert summary.items and all(i.status == "shipped" for i in summary.items)
    assert summary.total == summary.subtotal + summary.shipping_fee + summary.tax


def test_a_missing_database_is_reported_with_the_fix(tmp_path) -> None:
    store = SqlStoreBackend(f"sqlite:///{tmp_path / 'nothing.db'}", clock=lambda: NOW)
    with pytest.raises(StoreUnavailable, match="shopbot prepare"):
        store.verify_owner("123456", "a@example.com", SHOPPER)


def test_audit_rows_carry_sender_and_channel(seeded: SqlStoreBackend, picks: dict) -> None:
    telegram = Actor("tg-42", "telegram")
    seeded.cancel_order(owner(seeded, picks["processing"], telegram), telegram)
    with seeded.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT actor, channel, action FROM audit_log WHERE actor = 'tg-42' ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("tg-42", "telegram", "verify_ok"),
        ("tg-42", "telegram", "order_cancelled"),
    ]
    assert count(seeded, Payment) > 0
