"""Orders over HTTP against the running servers and a seeded store, on SQLite and on PostgreSQL.

A shopper tracks, cancels and returns real seeded orders; a stranger who knows only an order number
learns nothing and gets locked out; the same cancellation confirmed twice changes the database once;
the audit log shows every change with the sender and the channel. The order intents are sent as
the intent payloads the widget's buttons use (``/cancel_order{...}``), so the dialogue, the action
server and the database are tested, not the tiny NLU model (test_rest_conversation.py types them);
item choices and conditions are the buttons' payloads; order numbers and emails are typed text.
"""

from __future__ import annotations

import json
import re
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from actions.store.sql.backend import SqlStoreBackend
from actions.store.tokens import sign_customer_token
from actions.store.types import OrderSummary, Ownership
from tests.conftest import ROOT, free_port
from tests.e2e.harness import Reply, ShopBotServers
from tests.e2e.postgres import PostgresServer, postgres_or_skip
from tests.unit.actions.store.seeded import NOW, Pick, pick_orders, seed_store

TOKEN_SECRET = "e2e-customer-token-secret-of-32-bytes+"
SERVER_START_TIMEOUT = 600.0


@dataclass
class Shop:
    """The running servers, the seeded store behind them, and the orders to use."""

    servers: ShopBotServers
    store: SqlStoreBackend
    picks: dict[str, Pick]
    backend: str

    def say(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> Reply:
        # A button press (``/intent{...}``, see ``_payload``) goes in the REST channel's own
        # ``payload`` field: typed text starting with "/" is never read as an intent.
        key = "payload" if message.startswith("/") else "message"
        body = {"sender": sender, key: message}
        if metadata:
            body["metadata"] = metadata
        reply = self.servers.post_raw(
            json.dumps(body).encode(), forwarded_for=_shopper_address(sender)
        )
        assert reply.status == 200, reply.body
        return reply

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.store.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]

    def audit(self, **where: str) -> list[tuple[str, str, str, str | None]]:
        clauses = " AND ".join(f"{key} = :{key}" for key in where) or "1 = 1"
        return self.rows(
            f"SELECT actor, channel, action, order_number FROM audit_log WHERE {clauses} ORDER BY id",
            **where,
        )

    def summary(self, pick: Pick) -> OrderSummary:
        return self.store.get_order_summary(Ownership(pick.number, pick.customer_id))


def _shopper_address(sender: str) -> str:
    """A documentation-range address (RFC 5737) of this shopper's own, stable per sender."""
    return f"198.51.100.{zlib.crc32(sender.encode()) % 250 + 1}"


def _payload(intent: str, **entities: str) -> str:
    return f"/{intent}{json.dumps(entities)}" if entities else f"/{intent}"


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", marks=pytest.mark.e2e),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ],
)
def shop(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    tiny_rasa_model: Path,
) -> Iterator[Shop]:
    backend = request.param
    work = tmp_path_factory.mktemp(f"orders-{backend}")
    postgres = None
    if backend == "postgres":
        bin_dir = postgres_or_skip()
        postgres = PostgresServer(bin_dir, free_port()).start()
        db_url = postgres.create_database(f"shop_{uuid.uuid4().hex[:8]}")
    else:
        db_url = f"sqlite:///{work / 'shop.db'}"
    try:
        seed_store(work / "store", db_url=db_url)
        servers = ShopBotServers.for_tests(
            ROOT,
            work,
            tiny_rasa_model,
            store_db_url=db_url,
            store_now=NOW.isoformat(),
            customer_token_secret=TOKEN_SECRET,
            # Each shopper here has an address of their own (see Shop.say), as behind a proxy:
            # identity lockouts also count per client, and all tests run on loopback.
            trusted_proxies="127.0.0.1",
        )
        store = SqlStoreBackend(db_url, clock=lambda: NOW)
        try:
            # Like servers.start(), with a longer wait: loading the model is slow on a busy machine.
            servers.actions.start()
            servers.rasa.start()
            servers.actions.wait_ready(timeout=SERVER_START_TIMEOUT)
            servers.rasa.wait_ready(timeout=SERVER_START_TIMEOUT)
            yield Shop(servers, store, pick_orders(db_url), backend)
        finally:
            servers.stop()
            store.engine.dispose()
    finally:
        if postgres is not None:
            postgres.stop()


