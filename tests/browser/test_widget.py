"""The web widget in a real browser, on the demo store page, against the real Rasa and action
servers with the tiny models (marker ``browser``; ``make test`` runs it in ``integration``).

Each test leaves screenshots (desktop and 390 px phone width) in ``test-artifacts/browser/``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.request import Request, urlopen

import jwt
import pytest
from playwright.sync_api import BrowserContext, Dialog, expect

from tests.browser.conftest import AXE_JS, ROOT, WidgetSite
from tests.browser.widget_page import PHONE, REPLY_TIMEOUT_MS, WidgetPage

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

PRODUCT_QUESTION = "how much is the Classic Wood Chess Set?"
XSS = "<img src=x onerror=alert(1)>"
# Counts the bubbles that streamed `token` events open (0 when the answer came whole).
STREAM_PROBE = """() => {
  window.__streamedBubbles = 0;
  const log = document.querySelector('#shopbot-widget').shadowRoot.querySelector('.sb-log');
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes)
      if (n.classList && n.classList.contains('sb-streaming')) window.__streamedBubbles += 1;
  }).observe(log, {childList: true});
}"""


def catalog_prices() -> dict[str, float]:
    """Product name → price, from the demo catalog the servers use."""
    prices = {}
    with (ROOT / "var" / "store" / "catalog.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            prices[row["name"]] = float(row["price"])
    return prices


def test_product_question_answered_with_citation(widget: WidgetPage) -> None:
    widget.shoot("01-closed")
    widget.open()
    widget.shoot("02-open-greeting")
    widget.page.evaluate(STREAM_PROBE)
    typing_ms, reply = widget.measure_typing_ms(PRODUCT_QUESTION)
    assert typing_ms < 100, f"typing indicator took {typing_ms:.0f} ms to show"
    expect(reply.locator(".sb-bubble")).to_contain_text("$18.99")
    source = reply.locator(".sb-source-link")
    expect(source.first).to_contain_text("Classic Wood Chess Set")
    assert (source.first.get_attribute("href") or "").startswith("https://")
    expect(reply.locator(".sb-bubble")).not_to_contain_text("Sources:")  # shown as links instead
    expect(widget.page.locator("#shopbot-widget .sb-typing")).to_be_hidden()
    # Streamed pieces (when the generator streams) were replaced by the one final answer.
    expect(widget.page.locator("#shopbot-widget .sb-streaming")).to_have_count(0)
    assert widget.bot_replies().count() == 1
    streamed = widget.page.evaluate("() => window.__streamedBubbles")
    print(f"typing indicator after {typing_ms:.1f} ms; streamed bubbles: {streamed}")
    widget.shoot("03-answer-with-citation")


def test_quick_reply_sends_its_payload(widget: WidgetPage) -> None:
    widget.open()
    reply = widget.ask("I forgot my password")
    chip = reply.locator(".sb-chip", has_text="Talk to a human")
    expect(chip).to_be_visible()
    widget.shoot("04-quick-replies")
    chip.click()
    expect(widget.user_messages().last).to_contain_text("Talk to a human")
    handoff = widget.bot_replies().nth(1)
    handoff.wait_for(timeout=REPLY_TIMEOUT_MS)
    expect(handoff).to_contain_text("human agent")
    expect(widget.page.locator("#shopbot-widget .sb-chip")).to_have_count(0)  # used up


def test_a_return_question_is_answered_with_a_button_that_starts_the_return(
    widget: WidgetPage,
) -> None:
    """The tiny model reads this question as a return request; the FAQ's gift-card entry answers
    it, cited, with "Start a return" under it, instead of the order number question. The button
    starts the return."""
    widget.open()
    reply = widget.ask("paid with a gift card, can i return it")
    expect(reply.locator(".sb-bubble")).to_contain_text("gift card")
    expect(reply.locator(".sb-bubble")).not_to_contain_text("order number")
    expect(reply.locator(".sb-source-link").first).to_be_visible()
    chip = reply.locator(".sb-chip", has_text="Start a return")
    expect(chip).to_be_visible()
    widget.shoot("04b-return-question-answered")
    chip.click()
    expect(widget.user_messages().last).to_contain_text("Start a return")
    asked = widget.bot_replies().nth(1)
    asked.wait_for(timeout=REPLY_TIMEOUT_MS)
    expect(asked).to_contain_text("What's your order number?")


def test_a_question_not_known_offers_faq_questions_and_a_tap_answers_one(
    widget: WidgetPage,
) -> None:
    """The bot does not know "somebody to put my wardrobe together pls" (no FAQ passage passes
    the gate) and says so; it offers the FAQ question the message is asked like as a chip, and the
    tap gets that entry's answer with its source."""
    widget.open()
    reply = widget.ask("somebody to put my wardrobe together pls")
    expect(reply.locator(".sb-bubble")).to_contain_text("I don't have that information")
    chips = widget.page.locator("#shopbot-widget .sb-chip")
    chip = chips.filter(has_text="Do you offer installation services")
    expect(chip).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(chips.filter(has_text="Talk to a human")).to_be_visible()  # a human is still offered
    # The "I don't know" is an answer the shopper may rate; the offer under it is a question.
    expect(reply.locator(".sb-feedback")).to_have_count(1)
    offer = widget.bot_replies().filter(has=chip)
    expect(offer.locator(".sb-feedback")).to_have_count(0)
    widget.shoot("04c-faq-question-offered")
    before = widget.bot_replies().count()
    chip.click()
    expect(widget.user_messages().last).to_contain_text("Do you offer installation services")
    answer = widget.bot_replies().nth(before)
    answer.wait_for(timeout=REPLY_TIMEOUT_MS)
    expect(answer.locator(".sb-bubble")).to_contain_text("installation")
    expect(answer.locator(".sb-source-link").first).to_be_visible()


