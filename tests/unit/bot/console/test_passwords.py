"""Password hashing: argon2id, never the password in clear (database or log)."""

from __future__ import annotations

import logging

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.console.context import Console
from bot.console.passwords import Passwords
from bot.storage.console_tables import console_agents
from tests.unit.bot.console.helpers import ADMIN, TestClient, cheap_passwords, sign_in


def test_hash_is_argon2id_and_verifies() -> None:
    passwords = cheap_passwords()
    stored = passwords.hash("a long enough passphrase")
    assert stored.startswith("$argon2id$")
    assert "a long enough passphrase" not in stored
    assert passwords.verify(stored, "a long enough passphrase").ok
    assert not passwords.verify(stored, "a long enough passphrasE").ok


def test_missing_account_never_verifies() -> None:
    assert not cheap_passwords().verify(None, "not a password of any agent").ok


def test_short_password_refused_without_quoting_it() -> None:
    with pytest.raises(ValueError, match="at least 12 characters") as error:
        cheap_passwords().hash("short pw")
    assert "short pw" not in str(error.value)


def test_weaker_parameters_are_rehashed() -> None:
    old = Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    stored = old.hash("a long enough passphrase")
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=128, parallelism=1))
    verified = stronger.verify(stored, "a long enough passphrase")
    assert verified.ok and verified.needs_rehash


def test_password_not_stored_or_logged_in_clear(
    console: Console, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    console.agents.add("carol@example.com", "Carol", "agent", "carol secret passphrase")
    sign_in(client, ADMIN[0], ADMIN[3])
    sign_in(client, "carol@example.com", "carol secret passphrase")
    sign_in(client, "carol@example.com", "a wrong secret passphrase")
    with console.engine.connect() as conn:
        rows = conn.execute(select(console_agents)).all()
    dumped = repr(rows)
    for secret in ("carol secret passphrase", ADMIN[3], "a wrong secret passphrase"):
        assert secret not in dumped
        assert secret not in caplog.text
    assert all(str(row.password_hash).startswith("$argon2id$") for row in rows)
