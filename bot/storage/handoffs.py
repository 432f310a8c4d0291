"""The handoff queue: who is waiting for a human, who has claimed whom, and how it ended.

Synchronous SQLAlchemy Core on the application database (async callers use a thread). Safe with
several processes and replicas on one database: a claim is one ``UPDATE ... WHERE id = ? AND
status = 'waiting'`` and the winner is the caller whose update changed a row — two agents claiming
at once cannot both win, on SQLite (one writer) or PostgreSQL (row lock). At most one open handoff
per conversation (a partial unique index).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError

from bot.storage.clock import utcnow
from bot.storage.console_tables import console_agents
from bot.storage.handoff_tables import END_STATES, OPEN_STATES, handoffs

logger = logging.getLogger(__name__)

REASONS = {
    "asked": "Asked for a human",
    "frustration": "Frustrated; accepted the offer of a human",
    "fallbacks": "The bot did not understand several times; accepted a human",
    "account": "Account request that needs a person",
    "agent": "Opened by an agent",
}


@dataclass(frozen=True)
class Handoff:
    """One handoff of a conversation to a human."""

    id: int
    conversation_id: str
    channel: str
    reason: str
    status: str
    requested_at: dt.datetime
    customer: str | None = None
    agent_id: int | None = None
    agent_name: str | None = None
    claimed_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    ended_by: str | None = None
    timeout_notified_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        """Waiting or claimed: the bot stays silent."""
        return self.status in OPEN_STATES

    @property
    def reason_text(self) -> str:
        """The reason in words, for the console."""
        return REASONS.get(self.reason, self.reason)


@dataclass(frozen=True)
class Claim:
    """The outcome of a claim: whether this agent won, and the handoff as it is now."""

    won: bool
    handoff: Handoff | None

    @property
    def holder(self) -> str | None:
        """The name of the agent who has the conversation (the winner)."""
        return self.handoff.agent_name if self.handoff else None


_COLUMNS = (*handoffs.c, console_agents.c.name.label("agent_name"))
_FROM = handoffs.outerjoin(console_agents, handoffs.c.agent_id == console_agents.c.id)


def _handoff(row: Row) -> Handoff:
    m = row._mapping
    return Handoff(
        id=int(m["id"]),
        conversation_id=str(m["conversation_id"]),
        channel=str(m["channel"]),
        reason=str(m["reason"]),
        status=str(m["status"]),
        requested_at=m["requested_at"],
        customer=m["customer"],
        agent_id=m["agent_id"],
        agent_name=m["agent_name"],
        claimed_at=m["claimed_at"],
        ended_at=m["ended_at"],
        ended_by=m["ended_by"],
        timeout_notified_at=m["timeout_notified_at"],
    )


class HandoffQueue:
    """The handoff queue in the application database.

    Args:
        engine: An engine on a database upgraded to head (``bot.storage.migrate``).
        clock: Returns naive UTC now (tests pass a fake).
    """

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self.now = clock

    # -- the bot side -------------------------------------------------------------------------

    def open(
        self, conversation_id: str, channel: str, reason: str, customer: str | None = None
    ) -> tuple[Handoff, bool]:
        """Put the conversation in the queue, unless it already has an open handoff.

        Returns:
            The open handoff and whether this call created it.
        """
        existing = self.current(conversation_id)
        if existing is not None:
            return existing, False
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(handoffs).values(
                        conversation_id=conversation_id,
                        channel=channel[:32] or "unknown",
                        reason=reason[:32] or "asked",
                        status="waiting",
                        customer=customer,
                        requested_at=self.now(),
                    )
                )
        except IntegrityError:
            pass  # opened concurrently (another replica saw the same pause)
        opened = self.current(conversation_id)
        assert opened is not None, f"handoff of {conversation_id} vanished after insert"
        logger.info("Conversation %s waits for a human (%s)", conversation_id, opened.reason)
        return opened, True

    def finish(
        self,
        conversation_id: str,
        status: str,
        agent_id: int | None = None,
        waiting_only: bool = False,
    ) -> Handoff | None:
        """End the conversation's open handoff with ``status`` (returned, closed or left).

        Args:
            conversation_id: The conversation.
            status: How it ended.
            agent_id: When given, only a handoff claimed by this agent is ended.
            waiting_only: End it only while no agent has claimed it (the shopper leaving).

        Returns:
            The ended handoff, or None when there was no open one (or another agent holds it).
        """
        if status not in END_STATES:
            raise ValueError(f"status must be one of {END_STATES}. Currently, it is {status!r}.")
        condition = and_(
            handoffs.c.conversation_id == conversation_id, handoffs.c.status.in_(OPEN_STATES)
        )
        if waiting_only:
            condition = and_(condition, handoffs.c.status == "waiting")
        if agent_id is not None:
            condition = and_(
                condition, handoffs.c.status == "claimed", handoffs.c.agent_id == agent_id
            )
        current = self.current(conversation_id)
        if current is None:
            return None
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(handoffs)
                .where(condition, handoffs.c.id == current.id)
                .values(status=status, ended_at=self.now(), ended_by=status)
            ).rowcount
        if not changed:
            return None
        logger.info("Handoff %d of %s ended: %s", current.id, conversation_id, status)
        return self.get(current.id)

    # -- the console side ---------------------------------------------------------------------

    def claim(self, handoff_id: int, agent_id: int) -> Claim:
        """Give a waiting handoff to ``agent_id``; exactly one of concurrent claimers wins."""
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(handoffs)
                .where(handoffs.c.id == handoff_id, handoffs.c.status == "waiting")
                .values(status="claimed", agent_id=agent_id, claimed_at=self.now())
            ).rowcount
        handoff = self.get(handoff_id)
        won = bool(changed)
        if won:
            logger.info("Agent %d claimed handoff %d", agent_id, handoff_id)
        return Claim(won=won, handoff=handoff)

    def mark_timeout_notified(self, handoff_id: int) -> bool:
        """Record that the shopper was told no agent is online (True for the one caller that did)."""
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(handoffs)
                .where(
                    handoffs.c.id == handoff_id,
                    handoffs.c.status == "waiting",
                    handoffs.c.timeout_notified_at.is_(None),
                )
                .values(timeout_notified_at=self.now())
            ).rowcount
        return bool(changed)

    # -- reading ------------------------------------------------------------------------------

    def get(self, handoff_id: int) -> Handoff | None:
        """The handoff with this id."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(*_COLUMNS).select_from(_FROM).where(handoffs.c.id == handoff_id)
            ).first()
        return _handoff(row) if row else None

    def current(self, conversation_id: str) -> Handoff | None:
        """The conversation's open handoff (waiting or claimed), if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(*_COLUMNS)
                .select_from(_FROM)
                .where(
                    handoffs.c.conversation_id == conversation_id,
                    handoffs.c.status.in_(OPEN_STATES),
                )
            ).first()
        return _handoff(row) if row else None

    def history(self, conversation_id: str) -> list[Handoff]:
        """Every handoff of the conversation, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_COLUMNS)
                .select_from(_FROM)
                .where(handoffs.c.conversation_id == conversation_id)
                .order_by(handoffs.c.id)
            ).all()
        return [_handoff(r) for r in rows]

    def open_handoffs(self, limit: int = 200) -> list[Handoff]:
        """Waiting handoffs (oldest first), then claimed ones (most recently claimed first)."""
        with self.engine.connect() as conn:
            waiting = conn.execute(
                select(*_COLUMNS)
                .select_from(_FROM)
                .where(handoffs.c.status == "waiting")
                .order_by(handoffs.c.requested_at, handoffs.c.id)
                .limit(limit)
            ).all()
            claimed = conn.execute(
                select(*_COLUMNS)
                .select_from(_FROM)
                .where(handoffs.c.status == "claimed")
                .order_by(handoffs.c.claimed_at.desc())
                .limit(limit)
            ).all()
        return [_handoff(r) for r in (*waiting, *claimed)]

    def count_waiting(self) -> int:
        """How many conversations wait for a human."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(handoffs).where(handoffs.c.status == "waiting")
                ).scalar_one()
            )

    def position(self, conversation_id: str) -> int | None:
        """The conversation's place in the waiting line (1 = next), or None when not waiting."""
        current = self.current(conversation_id)
        if current is None or current.status != "waiting":
            return None
        with self.engine.connect() as conn:
            ahead = conn.execute(
                select(func.count())
                .select_from(handoffs)
                .where(handoffs.c.status == "waiting", handoffs.c.id < current.id)
            ).scalar_one()
        return int(ahead) + 1

    def overdue(self, waited: dt.timedelta) -> list[Handoff]:
        """Waiting handoffs older than ``waited`` whose shopper has not been told yet."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_COLUMNS)
                .select_from(_FROM)
                .where(
                    handoffs.c.status == "waiting",
                    handoffs.c.timeout_notified_at.is_(None),
                    handoffs.c.requested_at <= self.now() - waited,
                )
                .order_by(handoffs.c.requested_at)
            ).all()
        return [_handoff(r) for r in rows]
