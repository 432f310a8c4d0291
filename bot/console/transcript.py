"""One conversation's history, read straight from Rasa's SQL tracker store (read-only).

Rasa's ``SQLTrackerStore`` keeps one row per event in ``events`` (``id``, ``sender_id``
[indexed], ``type_name``, ``timestamp`` [epoch seconds], ``intent_name``, ``action_name``,
``data`` = the JSON of ``event.as_dict()``). The console declares just that table (it imports no
Rasa) and only SELECTs: SQLite is opened with ``mode=ro``; before Rasa has written anything there
is no file or no table, and the history is empty.

What each event becomes (and the bot's reasoning it carries) is ``bot.console.transcript_items``;
this module reads the rows, and finds the bot message a shopper's thumbs rate.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    select,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Engine, Row, make_url

from bot.console.transcript_items import load, shown_texts, to_item
from core.settings import Settings

logger = logging.getLogger(__name__)

MAX_ITEMS = 500
QUEUE_TEXT_CHARS = 300
FEEDBACK_LOOKBACK = 500  # bot events searched for the rated message (as the widget's check)

events = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


@dataclass(frozen=True)
class TranscriptPage:
    """Transcript items after an event id, and where the next poll starts.

    ``cursor`` is the id of the last event *read* (not the last item shown: slot and
    ``action_listen`` events are read and skipped, and polling must move past them).
    """

    items: list[dict[str, Any]]
    cursor: int
    more: bool


@dataclass(frozen=True)
class RecentTurns:
    """The end of a conversation, for a queue entry."""

    messages: list[dict[str, Any]] = field(default_factory=list)  # {"author", "text"}
    turns: list[dict[str, Any]] = field(default_factory=list)  # {"intent", "confidence", ...}


def _recent(rows: Sequence[Row], n: int) -> RecentTurns:
    """The last ``n`` messages and shopper turns among ``rows`` (oldest first)."""
    items = [item for item in map(to_item, rows) if item is not None]
    messages = [
        {"author": i["author"], "text": i["text"][:QUEUE_TEXT_CHARS]} for i in items if i["text"]
    ][-n:]
    turns = [
        {
            "text": i["text"][:QUEUE_TEXT_CHARS],
            "intent": i["intent"]["name"] if i["intent"] else None,
            "confidence": i["intent"]["confidence"] if i["intent"] else None,
            "sentiment": i["sentiment"]["label"] if i["sentiment"] else None,
        }
        for i in items
        if i["type"] == "user"
    ][-n:]
    return RecentTurns(messages, turns)


class TranscriptReader:
    """Reads conversations from Rasa's SQL tracker store.

    Args:
        url: The tracker store's SQLAlchemy URL (``Settings.resolve_db_url`` applied).
        engine: An engine to use instead (tests).
    """

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        parsed = make_url(url)
        self._sqlite_file: Path | None = None
        if engine is not None:
            self.engine = engine
        elif parsed.get_backend_name() == "sqlite":
            self._sqlite_file = Path(parsed.database or "")
            # mode=ro: the console can never write Rasa's file, nor create it when missing.
            self.engine = create_engine(
                f"sqlite:///file:{self._sqlite_file}?mode=ro&uri=true",
                future=True,
                connect_args={"timeout": 5.0, "check_same_thread": False},
            )
        else:
            self.engine = create_engine(url, future=True, pool_pre_ping=True)
        self._has_table = False

    @classmethod
    def from_settings(cls, settings: Settings) -> TranscriptReader:
        """The reader of ``settings.tracker_store_url``."""
        return cls(settings.resolve_db_url(settings.tracker_store_url))

    def _ready(self) -> bool:
        """Whether Rasa's ``events`` table exists yet (remembered once it does)."""
        if self._has_table:
            return True
        if self._sqlite_file is not None and not self._sqlite_file.is_file():
            return False
        with self.engine.connect() as conn:
            self._has_table = sa_inspect(conn).has_table("events")
        return self._has_table

    def items_after(
        self, conversation_id: str, after_id: int = 0, limit: int = MAX_ITEMS
    ) -> TranscriptPage:
        """Transcript items of events with an id above ``after_id``, oldest first."""
        limit = max(1, min(limit, MAX_ITEMS))
        if not self._ready():
            return TranscriptPage([], after_id, False)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(events)
                .where(events.c.sender_id == conversation_id, events.c.id > after_id)
                .order_by(events.c.id)
                .limit(limit + 1)
            ).all()
            more = len(rows) > limit
            rows = rows[:limit]
            items = [item for item in map(to_item, rows) if item is not None]
            for item in items:
                if item["type"] == "feedback":
                    item["refers_to"] = self._rated(conn, conversation_id, item)
        return TranscriptPage(items, int(rows[-1].id) if rows else after_id, more)

    @staticmethod
    def _rated(conn: Connection, conversation_id: str, feedback: dict[str, Any]) -> int | None:
        """The event id of the bot message a thumbs up/down rates (None: not found).

        The widget's ``message_id`` lives in its own event log, not in the tracker, so the
        feedback carries the rated message's text: the latest earlier bot event shown with it.
        """
        if not feedback["rated_text"]:
            return None  # recorded before the widget stored the text
        rows = conn.execute(
            select(events.c.id, events.c.data)
            .where(
                events.c.sender_id == conversation_id,
                events.c.type_name == "bot",
                events.c.id < feedback["id"],
            )
            .order_by(events.c.id.desc())
            .limit(FEEDBACK_LOOKBACK)
        ).all()
        return next(
            (int(r.id) for r in rows if feedback["rated_text"] in shown_texts(load(r))), None
        )

    def turn(self, conversation_id: str, event_id: int) -> tuple[dict[str, Any] | None, str]:
        """Event ``event_id`` of the conversation as an item (None: not there), and the text of
        the shopper message before it (what a bot answer answered; "" when none)."""
        if not self._ready():
            return None, ""
        mine = events.c.sender_id == conversation_id
        with self.engine.connect() as conn:
            row = conn.execute(select(events).where(mine, events.c.id == event_id)).first()
            before = conn.execute(
                select(events)
                .where(mine, events.c.id < event_id, events.c.type_name == "user")
                .order_by(events.c.id.desc())
                .limit(1)
            ).first()
        asked = to_item(before) if before is not None else None
        return (to_item(row) if row is not None else None), (asked or {}).get("text", "")

    def last_turns(self, conversation_id: str, n: int = 3) -> RecentTurns:
        """The last ``n`` messages (shopper, bot, agent) and the last ``n`` shopper turns."""
        return self.last_turns_many([conversation_id], n).get(conversation_id, RecentTurns())

    def last_turns_many(
        self, conversation_ids: Sequence[str], n: int = 3
    ) -> dict[str, RecentTurns]:
        """:meth:`last_turns` of many conversations in one query (the queue page).

        A window function keeps each conversation's latest ``window`` user/bot events, so the
        database reads those conversations' messages once and only a few rows per conversation
        are parsed (per-conversation queries made the queue of 400 entries take 0.7 s).
        """
        if not conversation_ids or not self._ready():
            return {}
        window = max(n * 3, 8)
        rank = (
            func.row_number()
            .over(partition_by=events.c.sender_id, order_by=events.c.id.desc())
            .label("rank")
        )
        ranked = (
            select(*events.c, rank)
            .where(
                events.c.sender_id.in_(list(dict.fromkeys(conversation_ids))),
                events.c.type_name.in_(("user", "bot")),
            )
            .subquery()
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ranked)
                .where(ranked.c.rank <= window)
                .order_by(ranked.c.sender_id, ranked.c.id)
            ).all()
        by_conversation: dict[str, list[Row]] = {}
        for row in rows:
            by_conversation.setdefault(str(row.sender_id), []).append(row)
        return {cid: _recent(found, n) for cid, found in by_conversation.items()}

    def exists(self, conversation_id: str) -> bool:
        """Whether the tracker store has any event of the conversation."""
        if not self._ready():
            return False
        with self.engine.connect() as conn:
            row = conn.execute(
                select(events.c.id).where(events.c.sender_id == conversation_id).limit(1)
            ).first()
        return row is not None

    def paused(self, conversation_id: str) -> bool:
        """Whether the conversation's latest pause/resume/restart event is a pause."""
        if not self._ready():
            return False
        with self.engine.connect() as conn:
            kind = conn.execute(
                select(events.c.type_name)
                .where(
                    events.c.sender_id == conversation_id,
                    events.c.type_name.in_(("pause", "resume", "restart")),
                )
                .order_by(events.c.id.desc())
                .limit(1)
            ).scalar()
        return kind == "pause"

    def dispose(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()
