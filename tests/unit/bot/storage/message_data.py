"""A small, hand-checked set of conversations folded into an application database by the real
event broker (the event dicts Rasa's tracker store publishes), for the search and analytics tests
on SQLite and PostgreSQL.

Six conversations over three days (D = 2026-12-01, a Tuesday; times UTC):

====  =======  ======  ===========================================================================
id    channel  day     what happens
====  =======  ======  ===========================================================================
c1    widget   D       track_order 0.9 neutral, thank 0.95 positive; thumbs up; no handoff
c2    widget   D       nlu_fallback 0.2 neutral, request_refund 0.45 negative ("damaged parcel");
                       handoff (frustration) 10:01:00, "joined" notice 10:03, agent 10:04 (180 s)
c3    rest     D+1     contact_human_agent 0.8 negative; handoff (asked) 11:00:10, agent 11:10:10
                       (600 s)
c4    rest     D+1     contact_human_agent 0.7 neutral; handoff (asked), never answered;
                       thumbs down
c5    widget   D+2     greet 0.99 positive; no handoff
c6    widget   D+2     cancel_order 0.6 neutral ("cancel order 4821"); handoff (asked) 09:00:30,
                       agent 09:01:30 (60 s)
====  =======  ======  ===========================================================================

First responses 60, 180, 600 s: median 180, p90 516 (numpy's linear rule); one unanswered.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine

from bot.handoff.broker import HandoffEventBroker
from bot.storage.handoffs import HandoffQueue

D = dt.date(2026, 12, 1)
AGENT_ID = 7


def ts(day: int, hh: int, mm: int, ss: int = 0) -> float:
    """Epoch seconds of D + ``day`` at hh:mm:ss UTC."""
    moment = dt.datetime.combine(D + dt.timedelta(days=day), dt.time(hh, mm, ss))
    return float(calendar.timegm(moment.timetuple()))


def user(text: str, intent: str, confidence: float, sentiment: str, at: float,
         channel: str) -> dict[str, Any]:  # fmt: skip
    return {
        "event": "user",
        "timestamp": at,
        "text": text,
        "input_channel": channel,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "sentiment": {"label": sentiment, "confidence": 0.9},
        },
    }


def bot(text: str, at: float, **shopbot: Any) -> dict[str, Any]:
    metadata = {"shopbot": shopbot} if shopbot else {"utter_action": "utter_x"}
    return {"event": "bot", "timestamp": at, "text": text, "metadata": metadata, "data": {}}


def agent(text: str, at: float) -> dict[str, Any]:
    return bot(text, at, kind="agent", agent="Bob Agent", agent_id=AGENT_ID)


def thumbs(value: str, at: float) -> dict[str, Any]:
    return {"event": "agent", "timestamp": at, "text": None,
            "data": {"feedback": {"value": value, "message_id": "m1"}}}  # fmt: skip


def handoff(reason: str, at: float) -> list[dict[str, Any]]:
    return [
        {"event": "slot", "timestamp": at, "name": "handoff_reason", "value": reason},
        {"event": "pause", "timestamp": at},
    ]


CONVERSATIONS: dict[str, list[dict[str, Any]]] = {
    "c1": [
        user("where is my parcel?", "track_order", 0.9, "neutral", ts(0, 9, 0), "widget"),
        bot("Your parcel ships tomorrow.", ts(0, 9, 0, 2)),
        user("great, thanks!", "thank", 0.95, "positive", ts(0, 9, 1), "widget"),
        bot("You're welcome!", ts(0, 9, 1, 1)),
        thumbs("up", ts(0, 9, 1, 5)),
    ],
    "c2": [
        user("asdf qwerty", "nlu_fallback", 0.2, "neutral", ts(0, 10, 0), "widget"),
        bot("Sorry, I didn't get that.", ts(0, 10, 0, 1)),
        user(
            "I want a refund for a DAMAGED parcel!!",
            "request_refund",
            0.45,
            "negative",
            ts(0, 10, 0, 30),
            "widget",
        ),
        bot("Would you like to talk to a person?", ts(0, 10, 0, 31)),
        *handoff("frustration", ts(0, 10, 1)),
        bot(
            "Bob Agent from the support team joined the conversation.",
            ts(0, 10, 3),
            kind="handoff",
            state="joined",
            agent="Bob Agent",
        ),
        agent("So sorry about the damaged parcel: a refund is on its way.", ts(0, 10, 4)),
        agent("Anything else?", ts(0, 10, 6)),
    ],
    "c3": [
        user(
            "let me talk to a human", "contact_human_agent", 0.8, "negative", ts(1, 11, 0), "rest"
        ),
        *handoff("asked", ts(1, 11, 0, 10)),
        agent("Hello, I can help with your order.", ts(1, 11, 10, 10)),
    ],
    "c4": [
        user("human please", "contact_human_agent", 0.7, "neutral", ts(1, 12, 0), "rest"),
        *handoff("asked", ts(1, 12, 0, 5)),
        thumbs("down", ts(1, 12, 30)),
    ],
    "c5": [
        user("hi", "greet", 0.99, "positive", ts(2, 8, 0), "widget"),
        bot("Hello! How can I help?", ts(2, 8, 0, 1)),
    ],
    "c6": [
        user('cancel order 4821 "now"', "cancel_order", 0.6, "neutral", ts(2, 9, 0), "widget"),
        *handoff("asked", ts(2, 9, 0, 30)),
        agent("Order 4821 is cancelled.", ts(2, 9, 1, 30)),
    ],
}


def publish_dataset(engine: Engine) -> HandoffEventBroker:
    """Fold :data:`CONVERSATIONS` into ``engine``'s database through the broker, the handoff
    queue's clock reading each pause event's time (as it would live)."""
    broker = HandoffEventBroker(engine)
    moment = [dt.datetime(2000, 1, 1)]
    broker.queue = HandoffQueue(engine, lambda: moment[0])
    for sender, events in CONVERSATIONS.items():
        for event in events:
            moment[0] = dt.datetime.fromtimestamp(event["timestamp"], dt.timezone.utc).replace(
                tzinfo=None
            )
            broker.publish({"sender_id": sender, **event})
    return broker
