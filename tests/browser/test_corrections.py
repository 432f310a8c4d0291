"""Corrections in headless Chromium: an agent corrects a shopper turn's intent and writes the
right answer to a bot turn; an admin accepts one and rejects the other on /corrections. No CSP
violation, no script error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.console_page import serious_violations, sign_in
from tests.browser.widget_page import CSP_WATCH, DESKTOP
from tests.e2e.console_server import ADMIN, AGENT, ConsoleServer, running_console
from tests.unit.bot.console.helpers import TrackerStore, bot_event, user_event

pytestmark = pytest.mark.browser

CID = "browser-fix"


@pytest.fixture(scope="module")
def console_server(
    tmp_path_factory: pytest.TempPathFactory, project_root: Path
) -> Iterator[ConsoleServer]:
    with running_console(project_root, tmp_path_factory.mktemp("corrections-browser")) as server:
        path = server.settings.sqlite_path(server.settings.tracker_store_url)
        assert path is not None
        tracker = TrackerStore(path)
        tracker.add(
            CID,
            user_event("where is order 482913", "greet", 0.41),
            bot_event("Hello! How can I help?"),
        )
        tracker.close()
        yield server


def test_an_agent_corrects_and_an_admin_reviews(
    browser: object, console_server: ConsoleServer
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-US")  # type: ignore[attr-defined]
    context.add_init_script(CSP_WATCH)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        sign_in(page, console_server, AGENT)
        page.goto(f"{console_server.url}/conversations/{CID}")
        page.get_by_test_id("correct-intent").click()
        page.get_by_test_id("correction-intent-select").select_option("track_order")
        page.get_by_label("Entities (optional)").fill("order_number=482913")
        page.get_by_test_id("correction-save").first.click()
        fixed = page.locator('[data-testid="correction"][data-status="proposed"]')
        fixed.first.wait_for()
        assert "greet → track_order · order_number = 482913" in fixed.first.inner_text()

        page.get_by_test_id("correct-answer").click()
        page.get_by_test_id("answer-correction-input").fill("Order 482913 ships today.")
        page.get_by_label("This is a catalog/FAQ fact").check()
        page.locator('[data-author="bot"] [data-testid="correction-save"]').click()
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=\"correction\"]').length === 2"
        )
        page.reload()  # the transcript API brings them back with the turns
        page.locator('[data-testid="correction"]').nth(1).wait_for()
        assert page.evaluate("() => window.__cspViolations") == []

        page.goto(console_server.url + "/corrections")
        assert page.get_by_test_id("correction").count() == 2
        assert page.get_by_test_id("correction-accept").count() == 0  # agents read only
        context.clear_cookies()

        sign_in(page, console_server, ADMIN)
        page.goto(console_server.url + "/corrections")
        rows = page.get_by_test_id("correction")
        rows.nth(0).get_by_test_id("correction-reject").click()
        rows.nth(1).get_by_test_id("correction-accept").click()
        page.locator('[data-testid="correction"][data-status="accepted"]').wait_for()
        page.locator('[data-testid="correction"][data-status="rejected"]').wait_for()
        assert page.get_by_test_id("correction-accept").count() == 0
        assert page.evaluate("() => window.__cspViolations") == []
        assert not errors, errors

        assert serious_violations(page) == []
        page.goto(f"{console_server.url}/conversations/{CID}")
        page.get_by_test_id("correct-intent").click()
        page.get_by_test_id("correct-answer").click()
        assert serious_violations(page) == []
    finally:
        context.close()