def test_shoppers_track_cancel_and_return_real_orders(shop: Shop) -> None:
    shipped, processing = shop.picks["shipped"], shop.picks["processing"]
    delivered, outside = shop.picks["delivered"], shop.picks["outside"]

    # Track: one detail at a time.
    sender = f"e2e-tracker-{shop.backend}"
    assert "order number" in shop.say(sender, "/track_order").text.lower()
    assert "email" in shop.say(sender, shipped.number).text.lower()
    tracked = shop.say(sender, shipped.email).text
    shipment = shop.summary(shipped).shipments[0]
    assert f"Order #{shipped.number}" in tracked
    assert shipment.carrier in tracked and shipment.tracking_number in tracked
    assert shop.summary(shipped).items[0].product_name in tracked
    assert shop.servers.tracker(sender)["slots"]["verified_order"] == shipped.number

    # Cancel: the question states the refund; nothing changes before the yes.
    sender = f"e2e-canceller-{shop.backend}"
    shop.say(sender, _payload("cancel_order", order_number=processing.number))
    question = shop.say(sender, processing.email).text
    total = shop.summary(processing).total
    assert f"${total:,.2f}" in question and "Shall I cancel" in question
    assert shop.summary(processing).status == "processing"
    done = shop.say(sender, "/affirm").text
    assert f"order #{processing.number} is cancelled" in done and f"${total:,.2f}" in done
    assert shop.summary(processing).status == "cancelled"
    assert shop.audit(action="order_cancelled", order_number=processing.number) == [
        (sender, "rest", "order_cancelled", processing.number)
    ]

    # Return: pick the item, say its condition, confirm; a return id comes back.
    sender = f"e2e-returner-{shop.backend}"
    shop.say(sender, _payload("get_refund", order_number=delivered.number))
    listing = shop.say(sender, delivered.email).text
    assert "Which item" in listing and "1. " in listing
    # The item and condition buttons (their payloads are what the widget sends on a click).
    assert "condition" in shop.say(sender, _payload("inform", return_item="1")).text.lower()
    confirm = shop.say(sender, _payload("inform", item_condition="unopened")).text
    assert "Shall I open the return?" in confirm
    opened = shop.say(sender, "/affirm").text
    match = re.search(r"RET-\d{6}", opened)
    assert match and "send it back by" in opened, opened
    rows = shop.rows(
        "SELECT r.status FROM return_requests r WHERE r.return_id = :rid", rid=match.group(0)
    )
    assert rows == [("approved",)]
    assert shop.audit(action="return_opened", order_number=delivered.number) == [
        (sender, "rest", "return_opened", delivered.number)
    ]

    # Outside the window: refused with the reason, nothing written.
    sender = f"e2e-late-returner-{shop.backend}"
    shop.say(sender, _payload("get_refund", order_number=outside.number))
    refused = shop.say(sender, outside.email).text
    assert "outside our 30-day return window" in refused
    assert shop.audit(action="return_opened", order_number=outside.number) == []


def test_a_stranger_with_only_an_order_number_learns_nothing(shop: Shop) -> None:
    stranger = f"e2e-stranger-{shop.backend}"
    target = shop.picks["shipped"]
    summary = shop.summary(target)
    secrets = [
        summary.shipments[0].tracking_number,
        summary.shipments[0].carrier,
        summary.items[0].product_name,
        summary.shipping_address,
        target.email,
        "shipped",
    ]

    shop.say(stranger, _payload("track_order", order_number=target.number))
    about_real = shop.say(stranger, "guess@example.com").texts
    shop.say(stranger, _payload("track_order", order_number="000001"))
    about_missing = shop.say(stranger, "guess@example.com").texts
    assert [t.replace(target.number, "N") for t in about_real] == [
        t.replace("000001", "N") for t in about_missing
    ]
    for attempt in range(2, 4):
        shop.say(stranger, target.number)
        shop.say(stranger, f"guess{attempt}@example.com")
    shop.say(stranger, target.number)
    locked = shop.say(stranger, "guess4@example.com").text
    assert "paused order lookups" in locked and "UTC" in locked
    # Locked: even the right email does not open the order now.
    shop.say(stranger, _payload("track_order", order_number=target.number))
    still = shop.say(stranger, target.email).text
    everything = " ".join([*about_real, locked, still])
    for secret in secrets:
        assert secret not in everything, secret
    assert shop.servers.tracker(stranger)["slots"]["verified_order"] is None
    actions = [row[2] for row in shop.audit(actor=stranger)]
    assert actions.count("verify_failed") == 5 and "verify_ok" not in actions
    assert {row[1] for row in shop.audit(actor=stranger)} == {"rest"}


