"""Telegram channel state shared by every Rasa replica (SQLAlchemy Core).

Defined on the application database's ``metadata`` (``bot/storage/tables.py``); migration
``0008_telegram`` creates them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, String, Table, Text

from bot.storage.tables import metadata

# One row per Telegram update accepted by any replica: the primary key makes the second delivery
# of an update (Telegram re-sends for up to 24 h when a reply is slow or lost) an insert conflict.
# Rows older than two days are pruned (``TelegramUpdates.prune``).
telegram_updates = Table(
    "telegram_updates",
    metadata,
    Column("bot_id", BigInteger, primary_key=True, autoincrement=False),
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("received_at", DateTime, nullable=False),
)
Index("ix_telegram_updates_received_at", telegram_updates.c.received_at)

# One-time deep-link codes (``t.me/<bot>?start=<code>``): Telegram's start parameter holds at most
# 64 characters of ``A-Z a-z 0-9 _ -``, too short for the store's signed customer token, so the
# store's server stores the token here under a short random code. Redeeming sets ``used_at``.
telegram_link_codes = Table(
    "telegram_link_codes",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("customer_token", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("used_at", DateTime, nullable=True),
)

# A Telegram user linked to a store customer by a redeemed code: the channel passes the stored
# token with each of that user's messages as ``metadata.customer_token`` (the actions verify it,
# as for the widget; an expired token is refused there and the shopper proves identity again).
telegram_links = Table(
    "telegram_links",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("customer_token", Text, nullable=False),
    Column("linked_at", DateTime, nullable=False),
)