def test_product_search_shows_cards_with_catalog_prices(widget: WidgetPage) -> None:
    widget.open()
    reply = widget.ask("do you have longboards?")
    expect(reply.locator(".sb-bubble")).to_contain_text("Yes, here is what we have")
    cards = reply.locator(".sb-card")
    expect(cards.first).to_be_visible()
    prices = catalog_prices()
    names = cards.locator(".sb-card-name").all_inner_texts()
    shown = cards.locator(".sb-price").all_inner_texts()
    assert len(names) >= 2 and len(names) == len(shown)
    for name, price in zip(names, shown, strict=True):
        assert name in prices, f"{name!r} is not in the catalog"
        assert price == f"${prices[name]:,.2f}", f"{name}: shown {price}, catalog {prices[name]}"
    # The demo export lists no stock: no card claims "In stock" (or "Out of stock").
    expect(cards.locator(".sb-stock")).to_have_count(0)
    widget.shoot("05-product-cards")
    # "Ask about this" asks about that product.
    cards.first.locator(".sb-ask").click()
    expect(widget.user_messages().last).to_contain_text(names[0])
    widget.bot_replies().nth(1).wait_for(timeout=REPLY_TIMEOUT_MS)
    widget.shoot("05b-asked-about-a-product")


def test_a_product_the_store_does_not_sell_is_answered_no(widget: WidgetPage) -> None:
    """ "Do you sell X?" for a thing the catalog does not have says so; any cards under it are
    the closest things the catalog does have, at its own prices, not "what I found"."""
    widget.open()
    reply = widget.ask("do you sell jetpacks?")
    bubble = reply.locator(".sb-bubble").first
    expect(bubble).to_contain_text("I couldn't find jetpacks in our catalog")
    expect(bubble).not_to_contain_text("Here is what I found")
    prices = catalog_prices()
    for name in reply.locator(".sb-card .sb-card-name").all_inner_texts():
        assert name in prices, f"{name!r} is not in the catalog"
    widget.shoot("05c-not-sold")


def test_feedback_is_stored_in_the_tracker(widget: WidgetPage, site: WidgetSite) -> None:
    widget.open()
    reply = widget.ask(PRODUCT_QUESTION)
    thumbs_up = reply.locator(".sb-thumb-up")
    with widget.page.expect_response(lambda r: r.url.endswith("/feedback")) as answered:
        thumbs_up.click()
    assert answered.value.status == 204
    expect(thumbs_up).to_have_attribute("aria-pressed", "true")
    message_id = reply.get_attribute("data-message-id")
    conversation = site.conversation_id(widget.token())
    events = site.servers.tracker(conversation)["events"]
    feedback = [e["data"]["feedback"] for e in events if (e.get("data") or {}).get("feedback")]
    assert feedback and feedback[-1]["message_id"] == message_id and feedback[-1]["value"] == "up"
    widget.shoot("06-feedback")


