"""Shipping over the seeded demo store: address changes once, delivery options."""

from __future__ import annotations

from decimal import Decimal

from actions.store.addresses import parse_address
from actions.store.sql.backend import SqlStoreBackend
from tests.unit.actions.store.sql.helpers import SHOPPER, owner


def test_address_change_is_audited_once(seeded: SqlStoreBackend, picks: dict) -> None:
    proof = owner(seeded, picks["processing"])
    new = parse_address("12 Oak St, Apt 4, Austin, TX 78701")
    first = seeded.change_shipping_address(proof, new, SHOPPER)
    again = seeded.change_shipping_address(proof, new, SHOPPER)
    assert first.changed and not again.changed
    assert seeded.get_order_summary(proof).shipping_address == new.one_line()
    (entry,) = [
        e for e in seeded.audit_trail(picks["processing"].number) if e.action.startswith("ship")
    ]
    assert entry.details["to"] == new.one_line() and entry.details["from"] == first.old_address


def test_delivery_options_measure_recent_deliveries(seeded: SqlStoreBackend) -> None:
    options = {o.code: o for o in seeded.delivery_options()}
    assert set(options) == {"standard", "express", "next_day"}
    assert options["standard"].free_from == Decimal("35.00")
    assert options["standard"].typical_days is not None
    assert options["next_day"].min_days == options["next_day"].max_days == 1
