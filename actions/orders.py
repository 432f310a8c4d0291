"""Order requests: the steps of ``order_form`` after ownership, the confirmation, and the answer.

``order_form`` collects the order number and the email (not the email for a signed-in shopper),
``actions.identity`` proves ownership, then the request's *plan* decides what else to ask:

- ``cancel``  → ``order_confirmed`` (the question states the refund);
- ``address`` → ``new_address``, ``order_confirmed``;
- ``return``  → ``return_item`` (skipped for a one-item order), ``item_condition``, ``order_confirmed``;
- ``none``    → nothing: ``action_order_request`` answers (tracking, refunds, invoice, payment...)
  or explains why the change can't be made;
- ``refused`` → a step already explained why not; nothing more is said;
- ``answered`` → the request was a policy question, answered from the FAQ when the form started
  (``actions.order_questions``); the form ends without asking anything, and nothing more is said.

Changes happen only in ``action_order_request``, only after an explicit yes for this plan and this
order (``order_confirmed`` holds ``"<plan>:<order number>"``; a plain no holds ``"no"``, which ends
the form with nothing changed), and through the store service, which makes them idempotent and
audits them.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.identity import (
    FLOW_SLOTS,
    actor_of,
    clear,
    form_starts_now,
    locked_until,
    lockout_text,
    ownership_of,
    signed_in_customer,
    slot_before_this_turn,
    verification_events,
)
from actions.order_questions import ANSWERED_PLAN, misread_question_events
from actions.returns import chosen_items
from actions.shipping_cost import delivery_options_of, shipping_cost_answered, shipping_cost_text
from actions.store.addresses import AddressError, parse_address
from actions.store.policy import ItemCondition
from actions.store.replies import (
    address_change_text,
    already_cancelled_text,
    cancel_quote_text,
    cancellation_fee_text,
    cancellation_text,
    change_order_text,
    delivery_period_text,
    invoice_text,
    payment_text,
    refund_text,
    refusal_text,
    return_confirm_text,
    return_outcome_text,
    track_text,
)
from actions.store.runtime import get_store
from actions.store.service import StoreBackend
from actions.store.types import NothingToReturn, OrderClosed, Ownership, StoreError
from actions.validation import inside_an_email, normalize_order_number, shorten
from actions.yes_no import is_yes, opens_with_no

logger = logging.getLogger(__name__)

PLAN_SLOTS: dict[str, tuple[str, ...]] = {
    "cancel": ("order_confirmed",),
    "address": ("new_address", "order_confirmed"),
    "return": ("return_item", "item_condition", "order_confirmed"),
}
# What counts as "yes" to each plan's question ("yes", or repeating the request: "cancel it").
CONFIRM_INTENTS: dict[str, frozenset[str]] = {
    "cancel": frozenset({"affirm", "cancel_order"}),
    "address": frozenset({"affirm", "change_shipping_address"}),
    "return": frozenset({"affirm", "get_refund"}),
}
YES_NO_BUTTONS = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
# The questions answered from the store's delivery settings: an FAQ entry NLU reads as one of these
# is theirs to answer; one NLU reads as anything else means the question was misread.
DELIVERY_QUESTIONS = frozenset({"delivery_options", "delivery_period"})


# --------------------------------------------------------------------------------------------------
# order_form steps (called by actions.forms.ValidateOrderForm)
# --------------------------------------------------------------------------------------------------


def required_order_slots(tracker: Tracker) -> list[str]:
    """The slots ``order_form`` still needs, given identity and the request's plan."""
    if tracker.get_slot("order_plan") == ANSWERED_PLAN:
        return []  # a question, answered from the FAQ: nothing to ask
    if locked_until(tracker) is not None:
        return []  # the form ends; action_order_request says when to retry
    slots = ["order_number"]
    if signed_in_customer(tracker) is None:
        slots.append("email")
    if ownership_of(tracker) is None:
        return slots
    return slots + list(PLAN_SLOTS.get(tracker.get_slot("order_plan") or "none", ()))