def test_reload_shows_the_whole_conversation(widget: WidgetPage) -> None:
    widget.open()
    widget.ask(PRODUCT_QUESTION)
    widget.ask("do you have puzzles?")
    before = widget.transcript()
    assert len(before) == 4
    widget.page.reload()
    # The chat was open: it opens again by itself, drawn from storage, then resumes the stream.
    widget.wait_online()
    assert widget.transcript() == before
    reply = widget.ask("what is your return policy?")
    expect(reply).to_contain_text("30 days")
    after = widget.transcript()
    assert after[:4] == before and len(after) == 6
    seqs = [int(seq) for _, seq, _ in after]
    assert seqs == sorted(set(seqs)), f"seqs doubled or out of order: {seqs}"
    widget.shoot("07-after-reload")


def test_dropped_stream_mid_answer_loses_and_doubles_nothing(
    widget: WidgetPage, site: WidgetSite
) -> None:
    widget.open()
    widget.ask("hello")
    conversation = site.conversation_id(widget.token())
    log = site.event_log()
    stored = log.last_seq(conversation)

    # The answer is produced while everything the server sends is lost in flight …
    widget.send(PRODUCT_QUESTION)
    expect(widget.user_messages().last).to_have_attribute("data-seq", str(stored + 1))
    site.proxy.blackhole()
    deadline = time.monotonic() + 60
    while log.last_seq(conversation) < stored + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert log.last_seq(conversation) >= stored + 2, "the server never stored the answer"
    time.sleep(0.5)
    assert widget.bot_replies().count() == 1, "the answer arrived through a black hole"
    # … then the connection dies; the widget reconnects and resumes after the last seq it saw.
    assert site.proxy.cut() >= 1
    reply = widget.bot_replies().nth(1)
    reply.wait_for(timeout=30_000)
    expect(reply).to_contain_text("$18.99")
    widget.wait_online()

    # A message sent while the server cannot be reached is retried with the same client_id.
    site.proxy.refusing = True
    site.proxy.cut()
    widget.send("do you have puzzles?")
    expect(widget.user_messages().last.locator(".sb-status")).to_be_visible()
    widget.page.wait_for_timeout(1500)
    site.proxy.refusing = False
    widget.bot_replies().nth(2).wait_for(timeout=REPLY_TIMEOUT_MS)

    rows = widget.transcript()
    seqs = [int(seq) for _, seq, _ in rows]
    assert seqs == sorted(set(seqs)), f"doubled or out of order: {seqs}"
    users = [text for kind, _, text in rows if "sb-user" in kind]
    assert users == ["hello", PRODUCT_QUESTION, "do you have puzzles?"]
    assert widget.user_messages().count() == 3 and widget.bot_replies().count() == 3
    # The server has each message once.
    kinds = [e.kind for e in log.read_after(conversation, 0)]
    assert kinds.count("user") == 3, kinds
    widget.console_errors.clear()  # the cut connections are logged as network errors
    widget.shoot("08-after-dropped-stream")


def test_xss_payload_is_shown_as_text(widget: WidgetPage) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    widget.page.on("dialog", on_dialog)
    widget.open()
    widget.ask(XSS)
    mine = widget.user_messages().last.locator(".sb-bubble")
    expect(mine).to_have_text(XSS)
    assert widget.page.locator("#shopbot-widget .sb-log img").count() == 0
    widget.page.reload()
    widget.wait_online()
    expect(widget.user_messages().last.locator(".sb-bubble")).to_have_text(XSS)
    assert widget.page.locator("#shopbot-widget .sb-log img").count() == 0
    assert not dialogs
    widget.shoot("09-xss-as-text")


