"""Fixtures of the browser tests: the real Rasa + action servers (tiny models), the demo store
page with the widget on it, a cuttable proxy between them, and headless Debian Chromium.

The servers start once per module (they take a minute); each test gets a fresh browser context,
so its own localStorage and its own conversation. Every test fails on any CSP violation, seen in
the page (``securitypolicyviolation``) or reported to the demo store's ``/csp-report``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from bot.demo_store.server import DemoStore
from bot.storage.event_log import EventLog
from tests.browser.proxy import CuttableProxy
from tests.browser.widget_page import CSP_WATCH, DESKTOP, WidgetPage
from tests.conftest import ROOT, free_port
from tests.e2e.harness import ShopBotServers

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("SHOPBOT_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts" / "browser"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"


@dataclass
class WidgetSite:
    """Everything a browser test talks to."""

    servers: ShopBotServers
    proxy: CuttableProxy
    store: DemoStore
    url: str

    @property
    def app_db_url(self) -> str:
        settings = self.servers.settings
        return str(settings.resolve_db_url(settings.app_db_url))

    def conversation_id(self, token: str) -> str:
        """The conversation id inside a widget token (verified with the test secret)."""
        from bot.channels.widget_auth import ConversationTokens
        from tests.e2e.harness import WIDGET_SECRET

        return ConversationTokens(WIDGET_SECRET, 3600).verify(token)

    def event_log(self) -> EventLog:
        """The widget's event log in the servers' application database."""
        from bot.storage.engine import make_engine

        return EventLog(make_engine(self.app_db_url))

    # Violations a test causes on purpose (reset for every test): report → True to ignore it.
    forgiven: list[Callable[[dict[str, Any]], bool]] = field(default_factory=list)

    def csp_report_count(self) -> int:
        """Violation reports received by ``/csp-report`` so far."""
        return int(self.store.reports.snapshot()["count"])

    def csp_reports_since(self, count: int) -> list[dict[str, Any]]:
        """The reports received after the first ``count``, less the forgiven ones."""
        snapshot = self.store.reports.snapshot()
        new = snapshot["reports"][len(snapshot["reports"]) - (snapshot["count"] - count) :]
        return [r for r in new if not any(forgive(r) for forgive in self.forgiven)]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, tiny_rasa_model: Path) -> Iterator[WidgetSite]:
    """Rasa + action servers, the demo store page (in this process) and the proxy between."""
    from bot.demo_store.server import build_store, make_server

    tmp = tmp_path_factory.mktemp("browser")
    demo_port = free_port()
    servers = ShopBotServers.with_store_copy(ROOT, tmp, tiny_rasa_model, demo_port=demo_port)
    proxy = None
    httpd = None
    try:
        servers.start()
        proxy = CuttableProxy(servers.settings.host, servers.settings.rasa_port).start()
        # The page names the proxy as its ShopBot server: widget.js, the API and the CSP.
        store = build_store(servers.settings, server_url=proxy.url)
        httpd = make_server(store, "127.0.0.1", demo_port)
        threading.Thread(target=httpd.serve_forever, name="demo-store", daemon=True).start()
        yield WidgetSite(servers, proxy, store, f"http://127.0.0.1:{demo_port}/")
    finally:
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if proxy is not None:
            proxy.close()
        servers.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright (never a browser Playwright downloads)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: run `make system-deps` (installs Debian's chromium) or "
            "set SHOPBOT_CHROMIUM to a Chromium binary.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def new_context(browser: Browser, site: WidgetSite) -> Iterator[Callable[..., BrowserContext]]:
    """A factory of fresh browser contexts (own storage) that reach loopback only, each checked
    for CSP violations and page errors when the test ends."""
    contexts: list[BrowserContext] = []
    site.forgiven.clear()
    reports_before = site.csp_report_count()

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(
            viewport=options.pop("viewport", DESKTOP), locale="en-US", **options
        )
        context.add_init_script(CSP_WATCH)
        # The catalog's pictures live on the internet; tests stay on this machine.
        context.route(
            lambda url: not url.startswith(("http://127.0.0.1", "http://localhost")),
            lambda route: route.abort(),
        )
        contexts.append(context)
        return context

    yield make
    violations: list[dict[str, Any]] = []
    for context in contexts:
        for page in context.pages:
            violations += page.evaluate("() => window.__cspViolations || []")
        context.close()
    assert not violations, f"CSP violations in the page: {violations}"
    reported = site.csp_reports_since(reports_before)
    assert not reported, f"CSP violation reports reached /csp-report: {reported}"


@pytest.fixture()
def widget(new_context: Callable[..., BrowserContext], site: WidgetSite) -> Iterator[WidgetPage]:
    """The demo store in a fresh context, widget not yet opened."""
    from tests.browser.widget_page import WidgetPage

    page = WidgetPage.new(new_context(), site.url, ARTIFACTS)
    yield page
    assert not page.console_errors, f"Errors in the browser console: {page.console_errors}"