def start_events(tracker: Tracker) -> list[dict[str, Any]]:
    """When ``order_form`` starts, clear the steps of any earlier request (a yes above all)."""
    if not form_starts_now(tracker):
        return []
    events = clear(*FLOW_SLOTS)
    tracker.add_slots(events)
    return events


def stray_order_number_events(tracker: Tracker) -> list[dict[str, Any]]:
    """Undo an order number the NLU read into an answer to another question ("1" for an item, the
    digits of "100017@example.com" at the email question).

    Only a value that is not an order number at all is undone, and only while the form asks
    something else; a real order number typed mid-flow is a switch and is checked as one.
    """
    requested = tracker.get_slot("requested_slot")
    if requested in (None, "order_number") or "order_number" not in tracker.slots_to_validate():
        return []
    value = tracker.get_slot("order_number")
    text = (tracker.latest_message or {}).get("text")
    if normalize_order_number(value) is not None and not inside_an_email(text, value):
        return []
    previous = slot_before_this_turn(tracker, "order_number")
    logger.info("Ignored order number entity %r from %s", shorten(value), tracker.sender_id)
    events = [SlotSet("order_number", previous)]
    tracker.add_slots(events)
    return events


def after_validation_events(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[dict[str, Any]]:
    """Once the slots are validated: check ownership, then choose the request's plan."""
    identity = verification_events(dispatcher, tracker)
    tracker.add_slots(identity)
    plan = plan_events(tracker)
    tracker.add_slots(plan)
    return identity + plan


def plan_events(tracker: Tracker) -> list[dict[str, Any]]:
    """Set ``order_plan`` for the verified order (once per request), from the store's quotes."""
    owner = ownership_of(tracker)
    if owner is None or tracker.get_slot("order_plan"):
        return []
    request = tracker.get_slot("order_request") or "track_order"
    store = get_store()
    plan, extra = "none", []
    try:
        if request == "cancel_order":
            store.quote_cancellation(owner)
            plan = "cancel"
        elif request == "change_shipping_address":
            store.quote_address_change(owner)
            plan = "address"
        elif request == "get_refund":
            status = store.get_order_summary(owner).status
            if status == "processing":  # not shipped: the way to get the money back is to cancel
                store.quote_cancellation(owner)
                plan = "cancel"
            elif status == "delivered":
                quote = store.quote_return(owner)
                plan = "return"
                if len(quote.items) == 1:
                    extra = [SlotSet("return_item", str(quote.items[0].item_id))]
    except StoreError as error:
        logger.info("Order %s: %s not possible (%s)", owner.order_number, request, error)
        plan = "none"
    logger.info("Order %s, request %s: plan %s", owner.order_number, request, plan)
    return [SlotSet("order_plan", plan), *extra]


def validate_new_address(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    """Accept a full postal address (normalised to one line), or say what is missing."""
    try:
        address = parse_address(value)
    except AddressError as error:
        logger.info("Rejected address %r from %s", shorten(value), tracker.sender_id)
        dispatcher.utter_message(text=str(error))
        return {"new_address": None}
    return {"new_address": address.one_line()}


def validate_order_confirmed(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    """Turn a "yes" to this plan's question into ``"<plan>:<order>"``, a plain no into ``"no"``
    (the form ends and ``action_order_request`` says nothing changed); anything else: ask again.

    A yes is the ``affirm`` intent, the request's own intent ("cancel it") or a reply that opens
    with a plain yes ("correct, change it"), and never a reply with a no, a doubt or a question in
    it ("no, keep it", "hold on, the zip is wrong"), whatever the NLU made of it (``actions.yes_no``).
    """
    owner = ownership_of(tracker)
    plan = tracker.get_slot("order_plan") or ""
    latest = tracker.latest_message or {}
    intent = (latest.get("intent") or {}).get("name")
    if owner is None or not value or plan not in CONFIRM_INTENTS:
        return {"order_confirmed": None}
    if opens_with_no(latest.get("text")):
        logger.info(
            "Sender %s said no to %s of order %s", tracker.sender_id, plan, owner.order_number
        )
        return {"order_confirmed": "no"}
    if not is_yes(latest.get("text"), intent, CONFIRM_INTENTS[plan]):
        return {"order_confirmed": None}
    logger.info("Sender %s confirmed %s of order %s", tracker.sender_id, plan, owner.order_number)
    return {"order_confirmed": f"{plan}:{owner.order_number}"}


class ActionAskOrderConfirmed(Action):
    """Ask yes/no before a change, stating exactly what will happen and the money involved."""

    def name(self) -> str:
        """Return the action name the domain refers to."""
        return "action_ask_order_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Quote the change from the store service and ask for a yes."""
        owner = ownership_of(tracker)
        plan = tracker.get_slot("order_plan")
        if owner is None or plan not in PLAN_SLOTS:
            return []
        store = get_store()
        try:
            if plan == "cancel":
                text = cancel_quote_text(store.quote_cancellation(owner))
                if tracker.get_slot("order_request") == "get_refund":
                    text = (
                        "Since it hasn't shipped, the way to get your money back is to cancel it. "
                        + text
                    )
            elif plan == "address":
                new = parse_address(tracker.get_slot("new_address"))
                quote = store.quote_address_change(owner)
                text = (
                    f"Order #{owner.order_number} now ships to {quote.current_address}. Shall I "
                    f"change it to {new.one_line()}?"
                )
            else:
                quote_r = store.quote_return(owner)
                items = chosen_items(tracker, quote_r)
                condition = ItemCondition(tracker.get_slot("item_condition"))
                text = return_confirm_text(quote_r, items, condition)
        except (StoreError, AddressError, ValueError) as error:
            dispatcher.utter_message(
                text=refusal_text(error) if isinstance(error, StoreError) else str(error)
            )
            return [SlotSet("order_plan", "refused"), SlotSet("requested_slot", None)]
        dispatcher.utter_message(text=text, buttons=YES_NO_BUTTONS)
        return []


# --------------------------------------------------------------------------------------------------
# The answer
# --------------------------------------------------------------------------------------------------


class ActionOrderRequest(Action):
    """Do or answer the order request once ``order_form`` is complete."""

    def name(self) -> str:
        """Return the action name the domain refers to."""
        return "action_order_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Make the confirmed change or answer the question, from the store service."""
        store = get_store()
        events = clear(*FLOW_SLOTS)
        if tracker.get_slot("order_plan") == ANSWERED_PLAN:
            return events  # the FAQ's answer was the reply
        owner = ownership_of(tracker)
        if owner is None:
            until = locked_until(tracker)
            if until is not None:
                dispatcher.utter_message(text=lockout_text(until, store.now()))
            return events + clear("order_number", "email")
        plan = tracker.get_slot("order_plan") or "none"
        request = tracker.get_slot("order_request") or "track_order"
        if plan == "refused":  # the reason was given when it came up
            dispatcher.utter_message(response="utter_anything_else")
            return events
        confirmed = tracker.get_slot("order_confirmed") == f"{plan}:{owner.order_number}"
        try:
            if plan in PLAN_SLOTS:
                text = (
                    perform(plan, owner, tracker, store)
                    if confirmed
                    else f"I haven't changed anything on order #{owner.order_number}."
                )
            else:
                text = answer(request, owner, store)
        except StoreError as error:
            logger.info("Order %s, %s refused: %s", owner.order_number, request, error)
            text = refusal_text(error)
        except AddressError as error:
            text = str(error)
        dispatcher.utter_message(text=text)
        return events


def perform(plan: str, owner: Ownership, tracker: Tracker, store: StoreBackend) -> str:
    """Make the confirmed change and describe the result."""
    actor = actor_of(tracker)
    if plan == "cancel":
        return cancellation_text(store.cancel_order(owner, actor))
    if plan == "address":
        address = parse_address(tracker.get_slot("new_address"))
        return address_change_text(store.change_shipping_address(owner, address, actor))
    quote = store.quote_return(owner)
    items = [item.item_id for item in chosen_items(tracker, quote)]
    condition = ItemCondition(tracker.get_slot("item_condition"))
    return return_outcome_text(store.create_return(owner, items, condition, actor))


def answer(request: str, owner: Ownership, store: StoreBackend) -> str:
    """Answer a request that changes nothing (or explain why the change can't be made)."""
    today = store.now().date()
    if request == "cancel_order":
        try:
            store.quote_cancellation(owner)  # raises the reason it can't be cancelled
        except OrderClosed as closed:
            if closed.status != "cancelled":
                raise
            return already_cancelled_text(store.get_order_summary(owner))
    elif request == "change_shipping_address":
        store.quote_address_change(owner)
    elif request in ("check_invoice", "get_invoice"):
        return invoice_text(store.invoice(owner), send=request == "get_invoice")
    summary = store.get_order_summary(owner)
    if request == "change_order":
        return change_order_text(summary)
    if request == "payment_issue":
        return payment_text(summary)
    if request == "track_refund":
        return refund_text(summary)
    if request == "get_refund":
        if summary.refunds or summary.status in ("cancelled", "returned"):
            return refund_text(summary)
        try:
            store.quote_return(owner)
        except NothingToReturn as error:
            if error.open_returns:
                return refund_text(summary)
            raise
    return track_text(summary, today)


# --------------------------------------------------------------------------------------------------
# Store-wide answers (no order needed; more specific with a verified order)
# --------------------------------------------------------------------------------------------------


class ActionDeliveryOptions(Action):
    """Shipping methods, fees and times from the store's data ("is there free shipping?" gets
    that answer first)."""

    def name(self) -> str:
        """Return the action name the domain refers to."""
        return "action_delivery_options"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """List the shipping methods (or answer a misread FAQ question from the FAQ)."""
        answered = await misread_question_events(dispatcher, tracker, DELIVERY_QUESTIONS)
        if answered is not None:
            return answered
        text = str(tracker.latest_message.get("text") or "")
        dispatcher.utter_message(text=shipping_cost_text(text, delivery_options_of(get_store())))
        return []


class ActionDeliveryPeriod(Action):
    """Delivery times; with a verified order in the conversation, that order's estimate too."""

    def name(self) -> str:
        """Return the action name the domain refers to."""
        return "action_delivery_period"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Say how long delivery takes (or answer a misread FAQ question from the FAQ; "how much
        is shipping", read as this intent, gets the fees)."""
        answered = await misread_question_events(dispatcher, tracker, DELIVERY_QUESTIONS)
        if answered is not None:
            return answered
        store = get_store()
        if shipping_cost_answered(dispatcher, tracker, store):
            return []
        owner = ownership_of(tracker)
        summary = None
        if owner is not None:
            try:
                summary = store.get_order_summary(owner)
            except StoreError:
                summary = None
        text = delivery_period_text(delivery_options_of(store), summary, store.now().date())
        dispatcher.utter_message(text=text)
        return []


class ActionCancellationFee(Action):
    """The cancellation rule; with a verified, cancellable order, what cancelling would refund."""

    def name(self) -> str:
        """Return the action name the domain refers to."""
        return "action_cancellation_fee"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """State the fee (none before shipping); "whats the delivery charge", read as this
        intent, gets the shipping fees."""
        if shipping_cost_answered(dispatcher, tracker):
            return []
        owner = ownership_of(tracker)
        quote = None
        if owner is not None:
            try:
                quote = get_store().quote_cancellation(owner)
            except StoreError:
                quote = None
        dispatcher.utter_message(text=cancellation_fee_text(quote))
        return []
