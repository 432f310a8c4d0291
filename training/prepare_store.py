"""Build the demo store's data: normalised catalog, FAQ, and a deterministically seeded order database.

Writes ``<out_dir>/catalog.jsonl``, ``<out_dir>/faq.jsonl``, ``<out_dir>/demo_customers.md`` and the
order database (default ``sqlite:///var/store/shop.db``). Same seed + same reference date → the
same rows, byte for byte; re-running drops and recreates the store tables.

Run: ``.venv/bin/python -m training.prepare_store [--reference-date 2026-01-15] [--seed 7]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tqdm import tqdm

from actions.store.policy import (
    FREE_STANDARD_SHIPPING_FROM,
    RETURN_WINDOW_DAYS,
    return_deadline,
    shipping_method,
)
from knowledge.catalog.jsonl import write_catalog_jsonl
from knowledge.catalog.load import load_catalog
from knowledge.catalog.mappings import get_mapping
from knowledge.catalog.model import Product
from knowledge.faq import load_faq, write_faq_jsonl

logger = logging.getLogger(__name__)

__all__ = [
    "PrepareStoreArgs",
    "StoreData",
    "generate_store_data",
    "main",
    "run_prepare_store",
    "write_demo_customers",
    "write_store_database",
]


@dataclass
class PrepareStoreArgs:
    """Arguments of ``run_prepare_store`` (each field is also a ``--flag``)."""

    catalog_path: str = field(
        default="data/demo/catalog/amazon_products_sample1000.csv",
        metadata={"help": "The store's catalog export (CSV, JSON list or JSON lines)."},
    )
    catalog_mapping: str = field(
        default="amazon_2020",
        metadata={
            "help": "Column-mapping preset (amazon_2020, adidas_us, myntra) or mapping file."
        },
    )
    faq_path: str = field(
        default="data/demo/faq/ecommerce_faq.csv",
        metadata={"help": "FAQ source: CSV (id,question,answer) or JSON {'questions': [...]}."},
    )
    out_dir: str = field(
        default="var/store",
        metadata={"help": "Folder for catalog.jsonl, faq.jsonl and the demo list."},
    )
    db_url: str | None = field(
        default=None,
        metadata={"help": "Order database URL; default sqlite:///<out_dir>/shop.db."},
    )
    seed: int = field(default=7, metadata={"help": "Random seed of the generated orders."})
    n_customers: int = field(default=300, metadata={"help": "Number of customers to create."})
    n_orders: int = field(default=1200, metadata={"help": "Number of orders to create."})
    reference_date: dt.date | None = field(
        default=None,
        metadata={"help": "ISO date the data is generated relative to ('today'); default: today."},
    )

    def __post_init__(self) -> None:
        if self.n_customers < 1:
            raise ValueError(
                f"n_customers must be at least 1. Currently, n_customers is {self.n_customers}."
            )
        if self.n_orders < 0:
            raise ValueError(f"n_orders must be >= 0. Currently, n_orders is {self.n_orders}.")
        if isinstance(self.reference_date, str):  # from a config file or the command line
            try:
                self.reference_date = dt.date.fromisoformat(self.reference_date)
            except ValueError:
                raise ValueError(
                    f"reference_date {self.reference_date!r} is not an ISO date; use YYYY-MM-DD."
                ) from None

    @property
    def resolved_db_url(self) -> str:
        """``db_url``, or the SQLite file ``<out_dir>/shop.db``."""
        return self.db_url or f"sqlite:///{Path(self.out_dir) / 'shop.db'}"

    @property
    def resolved_reference_date(self) -> dt.date:
        """``reference_date``, or today's UTC date."""
        return self.reference_date or dt.datetime.now(dt.timezone.utc).date()


