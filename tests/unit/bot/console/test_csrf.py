"""CSRF: every state-changing route refuses a request without its token (or with a wrong one,
or from another origin); the sign-in form uses a signed double submit."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from bot.console.app import build_routes
from bot.console.context import Console
from bot.console.csrf import SAFE_METHODS, SigninTokens
from tests.unit.bot.console.helpers import ADMIN, BASE_URL, TestClient, csrf_of, signed_in

UNSAFE = sorted(
    (route.path, method)
    for route in build_routes()
    if isinstance(route, Route)
    for method in route.methods or ()
    if method not in SAFE_METHODS
)


def test_there_are_state_changing_routes() -> None:
    assert ("/signin", "POST") in UNSAFE and ("/signout", "POST") in UNSAFE


@pytest.mark.parametrize(("path", "method"), UNSAFE)
@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_refused_without_the_right_token(
    client: TestClient, path: str, method: str, token: str | None
) -> None:
    signed_in(client, ADMIN)
    client.get("/signin")  # the sign-in nonce cookie is set too
    data = {"email": ADMIN[0], "password": ADMIN[3]}
    if token is not None:
        data["csrf_token"] = token
    reply = client.request(method, path, data=data, follow_redirects=False)
    assert reply.status_code == 403
    assert client.get("/api/me").status_code == 200  # still signed in: nothing happened


@pytest.mark.parametrize(("path", "method"), UNSAFE)
def test_refused_from_another_origin_even_with_the_token(
    client: TestClient, path: str, method: str
) -> None:
    signed_in(client, ADMIN)
    token = csrf_of(client.get("/").text)
    reply = client.request(
        method,
        path,
        data={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert reply.status_code == 403


def test_header_token_works_for_scripts(client: TestClient, console: Console) -> None:
    signed_in(client, ADMIN)
    token = csrf_of(client.get("/").text)
    reply = client.post(
        "/signout", headers={"X-CSRF-Token": token, "Origin": BASE_URL}, follow_redirects=False
    )
    assert reply.status_code == 303


def test_token_of_another_session_is_refused(client_factory: object, console: Console) -> None:
    first = signed_in(client_factory(), ADMIN)  # type: ignore[operator]
    second = signed_in(client_factory(), ADMIN)  # type: ignore[operator]
    other_token = csrf_of(first.get("/").text)
    reply = second.post("/signout", data={"csrf_token": other_token}, follow_redirects=False)
    assert reply.status_code == 403


def test_signin_token_needs_the_matching_cookie(client_factory: object) -> None:
    victim = client_factory()  # type: ignore[operator]
    attacker = client_factory()  # type: ignore[operator]
    token = csrf_of(attacker.get("/signin").text)  # the attacker's own valid form token
    reply = victim.post(
        "/signin",
        data={"email": ADMIN[0], "password": ADMIN[3], "csrf_token": token},
        follow_redirects=False,
    )
    assert reply.status_code == 403  # login CSRF refused: the victim has no matching nonce


def test_signin_tokens_are_signed() -> None:
    tokens = SigninTokens("s" * 40)
    nonce = tokens.new_nonce()
    signed = tokens.sign(nonce)
    assert tokens.verify(nonce, signed)
    assert not tokens.verify(nonce, signed[:-2] + "xx")
    assert not tokens.verify(tokens.new_nonce(), signed)
    assert not SigninTokens("t" * 40).verify(nonce, signed)
    assert not tokens.verify(nonce, nonce)
    with pytest.raises(ValueError, match="at least 32 characters"):
        SigninTokens("short")
