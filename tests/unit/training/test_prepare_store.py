"""The seeded demo store: determinism, consistent money, real products, idempotent rebuilds."""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from actions.store.schema import Base, create_engine_from_url
from knowledge.catalog.jsonl import read_catalog_jsonl
from knowledge.faq import read_faq_jsonl
from tests.conftest import free_port
from tests.e2e.postgres import PostgresServer, postgres_or_skip
from training.prepare_store import PrepareStoreArgs, run_prepare_store

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = dt.date(2026, 1, 15)
SIZES = {"n_customers": 40, "n_orders": 160}


def _args(out_dir: Path, **overrides: Any) -> PrepareStoreArgs:
    values: dict[str, Any] = {
        "catalog_path": str(ROOT / "data/demo/catalog/amazon_products_sample1000.csv"),
        "faq_path": str(ROOT / "data/demo/faq/ecommerce_faq.csv"),
        "out_dir": str(out_dir),
        "reference_date": REFERENCE,
        **SIZES,
    }
    values.update(overrides)
    return PrepareStoreArgs(**values)


def _dump(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every store table, ordered by primary key."""
    engine = create_engine_from_url(db_url)
    try:
        with engine.connect() as conn:
            return {
                name: [
                    tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key))
                ]
                for name, table in Base.metadata.tables.items()
            }
    finally:
        engine.dispose()


def _rows(dump: dict[str, list[tuple[Any, ...]]], table: str) -> list[dict[str, Any]]:
    columns = [c.name for c in Base.metadata.tables[table].columns]
    return [dict(zip(columns, row, strict=True)) for row in dump[table]]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("store_a")
    summary = run_prepare_store(_args(out))
    return {"out": out, "summary": summary, "dump": _dump(summary["db_url"])}


def test_same_seed_and_date_give_identical_databases(store: dict[str, Any], tmp_path: Path) -> None:
    other = run_prepare_store(_args(tmp_path / "b"))
    assert other["db_url"] != store["summary"]["db_url"]
    assert _dump(other["db_url"]) == store["dump"]
    assert (tmp_path / "b" / "demo_customers.md").read_text(encoding="utf-8").split("\n")[4:] == (
        store["out"] / "demo_customers.md"
    ).read_text(encoding="utf-8").split("\n")[4:]


def test_another_seed_gives_other_data(store: dict[str, Any], tmp_path: Path) -> None:
    other = run_prepare_store(_args(tmp_path / "c", seed=8))
    assert _dump(other["db_url"])["orders"] != store["dump"]["orders"]


def test_rerun_recreates_cleanly(store: dict[str, Any], tmp_path: Path) -> None:
    args = _args(tmp_path / "d")
    first = run_prepare_store(args)
    again = run_prepare_store(args)
    assert again["rows"] == first["rows"]
    assert _dump(again["db_url"]) == store["dump"]


def test_counts_files_and_status_mix(store: dict[str, Any]) -> None:
    summary = store["summary"]
    assert summary["rows"]["customers"] == 40
    assert summary["rows"]["orders"] == 160
    assert set(summary["order_status"]) == {
        "processing",
        "shipped",
        "delivered",
        "cancelled",
        "returned",
    }
    # 20/25/40/7/8 percent, allocated exactly.
    assert summary["order_status"] == {
        "processing": 32,
        "shipped": 40,
        "delivered": 64,
        "cancelled": 11,
        "returned": 13,
    }
    assert len(read_faq_jsonl(store["out"] / "faq.jsonl")) == 79
    assert len(read_catalog_jsonl(store["out"] / "catalog.jsonl")) == summary["products"] == 996


def test_totals_are_consistent(store: dict[str, Any]) -> None:
    items = _rows(store["dump"], "order_items")
    for order in _rows(store["dump"], "orders"):
        lines = [i for i in items if i["order_id"] == order["id"]]
        assert 1 <= len(lines) <= 4
        subtotal = sum((i["unit_price"] * i["quantity"] for i in lines), Decimal("0"))
        assert isinstance(order["total"], Decimal)
        assert order["subtotal"] == subtotal
        assert order["total"] == order["subtotal"] + order["shipping_fee"] + order["tax"]
        assert order["tax"] >= 0 and order["shipping_fee"] >= 0


def test_items_reference_real_catalog_products(store: dict[str, Any]) -> None:
    catalog = {p.id: p for p in read_catalog_jsonl(store["out"] / "catalog.jsonl")}
    for item in _rows(store["dump"], "order_items"):
        product = catalog[item["product_id"]]
        assert item["product_name"] == product.name
        assert item["unit_price"] == Decimal(str(product.price)).quantize(Decimal("0.01"))


def test_customers_orders_and_numbers(store: dict[str, Any]) -> None:
    customers = {c["id"]: c for c in _rows(store["dump"], "customers")}
    orders = _rows(store["dump"], "orders")
    for order in orders:
        email = customers[order["customer_id"]]["email"]
        assert re.fullmatch(r"[a-z]+\.[a-z]+\d*@example\.(com|org)", email)
        assert re.fullmatch(r"\d{6}", order["number"])
        assert order["placed_at"] < dt.datetime.combine(REFERENCE, dt.time())
        assert order["placed_at"] > dt.datetime.combine(REFERENCE, dt.time()) - dt.timedelta(
            days=121
        )
    assert len({o["number"] for o in orders}) == len(orders)


def test_delivered_orders_straddle_the_return_window(store: dict[str, Any]) -> None:
    now = dt.datetime.combine(REFERENCE, dt.time())
    delivered = {o["id"] for o in _rows(store["dump"], "orders") if o["status"] == "delivered"}
    ages = [
        (now - s["delivered_at"]).days
        for s in _rows(store["dump"], "shipments")
        if s["order_id"] in delivered
    ]
    assert len(ages) == len(delivered)
    assert any(age <= 30 for age in ages) and any(age > 30 for age in ages)


def test_shipments_payments_refunds_returns_invoices(store: dict[str, Any]) -> None:
    dump = store["dump"]
    orders = {o["id"]: o for o in _rows(dump, "orders")}
    shipments = {s["order_id"]: s for s in _rows(dump, "shipments")}
    shapes = {
        "UPS": r"1Z[A-Z0-9]{16}",
        "FedEx": r"\d{12}",
        "USPS": r"9400\d{18}",
        "DHL": r"\d{10}",
    }
    for order_id, order in orders.items():
        has_shipment = order_id in shipments
        assert has_shipment == (order["status"] in {"shipped", "delivered", "returned"})
        if has_shipment:
            shipment = shipments[order_id]
            assert re.fullmatch(shapes[shipment["carrier"]], shipment["tracking_number"])
    refunded = {r["order_id"] for r in _rows(dump, "refunds")}
    returned = {r["order_id"] for r in _rows(dump, "return_requests")}
    for order_id, order in orders.items():
        if order["status"] in {"cancelled", "returned"}:
            assert order_id in refunded
        if order["status"] == "returned":
            assert order_id in returned
    for order_id in refunded:
        total_refunded = sum(
            (r["amount"] for r in _rows(dump, "refunds") if r["order_id"] == order_id), Decimal("0")
        )
        assert total_refunded <= orders[order_id]["total"]
    invoices = {i["order_id"]: i for i in _rows(dump, "invoices")}
    for payment in _rows(dump, "payments"):
        assert (payment["order_id"] in invoices) == (payment["paid_at"] is not None)
        if payment["paid_at"] is not None:
            invoice = invoices[payment["order_id"]]
            assert re.fullmatch(r"INV-20\d\d-\d{6}", invoice["number"])
            assert invoice["amount"] == payment["amount"] == orders[payment["order_id"]]["total"]


def test_demo_customers_file(store: dict[str, Any]) -> None:
    text = (store["out"] / "demo_customers.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"\| \d{6} \|", line)]
    assert 5 <= len(rows) <= 12
    numbers = {o["number"]: o for o in _rows(store["dump"], "orders")}
    emails = {c["id"]: c["email"] for c in _rows(store["dump"], "customers")}
    for row in rows:
        number, email, _name, status = (cell.strip() for cell in row.strip("|").split("|")[:4])
        assert numbers[number]["status"] == status
        assert emails[numbers[number]["customer_id"]] == email


def test_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match="n_customers"):
        PrepareStoreArgs(n_customers=0)
    with pytest.raises(ValueError, match="reference_date"):
        PrepareStoreArgs(reference_date="15/01/2026")  # type: ignore[arg-type]
    assert PrepareStoreArgs(out_dir="x").resolved_db_url == "sqlite:///x/shop.db"
    assert PrepareStoreArgs().resolved_db_url == "sqlite:///var/store/shop.db"


def test_command_line_smoke(tmp_path: Path) -> None:
    from training.prepare_store import main

    summary = main(
        [
            "--out-dir",
            str(tmp_path),
            "--n-customers",
            "5",
            "--n-orders",
            "20",
            "--reference-date",
            "2026-01-15",
            "--catalog-path",
            str(ROOT / "data/demo/catalog/amazon_products_sample1000.csv"),
            "--faq-path",
            str(ROOT / "data/demo/faq/ecommerce_faq.csv"),
        ]
    )
    assert summary["rows"]["orders"] == 20
    assert (tmp_path / "shop.db").is_file() and (tmp_path / "demo_customers.md").is_file()


@pytest.mark.postgres
def test_postgresql_gets_the_same_rows(store: dict[str, Any], tmp_path: Path) -> None:
    """A real PostgreSQL server on loopback (``SHOPBOT_TEST_POSTGRES_URL`` to use another)."""
    server = None
    url = os.environ.get("SHOPBOT_TEST_POSTGRES_URL")
    if not url:
        server = PostgresServer(postgres_or_skip(), free_port()).start()
        url = server.create_database("prepare_store")
    try:
        run_prepare_store(_args(tmp_path, db_url=url))
        summary = run_prepare_store(_args(tmp_path, db_url=url))  # idempotent on PostgreSQL too
        assert _dump(summary["db_url"]) == store["dump"]
        engine = create_engine_from_url(url)
        try:
            with engine.begin() as conn:  # sequences moved past the seeded ids
                next_id = conn.execute(
                    text("SELECT nextval(pg_get_serial_sequence('orders', 'id'))")
                ).scalar_one()
                assert next_id == SIZES["n_orders"] + 1
        finally:
            engine.dispose()
    finally:
        if server is not None:
            server.stop()
