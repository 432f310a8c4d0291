"""Every console route: public ones listed here, the rest 401 (API) / redirect (pages) without a
session, 403 for the wrong role. The routes are enumerated from the app, so a new route without
protection fails this test."""

from __future__ import annotations

import pytest
from starlette.routing import Mount, Route

from bot.channels.widget_auth import ConversationTokens
from bot.console.access import Access, access_of
from bot.console.app import build_app, build_routes
from bot.console.context import Console
from tests.unit.bot.console.helpers import ADMIN, AGENT, TestClient, signed_in

# The only routes anyone may call. Adding one here is a deliberate security decision.
PUBLIC = {
    ("/health", "GET"),
    ("/ready", "GET"),
    ("/metrics", "GET"),  # loopback or the metrics token: tests/unit/bot/console/test_ops_views.py
    ("/signin", "GET"),
    ("/signin", "POST"),
}
ADMIN_ONLY = {
    ("/api/agents", "GET"),
    ("/api/corrections/{correction_id}/accept", "POST"),
    ("/api/corrections/{correction_id}/reject", "POST"),
    ("/api/corrections/export", "POST"),
    ("/api/corrections/export/{name}", "GET"),
    ("/api/retrain", "GET"),
    ("/api/retrain", "POST"),
    ("/descriptions", "GET"),
    ("/descriptions/generate", "POST"),
    ("/descriptions/export/{fmt}", "GET"),
    ("/descriptions/{draft_id}/accept", "POST"),
    ("/descriptions/{draft_id}/reject", "POST"),
}


def all_routes() -> list[tuple[str, str, Access | None]]:
    """(path, method, access) of every route of the app (HEAD left out: it follows GET)."""
    out = []
    for route in build_routes():
        if isinstance(route, Route):
            for method in sorted(route.methods or {"GET"}):
                if method != "HEAD":
                    out.append((route.path, method, access_of(route.endpoint)))
    return out


PROTECTED = [(path, method) for path, method, _ in all_routes() if (path, method) not in PUBLIC]


def test_every_route_has_an_access_level_and_public_ones_are_listed() -> None:
    routes = all_routes()
    assert routes
    for path, method, access in routes:
        assert access is not None, f"{method} {path} has no access level"
        if access is Access.PUBLIC:
            assert (path, method) in PUBLIC, f"{method} {path} is public but not listed here"
        if access is Access.ADMIN:
            assert (path, method) in ADMIN_ONLY, f"{method} {path} is admin-only: list it"
    assert {(p, m) for p, m, a in routes if a is Access.PUBLIC} == PUBLIC
    mounts = [r for r in build_routes() if isinstance(r, Mount)]
    assert [m.path for m in mounts] == ["/static"]  # files only, nothing dynamic


def test_build_refuses_an_unguarded_route(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.console.app as app_module

    async def naked(request: object) -> None:
        return None

    def unguarded(access: Access, endpoint: object) -> object:
        return naked

    monkeypatch.setattr(app_module, "guard", unguarded)
    with pytest.raises(RuntimeError, match="has no access level"):
        app_module.build_routes()


def call(client: TestClient, path: str, method: str, **kwargs: object) -> object:
    return client.request(method, path, follow_redirects=False, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("path", "method"), PROTECTED)
def test_without_a_session(client: TestClient, path: str, method: str) -> None:
    reply = call(client, path, method)
    if path.startswith("/api/"):
        assert reply.status_code == 401  # type: ignore[attr-defined]
        assert reply.json() == {"error": "Sign in first."}  # type: ignore[attr-defined]
    else:
        assert reply.status_code == 303  # type: ignore[attr-defined]
        assert reply.headers["location"].startswith("/signin")  # type: ignore[attr-defined]


@pytest.mark.parametrize(("path", "method"), PROTECTED)
def test_shopper_credentials_give_no_access(
    console: Console, client: TestClient, path: str, method: str
) -> None:
    """A widget conversation token, the REST secret or a forged cookie are not a session."""
    settings = console.settings
    widget_token = ConversationTokens(settings.ensure_widget_secret(), 3600).issue("a" * 32).token
    attempts: list[dict[str, dict[str, str]]] = [
        {"headers": {"Authorization": f"Bearer {widget_token}"}},
        {"headers": {"Authorization": f"Bearer {settings.ensure_rest_secret()}"}},
        {"headers": {"X-Widget-Token": widget_token}},
        {"cookies": {"shopbot_console": widget_token}},
        {"cookies": {"shopbot_console": settings.ensure_rest_secret()}},
    ]
    for attempt in attempts:
        client.cookies.clear()
        for name, value in attempt.pop("cookies", {}).items():
            client.cookies.set(name, value)
        reply = call(client, path, method, **attempt)
        assert reply.status_code in (401, 303), (attempt, reply.status_code)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("path", "method"), sorted(ADMIN_ONLY))
def test_agent_role_gets_403_on_admin_routes(client: TestClient, path: str, method: str) -> None:
    signed_in(client, AGENT)
    assert call(client, path, method).status_code == 403  # type: ignore[attr-defined]


def test_admin_sees_the_agent_list(client: TestClient) -> None:
    signed_in(client, ADMIN)
    reply = client.get("/api/agents")
    assert reply.status_code == 200
    emails = [a["email"] for a in reply.json()["agents"]]
    assert emails == [ADMIN[0], AGENT[0]]
    assert "password" not in reply.text and "argon2" not in reply.text


@pytest.mark.parametrize(
    ("path", "method"), [(p, m) for p, m in PROTECTED if m == "GET" and (p, m) not in ADMIN_ONLY]
)
def test_agent_role_reaches_agent_routes(
    console: Console, client: TestClient, path: str, method: str
) -> None:
    console.queue.open("conv-1", "widget", "asked")  # a conversation for the {cid} routes
    signed_in(client, AGENT)
    concrete = path.replace("{cid:path}", "conv-1")
    assert call(client, concrete, method).status_code == 200  # type: ignore[attr-defined]


def test_page_redirect_keeps_a_local_next_only(console: Console, client: TestClient) -> None:
    reply = client.get("/", follow_redirects=False)
    assert reply.headers["location"] == "/signin"
    page = client.get("/signin?next=//evil.example/x")
    assert 'name="next" value="/"' in page.text
    reply = client.get("/signin?next=/api/me")
    assert 'name="next" value="/api/me"' in reply.text


def test_static_files_and_health_are_public(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/static/console.css").status_code == 200
    assert client.get("/static/console.js").status_code == 200


def test_unknown_paths_are_404_not_a_way_around(client: TestClient, console: Console) -> None:
    app = build_app(console)
    assert app is not None
    assert client.get("/api/does-not-exist").status_code == 404
