"""Sign-in: replies that never tell whether an account exists, rate limits, cookie flags,
security headers, the home page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from bot.console.context import Console
from bot.console.headers import CONTENT_SECURITY_POLICY
from bot.console.ratelimit import SigninLimiter, storage_url
from bot.console.views import SIGNIN_FAILED, SIGNIN_LIMITED
from tests.unit.bot.console.helpers import ADMIN, AGENT, TestClient, csrf_of, sign_in, signed_in


def test_right_password_signs_in_and_home_shows_the_queue(client: TestClient) -> None:
    reply = sign_in(client, AGENT[0].upper(), AGENT[3])  # the email in any case
    assert reply.status_code == 303 and reply.headers["location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Conversations waiting for a human" in page.text
    assert 'id="queue-count" aria-live="polite">0<' in page.text
    assert AGENT[1] in page.text and "Sign out" in page.text
    assert client.get("/api/queue").json() == {"count": 0, "conversations": []}
    assert client.get("/api/me").json()["email"] == AGENT[0]


def test_sign_in_returns_to_a_local_next(client: TestClient) -> None:
    reply = sign_in(client, AGENT[0], AGENT[3], next="/api/me")
    assert reply.headers["location"] == "/api/me"
    client.cookies.clear()
    reply = sign_in(client, AGENT[0], AGENT[3], next="https://evil.example/")
    assert reply.headers["location"] == "/"


def test_failure_reply_is_the_same_for_unknown_wrong_and_disabled(
    console: Console, client_factory: Callable[..., TestClient]
) -> None:
    console.agents.add("dora@example.com", "Dora", "agent", "dora passphrase xyz")
    console.agents.set_disabled("dora@example.com", True)
    replies = [
        sign_in(client_factory(), "nobody@example.com", "whatever passphrase"),
        sign_in(client_factory(), AGENT[0], "the wrong passphrase"),
        sign_in(client_factory(), "dora@example.com", "dora passphrase xyz"),
    ]
    assert {r.status_code for r in replies} == {401}
    assert all(SIGNIN_FAILED in r.text for r in replies)
    bodies = {r.text.replace(csrf_of(r.text), "") for r in replies}
    bodies = {b.replace(e, "") for b in bodies for e in ("nobody@example.com",)}
    assert all(
        "set-cookie" not in r.headers or "shopbot_console=" not in r.headers["set-cookie"]
        for r in replies
    )


def test_rate_limited_per_account(
    console_factory: Callable[..., Console], client_factory: Callable[..., TestClient]
) -> None:
    console = console_factory(console_signin_limit_account="3 per minute")
    client = client_factory(console)
    statuses = [sign_in(client, AGENT[0], "wrong passphrase!").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    limited = sign_in(client, AGENT[0], AGENT[3])  # even the right password now waits
    assert limited.status_code == 429 and SIGNIN_LIMITED in limited.text
    assert int(limited.headers["Retry-After"]) >= 1
    assert sign_in(client, ADMIN[0], ADMIN[3]).status_code == 303  # other accounts unaffected


def test_unknown_accounts_are_limited_alike(
    console_factory: Callable[..., Console], client_factory: Callable[..., TestClient]
) -> None:
    console = console_factory(console_signin_limit_account="2 per minute")
    client = client_factory(console)
    statuses = [
        sign_in(client, "ghost@example.com", "wrong passphrase!").status_code for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_rate_limited_per_address(
    console_factory: Callable[..., Console], client_factory: Callable[..., TestClient]
) -> None:
    console = console_factory(console_signin_limit_address="4 per minute")
    client = client_factory(console)
    statuses = [
        sign_in(client, f"user{i}@example.com", "wrong passphrase!").status_code for i in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]


def test_limiter_storage_choice(settings_factory: Callable[..., object]) -> None:
    assert storage_url(settings_factory()) == "memory://"  # type: ignore[arg-type]
    redis = settings_factory(lock_store_url="redis://127.0.0.1:6379/0")
    assert storage_url(redis) == "redis://127.0.0.1:6379/0"  # type: ignore[arg-type]
    own = settings_factory(lock_store_url="redis://a:6379/0", console_rate_limit_url="memory://")
    assert storage_url(own) == "memory://"  # type: ignore[arg-type]


def test_limiter_refuses_a_bad_rate() -> None:
    with pytest.raises(ValueError, match="per_account must be a rate"):
        SigninLimiter("five a minute", "20 per minute")


def test_session_cookie_flags(client: TestClient) -> None:
    reply = sign_in(client, AGENT[0], AGENT[3])
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith("shopbot_console=")
    assert "HttpOnly" in cookie and "Path=/" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP (console_https off)


def test_secure_host_cookie_over_https(
    console_factory: Callable[..., Console], client_factory: Callable[..., TestClient]
) -> None:
    console = console_factory(console_https=True)
    client = client_factory(console, base_url="https://console.example")
    reply = sign_in(client, AGENT[0], AGENT[3])
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith("__Host-shopbot_console=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize("path", ["/signin", "/", "/api/me", "/static/console.css", "/nowhere"])
def test_security_headers_on_every_response(client: TestClient, path: str) -> None:
    signed_in(client, AGENT)
    reply = client.get(path)
    assert reply.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "DENY"


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    pages = [client.get("/signin").text]
    signed_in(client, ADMIN)
    pages.append(client.get("/").text)
    for html in pages:
        assert "<script>" not in html and "<style" not in html and "style=" not in html
        assert not re.search(r"\son[a-z]+=", html)  # no onclick= etc.
        assert 'name="viewport"' in html
