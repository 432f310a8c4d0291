"""Server-side sessions: hashed ids, idle and absolute expiry, sign-out, disabled agents."""

from __future__ import annotations

from sqlalchemy import select

from bot.console.context import Console
from bot.console.sessions import hash_session_id
from bot.storage.console_tables import console_sessions
from tests.unit.bot.console.helpers import ADMIN, AGENT, FakeClock, TestClient, signed_in


def test_session_id_is_stored_hashed(console: Console) -> None:
    agent = console.agents.get(ADMIN[0])
    assert agent is not None
    session_id, _session = console.sessions.create(agent)
    with console.engine.connect() as conn:
        stored = conn.execute(select(console_sessions.c.id_hash)).scalars().all()
    assert stored == [hash_session_id(session_id)]
    assert session_id not in stored
    assert console.sessions.lookup(session_id) is not None
    assert console.sessions.lookup(hash_session_id(session_id)) is None  # the hash signs no one in


def test_idle_expiry(console: Console, clock: FakeClock) -> None:
    idle = console.settings.console_session_idle
    agent = console.agents.get(AGENT[0])
    assert agent is not None
    session_id, _ = console.sessions.create(agent)
    clock.advance(idle - 5)
    assert console.sessions.lookup(session_id) is not None  # activity renews the idle window
    clock.advance(idle - 5)
    assert console.sessions.lookup(session_id) is not None
    clock.advance(idle + 1)
    assert console.sessions.lookup(session_id) is None
    clock.advance(-idle)  # expired sessions are deleted, not just refused
    assert console.sessions.lookup(session_id) is None


def test_absolute_expiry_even_when_busy(console: Console, clock: FakeClock) -> None:
    settings = console.settings
    agent = console.agents.get(AGENT[0])
    assert agent is not None
    session_id, _ = console.sessions.create(agent)
    step = settings.console_session_idle // 2
    elapsed = 0
    while elapsed + step < settings.console_session_max:
        clock.advance(step)
        elapsed += step
        assert console.sessions.lookup(session_id) is not None
    clock.advance(settings.console_session_max - elapsed)
    assert console.sessions.lookup(session_id) is None


def test_new_session_id_at_every_sign_in_and_logout_deletes_it(
    console: Console, client: TestClient
) -> None:
    signed_in(client, ADMIN)
    first = client.cookies.get("shopbot_console")
    # Signed in, /signin redirects home; the form token for the browser's nonce signs in again.
    assert client.get("/signin", follow_redirects=False).status_code == 303
    token = console.signin_tokens.sign(client.cookies.get("shopbot_console_signin") or "")
    reply = client.post(
        "/signin",
        data={"email": ADMIN[0], "password": ADMIN[3], "csrf_token": token},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    second = client.cookies.get("shopbot_console")
    assert first and second and first != second
    assert console.sessions.lookup(first) is None  # the earlier session of this browser ended
    session = console.sessions.lookup(second)
    assert session is not None
    reply = client.post("/signout", data={"csrf_token": session.csrf_token}, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/signin"
    assert console.sessions.lookup(second) is None
    with console.engine.connect() as conn:
        assert conn.execute(select(console_sessions)).all() == []


def test_disabling_an_agent_ends_their_sessions(console: Console, client: TestClient) -> None:
    signed_in(client, AGENT)
    assert client.get("/api/me").status_code == 200
    console.agents.set_disabled(AGENT[0], True)
    assert client.get("/api/me").status_code == 401
    console.agents.set_disabled(AGENT[0], False)
    assert client.get("/api/me").status_code == 401  # re-enabling does not revive the session


def test_purge_expired(console: Console, clock: FakeClock) -> None:
    agent = console.agents.get(AGENT[0])
    assert agent is not None
    console.sessions.create(agent)
    clock.advance(console.settings.console_session_idle + 1)
    console.sessions.create(agent)
    assert console.sessions.purge_expired() == 1
