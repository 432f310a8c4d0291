"""Build the labelled set that measures the exports' masking (``tests/fixtures/masking``).

    python -m training.prepare_masking_eval [--store-db sqlite:///var/store/shop.db] [--seed 13]

Writes ``customers.json`` (the store customers the set uses: name, email, phone, addresses, read
from the demo order database) and ``labelled.jsonl``: one shopper message per line with the
character spans of its personal data (``{"text", "spans": [{"start", "end", "kind"}], "group",
"source"}``). ``group`` is ``pii`` (messages carrying personal data) or ``ordinary`` (order text
that must come through unchanged: real order numbers, totals, dates, catalog product names; its
order numbers are labelled ``order`` for ``mask_orders``). What is real and what was written for
this set is in the folder's ``PROVENANCE.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "tests" / "fixtures" / "masking"

# Written for this set (shopper phrasings around the personal data).
TEMPLATES: dict[str, tuple[str, ...]] = {
    "email": (
        "my email is {x}",
        "You can reach me at {x} if the parcel is late",
        "{x}",
        "I used {x} when I ordered, order {order}",
        "email: {x}, thanks",
        "please send the invoice to {x} instead",
    ),
    "phone": (
        "call me on {x}",
        "my number is {x}",
        "{x} is my cell",
        "text me at {x} when it ships",
        "you can phone {x} after 5pm",
        "my husband's number: {x}",
    ),
    "card": (
        "charge it to {x} please",
        "my card {x} was charged twice",
        "card number {x} exp 04/29",
        "I paid with {x} for order {order}",
    ),
    "address": (
        "ship it to {x}",
        "my address is {x}",
        "I moved to {x} last month",
        "deliver to {x}, leave it at the door",
        "is {x} in your delivery area?",
    ),
    "name": (
        "my name is {x}",
        "Hi, this is {x}, I ordered a kettle",
        "{x} here, order {order} is late",
        "the order is under {x}",
    ),
}
ORDINARY = (
    "order {order} arrived on {date} but the {product} is missing",
    "I was charged ${price} for order {order}",
    "can I return 2 of the {product}? order #{order}",
    "the {product} costs ${price}, is it on sale?",
    "tracking says delivered on {date}, order {order}",
    "I ordered 3 of the {product} on {date} and got 1",
    "order {order} total ${price}, I was expecting less",
    "is the {product} still in stock? I need it by {date}",
)
# Published test card numbers (payment processors' documentation: Visa, Mastercard incl. the 2-
# series, Amex, Discover, Diners Club, JCB, UnionPay; one 13-digit Visa); not real cards.
TEST_CARDS = (
    "4242424242424242",
    "4111111111111111",
    "4000056655665556",
    "5555555555554444",
    "5105105105105100",
    "2223003122003222",
    "378282246310005",
    "371449635398431",
    "6011111111111117",
    "6011000990139424",
    "30569309025904",
    "3530111333300000",
    "6200000000000005",
    "4222222222222",
)
# Numbers reserved for fiction or documentation (Ofcom drama ranges for the UK, ACMA's for
# Australia, ARCEP's 01 99 00 for France, NANP 555-01xx), in national and international forms.
INTERNATIONAL_PHONES = (
    "+44 20 7946 0958",
    "020 7946 0958",
    "+44 (0)20 7946 0018",
    "07700 900123",
    "+44 7700 900461",
    "+447700900982",
    "0044 20 7946 0321",
    "+61 2 5550 1234",
    "+61 491 570 156",
    "+33 1 99 00 12 34",
    "+1-202-555-0143",
    "+1 (416) 555-0199",
    "(555) 123-4567",
    "1-800-555-0199",
)
SUFFIXES = {"St": "Street", "Ave": "Avenue", "Ln": "Lane", "Rd": "Road", "Dr": "Drive"}
SUFFIXES.update({"Blvd": "Boulevard", "Way": "Way"})


@dataclass
class PrepareMaskingEvalArgs:
    """Arguments of the labelled set's build."""

    store_db: str = field(
        default="sqlite:///var/store/shop.db",
        metadata={"help": "The demo order database (written by `shopbot prepare`)."},
    )
    out_dir: str = field(default=str(OUT_DIR), metadata={"help": "Where to write the set."})
    customers: int = field(default=60, metadata={"help": "Customers to draw the data from."})
    seed: int = field(default=13, metadata={"help": "Random seed of the draw."})

    def __post_init__(self) -> None:
        if self.customers < 5:
            raise ValueError(
                f"customers must be at least 5. Currently, customers is {self.customers}."
            )