# --------------------------------------------------------------------------------------------------
# Seed pools (fictional people; real US cities with a real ZIP and area code)
# --------------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Maria", "James", "Aisha", "Wei", "Sofia", "Daniel", "Priya", "Carlos", "Emily", "Noah",
    "Fatima", "Liam", "Olivia", "Mateo", "Hannah", "Kenji", "Chloe", "Omar", "Grace", "Lucas",
    "Isabella", "Ethan", "Mei", "Diego", "Ava", "Samuel", "Zara", "Benjamin", "Leila", "Jacob",
    "Nina", "Arjun", "Ruby", "Elena", "Marcus", "Yuki", "Camila", "David", "Amara", "Henry",
    "Lucia", "Jamal", "Sarah", "Tomas", "Ines", "Kwame", "Rosa", "Michael", "Anika", "Patrick",
)  # fmt: skip
LAST_NAMES = (
    "Garcia", "Smith", "Johnson", "Nguyen", "Patel", "Kim", "Rodriguez", "Brown", "Chen",
    "Williams", "Martinez", "Okafor", "Jones", "Lopez", "Davis", "Singh", "Miller", "Hernandez",
    "Wilson", "Tanaka", "Anderson", "Gonzalez", "Thomas", "Ali", "Taylor", "Moore", "Jackson",
    "Rossi", "Martin", "Lee", "Perez", "Thompson", "White", "Sanchez", "Harris", "Clark", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "Wright", "Scott", "Torres", "Green", "Adams",
    "Baker", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson", "O'Brien", "Kowalski", "Schmidt",
)  # fmt: skip
STREETS = (
    "Main St", "Oak St", "Maple Ave", "Cedar Ln", "Pine St", "Elm St", "Washington Ave",
    "Lake Dr", "Hillside Rd", "Park Ave", "2nd St", "Sunset Blvd", "River Rd", "Highland Ave",
    "Church St", "Jefferson St", "Lincoln Ave", "Willow Way", "Meadow Ln", "Franklin St",
)  # fmt: skip
# (city, state, ZIP, area code, state base sales tax rate in percent — approximate, for the demo)
CITIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("New York", "NY", "10001", "212", "4.0"),
    ("Los Angeles", "CA", "90012", "213", "7.25"),
    ("Chicago", "IL", "60601", "312", "6.25"),
    ("Houston", "TX", "77002", "713", "6.25"),
    ("Phoenix", "AZ", "85004", "602", "5.6"),
    ("Philadelphia", "PA", "19103", "215", "6.0"),
    ("San Antonio", "TX", "78205", "210", "6.25"),
    ("San Diego", "CA", "92101", "619", "7.25"),
    ("Dallas", "TX", "75201", "214", "6.25"),
    ("Austin", "TX", "78701", "512", "6.25"),
    ("Jacksonville", "FL", "32202", "904", "6.0"),
    ("San Jose", "CA", "95113", "408", "7.25"),
    ("Columbus", "OH", "43215", "614", "5.75"),
    ("Charlotte", "NC", "28202", "704", "4.75"),
    ("Indianapolis", "IN", "46204", "317", "7.0"),
    ("Seattle", "WA", "98101", "206", "6.5"),
    ("Denver", "CO", "80202", "303", "2.9"),
    ("Boston", "MA", "02108", "617", "6.25"),
    ("Nashville", "TN", "37203", "615", "7.0"),
    ("Portland", "OR", "97204", "503", "0.0"),
    ("Las Vegas", "NV", "89101", "702", "6.85"),
    ("Detroit", "MI", "48226", "313", "6.0"),
    ("Baltimore", "MD", "21202", "410", "6.0"),
    ("Milwaukee", "WI", "53202", "414", "5.0"),
    ("Albuquerque", "NM", "87102", "505", "4.875"),
    ("Sacramento", "CA", "95814", "916", "7.25"),
    ("Atlanta", "GA", "30303", "404", "4.0"),
    ("Miami", "FL", "33130", "305", "6.0"),
    ("Minneapolis", "MN", "55401", "612", "6.875"),
    ("Raleigh", "NC", "27601", "919", "4.75"),
    ("Omaha", "NE", "68102", "402", "5.5"),
    ("Kansas City", "MO", "64105", "816", "4.225"),
    ("Salt Lake City", "UT", "84111", "801", "4.85"),
    ("Pittsburgh", "PA", "15222", "412", "6.0"),
    ("New Orleans", "LA", "70112", "504", "5.0"),
    ("Tampa", "FL", "33602", "813", "6.0"),
    ("Honolulu", "HI", "96813", "808", "4.0"),
    ("Anchorage", "AK", "99501", "907", "0.0"),
    ("Burlington", "VT", "05401", "802", "6.0"),
    ("Boise", "ID", "83702", "208", "6.0"),
    ("Richmond", "VA", "23219", "804", "5.3"),
)
EMAIL_DOMAINS = ("example.com", "example.com", "example.com", "example.org")

