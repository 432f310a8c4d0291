"""A summary row per conversation, kept current from tracker events, for the console's lists.

Listing 100,000 conversations by scanning Rasa's tracker store per request is too slow; the
:class:`bot.handoff.broker.HandoffEventBroker` folds each tracker event into one row here (an
index on ``last_event_at`` serves the newest-first list). Derived columns (migration 0005) serve
the list's filters: see :class:`ConversationFilter`.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from sqlalchemy import Float, Integer, bindparam, case, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.storage.handoff_tables import SUMMARY_FLAGS
from bot.storage.handoff_tables import conversation_summaries as summaries
from bot.storage.messages import NewMessage, store_message

logger = logging.getLogger(__name__)

MAX_TEXT = 500
MAX_PAGE = 200
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})  # turns the bot did not understand
NEGATIVE = "negative"


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
    confidence: float | None = None  # the shopper turn's top-intent confidence
    thumbs: str | None = None  # the shopper's feedback on a bot message: "up" or "down"
    message: NewMessage | None = None  # stored in conversation_messages, same transaction


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
    fallback_turns: int = 0
    negative_turns: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    min_confidence: float | None = None
    reviewed_at: dt.datetime | None = None
    started_day: dt.date | None = None  # started_at's UTC day (analytics)

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
            "fallback_turns": self.fallback_turns,
            "negative_turns": self.negative_turns,
            "thumbs_up": self.thumbs_up,
            "thumbs_down": self.thumbs_down,
            "min_confidence": self.min_confidence,
            "reviewed_at": self.reviewed_at.isoformat() + "Z" if self.reviewed_at else None,
        }


@dataclass(frozen=True)
class ConversationFilter:
    """Which conversations a list shows (None: any).

    Args:
        channel: Only this channel (``widget``, ``rest``...).
        since: Only conversations with activity on or after this day (UTC).
        until: Only conversations started on or before this day (UTC).
        handed_off: Handed to a human at least once (True) or never (False).
        had_fallback: With (True) or without (False) a shopper turn the bot did not understand
            (``nlu_fallback``, ``out_of_scope``).
        low_confidence_below: Only conversations with a shopper turn whose top intent's confidence
            is below this.
        negative: With (True) or without (False) a shopper turn labelled negative.
        thumbs_down: With (True) or without (False) a thumbs-down from the shopper.
        reviewed: With (True) or without (False) a proposed correction.
    """

    channel: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    handed_off: bool | None = None
    had_fallback: bool | None = None
    low_confidence_below: float | None = None
    negative: bool | None = None
    thumbs_down: bool | None = None
    reviewed: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """The filters that are set (dates as ``YYYY-MM-DD``), for the API's answer and links."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value is not None:
                out[name] = value.isoformat() if isinstance(value, dt.date) else value
        return out

    def conditions(self) -> list[Any]:
        """The WHERE terms (the yes/no ones written as their partial indexes' conditions)."""
        terms: list[Any] = []
        if self.channel is not None:
            terms.append(summaries.c.channel == self.channel)
        if self.since is not None:
            terms.append(summaries.c.last_event_at >= dt.datetime.combine(self.since, dt.time()))
        if self.until is not None:
            end = dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time())
            terms.append(summaries.c.started_at < end)
        if self.low_confidence_below is not None:
            terms.append(summaries.c.min_confidence < self.low_confidence_below)
        for name, (_index, yes, no) in SUMMARY_FLAGS.items():
            wanted = getattr(self, name)
            if wanted is not None:
                terms.append(text(yes if wanted else no))
        return terms


class ConversationIndex:
    """The ``conversation_summaries`` table.

    Args:
        engine: An engine on a database upgraded to head (``bot.storage.migrate``).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def apply(self, conversation_id: str, change: SummaryUpdate) -> None:
        """Fold one event into the conversation's row (creating the row on its first event)."""
        self.apply_many(conversation_id, [change])

    def apply_many(self, conversation_id: str, changes: list[SummaryUpdate]) -> None:
        """Fold events into the conversation's row in order, in one transaction (one turn's
        events arrive together from the tracker store's save): one UPDATE for all of them when
        the row exists (:func:`_fold_together`), else one event at a time (the first creates
        it)."""
        if not changes:
            return
        for _attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    if len(changes) > 1 and _fold_together(conn, conversation_id, changes):
                        return
                    channel = None  # the row's channel, once a change has told it
                    for change in changes:
                        channel = _fold(conn, conversation_id, change, channel)
                return
            except IntegrityError:
                continue  # the row was created concurrently: update it on the next attempt
        logger.warning("Could not update the summary of %s", conversation_id)

    def get(self, conversation_id: str) -> ConversationSummary | None:
        """The conversation's row."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(summaries).where(summaries.c.conversation_id == conversation_id)
            ).first()
        return ConversationSummary(**row._mapping) if row else None

    def page(
        self,
        before: dt.datetime | None = None,
        limit: int = 50,
        where: ConversationFilter | None = None,
    ) -> list[ConversationSummary]:
        """The newest conversations (by last event) that pass ``where``, ``limit`` at a time; pass
        the last row's ``last_event_at`` as ``before`` for the next page (keyset pagination: no
        OFFSET scan)."""
        limit = max(1, min(limit, MAX_PAGE))
        query = select(summaries).order_by(summaries.c.last_event_at.desc()).limit(limit)
        if before is not None:
            query = query.where(summaries.c.last_event_at < before)
        if where is not None:
            query = query.where(*where.conditions())
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [ConversationSummary(**r._mapping) for r in rows]

    def count(self) -> int:
        """How many conversations there are."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(summaries)).scalar_one())


