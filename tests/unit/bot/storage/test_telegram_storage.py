"""Telegram's shared state in the application database: update ids, one-time link codes."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.storage.clock import utcnow
from bot.storage.telegram import UPDATE_MEMORY, TelegramLinks, TelegramUpdates


def test_each_update_id_is_accepted_once_per_bot(app_engine: Engine) -> None:
    updates = TelegramUpdates(app_engine)
    assert updates.first_delivery(1, 100)
    assert not updates.first_delivery(1, 100)
    assert TelegramUpdates(app_engine).first_delivery(1, 100) is False  # another replica
    assert updates.first_delivery(2, 100)  # another bot


def test_old_update_ids_and_link_codes_are_pruned(app_engine: Engine) -> None:
    updates = TelegramUpdates(app_engine)
    updates.first_delivery(1, 5)
    code = TelegramLinks(app_engine).create_code("token")
    later = utcnow() + UPDATE_MEMORY + dt.timedelta(hours=1)
    assert updates.prune(now=later) == 1
    assert updates.first_delivery(1, 5)
    with app_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM telegram_link_codes")).scalar() == 0
    assert not TelegramLinks(app_engine).redeem(code, 1)


def test_a_code_links_once_and_expires(app_engine: Engine) -> None:
    links = TelegramLinks(app_engine)
    code = links.create_code("token-a")
    assert 16 <= len(code) <= 64 and code.replace("-", "").replace("_", "").isalnum()
    assert links.token_for(7) is None
    assert links.redeem(code, 7)
    assert links.token_for(7) == "token-a"
    assert not links.redeem(code, 8)
    late = links.create_code("token-b", ttl=dt.timedelta(minutes=1))
    assert not links.redeem(late, 7, now=utcnow() + dt.timedelta(minutes=2))
    links.unlink(7)
    assert links.token_for(7) is None


def test_bad_codes_are_refused_with_the_reason(app_engine: Engine) -> None:
    links = TelegramLinks(app_engine)
    with pytest.raises(ValueError, match="customer_token must not be empty"):
        links.create_code("")
    with pytest.raises(ValueError, match="ttl must be positive"):
        links.create_code("t", ttl=dt.timedelta(0))
    assert not links.redeem("unknown", 1)
