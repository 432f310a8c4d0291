"""Agents' password hashes: argon2id through argon2-cffi (never a hand-written hash)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

logger = logging.getLogger(__name__)

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024


@dataclass(frozen=True)
class Verified:
    """The outcome of checking a password: whether it matched, and whether to re-hash it."""

    ok: bool
    needs_rehash: bool = False


class Passwords:
    """Hash and verify passwords with argon2id (argon2-cffi's recommended parameters).

    Args:
        hasher: An ``argon2.PasswordHasher``; tests pass cheap parameters.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        # Checked when an account does not exist, so "no such agent" costs as long as a wrong
        # password and the reply time tells nothing.
        self._dummy_hash = self.hasher.hash("not a password of any agent")

    def hash(self, password: str) -> str:
        """The PHC-format argon2id hash of ``password`` (checked by :func:`check_new_password`)."""
        check_new_password(password)
        return self.hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> Verified:
        """Check ``password`` against ``stored_hash`` (None: a missing account, always False)."""
        if len(password) > MAX_PASSWORD_CHARS:
            return Verified(False)
        try:
            self.hasher.verify(stored_hash or self._dummy_hash, password)
        except VerifyMismatchError:
            return Verified(False)
        except (VerificationError, InvalidHashError):
            logger.warning("A stored agent password hash could not be read; refusing sign-in")
            return Verified(False)
        if stored_hash is None:
            return Verified(False)
        return Verified(True, self.hasher.check_needs_rehash(stored_hash))


def check_new_password(password: str) -> None:
    """Refuse passwords that are too short or too long (the message never quotes the password)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(
            f"password must have at least {MIN_PASSWORD_CHARS} characters. Currently, it has "
            f"{len(password)}; choose a longer one (a passphrase of several words is easy to type)."
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValueError(
            f"password must have at most {MAX_PASSWORD_CHARS} characters. Currently, it has "
            f"{len(password)}."
        )
