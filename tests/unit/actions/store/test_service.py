"""The store service over the seeded demo store: ownership, lockout, and every change exactly once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update

from actions.store.addresses import parse_address
from actions.store.policy import ItemCondition, LockoutPolicy
from actions.store.schema import AuditLog, OrderItem, Payment, Refund, ReturnRequest
from actions.store.service import SqlStoreBackend, StoreBackend
from actions.store.types import (
    Actor,
    AlreadyShipped,
    ConditionNotAccepted,
    FinalSale,
    LockedOut,
    NoInvoice,
    NotDelivered,
    NothingToReturn,
    NotVerified,
    OrderClosed,
    OutsideReturnWindow,
    Ownership,
    StoreUnavailable,
)
from tests.unit.actions.store.seeded import NOW, Pick

SHOPPER = Actor("shopper-1", "rest")


def owner(store: SqlStoreBackend, pick: Pick, actor: Actor = SHOPPER) -> Ownership:
    return store.verify_owner(pick.number, pick.email, actor)


def count(store: SqlStoreBackend, model: type, **where: object) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_sql_backend_satisfies_the_protocol(seeded: SqlStoreBackend) -> None:
    assert isinstance(seeded, StoreBackend)


def test_verify_owner_accepts_the_pair_in_any_case(seeded: SqlStoreBackend, picks: dict) -> None:
    proof = seeded.verify_owner(picks["shipped"].number, picks["shipped"].email.upper(), SHOPPER)
    assert proof == Ownership(picks["shipped"].number, picks["shipped"].customer_id, "email")
    (entry,) = seeded.audit_trail(actor="shopper-1")
    assert (entry.action, entry.channel, entry.order_number) == (
        "verify_ok",
        "rest",
        picks["shipped"].number,
    )
    assert "@" in entry.details["email"] and picks["shipped"].email not in entry.details["email"]


def test_wrong_email_and_missing_order_fail_the_same_way(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    with pytest.raises(NotVerified) as wrong_email:
        seeded.verify_owner(picks["shipped"].number, picks["processing"].email, SHOPPER)
    with pytest.raises(NotVerified) as no_order:
        seeded.verify_owner("000001", picks["processing"].email, SHOPPER)
    assert type(wrong_email.value) is type(no_order.value)
    assert str(wrong_email.value).replace(picks["shipped"].number, "N") == str(
        no_order.value
    ).replace("000001", "N")
    assert [e.action for e in seeded.audit_trail(actor="shopper-1")] == ["verify_failed"] * 2


def test_five_failures_lock_the_sender_for_fifteen_minutes(
    picks: dict, seeded: SqlStoreBackend
) -> None:
    clock = [NOW]
    store = SqlStoreBackend(seeded.engine, clock=lambda: clock[0])
    attacker = Actor("attacker", "rest")
    target = picks["processing"]
    errors = []
    for minute in range(5):
        clock[0] = NOW + dt.timedelta(minutes=minute)
        with pytest.raises((NotVerified, LockedOut)) as caught:
            store.verify_owner(target.number, f"guess{minute}@example.com", attacker)
        errors.append(type(caught.value))
    assert errors == [NotVerified] * 4 + [LockedOut]
    until = NOW + dt.timedelta(minutes=4 + 15)
    assert store.locked_until(attacker) == until
    # Even the right pair is refused while locked, and the attempt is audited.
    with pytest.raises(LockedOut) as locked:
        store.verify_owner(target.number, target.email, attacker)
    assert locked.value.until == until
    # Another sender is not affected; the lock ends on time.
    assert (
        store.verify_owner(target.number, target.email, SHOPPER).customer_id == target.customer_id
    )
    clock[0] = until
    assert store.locked_until(attacker) is None
    assert store.verify_owner(target.number, target.email, attacker).order_number == target.number
    actions = [e.action for e in store.audit_trail(actor="attacker")]
    assert actions == ["verify_failed"] * 5 + ["verify_locked", "verify_ok"]


def test_lockout_policy_counts_failures_inside_the_window() -> None:
    policy = LockoutPolicy(max_failures=3, window=dt.timedelta(minutes=10))
    spread = [NOW + dt.timedelta(minutes=m) for m in (0, 6, 12, 18)]
    assert policy.locked_until(spread) is None
    burst = [NOW, NOW + dt.timedelta(minutes=1), NOW + dt.timedelta(minutes=9)]
    assert policy.locked_until(burst) == NOW + dt.timedelta(minutes=9 + 15)
    with pytest.raises(ValueError, match="max_failures must be at least 1"):
        LockoutPolicy(max_failures=0)


def test_a_forged_ownership_is_refused(seeded: SqlStoreBackend, picks: dict) -> None:
    forged = Ownership(picks["processing"].number, picks["shipped"].customer_id)
    with pytest.raises(NotVerified):
        seeded.get_order_summary(forged)
    with pytest.raises(NotVerified):
        seeded.cancel_order(forged, SHOPPER)
    assert count(seeded, AuditLog, action="order_cancelled") == 0


def test_token_verification_only_for_the_customers_own_orders(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    mine = picks["processing"]
    assert seeded.verify_customer_order(mine.number, mine.customer_id, SHOPPER).method == "token"
    with pytest.raises(NotVerified):
        seeded.verify_customer_order(picks["shipped"].number, mine.customer_id, SHOPPER)


def test_order_summary_has_tracking_and_items(seeded: SqlStoreBackend, picks: dict) -> None:
    summary = seeded.get_order_summary(owner(seeded, picks["shipped"]))
    assert summary.status == "shipped" and summary.shipments
    shipment = summary.shipments[0]
    assert shipment.carrier and shipment.tracking_number and shipment.estimated_delivery
    assert summary.items and all(i.status == "shipped" for i in summary.items)
    assert summary.total == summary.subtotal + summary.shipping_fee + summary.tax


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


def test_invoice_and_payment(seeded: SqlStoreBackend, picks: dict) -> None:
    invoice = seeded.invoice(owner(seeded, picks["shipped"]))
    assert invoice.number.startswith("INV-") and invoice.amount > 0 and invoice.items
    with pytest.raises(NoInvoice):
        seeded.invoice(owner(seeded, picks["authorized"]))
    (payment,) = seeded.payment_status(owner(seeded, picks["authorized"]))
    assert payment.status == "authorized"


def test_refund_status_of_a_cancelled_order(seeded: SqlStoreBackend, picks: dict) -> None:
    refunds = seeded.refund_status(owner(seeded, picks["cancelled"]))
    assert refunds and refunds[0].return_id is None


def test_delivery_options_measure_recent_deliveries(seeded: SqlStoreBackend) -> None:
    options = {o.code: o for o in seeded.delivery_options()}
    assert set(options) == {"standard", "express", "next_day"}
    assert options["standard"].free_from == Decimal("35.00")
    assert options["standard"].typical_days is not None
    assert options["next_day"].min_days == options["next_day"].max_days == 1


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
