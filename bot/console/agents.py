"""Support agents in the application database: add, list, disable, authenticate."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError

from bot.console.passwords import Passwords
from bot.storage.clock import utcnow
from bot.storage.console_tables import console_agents as agents
from bot.storage.console_tables import console_sessions as sessions

logger = logging.getLogger(__name__)

ROLES = ("agent", "admin")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AgentError(ValueError):
    """A bad agent command: unknown account, duplicate email, bad role or name."""


@dataclass(frozen=True)
class Agent:
    """A support agent as the console sees it (never the password hash)."""

    id: int
    email: str
    name: str
    role: str
    disabled: bool = False
    last_sign_in_at: dt.datetime | None = None

    @property
    def is_admin(self) -> bool:
        """True for the ``admin`` role."""
        return self.role == "admin"


def normalise_email(email: str) -> str:
    """The sign-in key of an email address: trimmed and lower-cased."""
    return email.strip().lower()


def agent_from_row(row: Row, id_column: str = "id") -> Agent:
    """The :class:`Agent` of a row of ``agents`` (or of a join naming the agent's id ``id_column``)."""
    return Agent(
        id=int(getattr(row, id_column)),
        email=str(row.email),
        name=str(row.name),
        role=str(row.role),
        disabled=bool(row.disabled),
        last_sign_in_at=row.last_sign_in_at,
    )


class AgentStore:
    """The ``console_agents`` table.

    Args:
        engine: An engine on the application database, upgraded to head.
        passwords: The password hasher.
        clock: Naive-UTC clock (tests pass a fake one).
    """

    def __init__(
        self,
        engine: Engine,
        passwords: Passwords | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.passwords = passwords or Passwords()
        self.clock = clock

    def add(self, email: str, name: str, role: str, password: str) -> Agent:
        """Create an agent; raises :class:`AgentError` on a bad value or an existing email."""
        email = normalise_email(email)
        if not EMAIL_RE.match(email) or len(email) > 254:
            raise AgentError(f"email must be an email address. Currently, email is {email!r}.")
        if role not in ROLES:
            raise AgentError(
                f"role must be one of {', '.join(ROLES)}. Currently, role is {role!r}."
            )
        name = name.strip()
        if not name or len(name) > 120:
            raise AgentError(
                f"name must have 1 to 120 characters. Currently, name is {name!r} "
                "(pass --name 'First Last')."
            )
        password_hash = self.passwords.hash(password)
        now = self.clock()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(agents).values(
                        email=email,
                        name=name,
                        role=role,
                        password_hash=password_hash,
                        disabled=False,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            raise AgentError(
                f"An agent with email {email!r} already exists; pick another email or "
                "`shopbot agents enable` the existing one."
            ) from None
        logger.info("Added %s %s", role, email)
        agent = self.get(email)
        assert agent is not None
        return agent

    def get(self, email: str) -> Agent | None:
        """The agent with ``email`` (any case), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(agents).where(agents.c.email == normalise_email(email))
            ).first()
        return None if row is None else agent_from_row(row)

    def get_by_id(self, agent_id: int) -> Agent | None:
        """The agent with id ``agent_id``, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(agents).where(agents.c.id == agent_id)).first()
        return None if row is None else agent_from_row(row)

    def list(self) -> list[Agent]:
        """Every agent, by email."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(agents).order_by(agents.c.email)).all()
        return [agent_from_row(row) for row in rows]

    def set_disabled(self, email: str, disabled: bool) -> Agent:
        """Disable (signing the agent out everywhere) or re-enable an agent."""
        agent = self._require(email)
        with self.engine.begin() as conn:
            conn.execute(
                update(agents)
                .where(agents.c.id == agent.id)
                .values(disabled=disabled, updated_at=self.clock())
            )
            if disabled:
                conn.execute(delete(sessions).where(sessions.c.agent_id == agent.id))
        logger.info("%s agent %s", "Disabled" if disabled else "Enabled", agent.email)
        return self._require(email)

    def set_password(self, email: str, password: str) -> Agent:
        """Replace an agent's password and end the agent's sessions."""
        agent = self._require(email)
        password_hash = self.passwords.hash(password)
        with self.engine.begin() as conn:
            conn.execute(
                update(agents)
                .where(agents.c.id == agent.id)
                .values(password_hash=password_hash, updated_at=self.clock())
            )
            conn.execute(delete(sessions).where(sessions.c.agent_id == agent.id))
        logger.info("Set a new password for agent %s", agent.email)
        return agent

    def authenticate(self, email: str, password: str) -> Agent | None:
        """The enabled agent whose email and password match, else None (same cost either way)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(agents).where(agents.c.email == normalise_email(email))
            ).first()
        verified = self.passwords.verify(None if row is None else str(row.password_hash), password)
        if row is None or not verified.ok or row.disabled:
            return None
        now = self.clock()
        values: dict[str, object] = {"last_sign_in_at": now}
        if verified.needs_rehash:
            values["password_hash"] = self.passwords.hash(password)
            values["updated_at"] = now
        with self.engine.begin() as conn:
            conn.execute(update(agents).where(agents.c.id == row.id).values(**values))
        return agent_from_row(row)

    def _require(self, email: str) -> Agent:
        agent = self.get(email)
        if agent is None:
            raise AgentError(
                f"No agent with email {normalise_email(email)!r}; see `shopbot agents list`."
            )
        return agent
