"""One seeded conversation: its tracker events as Rasa stores them, its summary row, its handoff row.

Events are built with Rasa's own event classes (``as_dict()`` is what the SQL tracker store writes
into ``events.data``) in the order a real conversation leaves them: the session start, then per
shopper turn ``user`` (with parse data: intent, ranking, sentiment), the ``sentiment`` slot,
``user_featurization``, the answering action, its ``bot`` message and ``action_listen``. A
handed-off conversation ends the way ``action_handoff`` and the agent console leave it
(docs/decisions/011-live-handoff.md): the handoff message, the ``handoff_requested`` and
``handoff_reason`` slots, ``action_listen``, ``pause``; then, as its state says, the "no agent
online" notice, the agent's "joined" notice and messages (``bot`` events marked
``metadata.shopbot``), shopper messages while paused, and ``resume`` with the closing note.

The texts and sentiment labels are real (see ``shopper_corpus``); intent and sentiment
confidences and the times between events are drawn from the seeded random source.

The summary row, the message rows (``conversation_messages``: search and analytics) and the
handoff row are folded from those events with the rules of the Rasa server's event broker
(``bot/handoff/broker.py``; a message row is what its ``message_of`` makes of the event);
``tests/unit/training/test_seed_conversations.py`` replays seeded events through the real broker
and compares.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    DefinePrevUserUtteredFeaturization,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot.handoff.broker import message_of
from bot.storage.messages import NewMessage, turn_counts
from training.bench.shopper_corpus import ShopperCorpus

MAX_TEXT = 500  # bot.storage.conversations.MAX_TEXT
MAX_MESSAGE_CHARS = 4000  # bot.storage.message_tables.MAX_MESSAGE_CHARS
SENTIMENTS = ("negative", "neutral", "positive")
SENTIMENT_MODEL = "seeded"  # parse_data.sentiment.model: says these labels came from the seed
REASON_SLOT = "handoff_reason"
CUSTOMER_SLOT = "verified_customer"
ORDER_ACTION = "order_form"
FALLBACK_INTENTS = ("nlu_fallback", "out_of_scope")  # bot.storage.conversations.FALLBACK_INTENTS
UNSURE_SHARE = 0.06  # shopper turns the classifier was unsure about (still above its fallback)
UNSURE_CONFIDENCE = (0.31, 0.55)  # config.yml's FallbackClassifier threshold is 0.3


@dataclass(frozen=True)
class Agent:
    """A console agent who claims seeded handoffs (a row of ``console_agents``)."""

    id: int
    name: str


@dataclass(frozen=True)
class Texts:
    """The fixed texts the live system writes (from ``actions``, ``bot.console``, the widget)."""

    handoff: str  # actions.handoff.handoff_text
    no_agent_notice: str  # bot.console.waiting.notice_text
    left_queue: str  # bot.channels.widget.LEFT_QUEUE
    ended: dict[str, str]  # bot.console.handoff_views.END_TEXT


@dataclass
class Plan:
    """What one conversation is: who, where, when, and how its handoff went (if it had one).

    ``status`` is ``none`` (never handed off), ``waiting``, ``claimed``, ``returned``,
    ``closed`` or ``left``.
    """

    conversation_id: str
    channel: str
    start: float  # epoch seconds
    status: str
    turns: int
    reason: str = "asked"
    customer: str | None = None
    agent: Agent | None = None


@dataclass
class Seeded:
    """One conversation ready to write: tracker rows, its summary row, its handoff row, its
    message rows."""

    events: list[dict[str, Any]]
    summary: dict[str, Any]
    handoff: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)


def unsure_or_sure(u: float) -> float:
    """A top-intent confidence from one uniform draw ``u`` in [0, 1): the lowest
    ``UNSURE_SHARE`` of draws spread over ``UNSURE_CONFIDENCE``, the rest over 0.55..0.995 (one
    draw, as before unsure turns were seeded: the rest of the random stream is unchanged)."""
    if u < UNSURE_SHARE:
        low, high = UNSURE_CONFIDENCE
        return low + (high - low) * u / UNSURE_SHARE
    return 0.55 + 0.445 * (u - UNSURE_SHARE) / (1.0 - UNSURE_SHARE)


def utc(stamp: float) -> dt.datetime:
    """Epoch seconds → naive UTC (what the application database stores)."""
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).replace(tzinfo=None)


def bot_data(buttons: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``BotUttered.data`` of a message an action sent (Rasa's ``create_bot_utterance``)."""
    return {
        "elements": None,
        "quick_replies": None,
        "buttons": buttons or None,
        "attachment": None,
        "image": None,
        "custom": None,
    }


