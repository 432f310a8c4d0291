"""A small HTTP client of the agent console, as a signed-in agent's browser speaks to it.

Signs in through the form (the signed double-submit token of ``/signin``), keeps the session
cookie, reads the session's CSRF token from the home page (``<meta name="csrf-token">``) and sends
it as ``X-CSRF-Token`` on every POST. Used by the "Console" benchmark section.
"""

from __future__ import annotations

import http.client
import json
import re
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

from training.bench.widget_client import Reply

FORM_TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
META_TOKEN_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class ConsoleError(RuntimeError):
    """The console refused what the client needed (sign-in, a page)."""


class ConsoleClient:
    """One agent's browser on the console at ``base_url``."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.csrf_token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        form: dict[str, str] | None = None,
    ) -> Reply:
        """One request with the cookies; JSON ``body`` or ``form`` fields; redirects not followed.

        POSTs carry the CSRF token once :meth:`sign_in` has read it.
        """
        headers: dict[str, str] = {}
        data: bytes | None = None
        if form is not None:
            data = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if method == "POST" and self.csrf_token:
            headers["X-CSRF-Token"] = self.csrf_token
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            reply = conn.getresponse()
            payload = reply.read()
            for header in reply.msg.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            text = payload.decode("utf-8", "replace")
            if "json" in (reply.getheader("Content-Type") or ""):
                return Reply(reply.status, json.loads(payload) if payload else None)
            return Reply(reply.status, text)
        finally:
            conn.close()

    def get(self, path: str) -> Reply:
        """``GET path``."""
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> Reply:
        """``POST path`` with a JSON body (``{}`` when none) and the CSRF header."""
        return self.request("POST", path, body if body is not None else {})

    def sign_in(self, email: str, password: str) -> None:
        """Sign in through the form and read the session's CSRF token from the home page.

        Raises:
            ConsoleError: When the form, the sign-in or the home page answers unexpectedly.
        """
        page = self.get("/signin")
        token = FORM_TOKEN_RE.search(str(page.body)) if page.status == 200 else None
        if token is None:
            raise ConsoleError(f"GET /signin answered {page.status} without a sign-in form.")
        signed = self.request(
            "POST",
            "/signin",
            form={"email": email, "password": password, "csrf_token": token.group(1), "next": "/"},
        )
        if signed.status != 303:
            raise ConsoleError(
                f"Signing in as {email} answered {signed.status}, not 303: {str(signed.body)[:300]}"
            )
        home = self.get("/")
        found = META_TOKEN_RE.search(str(home.body)) or FORM_TOKEN_RE.search(str(home.body))
        if home.status != 200 or found is None:
            raise ConsoleError(f"GET / answered {home.status} without the session's CSRF token.")
        self.csrf_token = found.group(1)
