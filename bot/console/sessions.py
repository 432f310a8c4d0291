"""Server-side console sessions: a random id in the cookie, its SHA-256 in the database.

A session ends when it has been idle longer than ``idle``, when it is older than ``absolute``,
at sign-out, or when its agent is disabled or given a new password. Each sign-in creates a new
session id (no fixation).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine

from bot.console.agents import Agent, agent_from_row
from bot.storage.clock import utcnow
from bot.storage.console_tables import console_agents as agents
from bot.storage.console_tables import console_sessions as sessions

logger = logging.getLogger(__name__)

# last_seen_at is written at most this often per session (fewer writes; idle expiry stays exact
# to within this many seconds).
TOUCH_INTERVAL_S = 30


def hash_session_id(session_id: str) -> str:
    """The stored form of a session id (SHA-256, hex): the cookie value is never stored."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    """A live session: its agent and its CSRF (synchroniser) token."""

    agent: Agent
    csrf_token: str
    created_at: dt.datetime
    expires_at: dt.datetime


class SessionStore:
    """The ``console_sessions`` table.

    Args:
        engine: An engine on the application database, upgraded to head.
        idle: Seconds without a request after which a session ends.
        absolute: Seconds after sign-in after which a session ends however busy it is.
        clock: Naive-UTC clock (tests pass a fake one).
    """

    def __init__(
        self,
        engine: Engine,
        idle: int,
        absolute: int,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        if idle <= 0 or absolute <= 0:
            raise ValueError(
                f"idle and absolute must be greater than 0 seconds. Currently, idle is {idle} "
                f"and absolute is {absolute}."
            )
        self.engine = engine
        self.idle = dt.timedelta(seconds=idle)
        self.absolute = dt.timedelta(seconds=absolute)
        self.clock = clock

    def create(self, agent: Agent) -> tuple[str, Session]:
        """Start a session for ``agent``; return the cookie value (shown once) and the session."""
        session_id = secrets.token_urlsafe(32)
        csrf_token = secrets.token_urlsafe(32)
        now = self.clock()
        expires_at = now + self.absolute
        with self.engine.begin() as conn:
            conn.execute(
                insert(sessions).values(
                    id_hash=hash_session_id(session_id),
                    agent_id=agent.id,
                    csrf_token=csrf_token,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires_at,
                )
            )
        return session_id, Session(agent, csrf_token, now, expires_at)

    def lookup(self, session_id: str | None) -> Session | None:
        """The live session of a cookie value, or None (expired sessions are deleted)."""
        if not session_id or len(session_id) > 128:
            return None
        id_hash = hash_session_id(session_id)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(sessions, agents)
                .join(agents, agents.c.id == sessions.c.agent_id)
                .where(sessions.c.id_hash == id_hash)
            ).first()
        if row is None:
            return None
        now = self.clock()
        if row.disabled or now >= row.expires_at or now - row.last_seen_at >= self.idle:
            self._delete_hash(id_hash)
            return None
        if (now - row.last_seen_at).total_seconds() >= TOUCH_INTERVAL_S:
            with self.engine.begin() as conn:
                conn.execute(
                    update(sessions).where(sessions.c.id_hash == id_hash).values(last_seen_at=now)
                )
        agent = agent_from_row(row, id_column="agent_id")
        return Session(agent, str(row.csrf_token), row.created_at, row.expires_at)

    def agents_online(self, within: dt.timedelta) -> int:
        """How many agents (not sessions) made a request in the last ``within``.

        ``last_seen_at`` is written at most every ``TOUCH_INTERVAL_S``, so a session seen that
        much longer ago may still be active: the window is widened by it.
        """
        now = self.clock()
        since = now - within - dt.timedelta(seconds=TOUCH_INTERVAL_S)
        with self.engine.connect() as conn:
            count = conn.execute(
                select(func.count(func.distinct(sessions.c.agent_id)))
                .select_from(sessions.join(agents, agents.c.id == sessions.c.agent_id))
                .where(
                    sessions.c.last_seen_at >= since,
                    sessions.c.last_seen_at > now - self.idle,
                    sessions.c.expires_at > now,
                    agents.c.disabled.is_(False),
                )
            ).scalar_one()
        return int(count)

    def delete(self, session_id: str | None) -> None:
        """End the session of a cookie value (sign-out); unknown ids are ignored."""
        if session_id:
            self._delete_hash(hash_session_id(session_id))

    def purge_expired(self) -> int:
        """Delete every expired session; return how many."""
        now = self.clock()
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(sessions).where(
                    (sessions.c.expires_at <= now) | (sessions.c.last_seen_at <= now - self.idle)
                )
            )
        return int(result.rowcount or 0)

    def _delete_hash(self, id_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id_hash == id_hash))