STATUS_MIX = {"processing": 20, "shipped": 25, "delivered": 40, "cancelled": 7, "returned": 8}
"""Target share (percent) of each order status; counts are allocated exactly, then shuffled."""

# RETURN_WINDOW_DAYS (counted from purchase, as the FAQ says), the shipping fees and transit times
# and FREE_STANDARD_SHIPPING_FROM come from actions.store.policy, so the seeded orders follow the
# rules the store service applies.

# (method, weight, fee, transit days min, max)
SHIPPING = tuple(
    (code, weight, method.fee, method.min_days, method.max_days)
    for code, weight in (("standard", 70), ("express", 22), ("next_day", 8))
    if (method := shipping_method(code)) is not None
)
FINAL_SALE_ONE_IN = 12
"""About one catalog product in this many is sold as final sale (clearance), chosen by id hash."""
CARRIER_WEIGHTS = {"UPS": 35, "FedEx": 25, "USPS": 30, "DHL": 10}
PAYMENT_WEIGHTS = {"card": 60, "paypal": 20, "apple_pay": 10, "google_pay": 5, "gift_card": 5}
RETURN_REASONS = (
    "Item arrived damaged",
    "Wrong size or fit",
    "Not as described",
    "Changed my mind",
    "Received the wrong item",
    "Defective, does not work",
)
CANCEL_REASONS = (
    "Ordered by mistake",
    "Found a better price",
    "Delivery takes too long",
    "Changed my mind",
)
_CENT = Decimal("0.01")


# --------------------------------------------------------------------------------------------------
# Generation (pure: rows as dicts; no database)
# --------------------------------------------------------------------------------------------------


def _add_row(rows: list[dict[str, Any]], row: dict[str, Any]) -> int:
    """Append ``row`` to a table with the next id (1, 2, ...) and return that id."""
    row_id = len(rows) + 1
    rows.append({"id": row_id, **row})
    return row_id


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT)


def _ascii_local(text: str) -> str:
    """``"O'Brien"`` → ``"obrien"`` (email local parts from names)."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _allocate(mix: dict[str, int], total: int, rng: random.Random) -> list[str]:
    """Exactly ``total`` labels in the proportions of ``mix`` (largest remainder), shuffled.

    Every label with a positive weight appears once ``total`` is at least ``len(mix)``.
    """
    weight_sum = sum(mix.values())
    exact = {k: total * w / weight_sum for k, w in mix.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for key in sorted(mix, key=lambda k: exact[k] - counts[k], reverse=True):
        if sum(counts.values()) >= total:
            break
        counts[key] += 1
    if total >= len(mix):
        for key in mix:  # small runs: take one from the largest label for each missing one
            if counts[key] == 0:
                largest = max(counts, key=lambda k: counts[k])
                counts[largest] -= 1
                counts[key] = 1
    labels = [key for key in mix for _ in range(counts[key])]
    rng.shuffle(labels)
    return labels


def _tracking_number(carrier: str, rng: random.Random) -> str:
    """A carrier-shaped tracking number (format only; check digits are not computed).

    UPS ``1Z`` + 6 shipper chars + 2-digit service + 8 digits; FedEx 12 digits; USPS 22 digits
    starting ``9400``; DHL Express 10 digits.
    """
    digits = "0123456789"
    if carrier == "UPS":
        shipper = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(6))
        return "1Z" + shipper + rng.choice(("01", "02", "03")) + "".join(rng.choices(digits, k=8))
    if carrier == "FedEx":
        return rng.choice("4567") + "".join(rng.choices(digits, k=11))
    if carrier == "USPS":
        return "9400" + "".join(rng.choices(digits, k=18))
    return "".join(rng.choices(digits, k=10))


def _final_sale(product: Product) -> bool:
    """Whether ``product`` is sold as final sale: a stable hash of its id, so no random draw is used
    (the seeded orders stay the same whether or not a store marks final-sale items)."""
    digest = hashlib.sha256(product.id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % FINAL_SALE_ONE_IN == 0


def _at(day: dt.date, rng: random.Random, start_hour: int = 7, end_hour: int = 22) -> dt.datetime:
    """A time of day on ``day`` (seconds resolution)."""
    seconds = rng.randint(start_hour * 3600, end_hour * 3600 - 1)
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)


@dataclass
class StoreData:
    """Every table's rows, ready for ``insert`` (ids assigned; money as ``Decimal``)."""

    tables: dict[str, list[dict[str, Any]]]
    reference_date: dt.date
    currency: str

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {name: len(rows) for name, rows in self.tables.items()}