def conversation_id(rng: random.Random, channel: str) -> str:
    """An id shaped like the channel's: the widget's 32 hex digits, a UUID for REST senders."""
    bits = rng.getrandbits(128)
    if channel == "widget":
        return f"{bits:032x}"
    return str(uuid.UUID(int=bits, version=4))


class ConversationBuilder:
    """Builds seeded conversations from a corpus of real text.

    Args:
        corpus: Shopper messages, bot and agent replies.
        texts: The live system's fixed texts.
        rng: The seeded random source (the same seed gives the same conversations).
        wait_timeout_s: ``Settings.handoff_wait_timeout``: waiting handoffs older than this have
            been sent the "no agent online" notice.
    """

    def __init__(
        self, corpus: ShopperCorpus, texts: Texts, rng: random.Random, wait_timeout_s: int
    ) -> None:
        self.corpus = corpus
        self.texts = texts
        self.rng = rng
        self.wait_timeout_s = wait_timeout_s
        self.topics = corpus.topics
        self.negative = [
            (intent, text)
            for intent in self.topics
            for text in corpus.messages[intent]
            if corpus.sentiment_of(text) == "negative"
        ]
        self.human_intents = [
            i for i in ("contact_human_agent", "human_handoff") if i in corpus.messages
        ]

    # ---------------------------------------------------------------------------- events

    def _parse_data(self, text: str, intent: str, sentiment: str) -> dict[str, Any]:
        rng = self.rng
        confidence = round(unsure_or_sure(rng.random()), 4)
        others = rng.sample([t for t in self.topics if t != intent], 2)
        rest = 1.0 - confidence
        ranking = [
            {"name": intent, "confidence": confidence},
            {"name": others[0], "confidence": round(rest * 0.7, 4)},
            {"name": others[1], "confidence": round(rest * 0.2, 4)},
        ]
        s_conf = round(rng.uniform(0.6, 0.98), 4)
        share = (1.0 - s_conf) / 2
        scores = {name: (s_conf if name == sentiment else round(share, 4)) for name in SENTIMENTS}
        return {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [
                {
                    "entity": "sentiment",
                    "start": 0,
                    "end": len(text),
                    "confidence_entity": s_conf,
                    "value": sentiment,
                    "extractor": "BertSentimentAnalyzer",
                }
            ],
            "text": text,
            "message_id": uuid.UUID(int=rng.getrandbits(128), version=4).hex,
            "metadata": {},
            "intent_ranking": ranking,
            "sentiment": {
                "label": sentiment,
                "confidence": s_conf,
                "scores": scores,
                "model": SENTIMENT_MODEL,
            },
        }

    def _user(self, at: float, channel: str, intent: str, text: str | None = None) -> UserUttered:
        text = text or self.corpus.message(self.rng, intent)
        sentiment = self.corpus.sentiment_of(text)
        parse = self._parse_data(text, intent, sentiment)
        return UserUttered(
            text,
            intent=parse["intent"],
            parse_data=parse,
            timestamp=at,
            input_channel=channel,
            message_id=parse["message_id"],
            metadata={},
        )

    def _bot_turn(self, at: float, intent: str) -> list[Event]:
        action, text = self.corpus.bot_reply(intent)
        meta = {"utter_action": action} if action.startswith("utter_") else {}
        return [
            ActionExecuted(action, policy="RulePolicy", confidence=1.0, timestamp=at),
            BotUttered(text, bot_data(), meta, timestamp=at + 0.05),
            ActionExecuted(
                "action_listen", policy="RulePolicy", confidence=1.0, timestamp=at + 0.1
            ),
        ]

    def _turn(self, t: float, channel: str, intent: str, text: str | None = None) -> list[Event]:
        user = self._user(t, channel, intent, text)
        return [
            user,
            SlotSet("sentiment", user.parse_data["sentiment"]["label"], timestamp=t),
            DefinePrevUserUtteredFeaturization(False, timestamp=t),
            *self._bot_turn(t + self.rng.uniform(0.3, 2.5), intent),
        ]

    @staticmethod
    def _marked(at: float, text: str, **shopbot: Any) -> Event:
        """A ``bot`` event as the console appends it through Rasa's HTTP API."""
        return Event.from_parameters(
            {"event": "bot", "text": text, "metadata": {"shopbot": shopbot}, "timestamp": at}
        )

    def events(self, plan: Plan) -> tuple[list[Event], dict[str, float]]:
        """The conversation's events, and the handoff's moments (requested, claimed, ended...)."""
        rng, channel = self.rng, plan.channel
        t = plan.start
        events: list[Event] = [
            ActionExecuted("action_session_start", timestamp=t),
            SessionStarted(timestamp=t),
            ActionExecuted("action_listen", timestamp=t),
        ]
        topic = rng.choice(self.topics)  # the last thing the shopper asked the bot about
        for turn in range(plan.turns):
            topic = rng.choice(self.topics) if turn else topic
            t += rng.uniform(2.0, 90.0)
            events += self._turn(t, channel, topic)
            t = events[-1].timestamp
            if turn == 0 and plan.customer and self.corpus.bot_actions.get(topic) == ORDER_ACTION:
                # order_form verified the shopper against the order database
                events.append(SlotSet(CUSTOMER_SLOT, plan.customer, timestamp=t))
        moments: dict[str, float] = {}
        if plan.status == "none":
            return events, moments
        # The way into the queue: asked outright, or accepted the offer after a frustrated message.
        t += rng.uniform(3.0, 60.0)
        if plan.reason == "frustration" and self.negative:
            topic, text = rng.choice(self.negative)
            user = self._user(t, channel, topic, text)
            t += rng.uniform(0.3, 2.0)
            events += [
                user,
                SlotSet("sentiment", "negative", timestamp=user.timestamp),
                DefinePrevUserUtteredFeaturization(False, timestamp=user.timestamp),
                ActionExecuted(
                    "utter_offer_human", policy="RulePolicy", confidence=1.0, timestamp=t
                ),
                BotUttered(
                    self.corpus.offer_text,
                    bot_data(self.corpus.offer_buttons),
                    {"utter_action": "utter_offer_human"},
                    timestamp=t + 0.05,
                ),
                ActionExecuted(
                    "action_listen", policy="RulePolicy", confidence=1.0, timestamp=t + 0.1
                ),
            ]
            t += rng.uniform(2.0, 20.0)
            events.append(self._user(t, channel, "affirm"))
        else:
            events.append(self._user(t, channel, rng.choice(self.human_intents)))
        t += rng.uniform(0.3, 2.0)
        events += [
            DefinePrevUserUtteredFeaturization(False, timestamp=t),
            ActionExecuted("action_handoff", policy="RulePolicy", confidence=1.0, timestamp=t),
            BotUttered(self.texts.handoff, bot_data(), {}, timestamp=t + 0.05),
            SlotSet("handoff_requested", True, timestamp=t + 0.05),
            SlotSet(REASON_SLOT, plan.reason, timestamp=t + 0.05),
            ActionExecuted("action_listen", timestamp=t + 0.05),
            ConversationPaused(timestamp=t + 0.05),
        ]
        t = moments["requested"] = t + 0.05
        if plan.status == "waiting":
            moments["notified"] = t + self.wait_timeout_s + rng.uniform(0.0, 10.0)
            events.append(
                self._marked(moments["notified"], self.texts.no_agent_notice, kind="notice")
            )
            return events, moments
        if plan.status == "left":
            t = moments["ended"] = t + rng.uniform(20.0, self.wait_timeout_s)
            events += [
                Event.from_parameters({"event": "resume", "timestamp": t}),
                self._marked(t, self.texts.left_queue, kind="handoff", state="ended"),
            ]
            return events, moments
        assert plan.agent is not None, f"a {plan.status} handoff needs an agent"
        name = plan.agent.name
        t = moments["claimed"] = t + rng.uniform(15.0, 600.0)
        joined = f"{name} from the support team joined the conversation."
        events.append(self._marked(t, joined, kind="handoff", state="joined", agent=name))
        for exchange in range(rng.randint(1, 3)):
            t += rng.uniform(20.0, 120.0)
            reply = self.corpus.agent_reply(rng, topic)
            events.append(self._marked(t, reply, kind="agent", agent=name, agent_id=plan.agent.id))
            if exchange == 0 or rng.random() < 0.5:  # the shopper answers; the bot stays paused
                t += rng.uniform(10.0, 90.0)
                events.append(self._user(t, channel, topic))
        if plan.status == "claimed":
            return events, moments
        t = moments["ended"] = t + rng.uniform(10.0, 120.0)
        events += [
            Event.from_parameters({"event": "resume", "timestamp": t}),
            self._marked(t, self.texts.ended[plan.status], kind="handoff", state="ended"),
        ]
        return events, moments

    # ---------------------------------------------------------------------------- rows

    def build(self, plan: Plan) -> Seeded:
        """The conversation's events, and its summary and handoff rows folded from them."""
        events, moments = self.events(plan)
        dicts = [e.as_dict() for e in events]
        summary = fold_summary(plan.conversation_id, dicts)
        messages = fold_messages(plan.conversation_id, dicts)
        handoff = None
        if plan.status != "none":
            replies = [m["at"] for m in messages if m["sender"] == "agent"]
            handoff = {
                "conversation_id": plan.conversation_id,
                "channel": summary["channel"],
                "reason": plan.reason,
                "status": plan.status,
                "customer": summary["customer"],
                "requested_at": utc(moments["requested"]),
                "agent_id": plan.agent.id if plan.agent else None,
                "claimed_at": utc(moments["claimed"]) if "claimed" in moments else None,
                "ended_at": utc(moments["ended"]) if "ended" in moments else None,
                "ended_by": plan.status if "ended" in moments else None,
                "timeout_notified_at": utc(moments["notified"]) if "notified" in moments else None,
                "first_reply_at": replies[0] if replies else None,
            }
        rows = [
            tracker_row(plan.conversation_id, event, d)
            for event, d in zip(events, dicts, strict=True)
        ]
        return Seeded(dicts, summary, handoff, rows, messages)


