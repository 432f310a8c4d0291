"""The store service on a real PostgreSQL server (loopback, started by the test): the same rules
as on SQLite, concurrent duplicates included."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from actions.store.addresses import parse_address
from actions.store.policy import ItemCondition
from actions.store.schema import AuditLog, Refund, ReturnRequest
from actions.store.sql.backend import SqlStoreBackend
from actions.store.types import Actor, LockedOut, NotVerified, OutsideReturnWindow
from tests.conftest import free_port
from tests.e2e.postgres import PostgresServer, postgres_or_skip
from tests.unit.actions.store.seeded import NOW, Pick, pick_orders, seed_store
from tests.unit.actions.store.sql.helpers import count

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SqlStoreBackend, dict]]:
    bin_dir = postgres_or_skip()
    server = PostgresServer(bin_dir, free_port()).start()
    try:
        url = server.create_database(f"shop_{uuid.uuid4().hex[:8]}")
        seed_store(Path(tmp_path_factory.mktemp("pg-store")), db_url=url)
        store = SqlStoreBackend(url, clock=lambda: NOW)
        try:
            yield store, pick_orders(url)
        finally:
            store.engine.dispose()
    finally:
        server.stop()


def test_concurrent_cancellations_refund_once(pg_store: tuple[SqlStoreBackend, dict]) -> None:
    store, picks = pg_store
    pick: Pick = picks["processing"]
    proof = store.verify_owner(pick.number, pick.email, Actor("pg-1", "rest"))
    before = count(store, Refund)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda i: store.cancel_order(proof, Actor(f"pg-tab-{i}", "rest")), range(4))
        )
    assert sum(r.changed for r in results) == 1
    assert count(store, Refund) == before + 1
    assert count(store, AuditLog, action="order_cancelled", order_number=pick.number) == 1


def test_returns_addresses_and_refusals(pg_store: tuple[SqlStoreBackend, dict]) -> None:
    store, picks = pg_store
    actor = Actor("pg-2", "telegram")
    delivered = picks["delivered"]
    proof = store.verify_owner(delivered.number, delivered.email, actor)
    item = store.quote_return(proof).items[0]
    first = store.create_return(proof, [item.item_id], ItemCondition.LIKE_NEW, actor)
    again = store.create_return(proof, [item.item_id], ItemCondition.LIKE_NEW, actor)
    assert first.changed and not again.changed
    assert count(store, ReturnRequest, return_id=first.returns[0].return_id) == 1
    with pytest.raises(OutsideReturnWindow):
        outside = picks["outside"]
        store.quote_return(store.verify_owner(outside.number, outside.email, actor))
    moving = picks["processing_2"]
    proof = store.verify_owner(moving.number, moving.email, actor)
    change = store.change_shipping_address(proof, parse_address("9 Elm St, Boise, ID 83702"), actor)
    assert change.changed and store.get_order_summary(proof).shipping_address.startswith("9 Elm St")


def test_lockout_on_postgres(pg_store: tuple[SqlStoreBackend, dict]) -> None:
    store, picks = pg_store
    attacker = Actor("pg-attacker", "rest")
    target = picks["shipped"]
    for attempt in range(4):
        with pytest.raises(NotVerified):
            store.verify_owner(target.number, f"g{attempt}@example.com", attacker)
    with pytest.raises(LockedOut):
        store.verify_owner(target.number, "g5@example.com", attacker)
    with pytest.raises(LockedOut):
        store.verify_owner(target.number, target.email, attacker)


def test_lockout_per_client_and_per_order_on_postgres(
    pg_store: tuple[SqlStoreBackend, dict],
) -> None:
    """The client LIKE on the JSON text and the per-order count, as on SQLite (exact case, and
    ``_``/``%`` in a client hash are no wildcards)."""
    store, picks = pg_store
    target = picks["authorized"]
    client = "Pg_%client"

    def guess(actor: Actor, attempt: int) -> type[Exception]:
        with pytest.raises((NotVerified, LockedOut)) as caught:
            store.verify_owner(target.number, f"pg{attempt}@example.com", actor)
        return type(caught.value)

    first = Actor("pg-conv-a", "widget", client=client)
    assert [guess(first, i) for i in range(5)] == [NotVerified] * 4 + [LockedOut]
    fresh = Actor("pg-conv-b", "widget", client=client)
    with pytest.raises(LockedOut):
        store.verify_owner(target.number, target.email, fresh)
    for lookalike in ("PG_%client", "Pgx%client", "Pg_%clien"):
        assert store.locked_until(Actor("pg-new", "widget", client=lookalike)) is None
    # The owner gets through below the per-order limit; failure 8 on the order locks it.
    other = Actor("pg-conv-c", "widget", client="pg-other-client")
    assert [guess(other, i) for i in range(2)] == [NotVerified] * 2
    owner = Actor("pg-owner", "widget", client="pg-owner-client")
    assert store.verify_owner(target.number, target.email, owner).order_number == target.number
    assert guess(other, 2) is LockedOut
    with pytest.raises(LockedOut):
        store.verify_owner(target.number, target.email, owner)
    assert store.verify_customer_order(target.number, target.customer_id, owner).method == "token"