def generate_store_data(
    products: Sequence[Product],
    n_customers: int,
    n_orders: int,
    seed: int,
    reference_date: dt.date,
    progress: bool = False,
) -> StoreData:
    """Generate customers, addresses and orders with their items, shipments, payments, refunds,
    returns and invoices. Deterministic in (products, counts, seed, reference_date).

    Orders buy real catalog products (id, name, price). Dates lie before ``reference_date``
    (midnight, naive UTC): processing 0–3 days ago, shipped 2–7, delivered 10–120 (some inside,
    some outside the 30-day return window), returned 25–120, cancelled 1–120.

    Raises:
        ValueError: If no product has a positive price.
    """
    rng = random.Random(seed)
    priced = [p for p in products if p.price > 0]
    if not priced:
        raise ValueError(
            "The catalog has no product with a positive price; orders need real products. "
            "Check catalog_path and catalog_mapping (price_column, price_parser)."
        )
    currency = Counter(p.currency for p in priced).most_common(1)[0][0]
    priced = [p for p in priced if p.currency == currency]
    now = dt.datetime.combine(reference_date, dt.time())
    tax_rates = {city[1]: Decimal(city[4]) / 100 for city in CITIES}

    # Customers and addresses -----------------------------------------------------------------------
    customers: list[dict[str, Any]] = []
    addresses: list[dict[str, Any]] = []
    addresses_of: dict[int, list[dict[str, Any]]] = {}
    emails: set[str] = set()
    for cid in range(1, n_customers + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        domain = rng.choice(EMAIL_DOMAINS)
        local = f"{_ascii_local(first)}.{_ascii_local(last)}"
        email, n = f"{local}@{domain}", 2
        while email in emails:
            email, n = f"{local}{n}@{domain}", n + 1
        emails.add(email)
        home = rng.choice(CITIES)
        customers.append(
            {
                "id": cid,
                "name": f"{first} {last}",
                "email": email,
                "phone": f"({home[3]}) 555-01{rng.randint(0, 99):02d}",  # 555-01xx: fictional
                "created_at": _at(reference_date - dt.timedelta(days=rng.randint(130, 1200)), rng),
            }
        )
        own = []
        for city in [home] + ([rng.choice(CITIES)] if rng.random() < 0.15 else []):
            address = {
                "id": len(addresses) + 1,
                "customer_id": cid,
                "line1": f"{rng.randint(10, 9899)} {rng.choice(STREETS)}",
                "line2": f"Apt {rng.randint(1, 40)}{rng.choice('ABCD')}"
                if rng.random() < 0.2
                else None,
                "city": city[0],
                "region": city[1],
                "postal_code": city[2],
                "country": "US",
            }
            addresses.append(address)
            own.append(address)
        addresses_of[cid] = own

    # Orders ----------------------------------------------------------------------------------------
    # A few loyal customers order often: weights from a Pareto draw.
    weights = [rng.paretovariate(1.6) for _ in customers]
    buyers = rng.choices([c["id"] for c in customers], weights=weights, k=n_orders)
    statuses = _allocate(STATUS_MIX, n_orders, rng)
    drafts: list[dict[str, Any]] = []
    for buyer, status in tqdm(
        list(zip(buyers, statuses, strict=True)), desc="orders", unit="order", disable=not progress
    ):
        drafts.append(_draft_order(rng, buyer, status, priced, addresses_of, tax_rates, now))

    # Number orders in time order, like a real store: ids and order numbers both increase.
    drafts.sort(key=lambda d: (d["order"]["placed_at"], d["order"]["customer_id"]))
    numbers = sorted(rng.sample(range(100000, 1000000), n_orders))
    tables: dict[str, list[dict[str, Any]]] = {
        "customers": customers,
        "addresses": addresses,
        "orders": [],
        "order_items": [],
        "shipments": [],
        "payments": [],
        "return_requests": [],
        "refunds": [],
        "invoices": [],
    }
    return_ids = iter(sorted(rng.sample(range(100000, 1000000), max(1, 4 * n_orders))))
    tracking_seen: set[str] = set()
    for order_id, (draft, number) in enumerate(zip(drafts, numbers, strict=True), start=1):
        order = {"id": order_id, "number": f"{number:06d}", **draft["order"]}
        tables["orders"].append(order)
        item_ids = []
        for item in draft["items"]:
            item_id = len(tables["order_items"]) + 1
            item_ids.append(item_id)
            tables["order_items"].append({"id": item_id, "order_id": order_id, **item})
        for shipment in draft["shipments"]:
            tracking = _tracking_number(shipment["carrier"], rng)
            while tracking in tracking_seen:
                tracking = _tracking_number(shipment["carrier"], rng)
            tracking_seen.add(tracking)
            _add_row(
                tables["shipments"],
                {"order_id": order_id, "tracking_number": tracking, **shipment},
            )
        for payment in draft["payments"]:
            _add_row(tables["payments"], {"order_id": order_id, **payment})
        for ret in draft["returns"]:
            return_id = f"RET-{next(return_ids)}"
            rr_id = _add_row(
                tables["return_requests"],
                {
                    "return_id": return_id,
                    "order_id": order_id,
                    "item_id": item_ids[ret["item_index"]],
                    "reason": ret["reason"],
                    "status": ret["status"],
                    "created_at": ret["created_at"],
                },
            )
            if ret["refund"] is not None:
                refund = dict(ret["refund"])
                refund["reason"] = f"Return {return_id}: {ret['reason']}"
                _add_row(
                    tables["refunds"], {"order_id": order_id, "return_request_id": rr_id, **refund}
                )
        for refund in draft["refunds"]:
            _add_row(tables["refunds"], {"order_id": order_id, "return_request_id": None, **refund})

    # Invoices for every paid (captured) payment, numbered per year in issue order.
    paid = sorted(
        (p for p in tables["payments"] if p["paid_at"] is not None),
        key=lambda p: (p["paid_at"], p["order_id"]),
    )
    per_year: Counter[int] = Counter()
    for payment in paid:
        year = payment["paid_at"].year
        per_year[year] += 1
        tables["invoices"].append(
            {
                "id": len(tables["invoices"]) + 1,
                "order_id": payment["order_id"],
                "number": f"INV-{year}-{per_year[year]:06d}",
                "issued_at": payment["paid_at"],
                "amount": payment["amount"],
            }
        )
    return StoreData(tables=tables, reference_date=reference_date, currency=currency)


def _draft_order(
    rng: random.Random,
    customer_id: int,
    status: str,
    products: Sequence[Product],
    addresses_of: dict[int, list[dict[str, Any]]],
    tax_rates: dict[str, Decimal],
    now: dt.datetime,
) -> dict[str, Any]:
    """One order with everything hanging off it, without ids (assigned once orders are sorted)."""
    today = now.date()
    address = rng.choice(addresses_of[customer_id])
    method, _, fee, transit_min, transit_max = rng.choices(
        SHIPPING, weights=[s[1] for s in SHIPPING]
    )[0]

    # When: each status has a plausible age.
    if status == "processing":
        placed = now - dt.timedelta(minutes=rng.randint(20, 3 * 24 * 60))
    else:
        low, high = {"shipped": (2, 7), "delivered": (10, 120), "returned": (25, 120)}.get(
            status, (1, 120)
        )
        placed = _at(today - dt.timedelta(days=rng.randint(low, high)), rng)

    # What: 1–4 distinct real products, mostly one unit each.
    n_items = rng.choices((1, 2, 3, 4), weights=(50, 28, 14, 8))[0]
    picked = rng.sample(products, min(n_items, len(products)))
    items: list[dict[str, Any]] = []
    for product in picked:
        quantity = rng.choices((1, 2, 3), weights=(82, 14, 4))[0]
        items.append(
            {
                "product_id": product.id,
                "product_name": product.name[:500],
                "unit_price": _money(Decimal(str(product.price))),
                "quantity": quantity,
                "status": status,
                "final_sale": _final_sale(product),
            }
        )
    subtotal = _money(sum((i["unit_price"] * i["quantity"] for i in items), Decimal("0")))
    free_from = FREE_STANDARD_SHIPPING_FROM
    if method == "standard" and free_from is not None and subtotal >= free_from:
        fee = Decimal("0.00")
    rate = tax_rates.get(address["region"], Decimal("0"))
    tax = _money(subtotal * rate)
    total = subtotal + fee + tax
    order = {
        "customer_id": customer_id,
        "status": status,
        "placed_at": placed,
        "cancelled_at": None,
        "currency": products[0].currency,
        "subtotal": subtotal,
        "shipping_fee": fee,
        "tax": tax,
        "total": total,
        "shipping_address_id": address["id"],
        "shipping_method": method,
    }

    # How it was paid: captured at checkout, except some fresh orders still only authorised.
    pay_method = rng.choices(list(PAYMENT_WEIGHTS), weights=list(PAYMENT_WEIGHTS.values()))[0]
    captured = not (status == "processing" and rng.random() < 0.3)
    payment = {
        "method": pay_method,
        "last4": f"{rng.randint(0, 9999):04d}" if pay_method == "card" else None,
        "amount": total,
        "status": "captured" if captured else "authorized",
        "paid_at": placed + dt.timedelta(seconds=rng.randint(5, 600)) if captured else None,
    }

    shipments: list[dict[str, Any]] = []
    returns: list[dict[str, Any]] = []
    refunds: list[dict[str, Any]] = []
    if status in ("shipped", "delivered", "returned"):
        carriers = ("UPS", "FedEx") if method == "next_day" else tuple(CARRIER_WEIGHTS)
        carrier = rng.choices(carriers, weights=[CARRIER_WEIGHTS[c] for c in carriers])[0]
        shipped_at = placed + dt.timedelta(hours=rng.randint(6, 40))
        if shipped_at >= now:
            shipped_at = placed + (now - placed) / 2
        transit = rng.randint(transit_min, transit_max)
        eta = shipped_at.date() + dt.timedelta(days=transit)
        shipment: dict[str, Any] = {
            "carrier": carrier,
            "shipped_at": shipped_at,
            "estimated_delivery": eta,
            "delivered_at": None,
        }
        if status == "shipped":
            if eta < today and rng.random() < 0.7:
                eta = today + dt.timedelta(days=rng.randint(0, 2))  # the carrier revised its ETA
                shipment["estimated_delivery"] = eta
            if eta < today:
                shipment["status"] = "exception"  # late: the carrier reported a delay
            elif eta == today:
                shipment["status"] = "out_for_delivery"
            else:
                shipment["status"] = "in_transit"
        else:
            late = rng.random() < 0.1
            delivered_day = eta + dt.timedelta(days=rng.randint(1, 2) if late else 0)
            shipment["delivered_at"] = min(_at(delivered_day, rng, 9, 20), now)
            shipment["status"] = "delivered"
        shipments.append(shipment)

    if status == "cancelled":
        cancelled_at = placed + dt.timedelta(minutes=rng.randint(15, 20 * 60))
        order["cancelled_at"] = cancelled_at
        refund = _refund(
            rng, total, f"Order cancelled: {rng.choice(CANCEL_REASONS)}", cancelled_at, now
        )
        refunds.append(refund)
        payment["status"] = "refunded" if refund["status"] == "completed" else "captured"
    elif status == "returned":
        delivered_at = shipments[0]["delivered_at"]
        refunded = Decimal("0")
        reason = rng.choice(RETURN_REASONS)
        requested = min(
            delivered_at + dt.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 12)), now
        )
        tax_left = tax
        for index, item in enumerate(items):
            item["status"] = "returned"
            # The item's price plus its share of the tax (the last item takes the rounding rest,
            # so refunds never exceed what was paid); shipping is not refunded.
            line = item["unit_price"] * item["quantity"]
            tax_share = (
                tax_left
                if index == len(items) - 1
                else min(_money(tax * line / subtotal), tax_left)
            )
            tax_left -= tax_share
            amount = line + tax_share
            refund = _refund(rng, amount, "", requested + dt.timedelta(days=rng.randint(3, 8)), now)
            if refund["status"] == "completed":
                refunded += amount
            returns.append(
                {
                    "item_index": index,
                    "reason": reason,
                    "status": "refunded" if refund["status"] == "completed" else "received",
                    "created_at": requested,
                    "refund": refund,
                }
            )
        if refunded:
            payment["status"] = "refunded" if refunded >= total else "partially_refunded"
    elif status == "delivered":
        delivered_at = shipments[0]["delivered_at"]
        for item in items:
            item["status"] = "delivered"
        # Some recent orders have an open return request on one item (to demo the flow); the
        # window counts from purchase, like the store service's.
        in_window = today <= return_deadline(placed)
        if in_window and rng.random() < 0.15:
            index = rng.randrange(len(items))
            items[index]["status"] = "return_requested"
            returns.append(
                {
                    "item_index": index,
                    "reason": rng.choice(RETURN_REASONS),
                    "status": rng.choice(("requested", "approved")),
                    "created_at": min(delivered_at + dt.timedelta(days=rng.randint(1, 5)), now),
                    "refund": None,
                }
            )
    return {
        "order": order,
        "items": items,
        "shipments": shipments,
        "payments": [payment],
        "returns": returns,
        "refunds": refunds,
    }


