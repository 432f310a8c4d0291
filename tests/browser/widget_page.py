"""Drives the ShopBot widget on the demo store page in a real Chromium (Playwright, sync API).

Locators pierce the widget's open Shadow DOM. Nothing here evaluates strings in the page's own
script context in a way the page's CSP would forbid: ``page.evaluate`` runs through the DevTools
protocol, which a CSP does not govern, and ``wait_for_function`` (which uses ``eval``) is avoided.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Locator, Page, ViewportSize, expect

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
REPLY_TIMEOUT_MS = 90_000

# Installed before any page script: records every CSP violation the document sees, including
# those inside the widget's Shadow DOM (the report-uri route counts them server-side too).
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI,
                               sample: e.sample, source: e.sourceFile, line: e.lineNumber});
}, true);
window.__dialogs = 0;
"""

# Time from the Enter key to the typing indicator being shown and painted, in the page's clock.
TYPING_PROBE = """
() => {
  const root = document.querySelector('#shopbot-widget').shadowRoot;
  const typing = root.querySelector('.sb-typing');
  const input = root.querySelector('.sb-input');
  window.__typingMs = null;
  let start = 0;
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') start = performance.now(); },
                         {capture: true, once: true});
  const observer = new MutationObserver(() => {
    if (start && !typing.hidden) {
      observer.disconnect();
      requestAnimationFrame(() => { window.__typingMs = performance.now() - start; });
    }
  });
  observer.observe(typing, {attributes: true, attributeFilter: ['hidden']});
}
"""


class WidgetPage:
    """One browser tab on the demo store, with the widget.

    Args:
        page: The Playwright page.
        url: The demo store's URL.
        artifacts: Folder for screenshots.
    """

    def __init__(self, page: Page, url: str, artifacts: Path) -> None:
        self.page = page
        self.url = url
        self.artifacts = artifacts
        self.console_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"pageerror: {error}"))

    def _on_console(self, message: Any) -> None:
        # Product pictures come from the internet, which the tests block: those failures are noise.
        if message.type == "error" and "ERR_FAILED" not in message.text:
            self.console_errors.append(message.text)

    @classmethod
    def new(cls, context: BrowserContext, url: str, artifacts: Path) -> WidgetPage:
        """Open a new tab on ``url``."""
        widget = cls(context.new_page(), url, artifacts)
        widget.goto()
        return widget

    # ---- locators ---------------------------------------------------------------------------

    @property
    def launcher(self) -> Locator:
        return self.page.locator("#shopbot-widget .sb-launcher")

    @property
    def panel(self) -> Locator:
        return self.page.locator("#shopbot-widget .sb-panel")

    @property
    def input(self) -> Locator:
        return self.page.locator("#shopbot-widget .sb-input")

    @property
    def log(self) -> Locator:
        return self.page.locator("#shopbot-widget .sb-log")

    def stored_items(self) -> Locator:
        """Every drawn item that carries a seq (stored events)."""
        return self.page.locator("#shopbot-widget .sb-log [data-seq]")

    def bot_replies(self) -> Locator:
        return self.page.locator("#shopbot-widget .sb-log .sb-bot[data-seq]")

    def user_messages(self) -> Locator:
        return self.page.locator("#shopbot-widget .sb-log .sb-user")

    # ---- actions ----------------------------------------------------------------------------

    def goto(self) -> None:
        self.page.goto(self.url)
        expect(self.launcher).to_be_visible()

    def open(self) -> None:
        """Open the chat and wait until its stream is connected."""
        if not self.panel.count() or not self.panel.is_visible():
            self.launcher.click()
        self.wait_online()
        expect(self.input).to_be_focused()

    def wait_online(self, timeout_ms: int = 30_000) -> None:
        expect(
            self.page.locator("#shopbot-widget .sb-panel[data-connection=online]")
        ).to_have_count(1, timeout=timeout_ms)

    def send(self, text: str) -> None:
        """Type ``text`` and press Enter."""
        self.input.fill(text)
        self.input.press("Enter")

    def ask(self, text: str) -> Locator:
        """Send ``text`` and return the bot reply that follows it."""
        before = self.bot_replies().count()
        self.send(text)
        reply = self.bot_replies().nth(before)
        reply.wait_for(timeout=REPLY_TIMEOUT_MS)
        return reply

    def measure_typing_ms(self, text: str) -> tuple[float, Locator]:
        """Send ``text``; return (ms from Enter to the painted typing indicator, the reply)."""
        self.page.evaluate(TYPING_PROBE)
        before = self.bot_replies().count()
        self.send(text)
        deadline = time.monotonic() + 5
        elapsed = None
        while elapsed is None and time.monotonic() < deadline:
            elapsed = self.page.evaluate("() => window.__typingMs")
            if elapsed is None:
                time.sleep(0.02)
        assert elapsed is not None, "the typing indicator never showed after sending"
        reply = self.bot_replies().nth(before)
        reply.wait_for(timeout=REPLY_TIMEOUT_MS)
        return float(elapsed), reply

    def storage(self) -> dict[str, Any]:
        """The widget's localStorage record (conversation token, lastSeq, events, outbox)."""
        raw = self.page.evaluate(
            "() => { const k = Object.keys(localStorage).find((k) => k.startsWith('shopbot:conversation:'));"
            " return k ? localStorage.getItem(k) : null; }"
        )
        return json.loads(raw) if raw else {}

    def token(self) -> str:
        return str(self.storage().get("token", ""))

    def transcript(self) -> list[tuple[str, str, str]]:
        """(kind, seq, text) of every stored item drawn, in order."""
        rows = self.page.evaluate(
            """() => [...document.querySelector('#shopbot-widget').shadowRoot
                  .querySelectorAll('.sb-log [data-seq]')]
                  .map((n) => [n.className, n.dataset.seq, (n.querySelector('.sb-bubble') || n).textContent])"""
        )
        return [(str(kind), str(seq), str(text)) for kind, seq, text in rows]

    def fetch(
        self, path: str, *, method: str = "GET", token: str | None = None, body: Any = None
    ) -> dict[str, Any]:
        """Call the widget API from inside the page (the page's origin, CORS and CSP apply)."""
        return self.page.evaluate(
            """async ([url, method, token, body]) => {
                 const headers = {'Content-Type': 'application/json'};
                 if (token !== null) headers.Authorization = 'Bearer ' + token;
                 const controller = new AbortController();
                 setTimeout(() => controller.abort(), 3000);
                 try {
                   const r = await fetch(url, {method, headers, signal: controller.signal,
                     body: body === null ? undefined : JSON.stringify(body)});
                   let text = '';
                   try { text = await r.text(); } catch (e) { text = String(e); }
                   return {status: r.status, text};
                 } catch (e) { return {status: -1, text: String(e)}; }
               }""",
            [path, method, token, body],
        )

    def csp_violations(self) -> list[dict[str, Any]]:
        return list(self.page.evaluate("() => window.__cspViolations || []"))

    def shoot(self, name: str) -> None:
        """Screenshots of the current state at desktop and at phone width."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_timeout(250)  # let the panel's entrance animation finish
        self.page.screenshot(path=str(self.artifacts / f"{name}-desktop.png"))
        self.page.set_viewport_size(PHONE)
        self.page.wait_for_timeout(250)
        self.page.screenshot(path=str(self.artifacts / f"{name}-phone.png"))
        self.page.set_viewport_size(DESKTOP)
        self.page.wait_for_timeout(100)
