"""Handing the conversation to a human agent, and the store's contact details.

``action_handoff`` pauses the conversation (Rasa's ``ConversationPaused``): from then on Rasa stores
every shopper message but predicts nothing, so the bot stays silent until an agent (or the shopper,
leaving the queue) resumes it. The Rasa server's event broker (``bot/handoff/broker.py``) sees the
pause in the tracker and puts the conversation in the agent console's queue with the reason set
here. What the shopper is told about hours and contact details comes from the settings
(``SHOPBOT_SUPPORT_EMAIL``/``_PHONE``/``_HOURS``), never from hard-coded text: a store that configured
nothing is promised nothing. Design: docs/decisions/011-live-handoff.md.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from core.settings import Settings

logger = logging.getLogger(__name__)

ASKED_INTENTS = frozenset({"contact_human_agent", "human_handoff"})
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
ACCOUNT_INTENTS = frozenset({"delete_account"})
OFFER_ACTION = "utter_offer_human"
FALLBACK_LOOKBACK = 4  # user turns before an accepted offer that count as "repeated fallbacks"


@functools.lru_cache(maxsize=1)
def _settings() -> Settings:
    return Settings()


def _recent_user_intents(tracker: Tracker, limit: int) -> list[str]:
    """Intents of the latest ``limit`` user turns, newest first."""
    intents = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            name = (event.get("parse_data") or {}).get("intent", {}).get("name")
            intents.append(str(name or ""))
            if len(intents) >= limit:
                break
    return intents


def _last_bot_action(tracker: Tracker) -> str | None:
    """The latest action before the current user turn (``action_listen`` skipped)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "action":
            name = event.get("name")
            if name != "action_listen":
                return str(name)
    return None


def handoff_reason(tracker: Tracker) -> str:
    """Why the conversation goes to a human: ``asked``, ``frustration``, ``fallbacks`` or ``account``.

    An accepted offer of a human (``utter_offer_human`` → affirm) counts as ``fallbacks`` when at
    least two of the user turns before it were not understood, else as ``frustration``.
    """
    intents = _recent_user_intents(tracker, FALLBACK_LOOKBACK + 1)
    latest = intents[0] if intents else ""
    if latest in ASKED_INTENTS:
        return "asked"
    if latest in ACCOUNT_INTENTS:
        return "account"
    if _last_bot_action(tracker) == OFFER_ACTION:
        fallbacks = sum(1 for name in intents[1:] if name in FALLBACK_INTENTS)
        return "fallbacks" if fallbacks >= 2 else "frustration"
    return "asked"


def handoff_text(settings: Settings) -> str:
    """What the shopper is told when the conversation goes to the agent queue."""
    text = (
        "I'm passing this conversation to a human agent. You're in the queue, and their reply "
        "will appear right here; you don't need to repeat anything."
    )
    if settings.support_hours:
        text += f" Our team is available {settings.support_hours}."
    return text


def contact_text(settings: Settings) -> str:
    """The store's contact details as configured; without any, an honest offer of a human."""
    ways = []
    if settings.support_email:
        ways.append(f"by email at {settings.support_email}")
    if settings.support_phone:
        ways.append(f"by phone at {settings.support_phone}")
    if not ways:
        return (
            "I don't have the store's contact details to share here, but I can pass you to a "
            'human agent in this chat: just say "human".'
        )
    text = "You can reach our customer support team " + " or ".join(ways)
    if settings.support_hours:
        text += f", {settings.support_hours}"
    return text + ". You can also keep chatting with me here, or ask for a human agent."


class ActionHandoff(Action):
    """Tell the shopper a human is coming, record why, and pause the bot.

    Returns ``handoff_requested``/``handoff_reason`` slots, an ``action_listen`` (so the dialogue
    resumes listening when an agent hands it back) and ``ConversationPaused``.
    """

    def name(self) -> str:
        """Return the action name the domain refers to."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Reply with the handoff message and pause the conversation."""
        reason = handoff_reason(tracker)
        logger.info("Handoff of %s requested (%s)", tracker.sender_id, reason)
        dispatcher.utter_message(text=handoff_text(_settings()))
        return [
            SlotSet("handoff_requested", True),
            SlotSet("handoff_reason", reason),
            ActionExecuted("action_listen"),
            ConversationPaused(),
        ]


class ActionContactDetails(Action):
    """Tell the shopper how to reach the store's support team, from the settings."""

    def name(self) -> str:
        """Return the action name the domain refers to."""
        return "action_contact_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Reply with the configured contact details (or an offer of a human)."""
        dispatcher.utter_message(text=contact_text(_settings()))
        return []