def _refund(
    rng: random.Random, amount: Decimal, reason: str, created_at: dt.datetime, now: dt.datetime
) -> dict[str, Any]:
    """A refund created at ``created_at`` (capped at ``now``); done after 2–6 days if that has passed."""
    created_at = min(created_at, now)
    completed_at = created_at + dt.timedelta(days=rng.randint(2, 6), hours=rng.randint(0, 12))
    done = completed_at <= now
    return {
        "amount": amount,
        "status": "completed" if done else "processing",
        "reason": reason,
        "created_at": created_at,
        "completed_at": completed_at if done else None,
    }


# --------------------------------------------------------------------------------------------------
# Database and files
# --------------------------------------------------------------------------------------------------

# Parents before children, so foreign keys hold at every insert.
_INSERT_ORDER = (
    "customers",
    "addresses",
    "orders",
    "order_items",
    "shipments",
    "payments",
    "return_requests",
    "refunds",
    "invoices",
)


def write_store_database(data: StoreData, db_url: str) -> None:
    """Drop and recreate the store tables at ``db_url`` and insert ``data`` in one transaction."""
    from sqlalchemy import text

    from actions.store.schema import Base, create_engine_from_url, create_schema

    engine = create_engine_from_url(db_url)
    try:
        create_schema(engine, drop_existing=True)
        with engine.begin() as conn:
            for name in _INSERT_ORDER:
                rows = data.tables[name]
                if rows:
                    conn.execute(Base.metadata.tables[name].insert(), rows)
            if conn.dialect.name == "postgresql":
                # Explicit ids do not advance SERIAL sequences: move them past the seeded rows so
                # the store service's own inserts do not collide.
                for name in Base.metadata.tables:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
                        )
                    )
    finally:
        engine.dispose()


