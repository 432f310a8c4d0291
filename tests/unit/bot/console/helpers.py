"""Helpers of the console's unit tests (accounts, a fake clock, signing in)."""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import create_engine, insert

from bot.console.passwords import Passwords
from bot.console.rasa_api import RasaUnavailable
from bot.console.transcript import events as tracker_events

with warnings.catch_warnings():
    # Starlette 1.7 would rather drive its test client with httpx2; httpx (Rasa's) works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

BASE_URL = "http://127.0.0.1:5006"
ADMIN = ("ada@example.com", "Ada Admin", "admin", "admin passphrase one")
AGENT = ("bob@example.com", "Bob Agent", "agent", "agent passphrase two")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class FakeClock:
    """A settable naive-UTC clock; with ``tick_s`` every reading is that much later (distinct,
    ordered timestamps for rows written one after another)."""

    def __init__(self, tick_s: float = 0.0) -> None:
        self.now = dt.datetime(2026, 12, 1, 9, 0, 0)
        self.tick_s = tick_s

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=self.tick_s)
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def cheap_passwords() -> Passwords:
    """argon2id with tiny parameters: same code path, milliseconds per hash."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


def csrf_of(html: str) -> str:
    """The ``csrf_token`` hidden field of a page."""
    match = CSRF_RE.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str, **extra: str) -> Any:
    """Open the sign-in form and submit it; return the reply (redirects not followed)."""
    token = csrf_of(client.get("/signin").text)
    return client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": token, **extra},
        follow_redirects=False,
    )


def signed_in(client: TestClient, who: tuple[str, str, str, str] = ADMIN) -> TestClient:
    """``client`` signed in as ``who``."""
    reply = sign_in(client, who[0], who[3])
    assert reply.status_code == 303, reply.text
    return client


class RecordingRasa:
    """The console's Rasa API double: records every append; ``fail`` makes it refuse."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []
        self.fail = False

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        if self.fail:
            raise RasaUnavailable("Rasa at http://127.0.0.1:1 answered 500 (test)")
        self.calls.append((conversation_id, events))

    def texts(self, conversation_id: str | None = None) -> list[str]:
        """The texts of the bot events sent (to one conversation, or all)."""
        return [
            str(e["text"])
            for cid, batch in self.calls
            if conversation_id in (None, cid)
            for e in batch
            if e.get("event") == "bot"
        ]


def csrf_header(client: TestClient) -> dict[str, str]:
    """The ``X-CSRF-Token`` header of the client's session (read from the home page)."""
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/").text)
    assert match, "no csrf-token meta in the home page"
    return {"X-CSRF-Token": match.group(1)}


# Rows as Rasa 3.6's SQLTrackerStore writes them: data = json.dumps(event.as_dict()), intent_name
# from parse_data, action_name = data["name"] (also a slot's name), timestamp = data["timestamp"].


def user_event(
    text: str,
    intent: str,
    confidence: float,
    ranking: list[tuple[str, float]] | None = None,
    sentiment: tuple[str, float] | None = None,
    channel: str = "widget",
    timestamp: float = 1_796_000_000.0,
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    parse: dict[str, Any] = {
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "text": text,
        "message_id": "m" + str(int(timestamp)),
        "metadata": {},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in (ranking or [])],
    }
    if sentiment:
        parse["sentiment"] = {
            "label": sentiment[0],
            "confidence": sentiment[1],
            "scores": {sentiment[0]: sentiment[1]},
            "model": "abc123",
        }
    return {
        "event": "user",
        "timestamp": timestamp,
        "metadata": {},
        "text": text,
        "parse_data": parse,
        "input_channel": channel,
        "message_id": parse["message_id"],
    }


def bot_event(
    text: str,
    shopbot: dict[str, Any] | None = None,
    timestamp: float = 1_796_000_001.0,
    custom: dict[str, Any] | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = (
        {"utter_action": "utter_x"} if shopbot is None else {"shopbot": shopbot}
    )
    return {
        "event": "bot",
        "timestamp": timestamp,
        "metadata": metadata,
        "text": text,
        "data": {
            "elements": None,
            "quick_replies": None,
            "buttons": None,
            "attachment": None,
            "image": None,
            "custom": custom,
        },
    }


def feedback_event(
    value: str, text: str | None, message_id: str = "9f1c", timestamp: float = 1_796_000_004.0
) -> dict[str, Any]:
    """The widget's thumbs (``WidgetInput._record_feedback``): an ``agent`` event, no text."""
    feedback: dict[str, Any] = {"message_id": message_id, "value": value, "seq": 7}
    if text is not None:
        feedback["text"] = text
    return {
        "event": "agent",
        "timestamp": timestamp,
        "metadata": {},
        "text": None,
        "data": {"feedback": {**feedback, "channel": "widget"}},
    }


def action_event(name: str, timestamp: float = 1_796_000_002.0) -> dict[str, Any]:
    return {
        "event": "action",
        "timestamp": timestamp,
        "name": name,
        "policy": "RulePolicy",
        "confidence": 1.0,
        "action_text": None,
        "hide_rule_turn": False,
    }


def simple_event(kind: str, timestamp: float = 1_796_000_003.0, **fields: Any) -> dict[str, Any]:
    return {"event": kind, "timestamp": timestamp, **fields}


class TrackerStore:
    """A SQLite file with Rasa's ``events`` table, written like ``SQLTrackerStore.save``."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(f"sqlite:///{path}", future=True)
        tracker_events.metadata.create_all(self.engine)

    def add(self, sender_id: str, *events: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            for data in events:
                conn.execute(
                    insert(tracker_events).values(
                        sender_id=sender_id,
                        type_name=data["event"],
                        timestamp=data.get("timestamp"),
                        intent_name=((data.get("parse_data") or {}).get("intent") or {}).get(
                            "name"
                        ),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )

    def close(self) -> None:
        self.engine.dispose()
