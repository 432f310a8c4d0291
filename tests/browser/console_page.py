"""The agent console in a browser test: sign in, collect script errors, run axe."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import AXE_JS
from tests.e2e.console_server import ConsoleServer


def sign_in(page: Page, console: ConsoleServer, who: tuple[str, str, str, str]) -> None:
    """Sign ``who`` (email, name, role, password) in and wait for the queue page."""
    email, _name, _role, password = who
    page.goto(console.url + "/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("queue-count")).to_be_visible()


def watch_errors(page: Page, errors: list[str]) -> Page:
    """Append the page's script errors and console errors to ``errors``; return the page."""
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the whole page (run last: axe adds a <style>
    element, which the console's CSP blocks)."""
    assert AXE_JS.exists(), f"{AXE_JS} is missing: run `npm ci` (make node-deps)"
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    results: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
