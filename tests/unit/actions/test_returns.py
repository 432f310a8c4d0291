"""The return flow on recorded trackers: item, condition, confirmation, and each refusal (outside
the window, not delivered, final sale, used, already returned)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from actions.returns import parse_condition, parse_items
from actions.store.policy import ItemCondition
from actions.store.schema import AuditLog, OrderItem, ReturnRequest
from actions.store.sql.backend import SqlStoreBackend
from actions.store.types import Actor, ReturnableItem
from tests.unit.actions.store.dialogue import Chat, texts
from tests.unit.actions.store.seeded import Pick

TEST = Actor("test", "rest")


def returns_of(store: SqlStoreBackend, number: str) -> list[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(AuditLog.details).where(
                AuditLog.action == "return_opened", AuditLog.order_number == number
            )
        ).all()
    return [row[0] for row in rows]


def start_return(pick: Pick, sender: str = "shopper-1") -> tuple[Chat, str]:
    chat = Chat(sender)
    chat.start("get_refund", "I want to return something", order_number=pick.number)
    return chat, texts(chat.say(pick.email, email=pick.email))


def test_return_an_item_creates_an_rma_with_instructions(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    pick = picks["delivered"]
    quote = seeded.quote_return(seeded.verify_owner(pick.number, pick.email, TEST))
    chat, listing = start_return(pick)
    assert "Which item" in listing and "1. " in listing and "2. " in listing
    assert texts(chat.say("2")) == "utter_ask_item_condition"
    assert chat.slots["return_item"] == str(quote.items[1].item_id)
    question = texts(chat.say("unopened"))
    refund = f"${quote.items[1].refund_amount:,.2f}"
    assert quote.items[1].product_name in question and refund in question
    assert "Shall I open the return?" in question and not returns_of(seeded, pick.number)
    done = texts(chat.say("yes please", intent="affirm"))
    assert "Your return is open: RET-" in done and refund in done and "send it back by" in done
    assert len(returns_of(seeded, pick.number)) == 1
    with seeded.engine.connect() as conn:
        status = conn.execute(
            select(OrderItem.status).where(OrderItem.id == quote.items[1].item_id)
        ).scalar_one()
    assert status == "return_requested"


def test_a_one_item_order_skips_the_item_question(seeded: SqlStoreBackend, picks: dict) -> None:
    chat, ask = start_return(picks["delivered_one"])
    assert ask == "utter_ask_item_condition"
    assert "(arrived damaged or defective)" in texts(chat.say("it arrived damaged"))
    done = texts(chat.say("yes", intent="affirm"))
    assert "Your return is open" in done


def test_return_all_items(seeded: SqlStoreBackend, picks: dict) -> None:
    pick = picks["delivered"]
    chat, _ = start_return(pick)
    chat.say("all of them")
    chat.say("opened but like new")
    done = texts(chat.say("yes", intent="affirm"))
    n_items = len(
        seeded.get_order_summary(seeded.verify_owner(pick.number, pick.email, TEST)).items
    )
    assert done.count("RET-") == n_items == len(returns_of(seeded, pick.number))


def test_outside_the_return_window_is_refused(seeded: SqlStoreBackend, picks: dict) -> None:
    chat, reply = start_return(picks["outside"])
    assert "outside our 30-day return window" in reply and "closed on" in reply
    assert not chat.active and not returns_of(seeded, picks["outside"].number)


def test_a_used_item_is_refused(seeded: SqlStoreBackend, picks: dict) -> None:
    pick = picks["delivered_one"]
    chat, _ = start_return(pick)
    reply = texts(chat.say("I've used it a few times"))
    assert "original condition" in reply and "utter_anything_else" in reply
    assert not chat.active and not returns_of(seeded, pick.number)


def test_a_final_sale_item_is_refused(seeded: SqlStoreBackend, picks: dict) -> None:
    pick = picks["delivered_one"]
    with seeded.engine.begin() as conn:
        order_id = conn.execute(
            select(OrderItem.order_id)
            .join(OrderItem.order)
            .where(OrderItem.order.has(number=pick.number))
        ).scalar()
        conn.execute(
            update(OrderItem).where(OrderItem.order_id == order_id).values(final_sale=True)
        )
    chat, reply = start_return(pick)
    assert "final sale" in reply and "can't be returned" in reply
    assert not chat.active


def test_a_shipped_order_is_not_returnable_yet(seeded: SqlStoreBackend, picks: dict) -> None:
    _, reply = start_return(picks["shipped"])
    assert "hasn't been delivered yet" in reply


def test_get_refund_for_an_unshipped_order_offers_the_cancellation(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    chat, question = start_return(picks["processing"])
    assert "the way to get your money back is to cancel it" in question
    done = texts(chat.say("yes", intent="affirm"))
    assert "is cancelled" in done


def test_get_refund_for_a_returned_order_gives_the_refund_status(
    seeded: SqlStoreBackend, picks: dict
) -> None:
    _, reply = start_return(picks["returned"])
    assert f"Refunds on order #{picks['returned'].number}" in reply and "return RET-" in reply


def test_a_repeated_return_opens_nothing_new(seeded: SqlStoreBackend, picks: dict) -> None:
    pick = picks["delivered_one"]
    proof = seeded.verify_owner(pick.number, pick.email, TEST)
    item = seeded.quote_return(proof).items[0]
    seeded.create_return(proof, [item.item_id], ItemCondition.UNOPENED, TEST)
    _, reply = start_return(pick)
    assert "return RET-" in reply and "is approved" in reply
    with seeded.engine.connect() as conn:
        n = conn.execute(
            select(func.count())
            .select_from(ReturnRequest)
            .where(ReturnRequest.item_id == item.item_id)
        ).scalar_one()
    assert n == 1


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("Unopened", ItemCondition.UNOPENED),
        ("never opened, still sealed", ItemCondition.UNOPENED),
        ("opened, like new", ItemCondition.LIKE_NEW),
        ("I opened it but never used it", ItemCondition.LIKE_NEW),
        ("it arrived damaged", ItemCondition.DEFECTIVE),
        ("doesn't work", ItemCondition.DEFECTIVE),
        ("used", ItemCondition.USED),
        ("worn twice", ItemCondition.USED),
        ("I haven't taken it out of the wrapping", ItemCondition.UNOPENED),
        ("the lid was smashed when it got delivered", ItemCondition.DEFECTIVE),
        ("it stopped working on day two", ItemCondition.DEFECTIVE),
        ("took it out once, it's perfect condition", ItemCondition.LIKE_NEW),
        ("damaged", None),
        ("blue", None),
    ],
)
def test_parse_condition(words: str, expected: ItemCondition | None) -> None:
    assert parse_condition(words) == expected


def test_parse_items() -> None:
    from decimal import Decimal

    items = (
        ReturnableItem(1, "Blue Ceramic Mug", 1, Decimal("9.99")),
        ReturnableItem(2, "Wool Socks 3-Pack", 2, Decimal("19.99")),
    )
    assert parse_items("2", items) == [items[1]]
    assert parse_items("the first one", items) == [items[0]]
    assert parse_items("both", items) == list(items)
    assert parse_items("the socks", items) == [items[1]]
    assert parse_items("7", items) == []
    assert parse_items("a hat", items) == []


def test_parse_items_by_several_names_and_numbered_ordinals() -> None:
    from decimal import Decimal

    items = (
        ReturnableItem(1, "Blue Ceramic Mug", 1, Decimal("9.99")),
        ReturnableItem(2, "Wool Socks 3-Pack", 2, Decimal("19.99")),
        ReturnableItem(3, "Cast Iron Skillet", 1, Decimal("29.99")),
    )
    assert parse_items("the mug & the skillet", items) == [items[0], items[2]]
    assert parse_items("both, the socks and the skillet", items) == [items[1], items[2]]
    assert parse_items("the 3rd please", items) == [items[2]]
    assert parse_items("the 1st and the 2nd", items) == [items[0], items[1]]
    assert parse_items("both", items) == list(items)  # no names: "both"/"all" is everything
    assert parse_items("the mug and a hat", items) == [items[0]]