def _demo_rows(data: StoreData) -> list[tuple[str, str, str, str, str]]:
    """About ten (order number, email, name, status, what to try) rows covering every flow."""
    now = dt.datetime.combine(data.reference_date, dt.time())
    orders = data.tables["orders"]
    customers = {c["id"]: c for c in data.tables["customers"]}
    shipments = {s["order_id"]: s for s in data.tables["shipments"]}
    payments = {p["order_id"]: p for p in data.tables["payments"]}
    open_returns = {
        r["order_id"]
        for r in data.tables["return_requests"]
        if r["status"] in ("requested", "approved")
    }
    order_count = Counter(o["customer_id"] for o in orders)

    def days_since_purchase(order: dict[str, Any]) -> int:
        return (now.date() - order["placed_at"].date()).days

    final_sale = {i["order_id"] for i in data.tables["order_items"] if i["final_sale"]}

    picks: list[tuple[str, Any]] = [
        ("Cancel it (not shipped yet, payment captured)", lambda o: o["status"] == "processing" and payments[o["id"]]["status"] == "captured"),
        ("Cancel it (payment only authorised)", lambda o: o["status"] == "processing" and payments[o["id"]]["status"] == "authorized"),
        ("Track it (in transit)", lambda o: o["status"] == "shipped" and shipments[o["id"]]["status"] == "in_transit"),
        ("Track it (delayed: past its estimated delivery)", lambda o: o["status"] == "shipped" and shipments[o["id"]]["status"] == "exception"),
        ("Return an item (inside the 30-day window)", lambda o: o["status"] == "delivered" and o["id"] not in open_returns and o["id"] not in final_sale and days_since_purchase(o) <= 20),
        ("Return an item (outside the 30-day window: refuse)", lambda o: o["status"] == "delivered" and days_since_purchase(o) > RETURN_WINDOW_DAYS + 10),
        ("Return a final-sale item (refuse)", lambda o: o["status"] == "delivered" and o["id"] in final_sale and o["id"] not in open_returns and days_since_purchase(o) <= 20),
        ("Check the open return request", lambda o: o["id"] in open_returns),
        ("Ask about the refund (cancelled order)", lambda o: o["status"] == "cancelled"),
        ("Ask about the refund (returned order)", lambda o: o["status"] == "returned"),
        ("Ask for the invoice; list all orders (frequent shopper)", lambda o: order_count[o["customer_id"]] >= 5 and o["status"] == "delivered"),
    ]  # fmt: skip
    rows: list[tuple[str, str, str, str, str]] = []
    used: set[int] = set()
    for label, predicate in picks:
        for order in reversed(orders):  # the most recent matching order
            if order["customer_id"] in used or not predicate(order):
                continue
            customer = customers[order["customer_id"]]
            used.add(order["customer_id"])
            rows.append(
                (order["number"], customer["email"], customer["name"], order["status"], label)
            )
            break
    return rows


