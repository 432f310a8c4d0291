"""The agent console in headless Chromium: sign in, see the home page, sign out — at desktop and
phone width, with no CSP violation and no horizontal scrolling. Screenshots go to
test-artifacts/browser/console-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.widget_page import CSP_WATCH, DESKTOP, PHONE
from tests.e2e.console_server import AGENT, ConsoleServer, running_console

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def console_server(
    tmp_path_factory: pytest.TempPathFactory, project_root: Path
) -> Iterator[ConsoleServer]:
    with running_console(project_root, tmp_path_factory.mktemp("console-browser")) as server:
        yield server


@pytest.mark.parametrize(("label", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_sign_in_home_sign_out(
    browser: object, console_server: ConsoleServer, label: str, viewport: dict[str, int]
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=viewport, locale="en-US")  # type: ignore[attr-defined]
    context.add_init_script(CSP_WATCH)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        page.goto(console_server.url + "/")
        assert page.url.endswith("/signin")
        page.screenshot(path=str(ARTIFACTS / f"console-signin-{label}.png"), full_page=True)

        page.fill("#email", AGENT[0])
        page.fill("#password", "not the passphrase")
        page.click("button[type=submit]")
        assert page.locator(".alert").inner_text() == "Wrong email or password."
        # The refused sign-in answers 401, which Chromium logs as a failed load: expected.
        assert all("status of 401" in e for e in errors), errors
        errors.clear()

        page.fill("#password", AGENT[3])
        page.click("button[type=submit]")
        page.wait_for_url(console_server.url + "/")
        assert (
            page.locator("#queue-title")
            .inner_text()
            .startswith("Conversations waiting for a human")
        )
        assert page.locator("#queue-count").inner_text() == "0"
        assert page.locator("#agent-name").inner_text() == AGENT[1]
        assert page.locator("#queue-empty").is_visible()
        sign_out = page.get_by_role("button", name="Sign out")
        assert sign_out.is_visible()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"horizontal scrolling at {label} width: {width}px"
        page.screenshot(path=str(ARTIFACTS / f"console-home-{label}.png"), full_page=True)

        sign_out.click()
        page.wait_for_url(console_server.url + "/signin")
        page.goto(console_server.url + "/")
        assert page.url.endswith("/signin")  # the session is gone

        assert page.evaluate("() => window.__cspViolations") == []
        assert not errors, errors
    finally:
        context.close()
