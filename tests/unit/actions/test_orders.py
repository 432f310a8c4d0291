"""Order actions on recorded trackers with a CollectingDispatcher: tracking, cancelling, changing the
address, invoices, payments, delivery, and every refusal (shipped, wrong email, lockout, switching
orders, tokens)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text

from actions import identity
from actions.orders import ActionCancellationFee, ActionDeliveryOptions, ActionDeliveryPeriod
from actions.store.schema import AuditLog, Refund
from actions.store.sql.backend import SqlStoreBackend
from actions.store.tokens import sign_customer_token
from tests.unit.actions.store.dialogue import Chat, make_tracker, run, texts
from tests.unit.actions.store.seeded import NOW, Pick


def audit_count(store: SqlStoreBackend, action: str, number: str | None = None) -> int:
    query = select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
    if number is not None:
        query = query.where(AuditLog.order_number == number)
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def verified_chat(request: str, pick: Pick, sender: str = "shopper-1") -> tuple[Chat, str]:
    chat = Chat(sender)
    chat.start(request, order_number=pick.number)
    reply = texts(chat.say(pick.email, email=pick.email))
    return chat, reply


def test_track_order_gives_status_carrier_tracking_eta_and_items(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    pick = picks["shipped"]
    chat = Chat()
    asked = chat.start("track_order", "where is my order")
    assert texts(asked) == "utter_ask_order_number"
    assert texts(chat.say(pick.number, order_number=pick.number)) == "utter_ask_email"
    reply = texts(chat.say(pick.email, email=pick.email))
    summary = seeded.get_order_summary(seeded.verify_owner(pick.number, pick.email, chat_actor()))
    shipment = summary.shipments[0]
    assert f"Order #{pick.number}" in reply
    assert shipment.carrier in reply and shipment.tracking_number in reply
    assert summary.items[0].product_name in reply
    assert chat.slots["verified_order"] == pick.number
    assert chat.slots["verified_customer"] == str(pick.customer_id)
    assert not chat.active


def chat_actor():
    from actions.store.types import Actor

    return Actor("test", "rest")


def test_cancel_asks_with_the_refund_then_cancels_once(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    pick = picks["processing"]
    chat, question = verified_chat("cancel_order", pick)
    quote = seeded.quote_cancellation(seeded.verify_owner(pick.number, pick.email, chat_actor()))
    assert f"${quote.refund_amount:,.2f}" in question and "Shall I cancel" in question
    assert chat.slots["requested_slot"] == "order_confirmed"
    assert (
        seeded.get_order_summary(seeded.verify_owner(pick.number, pick.email, chat_actor())).status
        == "processing"
    ), "nothing changes before the yes"
    done = texts(chat.say("yes", intent="affirm"))
    assert f"order #{pick.number} is cancelled" in done and f"${quote.refund_amount:,.2f}" in done
    assert audit_count(seeded, "order_cancelled", pick.number) == 1
    assert chat.slots["order_confirmed"] is None and chat.slots["order_plan"] is None
    # Asking again in the same conversation changes nothing and says so.
    chat.start("cancel_order", "cancel it")
    again = texts(chat.transcript[-1:])
    assert "already cancelled" in again
    assert audit_count(seeded, "order_cancelled", pick.number) == 1
    with seeded.engine.connect() as conn:
        refunds = conn.execute(
            select(func.count()).select_from(Refund).where(Refund.reason.like("%in chat%"))
        ).scalar_one()
    assert refunds == 1


def test_cancel_denied_at_the_confirmation_changes_nothing(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    pick = picks["processing"]
    chat, _ = verified_chat("cancel_order", pick)
    assert texts(chat.say("no", intent="deny")) == "utter_form_stopped"
    assert audit_count(seeded, "order_cancelled") == 0
    # A later request starts clean: no stale yes carries over.
    chat.start("cancel_order", "cancel my order")
    assert chat.slots["requested_slot"] == "order_confirmed"
    assert audit_count(seeded, "order_cancelled") == 0


def test_cancel_of_a_shipped_order_is_refused_without_a_question(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    chat, reply = verified_chat("cancel_order", picks["shipped"])
    assert "already shipped" in reply and "can't be cancelled" in reply
    assert "Shall I" not in reply and not chat.active
    assert audit_count(seeded, "order_cancelled") == 0


def test_wrong_email_gets_the_same_reply_as_a_missing_order(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    target = picks["shipped"]
    wrong = Chat("snoop-1")
    wrong.start("track_order", order_number=target.number)
    reply_wrong = wrong.say("me@example.com", email="me@example.com")
    missing = Chat("snoop-2")
    missing.start("track_order", order_number="000001")
    reply_missing = missing.say("me@example.com", email="me@example.com")
    normalise = {target.number: "N", "000001": "N"}

    def shape(messages: list[dict]) -> list[dict]:
        return [
            {k: normalise.get(v, v) if isinstance(v, str) else v for k, v in m.items()}
            for m in messages
        ]

    assert shape(reply_wrong) == shape(reply_missing)
    assert reply_wrong[0]["response"] == "utter_order_not_verified"
    assert reply_wrong[-1]["response"] == "utter_ask_order_number"
    assert wrong.slots["order_number"] is None and wrong.slots["email"] is None
    assert wrong.slots["verified_order"] is None
    assert audit_count(seeded, "verify_failed") == 2


def test_five_wrong_pairs_lock_the_sender_out(seeded: SqlStoreBackend, picks: dict) -> None:
    target = picks["processing"]
    chat = Chat("attacker")
    chat.start("cancel_order", order_number=target.number)
    for attempt in range(4):
        reply = chat.say(f"guess{attempt}@example.com", email=f"guess{attempt}@example.com")
        assert reply[0]["response"] == "utter_order_not_verified"
        chat.say(target.number, order_number=target.number)
    locked = texts(chat.say("guess4@example.com", email="guess4@example.com"))
    assert "paused order lookups" in locked and "12:15 UTC" in locked
    assert not chat.active and chat.slots["identity_locked_until"] == "2026-01-15T12:15:00"
    # Even the right pair does not get through while locked: the form ends at once.
    chat.start("cancel_order", order_number=target.number)
    assert "paused order lookups" in texts(chat.transcript[-1:])
    assert chat.slots["verified_order"] is None
    assert audit_count(seeded, "order_cancelled") == 0


def test_switching_to_another_customers_order_mid_flow_asks_for_its_email(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    mine, theirs = picks["processing"], picks["other_customer"]
    chat, _ = verified_chat("cancel_order", mine)
    assert chat.slots["requested_slot"] == "order_confirmed"
    reply = chat.say(f"actually order {theirs.number}", order_number=theirs.number)
    assert reply[0]["response"] == "utter_order_not_verified"
    assert reply[-1]["response"] == "utter_ask_email"
    assert chat.slots["verified_order"] is None and chat.slots["email"] is None
    assert chat.slots["order_plan"] is None and chat.slots["requested_slot"] == "email"
    # A "yes" now does not cancel anything: the form wants the email on the new order.
    chat.say("yes", intent="affirm")
    assert chat.slots["requested_slot"] == "email"
    assert audit_count(seeded, "order_cancelled") == 0
    assert (
        seeded.get_order_summary(
            seeded.verify_owner(theirs.number, theirs.email, chat_actor())
        ).status
        == "processing"
    )


def test_a_signed_in_shopper_needs_no_email(
    seeded: SqlStoreBackend, picks: dict, monkeypatch
) -> None:
    # HS256 keys under 32 bytes make PyJWT warn (an error under filterwarnings = error).
    secret = "widget-test-customer-token-secret-long-enough-for-hs256!"
    monkeypatch.setattr(identity, "customer_token_secret", lambda: secret)
    mine = picks["shipped"]
    chat = Chat("widget-1", channel="widget")
    chat.metadata = {"customer_token": sign_customer_token(mine.customer_id, secret)}
    reply = texts(chat.start("track_order", order_number=mine.number))
    assert f"Order #{mine.number}" in reply and chat.slots["email"] is None
    # Someone else's order number is not found on this account.
    other = picks["processing"]
    reply = chat.start("track_order", order_number=other.number)
    assert reply[0]["response"] == "utter_order_not_on_account"
    # A forged token is ignored: the email is asked for.
    chat = Chat("widget-2", channel="widget")
    chat.metadata = {"customer_token": sign_customer_token(mine.customer_id, "guessed-" + secret)}
    assert texts(chat.start("track_order", order_number=mine.number)) == "utter_ask_email"


def test_change_shipping_address_before_shipping(seeded: SqlStoreBackend, picks: dict) -> None:
    pick = picks["processing"]
    chat, ask = verified_chat("change_shipping_address", pick)
    assert ask == "utter_ask_new_address"
    bad = texts(chat.say("somewhere nice"))
    assert "full address" in bad and chat.slots["requested_slot"] == "new_address"
    question = texts(chat.say("12 Oak St, Apt 4, Austin, TX 78701"))
    assert "12 Oak St, Apt 4, Austin, TX 78701, US" in question and "Shall I change" in question
    done = texts(chat.say("yes", intent="affirm"))
    assert "will now ship to 12 Oak St, Apt 4, Austin, TX 78701, US" in done
    assert audit_count(seeded, "shipping_address_changed", pick.number) == 1


def test_change_address_of_a_shipped_order_is_refused(seeded: SqlStoreBackend, picks: dict) -> None:
    _, reply = verified_chat("change_shipping_address", picks["shipped"])
    assert "already shipped" in reply
    assert audit_count(seeded, "shipping_address_changed") == 0


def test_change_order_explains_what_can_change(seeded: SqlStoreBackend, picks: dict) -> None:
    _, open_reply = verified_chat("change_order", picks["processing"])
    assert "hasn't shipped yet" in open_reply and "human agent" in open_reply
    _, shipped_reply = verified_chat("change_order", picks["shipped"], sender="s2")
    assert "can't be changed" in shipped_reply


def test_invoice_payment_and_refund_answers(seeded: SqlStoreBackend, picks: dict) -> None:
    _, invoice = verified_chat("get_invoice", picks["shipped"])
    assert "Invoice INV-" in invoice and "Account → Orders" in invoice
    _, no_invoice = verified_chat("check_invoice", picks["authorized"], sender="s2")
    assert "no invoice yet" in no_invoice
    _, payment = verified_chat("payment_issue", picks["authorized"], sender="s3")
    assert "authorised" in payment and "not charged yet" in payment
    _, refund = verified_chat("track_refund", picks["cancelled"], sender="s4")
    assert f"Refunds on order #{picks['cancelled'].number}" in refund


def test_delivery_options_period_and_cancellation_fee(seeded: SqlStoreBackend, picks: dict) -> None:
    _, options = run(
        ActionDeliveryOptions(), make_tracker({}, intent="delivery_options", active=False)
    )
    text = options[0]["text"]
    assert "Standard: $5.99 (free from $35.00)" in text and "Next day" in text and "UPS" in text
    _, period = run(
        ActionDeliveryPeriod(), make_tracker({}, intent="delivery_period", active=False)
    )
    assert "order number" in period[0]["text"]
    # With a verified order in the conversation, the answers get specific.
    pick = picks["processing"]
    chat, _ = verified_chat("track_order", pick)
    tracker = make_tracker(chat.slots, intent="check_cancellation_fee", active=False)
    _, fee = run(ActionCancellationFee(), tracker)
    assert f"Your order #{pick.number} hasn't shipped" in fee[0]["text"]
    tracker = make_tracker(chat.slots, intent="delivery_period", active=False)
    _, period = run(ActionDeliveryPeriod(), tracker)
    assert f"Order #{pick.number}" in period[0]["text"]


def test_the_store_being_down_gets_an_apology(picks: dict) -> None:
    chat = Chat()
    chat.start("track_order", order_number=picks["shipped"].number)
    reply = chat.say("a@example.com", email="a@example.com")
    assert reply[0]["response"] == "utter_store_unavailable"


def test_lockout_expiry_in_the_slot_is_ignored_after_it_passes(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    pick = picks["shipped"]
    chat = Chat()
    chat.slots["identity_locked_until"] = (NOW - dt.timedelta(minutes=1)).isoformat()
    chat.start("track_order", order_number=pick.number)
    assert chat.slots["requested_slot"] == "email"
    assert f"Order #{pick.number}" in texts(chat.say(pick.email, email=pick.email))


def test_switching_to_another_order_of_the_same_shopper_needs_no_new_email(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    mine = picks["processing"]
    with seeded.engine.connect() as conn:
        other = conn.execute(
            text(
                "SELECT o.number FROM orders o JOIN customers c ON c.id = o.customer_id "
                "WHERE c.email = :email AND o.number != :number ORDER BY o.id DESC"
            ),
            {"email": mine.email, "number": mine.number},
        ).scalar()
    assert other is not None, "the seeded shopper has one order only; pick another"
    chat, _ = verified_chat("track_order", mine)
    reply = texts(chat.start("track_order", order_number=other))
    assert f"Order #{other}" in reply and chat.slots["verified_order"] == other


def test_a_stray_order_number_entity_does_not_derail_the_form(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    from actions.forms import ValidateOrderForm

    pick = picks["delivered"]
    chat = Chat()
    chat.start("get_refund", order_number=pick.number)
    chat.say(pick.email, email=pick.email)
    assert chat.slots["requested_slot"] == "return_item"
    # The NLU tags "1" as an order number as well; the previous turns are in the tracker.
    slots = {**chat.slots, "return_item": "1", "order_number": "1"}
    tracker = make_tracker(
        slots,
        candidates={"return_item": "1", "order_number": "1"},
    )
    tracker.events[:0] = [{"event": "slot", "name": "order_number", "value": pick.number}]
    events, messages = run(ValidateOrderForm(), tracker)
    values = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    quote = seeded.quote_return(seeded.verify_owner(pick.number, pick.email, chat_actor()))
    assert values["order_number"] == pick.number
    assert values["return_item"] == str(quote.items[0].item_id)
    assert values["requested_slot"] == "item_condition" and not messages
