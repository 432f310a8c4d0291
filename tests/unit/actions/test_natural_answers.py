"""Answers in shoppers' own words at every step of ``order_form``, whatever the NLU made of them.

Each test states the intent a classifier could plausibly give the message (often a wrong one), so
the form must read the answer itself: an order number or an email inside a sentence, an item or a
condition described in words, a plain yes, and never a yes with a no in it.
"""

from __future__ import annotations

from sqlalchemy import func, select

from actions.store.schema import AuditLog
from actions.store.sql.backend import SqlStoreBackend
from tests.unit.actions.store.dialogue import Chat, texts
from tests.unit.actions.store.seeded import Pick


def audit_count(store: SqlStoreBackend, action: str) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
            ).scalar_one()
        )


def at_confirmation(request: str, pick: Pick) -> Chat:
    chat = Chat()
    chat.start(request, "hi, I need help with an order")
    chat.say(f"sure, it's {pick.number[:3]} {pick.number[3:]}", intent="out_of_scope")
    chat.say(f"the one I ordered with is {pick.email.upper()}, thanks", intent="thank")
    return chat


def test_order_number_and_email_inside_sentences_prove_ownership(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    chat = at_confirmation("cancel_order", picks["processing"])
    assert chat.slots["verified_order"] == picks["processing"].number
    assert chat.slots["email"] == picks["processing"].email.lower()
    assert chat.slots["requested_slot"] == "order_confirmed"


def test_two_emails_in_one_reply_are_asked_again(seeded: SqlStoreBackend, picks: dict) -> None:
    chat = Chat()
    chat.start("track_order", "where is my parcel")
    chat.say(picks["processing"].number)
    reply = texts(chat.say("could be kim@example.com or kim@work.example.com"))
    assert "utter_invalid_email" in reply and chat.slots["email"] is None


def test_a_yes_in_many_words_cancels(seeded: SqlStoreBackend, picks: dict) -> None:
    chat = at_confirmation("cancel_order", picks["processing"])
    done = texts(chat.say("yeah, get it cancelled", intent="nlu_fallback"))
    assert "is cancelled" in done
    assert audit_count(seeded, "order_cancelled") == 1


def test_a_no_read_as_the_request_never_cancels(seeded: SqlStoreBackend, picks: dict) -> None:
    chat = at_confirmation("cancel_order", picks["processing"])
    again = texts(chat.say("I'd like to not cancel after all", intent="cancel_order"))
    assert "Shall I cancel" in again, "the question is asked again"
    assert audit_count(seeded, "order_cancelled") == 0
    assert texts(chat.say("no", intent="deny")) == "utter_form_stopped"
    assert audit_count(seeded, "order_cancelled") == 0


def test_a_plain_no_read_as_the_request_changes_nothing(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    chat = at_confirmation("cancel_order", picks["processing"])
    done = texts(chat.say("nah, I'll hang on to it", intent="cancel_order"))
    assert f"I haven't changed anything on order #{picks['processing'].number}" in done
    assert not chat.active and audit_count(seeded, "order_cancelled") == 0


def test_a_question_at_the_confirmation_is_not_a_yes(seeded: SqlStoreBackend, picks: dict) -> None:
    chat = at_confirmation("cancel_order", picks["processing"])
    chat.say("cancel it... wait, is there a fee?", intent="cancel_order")
    assert audit_count(seeded, "order_cancelled") == 0


def test_return_answered_in_words(seeded: SqlStoreBackend, picks: dict) -> None:
    pick = picks["delivered"]
    chat = Chat()
    chat.start("get_refund", "I want to send something back", order_number=pick.number)
    listing = texts(chat.say(pick.email, email=pick.email))
    assert "2. " in listing
    chat.say("the second thing you listed", intent="out_of_scope")
    assert chat.slots["requested_slot"] == "item_condition" and chat.slots["return_item"]
    # A classifier reads "never opened it" as a no; the form reads the condition.
    question = texts(chat.say("never even opened it", intent="deny"))
    assert chat.slots["item_condition"] == "unopened"
    assert "Shall I open the return?" in question


def test_a_reason_read_as_a_no_at_the_condition_asks_again(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    """The demo model reads "it doesnt fit" as ``deny``; at the condition question it is a
    reason, so the form says it could not tell the condition and asks again, keeping the order
    and the email. "never mind" still stops it."""
    pick = picks["delivered"]
    chat = Chat()
    chat.start("get_refund", "I want to send something back", order_number=pick.number)
    chat.say(pick.email, email=pick.email)
    chat.say("the second thing you listed", intent="out_of_scope")
    assert chat.slots["requested_slot"] == "item_condition"
    again = texts(chat.say("it doesnt fit", intent="deny"))
    assert "utter_unclear_item_condition" in again and "utter_form_stopped" not in again
    assert chat.active and chat.slots["requested_slot"] == "item_condition"
    assert chat.slots["order_number"] == pick.number
    assert texts(chat.say("never mind", intent="deny")) == "utter_form_stopped"


def test_a_real_no_still_stops_the_form(seeded: SqlStoreBackend, picks: dict) -> None:
    chat = Chat()
    chat.start("track_order", "where is my parcel")
    assert texts(chat.say("no forget it", intent="deny")) == "utter_form_stopped"


def test_a_question_while_the_email_is_asked_sets_no_slot(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    """Rasa rejects the form only when the validation sets no slot; then the interruption rules
    answer the question (before, clearing slots that were already empty kept the form going)."""
    from actions.forms import ValidateOrderForm
    from tests.unit.actions.store.dialogue import make_tracker, run

    slots = {"order_number": picks["processing"].number, "requested_slot": "email"}
    tracker = make_tracker(slots, intent="delivery_period", text="how long does shipping take?")
    events, messages = run(ValidateOrderForm(), tracker)
    slots_set = [e["name"] for e in events if e.get("event") == "slot"]
    assert slots_set in ([], ["requested_slot"]) and messages == []
