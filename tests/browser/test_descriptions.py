"""Product descriptions in headless Chromium: an admin on a store without a generator writes the
template baseline for one product, accepts it and sees it accepted. No CSP violation, no script
error, no serious axe finding."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from knowledge.catalog.jsonl import write_catalog_jsonl
from tests.browser.conftest import ARTIFACTS
from tests.browser.console_page import serious_violations, sign_in, watch_errors
from tests.browser.widget_page import CSP_WATCH, DESKTOP, PHONE
from tests.e2e.console_server import ADMIN, ConsoleServer, running_console
from tests.unit.knowledge.describe_helpers import GUILLOW_ID, demo_product

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    """A console whose home holds a one-product catalog and no generator."""
    home = tmp_path_factory.mktemp("descriptions-browser")
    write_catalog_jsonl([replace(demo_product(), description="")], home / "var/store/catalog.jsonl")
    with running_console(home, home) as server:
        yield server


def test_an_admin_accepts_a_template_description(
    browser: object, console_server: ConsoleServer
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-US")  # type: ignore[attr-defined]
    context.add_init_script(CSP_WATCH)
    errors: list[str] = []
    try:
        page = watch_errors(context.new_page(), errors)
        sign_in(page, console_server, ADMIN)
        page.get_by_role("link", name="Descriptions").click()
        assert page.get_by_test_id("no-generator").is_visible()
        assert page.get_by_test_id("mode-template").is_checked()
        page.get_by_test_id("product-id").fill(GUILLOW_ID)
        page.get_by_test_id("generate-submit").click()
        draft = page.locator(f'[data-testid="draft"][data-product-id="{GUILLOW_ID}"]')
        draft.wait_for()
        assert "template baseline" in draft.get_by_test_id("draft-outcome").inner_text()
        draft.get_by_test_id("draft-accept").click()
        page.locator('[data-testid="draft"][data-status="accepted"]').wait_for()
        assert "Accepted by Ada Admin" in page.get_by_test_id("draft").inner_text()
        assert page.get_by_test_id("notice").inner_text().endswith("accepted.")
        # At phone width the admin's nav (one link more than an agent's) and the generator's
        # path wrap instead of scrolling sideways.
        page.set_viewport_size(PHONE)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"horizontal scrolling at phone width: {width}px"
        assert page.locator("nav.nav").get_by_role("link", name="Descriptions").is_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "console-descriptions-phone.png"), full_page=True)
        assert page.evaluate("() => window.__cspViolations") == []
        assert not errors, errors
        assert serious_violations(page) == []
    finally:
        context.close()
