"""Identity and lockout over the seeded demo store."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.store.policy import LockoutPolicy
from actions.store.sql.backend import SqlStoreBackend
from actions.store.types import Actor, LockedOut, NotVerified, Ownership
from tests.unit.actions.store.seeded import NOW
from tests.unit.actions.store.sql.helpers import SHOPPER


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


def test_token_verification_only_for_the_customers_own_orders(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    mine = picks["processing"]
    assert seeded.verify_customer_order(mine.number, mine.customer_id, SHOPPER).method == "token"
    with pytest.raises(NotVerified):
        seeded.verify_customer_order(picks["shipped"].number, mine.customer_id, SHOPPER)
