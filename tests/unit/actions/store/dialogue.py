"""Replays order conversations through the real actions the way Rasa runs ``order_form``.

``Chat`` keeps the slots, builds for every call the tracker Rasa would send (user event, the form's
``ActionExecuted``, the slot candidates at the end, ``active_loop`` empty at activation), runs
``validate_order_form``, then the ask action or ``action_order_request`` exactly as the form and
the "Submit the order form" rule do, and applies the returned events. Not collected (no test_).
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidateOrderForm
from actions.orders import ActionAskOrderConfirmed, ActionOrderRequest
from actions.returns import ActionAskReturnItem

FORM_SLOTS = [
    "order_number",
    "email",
    "return_item",
    "item_condition",
    "new_address",
    "order_confirmed",
]
OTHER_SLOTS = [
    "order_request",
    "verified_order",
    "verified_customer",
    "identity_locked_until",
    "order_plan",
    "requested_slot",
]
DOMAIN: dict[str, Any] = {
    "forms": {"order_form": {"required_slots": FORM_SLOTS}},
    "slots": {name: {"mappings": [{"type": "custom"}]} for name in FORM_SLOTS + OTHER_SLOTS},
}
FROM_TEXT = {"order_number", "email", "return_item", "item_condition", "new_address"}
NOT_INTENT = {
    "deny",
    "goodbye",
    "human_handoff",
    "contact_human_agent",
    "out_of_scope",
    "thank",
    "bot_challenge",
    "check_refund_policy",
    "check_cancellation_fee",
    "check_payment_methods",
    "delivery_options",
    "delivery_period",
    "product_question",
    "product_search",
}
CONFIRM_INTENTS = {"affirm", "cancel_order", "change_shipping_address", "get_refund"}
ASK_ACTIONS: dict[str, Action] = {
    "order_confirmed": ActionAskOrderConfirmed(),
    "return_item": ActionAskReturnItem(),
}


def run(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run one action; return (events, messages)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return events, dispatcher.messages


def make_tracker(
    slots: dict[str, Any],
    *,
    sender: str = "shopper-1",
    channel: str = "rest",
    intent: str = "inform",
    text: str = "",
    metadata: dict[str, Any] | None = None,
    candidates: dict[str, Any] | None = None,
    active: bool = True,
) -> Tracker:
    """The tracker Rasa sends: the latest user message, then the slot candidates at the end."""
    user = {
        "event": "user",
        "text": text,
        "input_channel": channel,
        "parse_data": {"intent": {"name": intent, "confidence": 0.95}, "entities": []},
        "metadata": metadata or {},
    }
    events: list[dict[str, Any]] = [{"event": "action", "name": "action_listen"}, user]
    candidates = candidates or {}
    if active or candidates:
        events.append(
            {"event": "slot", "name": "requested_slot", "value": slots.get("requested_slot")}
        )
        events.append({"event": "action", "name": "order_form"})
        events += [{"event": "slot", "name": k, "value": v} for k, v in candidates.items()]
    return Tracker(
        sender_id=sender,
        slots={**slots, **candidates},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.95},
            "entities": [],
            "metadata": metadata or {},
        },
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": "order_form"} if active else {},
        latest_action_name="action_listen",
    )


class Chat:
    """One shopper's conversation about orders (sender id and channel fixed)."""

    def __init__(self, sender: str = "shopper-1", channel: str = "rest") -> None:
        self.sender = sender
        self.channel = channel
        self.slots: dict[str, Any] = {name: None for name in FORM_SLOTS + OTHER_SLOTS}
        self.active = False
        self.metadata: dict[str, Any] = {}
        self.transcript: list[dict[str, Any]] = []

    def _tracker(self, intent: str, text: str, candidates: dict[str, Any], active: bool) -> Tracker:
        return make_tracker(
            self.slots,
            sender=self.sender,
            channel=self.channel,
            intent=intent,
            text=text,
            metadata=self.metadata,
            candidates=candidates,
            active=active,
        )

    def _apply(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]

    def start(self, request: str, text: str = "", **entities: Any) -> list[dict[str, Any]]:
        """An order intent (``track_order``...) with optional entities: the form activates."""
        self.slots["order_request"] = request
        self.active = True
        prefilled = {k: self.slots[k] for k in FORM_SLOTS if self.slots[k] is not None}
        return self._turn(request, text, {**prefilled, **entities}, activating=True)

    def say(self, text: str, intent: str = "inform", **entities: Any) -> list[dict[str, Any]]:
        """A message while the form is active (``from_text`` fills the requested slot)."""
        assert self.active, "the form is not active; use start()"
        requested = self.slots["requested_slot"]
        if intent == "deny" and not self._form_reads(intent, text, entities):
            # Rasa runs the form first; only when it fills nothing is the form rejected and the
            # "Shopper stops the order form" rule answers the no.
            self.active = False
            self.slots["requested_slot"] = None
            messages = [{"response": "utter_form_stopped"}]
            self.transcript += messages
            return messages
        candidates = dict(entities)
        if requested in FROM_TEXT and intent not in NOT_INTENT:
            candidates.setdefault(requested, text)
        if requested == "order_confirmed" and intent in CONFIRM_INTENTS:
            candidates["order_confirmed"] = "yes"
        return self._turn(intent, text, candidates, activating=False)

    def _form_reads(self, intent: str, text: str, entities: dict[str, Any]) -> bool:
        """Whether the message fills a form slot: an entity, or ``extract_<slot>`` reads it."""
        tracker = self._tracker(intent, text, dict(entities), True)
        form = ValidateOrderForm()
        events = asyncio.run(form.get_extraction_events(CollectingDispatcher(), tracker, DOMAIN))
        return bool(entities) or any(e.get("value") is not None for e in events)

    def _turn(
        self, intent: str, text: str, candidates: dict[str, Any], activating: bool
    ) -> list[dict[str, Any]]:
        tracker = self._tracker(intent, text, candidates, active=not activating)
        self.slots.update(candidates)
        events, messages = run(ValidateOrderForm(), tracker)
        self._apply(events)
        requested = self.slots["requested_slot"]
        if requested is not None:
            ask = ASK_ACTIONS.get(requested)
            if ask is None:
                messages.append({"response": f"utter_ask_{requested}"})
            else:
                ask_events, ask_messages = run(ask, self._tracker(intent, text, {}, active=True))
                self._apply(ask_events)
                messages += ask_messages
        else:  # the form is done: the "Submit the order form" rule runs action_order_request
            self.active = False
            done_events, done_messages = run(
                ActionOrderRequest(), self._tracker(intent, text, {}, active=False)
            )
            self._apply(done_events)
            messages += done_messages
        self.transcript += messages
        return messages


def texts(messages: list[dict[str, Any]]) -> str:
    """The texts (and response names) of ``messages``, one per line."""
    return "\n".join(m.get("text") or m.get("response") or "" for m in messages)
