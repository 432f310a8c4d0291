"""The agent console as a real process over HTTP: sign in, pages, API, sign out, restart."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, OpenerDirector, Request, build_opener

import pytest

from tests.e2e.console_server import ADMIN, AGENT, ConsoleServer, running_console

pytestmark = pytest.mark.e2e

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def console_server(
    tmp_path_factory: pytest.TempPathFactory, project_root: Path
) -> Iterator[ConsoleServer]:
    with running_console(project_root, tmp_path_factory.mktemp("console-e2e")) as server:
        yield server


class Browser:
    """A cookie-keeping HTTP client (redirects followed, like a browser)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener: OpenerDirector = build_opener(HTTPCookieProcessor(self.jar))

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, Any]:
        body = urlencode(data).encode() if data is not None else None
        request = Request(self.base + path, data=body, method="POST" if body else "GET")
        try:
            with self.opener.open(request, timeout=30) as reply:
                return reply.status, reply.read().decode(), reply.headers
        except HTTPError as error:
            return error.code, error.read().decode(), error.headers

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def sign_in(self, email: str, password: str) -> tuple[int, str, Any]:
        status, page, _ = self.request("/signin")
        assert status == 200
        token = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]
        return self.request("/signin", {"email": email, "password": password, "csrf_token": token})


def test_sign_in_use_and_sign_out(console_server: ConsoleServer) -> None:
    browser = Browser(console_server.url)
    status, page, headers = browser.request("/")
    assert status == 200 and 'action="/signin"' in page  # redirected to the sign-in form
    assert "default-src 'none'" in headers["Content-Security-Policy"]

    status, page, _ = browser.sign_in(AGENT[0], "not the passphrase")
    assert status == 401 and "Wrong email or password." in page

    status, page, _ = browser.sign_in(AGENT[0], AGENT[3])
    assert status == 200, page
    assert "Conversations waiting for a human" in page and AGENT[1] in page
    assert browser.cookie("shopbot_console")
    status, body, _ = browser.request("/api/queue")
    assert (status, json.loads(body)) == (200, {"count": 0, "conversations": []})
    assert browser.request("/api/agents")[0] == 403  # not an admin

    token = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]
    assert browser.request("/signout", {"csrf_token": "forged"})[0] == 403
    status, page, _ = browser.request("/signout", {"csrf_token": token})
    assert status == 200 and 'action="/signin"' in page
    assert browser.request("/api/me")[0] == 401


def test_session_survives_a_console_restart(console_server: ConsoleServer) -> None:
    browser = Browser(console_server.url)
    assert browser.sign_in(ADMIN[0], ADMIN[3])[0] == 200
    status, body, _ = browser.request("/api/agents")
    assert status == 200
    assert [a["email"] for a in json.loads(body)["agents"]] == [ADMIN[0], AGENT[0]]
    console_server.restart()  # sessions live in the database, not in the process
    assert browser.request("/api/me")[0] == 200
