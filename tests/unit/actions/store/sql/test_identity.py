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


# --------------------------------------------------------------------------------------------------
# Per client and per order number (a fresh conversation id buys no new guesses)
# --------------------------------------------------------------------------------------------------


def guess(store: SqlStoreBackend, number: str, actor: Actor, attempt: int) -> type[Exception]:
    """One wrong pair; the error it raised (``NotVerified`` or ``LockedOut``)."""
    with pytest.raises((NotVerified, LockedOut)) as caught:
        store.verify_owner(number, f"guess{attempt}@example.com", actor)
    return type(caught.value)


def test_defaults_lock_per_client_like_per_conversation_and_per_order_a_little_later() -> None:
    policy = LockoutPolicy()
    assert (policy.max_failures, policy.max_failures_per_client) == (5, 5)
    assert policy.max_failures < policy.max_failures_per_order == 8
    for name in ("max_failures_per_client", "max_failures_per_order"):
        with pytest.raises(ValueError, match=f"{name} must be at least 1. Currently, {name} is 0"):
            LockoutPolicy(**{name: 0})


def test_a_fresh_conversation_from_the_same_client_buys_no_new_guesses(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    target = picks["processing"]
    first = Actor("conv-a", "widget", client="client-hash-1")
    errors = [guess(seeded, target.number, first, attempt) for attempt in range(5)]
    assert errors == [NotVerified] * 4 + [LockedOut]
    # A new conversation from the same client is locked at once, even with the right pair.
    fresh = Actor("conv-b", "widget", client="client-hash-1")
    assert seeded.locked_until(fresh) == NOW + dt.timedelta(minutes=15)
    with pytest.raises(LockedOut) as locked:
        seeded.verify_owner(target.number, target.email, fresh)
    assert locked.value.until == NOW + dt.timedelta(minutes=15)
    # ... on any order: the client is locked, not only the order it guessed.
    other = picks["shipped"]
    with pytest.raises(LockedOut):
        seeded.verify_owner(other.number, other.email, fresh)
    assert [e.action for e in seeded.audit_trail(actor="conv-b")] == ["verify_locked"] * 2
    failed = [e for e in seeded.audit_trail(actor="conv-a") if e.action == "verify_failed"]
    assert {e.details["client"] for e in failed} == {"client-hash-1"}


def test_guesses_on_one_order_from_many_clients_lock_it_after_the_per_order_limit(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    target = picks["processing"]
    a = Actor("conv-a", "widget", client="client-hash-1")
    assert [guess(seeded, target.number, a, i) for i in range(5)][-1] is LockedOut
    with pytest.raises(LockedOut):
        seeded.verify_owner(
            target.number, "x@example.com", Actor("conv-b", "widget", "client-hash-1")
        )
    # Another client and conversation: failures 6 and 7 on the order are plain refusals, 8 locks.
    c = Actor("conv-c", "widget", client="client-hash-2")
    assert [guess(seeded, target.number, c, i) for i in range(3)] == [NotVerified] * 2 + [LockedOut]
    assert seeded.locked_until(c) is None, "client 2 itself is not locked: only the order is"
    # The order is locked for everyone proving it by email, the real owner included...
    owner = Actor("owner", "widget", client="client-hash-3")
    with pytest.raises(LockedOut) as locked:
        seeded.verify_owner(target.number, target.email, owner)
    assert locked.value.until == NOW + dt.timedelta(minutes=15)
    # ... but not other orders, nor a signed-in owner's token proof (a token is no guess).
    other = picks["shipped"]
    assert seeded.verify_owner(other.number, other.email, c).order_number == other.number
    assert seeded.verify_customer_order(target.number, target.customer_id, owner).method == "token"


def test_the_owner_is_not_locked_by_strangers_below_the_per_order_limit(
    picks: dict, seeded: SqlStoreBackend
) -> None:
    clock = [NOW]
    store = SqlStoreBackend(seeded.engine, clock=lambda: clock[0])
    target = picks["processing"]
    for i in range(7):  # seven strangers, one guess each, each from its own client
        stranger = Actor(f"stranger-{i}", "widget", client=f"client-{i}")
        assert guess(store, target.number, stranger, i) is NotVerified
    owner = Actor("owner", "widget", client="owner-client")
    assert store.verify_owner(target.number, target.email, owner).customer_id == target.customer_id
    # The eighth locks the order for 15 minutes; then the owner gets through again.
    assert guess(store, target.number, Actor("stranger-7", "widget", "client-7"), 7) is LockedOut
    with pytest.raises(LockedOut):
        store.verify_owner(target.number, target.email, owner)
    clock[0] = NOW + dt.timedelta(minutes=15)
    assert store.verify_owner(target.number, target.email, owner).order_number == target.number


def test_clients_match_exactly_not_by_case_or_like_wildcards(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    locked_client = "Ab_%9"
    for i in range(5):
        guess(seeded, f"00000{i}", Actor(f"conv-{i}", "widget", client=locked_client), i)
    assert seeded.locked_until(Actor("new", "widget", client=locked_client)) is not None
    for lookalike in ("AB_%9", "Abx%9", "Ab_z9", "Ab_%", "b_%9", ""):
        assert seeded.locked_until(Actor("new", "widget", client=lookalike)) is None, lookalike


def test_without_a_client_only_the_conversation_and_the_order_count(
    seeded: SqlStoreBackend,
) -> None:
    for conversation in ("conv-a", "conv-b"):
        actor = Actor(conversation, "rest")
        errors = [guess(seeded, f"10000{i}", actor, i) for i in range(5)]
        assert errors == [NotVerified] * 4 + [LockedOut], conversation
    assert all("client" not in e.details for e in seeded.audit_trail())