def test_markdown_subset_is_rendered_safely(widget: WidgetPage) -> None:
    widget.open()
    # The renderer is the widget's own module, loaded as the page loaded it.
    rendered = widget.page.evaluate(
        """async () => {
             const src = [...document.scripts].find((s) => s.src.includes('/widget.js')).src;
             const url = new URL('static/widget-markdown.js', src).href;
             const md = await import(url);
             const box = document.createElement('div');
             box.appendChild(md.renderMarkdown(
               '**Bold** and *it* [ok](https://example.com/a) [bad](javascript:alert(1)) ' +
               'see https://example.com/b.\\n<b>x</b> [1]', document,
               [{n: 1, title: 'Src', url: 'https://example.com/s'}]));
             return {html: box.innerHTML,
                     links: [...box.querySelectorAll('a')].map((a) => a.getAttribute('href'))};
           }"""
    )
    assert "<strong>Bold</strong>" in rendered["html"]
    assert "<em>it</em>" in rendered["html"]
    assert "<br>" in rendered["html"]
    assert "&lt;b&gt;x&lt;/b&gt;" in rendered["html"]
    assert rendered["links"] == [
        "https://example.com/a",
        "https://example.com/b",
        "https://example.com/s",
    ]
    assert "javascript:" not in "".join(rendered["links"])


def test_keyboard_only(widget: WidgetPage) -> None:
    page = widget.page
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    # The launcher is the last thing on the page: Shift+Tab from the top reaches it.
    page.keyboard.press("Shift+Tab")
    expect(widget.launcher).to_be_focused()
    page.keyboard.press("Enter")
    widget.wait_online()
    expect(widget.input).to_be_focused()
    page.keyboard.type(PRODUCT_QUESTION)
    page.keyboard.press("Enter")
    widget.bot_replies().first.wait_for(timeout=REPLY_TIMEOUT_MS)
    # Tab cycles inside the open panel (focus trap) and reaches the answer's controls.
    reached: list[str] = []
    for _ in range(12):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate(
                """() => { const a = document.querySelector('#shopbot-widget').shadowRoot.activeElement;
                           return a ? (a.getAttribute('aria-label') || a.textContent || a.tagName).trim() : 'OUTSIDE'; }"""
            )
        )
    assert "OUTSIDE" not in reached, reached
    assert {"Close chat", "Helpful", "Send"} <= set(reached), reached
    widget.shoot("10-keyboard-focus")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    expect(widget.launcher).to_be_focused()
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(widget.input).to_be_focused()


def forgive_axe_styles(widget: WidgetPage, site: WidgetSite) -> None:
    """axe-core adds a <style> element while it runs, which the page's CSP blocks: that is the
    checker, not the widget (which has none before axe runs). Let the end-of-test check skip it."""
    caused = widget.csp_violations()
    assert all(v["directive"].startswith("style-src") for v in caused), caused
    widget.page.evaluate("() => { window.__cspViolations = []; }")
    site.forgiven.append(
        lambda r: (
            r.get("violated-directive", "").startswith("style-src")
            and r.get("blocked-uri") == "inline"
        )
    )
    widget.console_errors[:] = [e for e in widget.console_errors if "inline style" not in e]


def test_accessibility_no_serious_violations(widget: WidgetPage, site: WidgetSite) -> None:
    assert AXE_JS.exists(), f"{AXE_JS} is missing: run `npm ci` (make node-deps)"
    widget.open()
    widget.ask("do you have longboards?")
    widget.ask("I forgot my password")
    assert widget.csp_violations() == []
    widget.page.evaluate(AXE_JS.read_text(encoding="utf-8"))  # DevTools protocol: not CSP-bound
    results: dict[str, Any] = widget.page.evaluate(
        """async () => await axe.run(document.querySelector('#shopbot-widget'),
                                    {resultTypes: ['violations']})"""
    )
    forgive_axe_styles(widget, site)
    serious = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, json.dumps(serious, indent=1)
    roles = widget.page.evaluate(
        """() => { const r = document.querySelector('#shopbot-widget').shadowRoot;
                   const d = r.querySelector('[role=dialog]'); const l = r.querySelector('[role=log]');
                   return [d.getAttribute('aria-labelledby') && r.getElementById(d.getAttribute('aria-labelledby')).textContent,
                           l.getAttribute('aria-live')]; }"""
    )
    assert roles == ["ShopBot Demo Store", "polite"]
    widget.page.set_viewport_size(PHONE)
    results = widget.page.evaluate(
        "async () => await axe.run(document.querySelector('#shopbot-widget'), {resultTypes: ['violations']})"
    )
    forgive_axe_styles(widget, site)
    assert not [v["id"] for v in results["violations"] if v["impact"] in ("serious", "critical")]