def tracker_row(sender_id: str, event: Event, data: dict[str, Any]) -> dict[str, Any]:
    """The ``events`` row Rasa's ``SQLTrackerStore.save`` writes for one event."""
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def fold_summary(conversation: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``conversation_summaries`` row the event broker leaves after these events.

    The broker's rules (``bot/handoff/broker.py``): a ``user`` event sets the channel, counts the
    message and keeps its text, intent and sentiment, counts a fallback (``nlu_fallback``,
    ``out_of_scope``) and a negative turn, and lowers ``min_confidence`` to its intent's
    confidence; a ``bot`` event with text or data counts a bot message; an ``agent`` event with the
    widget's ``data.feedback`` counts a thumbs up or down; the ``verified_customer`` slot sets the
    customer; a ``pause`` counts a handoff. Each of those moves ``last_event_at``; the first one is
    ``started_at``. ``reviewed_at`` is the console's (a proposed correction): None here.
    """
    row: dict[str, Any] = {
        "conversation_id": conversation,
        "channel": "unknown",
        "started_at": None,
        "last_event_at": None,
        "user_messages": 0,
        "bot_messages": 0,
        "last_user_text": None,
        "last_intent": None,
        "last_sentiment": None,
        "customer": None,
        "handoffs": 0,
        "fallback_turns": 0,
        "negative_turns": 0,
        "thumbs_up": 0,
        "thumbs_down": 0,
        "min_confidence": None,
        "reviewed_at": None,
        "started_day": None,
    }

    def touch(event: dict[str, Any]) -> None:
        at = utc(float(event["timestamp"]))
        row["last_event_at"] = at
        if row["started_at"] is None:
            row["started_at"], row["started_day"] = at, at.date()

    for event in events:
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            touch(event)
            if event.get("input_channel"):
                row["channel"] = str(event["input_channel"])[:32]
            row["user_messages"] += 1
            row["last_user_text"] = str(event.get("text") or "")[:MAX_TEXT] or None
            row["last_intent"] = ((parse.get("intent") or {}).get("name") or "")[:64] or None
            row["last_sentiment"] = ((parse.get("sentiment") or {}).get("label") or "")[:16] or None
            intent = (parse.get("intent") or {}).get("name")
            row["fallback_turns"] += intent in FALLBACK_INTENTS
            row["negative_turns"] += (parse.get("sentiment") or {}).get("label") == "negative"
            confidence = (parse.get("intent") or {}).get("confidence")
            if isinstance(confidence, (int, float)) and not isinstance(confidence, bool):
                lowest = row["min_confidence"]
                row["min_confidence"] = (
                    float(confidence) if lowest is None else min(lowest, float(confidence))
                )
        elif kind == "bot" and (event.get("text") or event.get("data")):
            touch(event)
            row["bot_messages"] += 1
        elif kind == "agent" and _thumbs(event) is not None:
            touch(event)
            row[f"thumbs_{_thumbs(event)}"] += 1
        elif kind == "slot" and event.get("name") == CUSTOMER_SLOT and event.get("value"):
            touch(event)
            row["customer"] = str(event["value"])[:254]
        elif kind == "pause":
            touch(event)
            row["handoffs"] += 1
    return row


def fold_messages(conversation: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``conversation_messages`` rows the event broker stores for these events (without ids).

    One per event ``bot.handoff.broker.message_of`` makes a message of; its channel is the
    shopper message's own, else the one the summary row holds by then (the latest shopper
    message's, ``unknown`` before the first).
    """
    channel = "unknown"
    rows = []
    for event in events:
        if event.get("event") == "user" and event.get("input_channel"):
            channel = str(event["input_channel"])[:32]
        message = message_of(event)
        if message is None:
            continue
        rows.append(
            {
                "conversation_id": conversation,
                "at": utc(float(event["timestamp"])),
                "sender": message.sender,
                "channel": channel,
                "text": message.text[:MAX_MESSAGE_CHARS],
                "intent": (message.intent or "")[:64] or None,
                "confidence": message.confidence,
                "sentiment": (message.sentiment or "")[:16] or None,
                "agent_id": message.agent_id,
            }
        )
    return rows


def add_turns(daily: dict[tuple[Any, ...], dict[str, Any]], messages: list[dict[str, Any]]) -> None:
    """Count ``messages``' shopper turns into ``daily`` (``shopper_turns_daily`` rows by key: day,
    channel, intent, sentiment), with the broker's own rule (``bot.storage.messages.turn_counts``).
    """
    for m in messages:
        if m["sender"] != "user":
            continue
        counts = turn_counts(
            NewMessage("user", m["text"], m["intent"], m["confidence"], m["sentiment"])
        )
        key = (m["at"].date(), m["channel"], counts.pop("intent"), counts.pop("sentiment"))
        row = daily.setdefault(key, dict.fromkeys(counts, 0))
        for name, value in counts.items():
            row[name] += value


def _thumbs(event: dict[str, Any]) -> str | None:
    """``up``/``down`` from an ``agent`` event carrying the widget's feedback, else None."""
    data = event.get("data")
    feedback = data.get("feedback") if isinstance(data, dict) else None
    value = feedback.get("value") if isinstance(feedback, dict) else None
    return value if value in ("up", "down") else None