def _sqlite_file(url: str) -> Path:
    database = make_url(url).database or ""
    path = Path(database)
    return path if path.is_absolute() else ROOT / path


def read_store(url: str) -> dict[str, Any]:
    """Customers with their addresses, order numbers, totals and dates, and product names."""
    path = _sqlite_file(url)
    if not path.is_file():
        raise FileNotFoundError(
            f"store_db {url!r} has no database at {path}; run `shopbot prepare` first."
        )
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        people = {
            cid: {"name": name, "email": email, "phone": phone, "addresses": []}
            for cid, name, email, phone in conn.execute(
                "SELECT id, name, email, phone FROM customers ORDER BY id"
            )
        }
        for row in conn.execute(
            "SELECT customer_id, line1, line2, city, region, postal_code, country "
            "FROM addresses ORDER BY id"
        ):
            keys = ("line1", "line2", "city", "region", "postal_code", "country")
            people[row[0]]["addresses"].append(dict(zip(keys, row[1:], strict=True)))
        orders = conn.execute(
            "SELECT number, total, placed_at FROM orders ORDER BY number"
        ).fetchall()
    finally:
        conn.close()
    catalog = ROOT / "var" / "store" / "catalog.jsonl"
    products = []
    if catalog.is_file():
        with catalog.open(encoding="utf-8") as lines:
            products = [str(json.loads(line)["name"]) for line in lines if line.strip()]
    return {"people": list(people.values()), "orders": orders, "products": products}


def email_forms(email: str, rng: random.Random) -> list[str]:
    """The email as written, plus-addressed, on a subdomain, in capitals, spelled out."""
    local, domain = email.split("@", 1)
    tag = rng.choice(("orders", "shop", "2026", "returns"))
    name, tld = domain.rsplit(".", 1)
    return [
        email,
        f"{local}+{tag}@{domain}",
        f"{local}@mail.{domain}",
        email.upper(),
        f"{local} [at] {name} [dot] {tld}",
    ]


def phone_forms(phone: str) -> list[str]:
    """A stored US number ``(212) 555-0123`` in the ways shoppers write one."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    return [
        phone,
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"+1 {area} {exchange} {line}",
        f"+1-{area}-{exchange}-{line}",
        f"1 ({area}) {exchange}-{line}",
        f"{area} {exchange} {line}",
        digits,
    ]


def card_forms(number: str, rng: random.Random) -> str:
    """A card number plain, or grouped with spaces or dashes the way it is printed."""
    style = rng.choice(("plain", "spaces", "dashes"))
    if style == "plain":
        return number
    sep = " " if style == "spaces" else "-"
    if len(number) == 15:
        return sep.join((number[:4], number[4:10], number[10:]))
    if len(number) == 14:
        return sep.join((number[:4], number[4:10], number[10:]))
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


def address_forms(address: dict[str, Any]) -> list[str]:
    """One stored address: full line, street only, suffix spelled out, lower case, no commas."""
    street = address["line1"] + (f", {address['line2']}" if address.get("line2") else "")
    place = f"{address['city']}, {address['region']} {address['postal_code']}"
    number_name, suffix = address["line1"].rsplit(" ", 1)
    spelled = f"{number_name} {SUFFIXES.get(suffix, suffix)}"
    return [
        f"{street}, {place}",
        address["line1"],
        f"{spelled}, {place}, USA",
        f"{street}, {place}".lower(),
        f"{address['line1']} {address['city']} {address['region']} {address['postal_code']}",
    ]


def name_forms(name: str) -> list[str]:
    """A customer's name as written, in lower case, last name first, in capitals."""
    first, last = name.split(" ", 1)
    return [name, name.lower(), f"{last}, {first}", name.upper()]