class _Changes(NamedTuple):
    """What events change in an existing row: columns set, counts added, the lowest confidence
    seen."""

    values: dict[str, Any]
    added: dict[str, int]
    lowest_seen: float | None


def _changed_values(changes: list[SummaryUpdate]) -> _Changes:
    """The columns that events, applied in order, change in an existing row: the last event's
    time, the last channel, customer and shopper message told, the counts added up, the lowest
    confidence kept."""
    values: dict[str, Any] = {"last_event_at": changes[-1].at}
    added: dict[str, int] = {}

    def add(column: str) -> None:
        added[column] = added.get(column, 0) + 1

    lowest_seen: float | None = None
    for change in changes:
        if change.channel:
            values["channel"] = change.channel[:32]
        if change.user_text is not None:
            add("user_messages")
            values["last_user_text"] = change.user_text[:MAX_TEXT]
            values["last_intent"] = (change.intent or "")[:64] or None
            values["last_sentiment"] = (change.sentiment or "")[:16] or None
            if change.intent in FALLBACK_INTENTS:
                add("fallback_turns")
            if change.sentiment == NEGATIVE:
                add("negative_turns")
            if change.confidence is not None:
                seen = change.confidence
                lowest_seen = seen if lowest_seen is None else min(lowest_seen, seen)
        if change.thumbs in ("up", "down"):
            add(f"thumbs_{change.thumbs}")
        if change.bot_message:
            add("bot_messages")
        if change.customer:
            values["customer"] = change.customer[:254]
        if change.handoff:
            add("handoffs")
    return _Changes(values, added, lowest_seen)


@functools.lru_cache(maxsize=256)
def _update_statement(values: tuple[str, ...], added: tuple[str, ...], lowest: bool) -> Any:
    """The row's UPDATE for one shape of change, built once, every value a parameter: building
    the statement and its cache key for every turn was a quarter of the summary's cost under
    load (2026-12-07). A count adds to the column; the lowest confidence is kept with a CASE."""
    columns: dict[str, Any] = {name: bindparam(f"v_{name}") for name in values}
    for name in added:
        columns[name] = summaries.c[name] + bindparam(f"n_{name}", type_=Integer)
    if lowest:
        held, seen = summaries.c.min_confidence, bindparam("seen", type_=Float)
        columns["min_confidence"] = case((held.is_(None), seen), (held > seen, seen), else_=held)
    where = summaries.c.conversation_id == bindparam("row_id")
    return update(summaries).where(where).values(**columns)


def _update_row(conn: Connection, conversation_id: str, changes: list[SummaryUpdate]) -> int:
    """Apply the events' changes to the existing row; the number of rows updated (0 or 1)."""
    values, added, lowest_seen = _changed_values(changes)
    statement = _update_statement(tuple(values), tuple(added), lowest_seen is not None)
    parameters = {"row_id": conversation_id, **{f"v_{k}": v for k, v in values.items()}}
    parameters.update({f"n_{k}": n for k, n in added.items()}, seen=lowest_seen)
    return int(conn.execute(statement, parameters).rowcount)


def _fold_together(conn: Connection, conversation_id: str, changes: list[SummaryUpdate]) -> bool:
    """Update an existing row with all the events at once and store their messages, each with
    the channel the row held when it came; False (nothing written) when there is no row yet."""
    told = next((i for i, change in enumerate(changes) if change.channel), len(changes))
    channel = None  # the row's channel before these events, for messages before one tells it
    if any(change.message is not None for change in changes[:told]):
        held = select(summaries.c.channel).where(summaries.c.conversation_id == conversation_id)
        channel = conn.execute(held).scalar()
        if channel is None:
            return False
    if not _update_row(conn, conversation_id, changes):
        return False
    for change in changes:
        channel = change.channel[:32] if change.channel else channel
        if change.message is not None:
            channel = store_message(conn, conversation_id, change.at, change.message, channel)
    return True


def _fold(
    conn: Connection, conversation_id: str, change: SummaryUpdate, channel: str | None = None
) -> str | None:
    """Update the row with one event, or create it (an IntegrityError when another writer just
    created it: the caller's transaction is tried again); store the event's message. ``channel``:
    the row's channel when the caller knows it. Return the row's channel when known."""
    if not _update_row(conn, conversation_id, [change]):
        conn.execute(
            insert(summaries).values(
                conversation_id=conversation_id,
                channel=(change.channel or "unknown")[:32],
                started_at=change.at,
                started_day=change.at.date(),
                last_event_at=change.at,
                user_messages=1 if change.user_text is not None else 0,
                bot_messages=1 if change.bot_message else 0,
                last_user_text=(change.user_text or "")[:MAX_TEXT] or None,
                last_intent=(change.intent or "")[:64] or None,
                last_sentiment=(change.sentiment or "")[:16] or None,
                customer=(change.customer or "")[:254] or None,
                handoffs=1 if change.handoff else 0,
                **_first_counts(change),
            )
        )
    known = change.channel[:32] if change.channel else channel
    if change.message is not None:
        known = store_message(conn, conversation_id, change.at, change.message, known)
    return known


def _first_counts(change: SummaryUpdate) -> dict[str, Any]:
    """The derived columns of a row created by its first event."""
    shopper = change.user_text is not None
    return {
        "fallback_turns": int(shopper and change.intent in FALLBACK_INTENTS),
        "negative_turns": int(shopper and change.sentiment == NEGATIVE),
        "thumbs_up": int(change.thumbs == "up"),
        "thumbs_down": int(change.thumbs == "down"),
        "min_confidence": change.confidence if shopper else None,
    }