def write_demo_customers(data: StoreData, path: Path, db_url: str) -> int:
    """Write the markdown list of demo (order number, email, status) pairs; returns the row count."""
    rows = _demo_rows(data)
    lines = [
        "# Demo customers",
        "",
        f"Generated by `python -m training.prepare_store` for the reference date "
        f"{data.reference_date.isoformat()} (database `{db_url}`). All people are fictional; "
        "emails use example.com / example.org.",
        "",
        "| Order number | Email | Name | Status | Try |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {n} | {e} | {name} | {s} | {what} |" for n, e, name, s, what in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(rows)


def run_prepare_store(args: PrepareStoreArgs) -> dict[str, Any]:
    """Build catalog.jsonl, faq.jsonl, the seeded order database and demo_customers.md.

    Returns:
        A summary: resolved arguments, output paths, rows per table, order status counts,
        catalog rows skipped, and seconds taken.
    """
    started = time.perf_counter()
    reference_date = args.resolved_reference_date
    db_url = args.resolved_db_url
    config = {
        **dataclasses.asdict(args),
        "reference_date": reference_date.isoformat(),
        "db_url": db_url,
    }
    logger.info("prepare_store configuration: %s", json.dumps(config, sort_keys=True))
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    catalog = load_catalog(args.catalog_path, get_mapping(args.catalog_mapping))
    catalog_path = out_dir / "catalog.jsonl"
    write_catalog_jsonl(catalog.products, catalog_path)
    faq = load_faq(args.faq_path)
    faq_path = out_dir / "faq.jsonl"
    write_faq_jsonl(faq, faq_path)

    data = generate_store_data(
        catalog.products,
        n_customers=args.n_customers,
        n_orders=args.n_orders,
        seed=args.seed,
        reference_date=reference_date,
        progress=logger.isEnabledFor(logging.INFO),
    )
    write_store_database(data, db_url)
    demo_path = out_dir / "demo_customers.md"
    n_demo = write_demo_customers(data, demo_path, db_url)

    summary = {
        "config": config,
        "catalog": str(catalog_path),
        "faq": str(faq_path),
        "db_url": db_url,
        "demo_customers": str(demo_path),
        "products": len(catalog.products),
        "catalog_rows_skipped": [dataclasses.asdict(e) for e in catalog.errors],
        "faq_entries": len(faq),
        "rows": data.counts(),
        "order_status": dict(sorted(Counter(o["status"] for o in data.tables["orders"]).items())),
        "demo_rows": n_demo,
        "seconds": round(time.perf_counter() - started, 2),
    }
    logger.info("prepare_store done in %.2fs: %s", summary["seconds"], json.dumps(summary["rows"]))
    return summary


def _parser() -> argparse.ArgumentParser:
    """Command-line flags generated from ``PrepareStoreArgs`` (``--n-orders``, ...)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    for f in dataclasses.fields(PrepareStoreArgs):
        flag = "--" + f.name.replace("_", "-")
        default = f.default
        kind: Any = str
        if f.name in {"seed", "n_customers", "n_orders"}:
            kind = int
        elif f.name == "reference_date":
            kind = dt.date.fromisoformat
        parser.add_argument(
            flag, dest=f.name, type=kind, default=default, help=f.metadata.get("help")
        )
    return parser


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Entry point: parse flags, configure logging, run, print the summary as JSON."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    namespace = _parser().parse_args(argv)
    summary = run_prepare_store(PrepareStoreArgs(**vars(namespace)))
    print(json.dumps({k: v for k, v in summary.items() if k != "config"}, indent=2))
    return summary


if __name__ == "__main__":
    main()
