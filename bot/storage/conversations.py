"""A summary row per conversation, kept current from tracker events, for the console's lists.

Listing 100,000 conversations by scanning Rasa's tracker store per request is too slow; the
:class:`bot.handoff.broker.HandoffEventBroker` folds each tracker event into one row here (an
index on ``last_event_at`` serves the newest-first list).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.storage.handoff_tables import conversation_summaries as summaries

logger = logging.getLogger(__name__)

MAX_TEXT = 500
MAX_PAGE = 200


@dataclass(frozen=True)
class SummaryUpdate:
    """What one tracker event changes in its conversation's row."""

    at: dt.datetime
    channel: str | None = None
    user_text: str | None = None
    intent: str | None = None
    sentiment: str | None = None
    bot_message: bool = False
    customer: str | None = None
    handoff: bool = False


@dataclass(frozen=True)
class ConversationSummary:
    """One conversation as the console's list shows it."""

    conversation_id: str
    channel: str
    started_at: dt.datetime
    last_event_at: dt.datetime
    user_messages: int
    bot_messages: int
    last_user_text: str | None
    last_intent: str | None
    last_sentiment: str | None
    customer: str | None
    handoffs: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times in ISO 8601 UTC)."""
        return {
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "started_at": self.started_at.isoformat() + "Z",
            "last_event_at": self.last_event_at.isoformat() + "Z",
            "user_messages": self.user_messages,
            "bot_messages": self.bot_messages,
            "last_user_text": self.last_user_text,
            "last_intent": self.last_intent,
            "last_sentiment": self.last_sentiment,
            "customer": self.customer,
            "handoffs": self.handoffs,
        }


class ConversationIndex:
    """The ``conversation_summaries`` table.

    Args:
        engine: An engine on a database upgraded to head (``bot.storage.migrate``).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def apply(self, conversation_id: str, change: SummaryUpdate) -> None:
        """Fold one event into the conversation's row (creating the row on its first event)."""
        values: dict[str, Any] = {"last_event_at": change.at}
        if change.channel:
            values["channel"] = change.channel[:32]
        if change.user_text is not None:
            values["user_messages"] = summaries.c.user_messages + 1
            values["last_user_text"] = change.user_text[:MAX_TEXT]
            values["last_intent"] = (change.intent or "")[:64] or None
            values["last_sentiment"] = (change.sentiment or "")[:16] or None
        if change.bot_message:
            values["bot_messages"] = summaries.c.bot_messages + 1
        if change.customer:
            values["customer"] = change.customer[:254]
        if change.handoff:
            values["handoffs"] = summaries.c.handoffs + 1
        for _attempt in range(3):
            with self.engine.begin() as conn:
                changed = conn.execute(
                    update(summaries)
                    .where(summaries.c.conversation_id == conversation_id)
                    .values(**values)
                ).rowcount
                if changed:
                    return
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(summaries).values(
                                conversation_id=conversation_id,
                                channel=(change.channel or "unknown")[:32],
                                started_at=change.at,
                                last_event_at=change.at,
                                user_messages=1 if change.user_text is not None else 0,
                                bot_messages=1 if change.bot_message else 0,
                                last_user_text=(change.user_text or "")[:MAX_TEXT] or None,
                                last_intent=(change.intent or "")[:64] or None,
                                last_sentiment=(change.sentiment or "")[:16] or None,
                                customer=(change.customer or "")[:254] or None,
                                handoffs=1 if change.handoff else 0,
                            )
                        )
                    return
                except IntegrityError:
                    continue  # created concurrently: update it on the next attempt
        logger.warning("Could not update the summary of %s", conversation_id)

    def get(self, conversation_id: str) -> ConversationSummary | None:
        """The conversation's row."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(summaries).where(summaries.c.conversation_id == conversation_id)
            ).first()
        return ConversationSummary(**row._mapping) if row else None

    def page(self, before: dt.datetime | None = None, limit: int = 50) -> list[ConversationSummary]:
        """The newest conversations (by last event), ``limit`` at a time; pass the last row's
        ``last_event_at`` as ``before`` for the next page (keyset pagination: no OFFSET scan)."""
        limit = max(1, min(limit, MAX_PAGE))
        query = select(summaries).order_by(summaries.c.last_event_at.desc()).limit(limit)
        if before is not None:
            query = query.where(summaries.c.last_event_at < before)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [ConversationSummary(**r._mapping) for r in rows]

    def count(self) -> int:
        """How many conversations there are."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(summaries)).scalar_one())
