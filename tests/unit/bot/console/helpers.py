"""Helpers of the console's unit tests (accounts, a fake clock, signing in)."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from typing import Any

from argon2 import PasswordHasher

from bot.console.passwords import Passwords

with warnings.catch_warnings():
    # Starlette 1.7 would rather drive its test client with httpx2; httpx (Rasa's) works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

BASE_URL = "http://127.0.0.1:5006"
ADMIN = ("ada@example.com", "Ada Admin", "admin", "admin passphrase one")
AGENT = ("bob@example.com", "Bob Agent", "agent", "agent passphrase two")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class FakeClock:
    """A settable naive-UTC clock."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 9, 0, 0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def cheap_passwords() -> Passwords:
    """argon2id with tiny parameters: same code path, milliseconds per hash."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


def csrf_of(html: str) -> str:
    """The ``csrf_token`` hidden field of a page."""
    match = CSRF_RE.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str, **extra: str) -> Any:
    """Open the sign-in form and submit it; return the reply (redirects not followed)."""
    token = csrf_of(client.get("/signin").text)
    return client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": token, **extra},
        follow_redirects=False,
    )


def signed_in(client: TestClient, who: tuple[str, str, str, str] = ADMIN) -> TestClient:
    """``client`` signed in as ``who``."""
    reply = sign_in(client, who[0], who[3])
    assert reply.status_code == 303, reply.text
    return client
