"""The Telegram channel's shared state: delivered update ids, deep-link codes, linked users.

Every method is synchronous (SQLAlchemy Core); the channel calls them through
``asyncio.to_thread``. The database, not a process, decides: two replicas that receive the same
update both try to insert its id and exactly one succeeds.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.storage.clock import utcnow
from bot.storage.telegram_tables import telegram_link_codes, telegram_links, telegram_updates

logger = logging.getLogger(__name__)

UPDATE_MEMORY = dt.timedelta(hours=48)  # Telegram re-sends an update for up to 24 h
PRUNE_EVERY = 500  # updates between two prunes (per process)
CODE_BYTES = 12  # 16 URL-safe characters: fits Telegram's 64-character start parameter
DEFAULT_CODE_TTL = dt.timedelta(minutes=30)


def telegram_user_of(conversation_id: str) -> int | None:
    """The Telegram user of a conversation id the channel made (``telegram:<chat>`` for a
    private chat, whose id is the user's; ``telegram:<chat>:<user>`` in a group), else None."""
    parts = conversation_id.split(":")
    if len(parts) not in (2, 3) or parts[0] != "telegram":
        return None
    try:
        return int(parts[-1])
    except ValueError:
        return None


class TelegramUpdates:
    """Remembers which update ids were accepted, so each update is handled once.

    Args:
        engine: The application database (upgraded to head).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._since_prune = 0

    def first_delivery(self, bot_id: int, update_id: int) -> bool:
        """Record ``update_id``; False when it was recorded before (a re-delivery)."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(telegram_updates).values(
                        bot_id=bot_id, update_id=update_id, received_at=utcnow()
                    )
                )
        except IntegrityError:
            return False
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self._since_prune = 0
            self.prune()
        return True

    def prune(self, now: dt.datetime | None = None) -> int:
        """Forget update ids older than :data:`UPDATE_MEMORY` (returns how many), and link codes
        that expired as long ago (used or not: they hold a customer's token)."""
        cutoff = (now or utcnow()) - UPDATE_MEMORY
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(telegram_updates).where(telegram_updates.c.received_at < cutoff)
            )
            connection.execute(
                delete(telegram_link_codes).where(telegram_link_codes.c.expires_at < cutoff)
            )
        return int(result.rowcount or 0)


class TelegramLinks:
    """One-time deep-link codes and the Telegram users they linked to store customers.

    Args:
        engine: The application database (upgraded to head).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_code(self, customer_token: str, ttl: dt.timedelta = DEFAULT_CODE_TTL) -> str:
        """Store ``customer_token`` (the store's signed token) under a fresh one-time code."""
        if not customer_token:
            raise ValueError("customer_token must not be empty; pass the store's signed token.")
        if ttl <= dt.timedelta(0):
            raise ValueError(f"ttl must be positive. Currently, ttl is {ttl}.")
        code = secrets.token_urlsafe(CODE_BYTES)
        now = utcnow()
        with self.engine.begin() as connection:
            connection.execute(
                insert(telegram_link_codes).values(
                    code=code,
                    customer_token=customer_token,
                    created_at=now,
                    expires_at=now + ttl,
                )
            )
        return code

    def redeem(self, code: str, user_id: int, now: dt.datetime | None = None) -> bool:
        """Link ``user_id`` with the code's customer; False for an unknown, used or expired code.

        The code is spent by a conditional update (``used_at IS NULL``), so two replicas cannot
        both redeem it.
        """
        now = now or utcnow()
        with self.engine.begin() as connection:
            spent = connection.execute(
                update(telegram_link_codes)
                .where(
                    telegram_link_codes.c.code == code,
                    telegram_link_codes.c.used_at.is_(None),
                    telegram_link_codes.c.expires_at > now,
                )
                .values(used_at=now)
            )
            if spent.rowcount != 1:
                return False
            token = connection.execute(
                select(telegram_link_codes.c.customer_token).where(
                    telegram_link_codes.c.code == code
                )
            ).scalar_one()
            connection.execute(delete(telegram_links).where(telegram_links.c.user_id == user_id))
            connection.execute(
                insert(telegram_links).values(user_id=user_id, customer_token=token, linked_at=now)
            )
        return True

    def token_for(self, user_id: int) -> str | None:
        """The linked customer's token of ``user_id`` (None when not linked)."""
        with self.engine.connect() as connection:
            token = connection.execute(
                select(telegram_links.c.customer_token).where(telegram_links.c.user_id == user_id)
            ).scalar()
        return str(token) if token else None

    def unlink(self, user_id: int) -> None:
        """Forget the link of ``user_id`` (``/reset``)."""
        with self.engine.begin() as connection:
            connection.execute(delete(telegram_links).where(telegram_links.c.user_id == user_id))