def test_csp_is_strict_and_violations_are_caught(widget: WidgetPage, site: WidgetSite) -> None:
    response = widget.page.request.get(site.url)
    policy = response.headers["content-security-policy"]
    proxy_url = site.proxy.url
    assert f"script-src 'self' {proxy_url}" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "report-uri /csp-report" in policy
    widget.open()
    widget.ask("hello")
    assert widget.csp_violations() == []
    # The watchers notice a violation: an inline script is refused, seen and reported.
    before = site.csp_report_count()
    widget.page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';"
        " document.body.appendChild(s); }"
    )
    assert widget.csp_violations() and widget.page.evaluate("() => window.x") is None
    deadline = time.monotonic() + 10
    while site.csp_report_count() == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert site.csp_report_count() == before + 1
    # Caused on purpose: the fixture's end-of-test check must not count it.
    widget.page.evaluate("() => { window.__cspViolations = []; }")
    site.forgiven.append(
        lambda r: (
            r.get("violated-directive", "").startswith("script-src")
            and r.get("blocked-uri") == "inline"
        )
    )
    widget.console_errors.clear()


def test_second_context_cannot_read_or_continue_the_first(
    widget: WidgetPage, new_context: Callable[..., BrowserContext], site: WidgetSite
) -> None:
    widget.open()
    widget.ask(PRODUCT_QUESTION)
    first_token = widget.token()
    first_id = site.conversation_id(first_token)
    message_id = widget.bot_replies().first.get_attribute("data-message-id")

    other = WidgetPage.new(new_context(), site.url, widget.artifacts)
    other.open()
    assert other.token() and other.token() != first_token
    expect(other.log).not_to_contain_text("Chess")
    api = site.proxy.url + "/webhooks/widget"
    forged = jwt.encode(
        {"sub": first_id, "aud": "shopbot-widget", "exp": int(time.time()) + 600},
        "a-guessed-secret-that-is-long-enough-0123456789",
        algorithm="HS256",
    )
    body = {"client_id": str(uuid.uuid4()), "text": "cancel my order"}
    attempts = {
        "stream without a token": other.fetch(f"{api}/stream?after=0", token=None),
        "stream with a forged token": other.fetch(f"{api}/stream?after=0", token=forged),
        "stream with the id as a token": other.fetch(f"{api}/stream?after=0", token=first_id),
        "message with a forged token": other.fetch(f"{api}/messages", method="POST", token=forged, body=body),
        "session with a forged token": other.fetch(f"{api}/session", method="POST", token=None, body={"conversation": forged}),
        "message naming the first conversation": other.fetch(
            f"{api}/messages", method="POST", token=other.token(), body={**body, "conversation": first_id}
        ),
        "feedback naming the first conversation": other.fetch(
            f"{api}/feedback", method="POST", token=other.token(),
            body={"message_id": message_id, "value": "down", "conversation": first_id},
        ),
        "feedback on the first conversation's message": other.fetch(
            f"{api}/feedback", method="POST", token=other.token(), body={"message_id": message_id, "value": "down"}
        ),
    }  # fmt: skip
    for name, reply in attempts.items():
        assert reply["status"] in (401, 403, 404), f"{name}: {reply}"
        assert "Chess" not in reply["text"] and first_id not in reply["text"], (
            f"{name} leaked: {reply}"
        )
        assert "error" in json.loads(reply["text"]), f"{name}: {reply}"
    # The second shopper's own stream holds nothing of the first conversation.
    own = site.event_log().read_after(site.conversation_id(other.token()), 0)
    assert all("Chess" not in json.dumps(e.payload) for e in own)
    # And the first conversation is untouched.
    kinds = [e.kind for e in site.event_log().read_after(first_id, 0)]
    assert kinds == ["user", "bot"]
    other.console_errors.clear()  # the refused calls are logged by the browser
    other.shoot("11-second-shopper")


def test_tabs_share_the_conversation(widget: WidgetPage, site: WidgetSite) -> None:
    widget.open()
    second = WidgetPage.new(widget.page.context, site.url, widget.artifacts)
    second.open()
    widget.ask("hello")
    expect(second.bot_replies()).to_have_count(1, timeout=30_000)
    assert second.transcript() == widget.transcript()
    assert second.token() == widget.token()


