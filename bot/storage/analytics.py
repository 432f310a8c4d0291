"""The analytics page's numbers: aggregate SQL over the tables the event broker keeps current.

Five queries per report, each over an index range of the chosen days (never the tracker store):

- ``conversation_summaries`` by start day and channel (the covering index
  ``ix_conversation_summaries_started_day``, read in its order: no sort): conversations, containment (no handoff), shopper
  turns and fallback turns (``nlu_fallback``/``out_of_scope``), thumbs up and down;
- ``shopper_turns_daily`` (shopper turns per day, channel, intent and sentiment, kept by the
  broker): top intents with their mean confidence and turns below ``LOW_CONFIDENCE``, the
  sentiment trend;
- ``handoffs`` requested in the range: the rate by reason, and agents' first response time
  (``requested_at`` → ``first_reply_at``, the first message a human agent wrote; the console's
  "joined" and "no agent online" notices do not count);
- ``corrections`` proposed in the range, by week and status (every channel: a correction has
  none of its own).

Days are UTC. A conversation counts on the day it started; a message, a handoff and a correction
on their own day. Percentiles are computed in Python from the (few) handoffs of the range, the
same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection, Engine

from bot.storage.correction_tables import STATUSES, corrections
from bot.storage.handoff_tables import conversation_summaries as summaries
from bot.storage.handoff_tables import handoffs
from bot.storage.message_tables import shopper_turns_daily

logger = logging.getLogger(__name__)

MAX_DAYS = 366
TOP_INTENTS = 10
SENTIMENTS = ("negative", "neutral", "positive")
# First response time buckets (upper bounds in seconds) for the histogram.
RESPONSE_BUCKETS = ((60, "< 1 min"), (120, "1–2 min"), (300, "2–5 min"), (600, "5–10 min"),
                    (1800, "10–30 min"), (math.inf, "30 min or more"))  # fmt: skip


@dataclass(frozen=True)
class AnalyticsRange:
    """Which days (UTC, both included) and which channel (None: all) a report covers.

    Raises:
        ValueError: When ``since`` is after ``until`` or the range is longer than ``MAX_DAYS``.
    """

    since: dt.date
    until: dt.date
    channel: str | None = None

    def __post_init__(self) -> None:
        if self.since > self.until:
            raise ValueError(
                f"since must be on or before until. Currently, since is {self.since} and until "
                f"is {self.until}."
            )
        if self.days > MAX_DAYS:
            raise ValueError(
                f"The range may cover at most {MAX_DAYS} days. Currently, {self.since} to "
                f"{self.until} covers {self.days}."
            )

    @property
    def days(self) -> int:
        """How many days the range covers."""
        return (self.until - self.since).days + 1

    @property
    def start(self) -> dt.datetime:
        """The first moment of the range (naive UTC)."""
        return dt.datetime.combine(self.since, dt.time())

    @property
    def end(self) -> dt.datetime:
        """The first moment after the range."""
        return dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time())

    def all_days(self) -> list[dt.date]:
        """Every day of the range, oldest first."""
        return [self.since + dt.timedelta(days=n) for n in range(self.days)]


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile of ``values`` (linear between the closest ranks, as numpy's default);
    None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class DayCounts:
    """One day (or one channel's day) of conversation aggregates."""

    conversations: int = 0
    contained: int = 0  # ended without a handoff
    user_turns: int = 0
    fallback_turns: int = 0
    with_fallback: int = 0  # conversations with at least one fallback turn
    thumbs_up: int = 0
    thumbs_down: int = 0

    def add(self, other: DayCounts) -> None:
        """Add ``other``'s counts to these."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class IntentStats:
    """A top intent: its shopper turns, mean confidence, and turns below ``LOW_CONFIDENCE``."""

    intent: str
    turns: int = 0
    confidence_sum: float = 0.0
    confidence_n: int = 0
    low_confidence: int = 0

    @property
    def mean_confidence(self) -> float | None:
        """Mean top-intent confidence (None when no turn carried one)."""
        return self.confidence_sum / self.confidence_n if self.confidence_n else None


@dataclass
class AnalyticsReport:
    """Everything the analytics page shows for one :class:`AnalyticsRange`."""

    range: AnalyticsRange
    by_day: dict[dt.date, dict[str, DayCounts]] = field(default_factory=dict)
    handoff_reasons: Counter[str] = field(default_factory=Counter)
    handoffs: int = 0
    first_response_s: list[float] = field(default_factory=list)  # answered handoffs
    unanswered: int = 0  # handoffs without a human reply (yet)
    intents: list[IntentStats] = field(default_factory=list)
    user_turns_with_intent: int = 0
    sentiment_by_day: dict[dt.date, Counter[str]] = field(default_factory=dict)
    corrections_by_week: dict[dt.date, Counter[str]] = field(default_factory=dict)

    # ------------------------------------------------------------------------ derived figures

    @property
    def channels(self) -> list[str]:
        """The channels with conversations in the range, busiest first."""
        totals: Counter[str] = Counter()
        for per_channel in self.by_day.values():
            for channel, counts in per_channel.items():
                totals[channel] += counts.conversations
        return [channel for channel, _ in totals.most_common()]

    def day_totals(self, day: dt.date) -> DayCounts:
        """All channels of one day added up."""
        total = DayCounts()
        for counts in self.by_day.get(day, {}).values():
            total.add(counts)
        return total

    @property
    def totals(self) -> DayCounts:
        """The whole range added up."""
        total = DayCounts()
        for day in self.by_day:
            total.add(self.day_totals(day))
        return total

    @property
    def first_response_median_s(self) -> float | None:
        """Median seconds from the request to an agent's first message."""
        return quantile(self.first_response_s, 0.5)

    @property
    def first_response_p90_s(self) -> float | None:
        """90th percentile of the same."""
        return quantile(self.first_response_s, 0.9)

    def response_histogram(self) -> list[tuple[str, int]]:
        """Answered handoffs per first-response bucket."""
        counts = Counter(
            next(label for bound, label in RESPONSE_BUCKETS if s < bound)
            for s in self.first_response_s
        )
        return [(label, counts[label]) for _, label in RESPONSE_BUCKETS]

    def weeks(self) -> list[dt.date]:
        """The Mondays of the weeks the range touches."""
        first = self.range.since - dt.timedelta(days=self.range.since.weekday())
        return [
            first + dt.timedelta(weeks=n) for n in range((self.range.until - first).days // 7 + 1)
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the range, the key figures and every series the charts draw."""
        totals = self.totals
        thumbs = totals.thumbs_up + totals.thumbs_down
        days = self.range.all_days()
        return {
            "range": {
                "since": self.range.since.isoformat(),
                "until": self.range.until.isoformat(),
                "channel": self.range.channel,
                "days": self.range.days,
            },
            "totals": {
                "conversations": totals.conversations,
                "contained": totals.contained,
                "containment_rate": _ratio(totals.contained, totals.conversations),
                "handoffs": self.handoffs,
                "handoff_rate": _ratio(self.handoffs, totals.conversations),
                "user_turns": totals.user_turns,
                "fallback_turns": totals.fallback_turns,
                "fallback_rate": _ratio(totals.fallback_turns, totals.user_turns),
                "conversations_with_fallback": totals.with_fallback,
                "thumbs_up": totals.thumbs_up,
                "thumbs_down": totals.thumbs_down,
                "thumbs_up_rate": _ratio(totals.thumbs_up, thumbs),
                "thumbs_per_conversation": _ratio(thumbs, totals.conversations),
            },
            "conversations_per_day": [
                {
                    "day": day.isoformat(),
                    "channels": {
                        c: n.conversations for c, n in sorted(self.by_day.get(day, {}).items())
                    },
                    "conversations": self.day_totals(day).conversations,
                    "containment_rate": _ratio(
                        self.day_totals(day).contained, self.day_totals(day).conversations
                    ),
                    "fallback_rate": _ratio(
                        self.day_totals(day).fallback_turns, self.day_totals(day).user_turns
                    ),
                }
                for day in days
            ],
            "handoffs_by_reason": [
                {
                    "reason": reason,
                    "handoffs": n,
                    "rate": _ratio(n, totals.conversations),
                }
                for reason, n in self.handoff_reasons.most_common()
            ],
            "first_response": {
                "answered": len(self.first_response_s),
                "unanswered": self.unanswered,
                "median_s": self.first_response_median_s,
                "p90_s": self.first_response_p90_s,
                "histogram": [{"bucket": b, "handoffs": n} for b, n in self.response_histogram()],
            },
            "top_intents": [
                {
                    "intent": i.intent,
                    "turns": i.turns,
                    "share": _ratio(i.turns, self.user_turns_with_intent),
                    "mean_confidence": i.mean_confidence,
                    "low_confidence_turns": i.low_confidence,
                }
                for i in self.intents
            ],
            "sentiment_per_day": [
                {
                    "day": day.isoformat(),
                    **{s: self.sentiment_by_day.get(day, Counter())[s] for s in SENTIMENTS},
                }
                for day in days
            ],
            "corrections_per_week": [
                {
                    "week": week.isoformat(),
                    "corrections": sum(self.corrections_by_week.get(week, Counter()).values()),
                    **{s: self.corrections_by_week.get(week, Counter())[s] for s in STATUSES},
                }
                for week in self.weeks()
            ],
        }


def _day(value: Any) -> dt.date:
    """``date(...)`` as a day: SQLite answers text, PostgreSQL a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


class Analytics:
    """Computes :class:`AnalyticsReport` s from the application database.

    Args:
        engine: An engine on a database upgraded to head (``bot.storage.migrate``).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def report(self, span: AnalyticsRange) -> AnalyticsReport:
        """Every figure of the analytics page for ``span``."""
        report = AnalyticsReport(span)
        with self.engine.connect() as conn:
            self._conversations(conn, report)
            self._shopper_turns(conn, report)
            self._handoffs(conn, report)
            self._corrections(conn, report)
        return report

    @staticmethod
    def _conversations(conn: Connection, report: AnalyticsReport) -> None:
        span = report.range
        day = summaries.c.started_day
        query = (
            select(
                day.label("day"),
                summaries.c.channel,
                func.count().label("conversations"),
                func.sum(case((summaries.c.handoffs == 0, 1), else_=0)).label("contained"),
                func.sum(summaries.c.user_messages).label("user_turns"),
                func.sum(summaries.c.fallback_turns).label("fallback_turns"),
                func.sum(case((summaries.c.fallback_turns > 0, 1), else_=0)).label("with_fb"),
                func.sum(summaries.c.thumbs_up).label("thumbs_up"),
                func.sum(summaries.c.thumbs_down).label("thumbs_down"),
            )
            .where(day >= span.since, day <= span.until)
            .group_by(day, summaries.c.channel)
        )
        if span.channel is not None:
            query = query.where(summaries.c.channel == span.channel)
        for row in conn.execute(query):
            report.by_day.setdefault(_day(row.day), {})[row.channel] = DayCounts(
                int(row.conversations),
                int(row.contained or 0),
                int(row.user_turns or 0),
                int(row.fallback_turns or 0),
                int(row.with_fb or 0),
                int(row.thumbs_up or 0),
                int(row.thumbs_down or 0),
            )

    @staticmethod
    def _shopper_turns(conn: Connection, report: AnalyticsReport) -> None:
        span = report.range
        daily = shopper_turns_daily
        in_range = [daily.c.day >= span.since, daily.c.day <= span.until]
        if span.channel is not None:
            in_range.append(daily.c.channel == span.channel)
        # Two small groupings (a few hundred rows out) rather than one by day x intent x sentiment.
        by_sentiment = (
            select(daily.c.day, daily.c.sentiment, func.sum(daily.c.turns).label("turns"))
            .where(*in_range, daily.c.sentiment != "")
            .group_by(daily.c.day, daily.c.sentiment)
        )
        for row in conn.execute(by_sentiment):
            report.sentiment_by_day.setdefault(_day(row.day), Counter())[row.sentiment] += int(
                row.turns
            )
        by_intent = (
            select(
                daily.c.intent,
                func.sum(daily.c.turns).label("turns"),
                func.sum(daily.c.confidence_sum).label("confidence_sum"),
                func.sum(daily.c.confidence_n).label("confidence_n"),
                func.sum(daily.c.low_confidence).label("low"),
            )
            .where(*in_range, daily.c.intent != "")
            .group_by(daily.c.intent)
        )
        intents = [
            IntentStats(
                row.intent,
                int(row.turns),
                float(row.confidence_sum or 0.0),
                int(row.confidence_n or 0),
                int(row.low or 0),
            )
            for row in conn.execute(by_intent)
        ]
        report.user_turns_with_intent = sum(i.turns for i in intents)
        report.intents = sorted(intents, key=lambda s: (-s.turns, s.intent))[:TOP_INTENTS]

    @staticmethod
    def _handoffs(conn: Connection, report: AnalyticsReport) -> None:
        span = report.range
        query = select(handoffs.c.reason, handoffs.c.requested_at, handoffs.c.first_reply_at).where(
            handoffs.c.requested_at >= span.start, handoffs.c.requested_at < span.end
        )
        if span.channel is not None:
            query = query.where(handoffs.c.channel == span.channel)
        for reason, requested_at, first_reply_at in conn.execute(query):
            report.handoffs += 1
            report.handoff_reasons[str(reason)] += 1
            if first_reply_at is None:
                report.unanswered += 1
            else:
                waited = (first_reply_at - requested_at).total_seconds()
                report.first_response_s.append(max(0.0, waited))

    @staticmethod
    def _corrections(conn: Connection, report: AnalyticsReport) -> None:
        span = report.range
        day = func.date(corrections.c.created_at)
        query = (
            select(day.label("day"), corrections.c.status, func.count().label("n"))
            .where(corrections.c.created_at >= span.start, corrections.c.created_at < span.end)
            .group_by(day, corrections.c.status)
        )
        weeks: dict[dt.date, Counter[str]] = defaultdict(Counter)
        for row in conn.execute(query):
            proposed_on = _day(row.day)
            monday = proposed_on - dt.timedelta(days=proposed_on.weekday())
            weeks[monday][str(row.status)] += int(row.n)
        report.corrections_by_week = dict(weeks)