def test_the_same_cancellation_twice_changes_the_database_once(shop: Shop) -> None:
    order = shop.picks["processing_2"]
    tabs = [f"e2e-tab-1-{shop.backend}", f"e2e-tab-2-{shop.backend}"]
    for tab in tabs:  # the shopper has the chat open twice and gets to "Shall I cancel?" in both
        shop.say(tab, _payload("cancel_order", order_number=order.number))
        assert "Shall I cancel" in shop.say(tab, order.email).text
    refunds_before = shop.rows(
        "SELECT COUNT(*) FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.number = :n",
        n=order.number,
    )[0][0]
    first = shop.say(tabs[0], "/affirm").text
    second = shop.say(tabs[1], "/affirm").text
    retried = shop.say(tabs[0], "/affirm")  # the widget resends the same request
    assert "is cancelled" in first
    assert "already cancelled" in second and "nothing more was changed" in second
    assert "cancelled" not in retried.text or "already" in retried.text
    refunds_after = shop.rows(
        "SELECT COUNT(*) FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.number = :n",
        n=order.number,
    )[0][0]
    assert refunds_after == refunds_before + 1
    assert shop.audit(action="order_cancelled", order_number=order.number) == [
        (tabs[0], "rest", "order_cancelled", order.number)
    ]
    assert shop.summary(order).status == "cancelled"


def test_a_signed_in_shopper_needs_no_email(shop: Shop) -> None:
    sender = f"e2e-widget-{shop.backend}"
    mine = shop.picks["delivered_one"]
    token = sign_customer_token(mine.customer_id, TOKEN_SECRET)
    reply = shop.say(
        sender, _payload("track_order", order_number=mine.number), {"customer_token": token}
    ).text
    assert f"Order #{mine.number}" in reply and "email" not in reply.lower()
    not_mine = shop.say(
        sender,
        _payload("track_order", order_number=shop.picks["returned"].number),
        {"customer_token": token},
    ).text
    assert "couldn't find an order" in not_mine and "on your account" in not_mine


def test_natural_answers_and_a_question_in_the_middle_of_the_form(shop: Shop) -> None:
    """Typed text all the way (the tiny NLU model, the real action server and store): a question
    while the order number is asked is answered and the form asks again; the request restated is
    told the number is still needed; the order number inside
    a sentence, split by a space; the email inside a sentence; a no in more words keeps the order;
    a yes in more words cancels it."""
    order = shop.picks["authorized"]
    sender = f"e2e-natural-{shop.backend}"
    assert "order number" in shop.say(sender, "I want to cancel my order").text.lower()

    answered = shop.say(sender, "how long does shipping usually take?")
    assert "days" in answered.texts[0].lower(), answered.body  # the delivery times
    assert "order number" in answered.texts[-1].lower(), answered.body  # then the form again
    # The request again is not a bad order number: the bot still needs one.
    restated = shop.say(sender, "i said i want to cancel my order")
    assert "I just need your order number first" in restated.text, restated.body
    assert "doesn't look like" not in restated.text, restated.body

    spaced = f"{order.number[:3]} {order.number[3:]}"
    assert "email" in shop.say(sender, f"sure, it's {spaced}").text.lower()
    question = shop.say(sender, f"the one I used is {order.email}, thanks").text
    assert "Shall I cancel" in question, question

    kept = shop.say(sender, "no, I still want it").text
    assert "haven't changed anything" in kept, kept
    assert shop.summary(order).status == "processing"

    again = shop.say(sender, "I want to cancel my order").text
    assert "Shall I cancel" in again, again
    done = shop.say(sender, "yes please cancel it").text
    assert f"order #{order.number} is cancelled" in done, done
    assert shop.summary(order).status == "cancelled"