def _fill(template: str, value: str, kind: str, extra: dict[str, str]) -> dict[str, Any]:
    """One message with ``value`` at ``{x}`` (and an ``{order}`` labelled as an order)."""
    text, spans, rest = "", [], template
    while rest:
        start = rest.find("{")
        if start < 0:
            text += rest
            break
        end = rest.index("}", start)
        text += rest[:start]
        key = rest[start + 1 : end]
        filled = value if key == "x" else extra[key]
        label = kind if key == "x" else ("order" if key == "order" else None)
        if label:
            spans.append({"start": len(text), "end": len(text) + len(filled), "kind": label})
        text += filled
        rest = rest[end + 1 :]
    return {"text": text, "spans": spans}


def build(store: dict[str, Any], args: PrepareMaskingEvalArgs) -> tuple[list, list]:
    """The customers used and the labelled messages."""
    rng = random.Random(args.seed)
    people = rng.sample(store["people"], min(args.customers, len(store["people"])))
    orders = store["orders"]
    products = store["products"] or ["Stainless Steel Kettle 1.7L"]
    rows: list[dict[str, Any]] = []

    def extra() -> dict[str, str]:
        number, total, placed = rng.choice(orders)
        return {
            "order": str(number),
            "price": f"{float(total):.2f}",
            "date": str(placed)[:10],
            "product": rng.choice(products)[:80],
        }

    def add(kind: str, value: str, source: str) -> None:
        template = rng.choice(TEMPLATES[kind])
        rows.append(
            {
                **_fill(template, value, kind, extra()),
                "group": "pii",
                "kind": kind,
                "source": source,
            }
        )

    for person in people:
        for form in email_forms(person["email"], rng):
            add("email", form, "store customer email (form derived)")
        for form in phone_forms(person["phone"]):
            add("phone", form, "store customer phone (form derived)")
        address = rng.choice(person["addresses"])
        for form in address_forms(address):
            add("address", form, "store customer address (form derived)")
        for form in name_forms(person["name"]):
            add("name", form, "store customer name (form derived)")
    for phone in INTERNATIONAL_PHONES:
        for _ in range(3):
            add("phone", phone, "number reserved for fiction")
    for card in TEST_CARDS:
        for _ in range(4):
            add("card", card_forms(card, rng), "published test card number")
    for template in ORDINARY:
        for _ in range(25):
            filled = _fill(template, "", "ordinary", extra())
            rows.append({**filled, "group": "ordinary", "kind": None, "source": "store orders"})
    customers = [
        {**p, "addresses": [{**a} for a in p["addresses"]]}
        for p in sorted(people, key=lambda p: p["email"])
    ]
    return customers, rows


def main(argv: Sequence[str] | None = None) -> int:
    """Build the set into ``--out-dir``."""
    parser = argparse.ArgumentParser(prog="python -m training.prepare_masking_eval")
    parser.add_argument("--store-db", default=PrepareMaskingEvalArgs.store_db)
    parser.add_argument("--out-dir", default=str(OUT_DIR))
    parser.add_argument("--customers", type=int, default=60)
    parser.add_argument("--seed", type=int, default=13)
    args = PrepareMaskingEvalArgs(**vars(parser.parse_args(argv)))
    store = read_store(args.store_db)
    customers, rows = build(store, args)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "customers.json").write_text(
        json.dumps(customers, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    with (out / "labelled.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for row in rows:
        key = row["kind"] or "ordinary"
        counts[key] = counts.get(key, 0) + 1
    logger.info("Wrote %d messages (%s) on %s", len(rows), counts, dt.date.today())
    print(json.dumps({"customers": len(customers), "messages": len(rows), **counts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
