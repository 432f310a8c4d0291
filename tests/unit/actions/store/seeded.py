"""A small seeded demo store for the store-service and action tests (not collected: no test_ prefix).

Seeded once per test session with ``training.prepare_store`` (fixed seed and reference date), copied
per test, and looked up by status so no test hard-codes an order number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from actions.store.policy import return_deadline
from actions.store.schema import create_engine_from_url

ROOT = Path(__file__).resolve().parents[4]
REFERENCE = dt.date(2026, 1, 15)
NOW = dt.datetime(2026, 1, 15, 12, 0)
SIZES = {"n_customers": 60, "n_orders": 240, "seed": 7}


def seed_store(out_dir: Path, db_url: str | None = None) -> str:
    """Seed the demo store into ``out_dir`` (or ``db_url``); return the database URL."""
    from training.prepare_store import PrepareStoreArgs, run_prepare_store

    args = PrepareStoreArgs(
        catalog_path=str(ROOT / "data/demo/catalog/amazon_products_sample1000.csv"),
        faq_path=str(ROOT / "data/demo/faq/ecommerce_faq.csv"),
        out_dir=str(out_dir),
        db_url=db_url,
        reference_date=REFERENCE,
        **SIZES,
    )
    run_prepare_store(args)
    return args.resolved_db_url


@dataclass(frozen=True)
class Pick:
    """A seeded order and its owner."""

    number: str
    email: str
    customer_id: int


def pick_orders(db_url: str, today: dt.date = REFERENCE) -> dict[str, Pick]:
    """One order per situation the flows care about, found by status in the seeded database.

    Keys: ``processing`` and ``processing_2`` (payment captured, two customers), ``authorized`` (processing, only authorised),
    ``shipped``, ``delivered`` (inside the return window, two or more returnable items, no open
    return), ``delivered_one`` (inside, exactly one item), ``outside`` (delivered, window closed),
    ``cancelled``, ``returned``, ``other_customer`` (a processing order of a different customer than
    ``processing``).
    """
    engine = create_engine_from_url(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT o.number, c.email, c.id, o.status, o.placed_at, p.status, "
                    "(SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id) AS n_items, "
                    "(SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id "
                    "   AND i.final_sale) AS n_final, "
                    "(SELECT COUNT(*) FROM return_requests r WHERE r.order_id = o.id) AS n_returns "
                    "FROM orders o JOIN customers c ON c.id = o.customer_id "
                    "JOIN payments p ON p.order_id = o.id ORDER BY o.id DESC"
                )
            ).all()
    finally:
        engine.dispose()
    picks: dict[str, Pick] = {}

    def take(key: str, row: tuple) -> None:
        if key not in picks:
            picks[key] = Pick(row[0], row[1], row[2])

    for row in rows:
        _number, _email, _cid, status, placed, pay, n_items, n_final, n_returns = row
        placed = placed if isinstance(placed, dt.datetime) else dt.datetime.fromisoformat(placed)
        inside = today <= return_deadline(placed)
        if status == "processing" and pay == "captured":
            if "processing" in picks and picks["processing"].customer_id != row[2]:
                take("processing_2", row)
            take("processing", row)
        elif status == "processing" and pay == "authorized":
            take("authorized", row)
        elif status == "shipped":
            take("shipped", row)
        elif status == "delivered" and inside and not n_final and not n_returns:
            take("delivered" if n_items >= 2 else "delivered_one", row)
        elif status == "delivered" and not inside:
            take("outside", row)
        elif status in ("cancelled", "returned"):
            take(status, row)
    for row in rows:
        if row[3] == "processing" and row[2] != picks["processing"].customer_id:
            take("other_customer", row)
    missing = {
        "processing", "processing_2", "authorized", "shipped", "delivered", "delivered_one", "outside",
        "cancelled", "returned", "other_customer",
    } - set(picks)  # fmt: skip
    if missing:
        raise AssertionError(
            f"The seeded store has no order for {sorted(missing)}; seed more orders."
        )
    return picks