def test_handoff_states_and_agent_messages(widget: WidgetPage, site: WidgetSite) -> None:
    widget.open()
    widget.ask("I want to talk to a human")
    conversation = site.conversation_id(widget.token())
    log = site.event_log()
    # What the console does when an agent queues, joins and writes (events in the same log;
    # the stream picks up what another process stored).
    log.append(conversation, "handoff", {"state": "waiting", "position": 2})
    banner = widget.page.locator("#shopbot-widget .sb-handoff")
    expect(banner).to_have_text("Waiting for an agent (position 2)")
    widget.shoot("12-handoff-waiting")
    log.append(conversation, "handoff", {"state": "joined"})
    expect(banner).to_have_text("An agent joined")
    log.append(
        conversation,
        "agent",
        {
            "message_id": uuid.uuid4().hex,
            "agent": "Dana",
            "text": "Hi, I'm **Dana**. How can I help?",
        },
    )
    agent = widget.page.locator("#shopbot-widget .sb-agent")
    expect(agent.locator(".sb-author")).to_have_text("Dana")
    expect(agent.locator(".sb-bubble strong")).to_have_text("Dana")
    widget.shoot("13-agent-joined")


def push_tokens(
    site: WidgetSite, conversation: str, stream_id: str, tokens: list[dict[str, Any]]
) -> int:
    """What the action server does while the generator writes: POST pieces to the channel."""
    from tests.e2e.harness import STREAM_SECRET

    request = Request(
        f"{site.servers.base_url}/webhooks/widget/internal/stream",
        data=json.dumps(
            {"conversation": conversation, "stream_id": stream_id, "tokens": tokens}
        ).encode(),
        headers={"Authorization": f"Bearer {STREAM_SECRET}", "Content-Type": "application/json"},
        method="POST",
    )
    with urlopen(request, timeout=10) as reply:
        return int(json.loads(reply.read())["streams"])


def test_streamed_tokens_are_replaced_by_the_final_answer(
    widget: WidgetPage, site: WidgetSite
) -> None:
    widget.open()
    widget.ask("hello")
    conversation = site.conversation_id(widget.token())
    stream_id = uuid.uuid4().hex
    streaming = widget.page.locator(f'#shopbot-widget .sb-streaming[data-stream-id="{stream_id}"]')
    bubble = streaming.locator(".sb-bubble")

    # Pieces out of order are shown in order, up to the first gap.
    assert push_tokens(site, conversation, stream_id, [{"index": 1, "text": " chess set"}]) >= 1
    push_tokens(site, conversation, stream_id, [{"index": 0, "text": "The classic"}])
    expect(bubble).to_have_text("The classic chess set")
    expect(streaming).to_have_attribute("aria-busy", "true")
    widget.shoot("14-streaming")
    # The verifier rejected a sentence: a `replace` piece discards what was shown.
    push_tokens(
        site,
        conversation,
        stream_id,
        [{"index": 2, "text": "Classic Wood Chess Set", "replace": True}],
    )
    expect(bubble).to_have_text("Classic Wood Chess Set")
    push_tokens(site, conversation, stream_id, [{"index": 3, "text": " costs $18.99."}])
    expect(bubble).to_have_text("Classic Wood Chess Set costs $18.99.")

    # The final answer (stored, with the same stream_id) takes the bubble's place.
    final = {
        "message_id": uuid.uuid4().hex,
        "text": "The Classic Wood Chess Set costs **$18.99**. [1]",
        "buttons": [],
        "products": [],
        "citations": [{"n": 1, "title": "Classic Wood Chess Set", "url": "https://example.com/chess", "kind": "product"}],
        "stream_id": stream_id,
    }  # fmt: skip
    seq = site.event_log().append(conversation, "bot", final).seq
    answer = widget.page.locator(f'#shopbot-widget .sb-bot[data-seq="{seq}"]')
    expect(answer.locator(".sb-bubble strong")).to_have_text("$18.99")
    expect(streaming).to_have_count(0)
    # A late piece of a finished stream is ignored.
    push_tokens(site, conversation, stream_id, [{"index": 4, "text": " late"}])
    widget.page.wait_for_timeout(500)
    expect(widget.page.locator("#shopbot-widget .sb-streaming")).to_have_count(0)
    assert widget.bot_replies().count() == 2
