"""Who the shopper is: ownership checks inside ``order_form``, customer tokens, lockout replies.

The dialogue holds ownership in two slots that only ``verification_events`` sets, after the store
service confirmed it: ``verified_order`` (the order number) and ``verified_customer`` (the owner's
customer id). Every order action rebuilds an ``Ownership`` from them with ``ownership_of`` and acts
only when ``verified_order`` equals the ``order_number`` being talked about; when the shopper
switches to another order number, ownership is checked again (with the email already given, or
the signed-in customer's token) before anything about the new order is said.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.store.runtime import customer_token_secret, get_store
from actions.store.tokens import verify_customer_token
from actions.store.types import Actor, LockedOut, NotVerified, Ownership, StoreUnavailable
from core.client_key import CLIENT_METADATA_KEY

logger = logging.getLogger(__name__)

VERIFIED_ORDER = "verified_order"
VERIFIED_CUSTOMER = "verified_customer"
LOCKED_UNTIL = "identity_locked_until"

# Slots of one order request after ownership is proven; cleared whenever the order or the
# request changes, so nothing carries over to another order.
FLOW_SLOTS = ("order_plan", "return_item", "item_condition", "new_address", "order_confirmed")


def actor_of(tracker: Tracker) -> Actor:
    """The sender id, input channel and client of the conversation (for the audit log and lockout).

    The client is the opaque hash of the client address the channel put in the latest user
    message's metadata as ``client`` (``""`` when the channel sent none).
    """
    client = latest_metadata(tracker).get(CLIENT_METADATA_KEY)
    return Actor(
        tracker.sender_id,
        tracker.get_latest_input_channel() or "unknown",
        client=client.strip() if isinstance(client, str) else "",
    )


def latest_metadata(tracker: Tracker) -> dict[str, Any]:
    """The metadata the channel sent with the latest user message (``{}`` when none)."""
    metadata = (tracker.latest_message or {}).get("metadata")
    if isinstance(metadata, dict) and metadata:
        return metadata
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            found = event.get("metadata")
            return found if isinstance(found, dict) else {}
    return {}


def signed_in_customer(tracker: Tracker) -> int | None:
    """The customer id of a valid ``customer_token`` in the latest message's metadata, or None."""
    token = latest_metadata(tracker).get("customer_token")
    if token is None:
        return None
    return verify_customer_token(token, customer_token_secret())


def ownership_of(tracker: Tracker) -> Ownership | None:
    """The ownership proven in this conversation for the order being talked about, or None."""
    number = tracker.get_slot("order_number")
    verified = tracker.get_slot(VERIFIED_ORDER)
    customer = str(tracker.get_slot(VERIFIED_CUSTOMER) or "")
    if not number or number != verified or not customer.isdigit():
        return None
    return Ownership(order_number=number, customer_id=int(customer))


def locked_until(tracker: Tracker) -> dt.datetime | None:
    """The end of this sender's lockout recorded in the conversation, if it is still running."""
    raw = tracker.get_slot(LOCKED_UNTIL)
    if not raw:
        return None
    try:
        until = dt.datetime.fromisoformat(str(raw))
    except ValueError:
        return None
    return until if until > get_store().now() else None


def slot_before_this_turn(tracker: Tracker, name: str) -> Any:
    """The value ``name`` had before the latest user message filled slots (None if unset)."""
    events = tracker.events
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=0)
    for event in reversed(events[:last_user]):
        if event.get("event") == "slot" and event.get("name") == name:
            return event.get("value")
    return None


def form_starts_now(tracker: Tracker, form: str = "order_form") -> bool:
    """Whether ``form`` is starting on the latest user message: its ``active_loop`` event comes
    after that message. (``tracker.active_loop`` already names the form when it starts, so it
    cannot tell a start from a later turn.)"""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "active_loop" and event.get("name") == form:
            return True
    return False


def clear(*names: str) -> list[dict[str, Any]]:
    """``SlotSet(name, None)`` for each name."""
    return [SlotSet(name, None) for name in names]


def verification_events(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Check ownership of ``order_number`` once the proof is complete; return the slot events.

    Proof is the ``email`` slot or, for a signed-in shopper, the customer token. On success the
    verified slots are set (and the request's flow slots cleared when the order changed). On a
    wrong pair the shopper gets one generic reply, and the order number and email are cleared so the
    form asks for both again (only the email when the shopper switched from an order already proven
    here to another one). Every wrong pair counts towards the lockout. On a lockout the form ends
    and ``action_order_request`` explains.
    """
    number = tracker.get_slot("order_number")
    if not number:
        return []
    if ownership_of(tracker) is not None:
        return []
    # Switching from an order proven in this conversation to another one: on a mismatch keep the
    # new number and ask only for the email on it (the reply is the same generic one either way).
    switching = bool(tracker.get_slot(VERIFIED_CUSTOMER))
    # Only slots that hold something: a validation that sets no slot lets Rasa reject the form,
    # so a question, a no or a request for a human while the email is asked reaches the rules.
    events = clear(
        *(n for n in (VERIFIED_ORDER, VERIFIED_CUSTOMER, *FLOW_SLOTS) if tracker.get_slot(n))
    )
    customer = signed_in_customer(tracker)
    email = tracker.get_slot("email")
    if customer is None and not email:
        return events  # the form asks for the email next
    actor = actor_of(tracker)
    store = get_store()
    try:
        if customer is not None:
            owner = store.verify_customer_order(number, customer, actor)
        else:
            owner = store.verify_owner(number, str(email), actor)
    except LockedOut as locked:
        return [
            *events,
            *clear("order_number", "email"),
            SlotSet(LOCKED_UNTIL, locked.until.isoformat()),
        ]
    except NotVerified:
        if customer is not None:
            dispatcher.utter_message(response="utter_order_not_on_account", order_number=number)
        else:
            dispatcher.utter_message(
                response="utter_order_not_verified", order_number=number, email=email
            )
        return [*events, *clear("email" if switching else "order_number", "email")]
    except StoreUnavailable:
        dispatcher.utter_message(response="utter_store_unavailable")
        return [*events, *clear("order_number")]
    logger.info("Conversation %s owns order %s", tracker.sender_id, number)
    return [
        *events,
        SlotSet(VERIFIED_ORDER, owner.order_number),
        SlotSet(VERIFIED_CUSTOMER, str(owner.customer_id)),
        SlotSet(LOCKED_UNTIL, None),
    ]


def lockout_text(until: dt.datetime, now: dt.datetime) -> str:
    """The reply when a sender is locked out: why, and when to retry."""
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))  # 15:00 left is 15, 14:01 too
    return (
        "For your security I've paused order lookups in this chat: too many order number and "
        f"email combinations didn't match. Please try again after {until:%H:%M} UTC "
        f"(in about {minutes} minute{'s' if minutes != 1 else ''}), or ask for a human agent."
    )
