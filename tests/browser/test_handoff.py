"""Live handoff in two browsers on the real servers: a shopper in the widget, an agent in the
console. The shopper asks for a human; the agent sees it in the queue with its reason, claims it
and replies; the reply appears in the widget without a reload, the shopper's answer appears in the
console live, the bot says nothing meanwhile (checked on the tracker store), and after the
hand-back the bot answers again. Screenshots: test-artifacts/browser/handoff-*.png."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import ARTIFACTS, WidgetSite
from tests.browser.console_page import sign_in
from tests.browser.widget_page import REPLY_TIMEOUT_MS, WidgetPage
from tests.e2e.console_server import AGENT, ConsoleServer, running_console

pytestmark = pytest.mark.browser

ASK_FOR_HUMAN = "can I speak to someone from your support team?"
AGENT_REPLY = "Hi, I'm Bob from the support team. How can I help?"
SHOPPER_ANSWER = "my parcel never arrived, can you check it?"
LIVE_MS = 15_000


@pytest.fixture(scope="module")
def console_server(
    site: WidgetSite, tmp_path_factory: pytest.TempPathFactory, project_root: Path
) -> Iterator[ConsoleServer]:
    """The console beside the site's Rasa server: same application database and tracker store."""
    with running_console(
        project_root, tmp_path_factory.mktemp("handoff-console"), beside=site.servers.settings
    ) as server:
        yield server


def bot_utterances_since(events: list[dict[str, Any]], marker_text: str) -> list[dict[str, Any]]:
    """Bot events written by the bot (not the console) after the agent's first message."""
    start = next(
        i for i, e in enumerate(events) if e["event"] == "bot" and e.get("text") == marker_text
    )
    return [
        e
        for e in events[start:]
        if e["event"] == "bot" and "shopbot" not in (e.get("metadata") or {})
    ]


def test_an_agent_takes_over_and_hands_back(
    new_context: Callable[..., BrowserContext],
    site: WidgetSite,
    console_server: ConsoleServer,
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shopper = WidgetPage.new(new_context(), site.url, ARTIFACTS)
    shopper.open()
    shopper.send(ASK_FOR_HUMAN)
    waiting = shopper.page.locator("#shopbot-widget .sb-handoff[data-state=waiting]")
    expect(waiting).to_contain_text("Waiting for an agent", timeout=REPLY_TIMEOUT_MS)
    expect(shopper.page.locator("#shopbot-widget .sb-leave")).to_be_visible()
    shopper.shoot("handoff-01-shopper-waiting")
    sender = site.conversation_id(shopper.token())

    agent = new_context().new_page()
    sign_in(agent, console_server, AGENT)
    entry = agent.locator(f'[data-testid="queue-item"][data-conversation-id="{sender}"]')
    expect(entry).to_be_visible(timeout=LIVE_MS)  # arrives live, no reload
    expect(entry).to_contain_text("Asked for a human")
    expect(entry).to_contain_text(ASK_FOR_HUMAN)
    assert int(agent.get_by_test_id("queue-count").inner_text()) >= 1
    agent.screenshot(path=str(ARTIFACTS / "handoff-02-console-queue.png"), full_page=True)
    entry.get_by_test_id("claim").click()
    agent.wait_for_url(f"**/conversations/{sender}", timeout=LIVE_MS)
    expect(agent.get_by_test_id("transcript")).to_contain_text(ASK_FOR_HUMAN)

    # The shopper is told an agent joined, then sees the agent's reply live.
    agent.get_by_test_id("reply-input").fill(AGENT_REPLY)
    agent.get_by_test_id("reply-send").click()
    joined = shopper.page.locator("#shopbot-widget .sb-handoff[data-state=joined]")
    expect(joined).to_be_visible(timeout=LIVE_MS)
    agent_message = shopper.page.locator("#shopbot-widget .sb-log .sb-agent")
    expect(agent_message).to_contain_text(AGENT_REPLY, timeout=LIVE_MS)
    expect(shopper.page.locator("#shopbot-widget .sb-leave")).to_be_hidden()
    shopper.shoot("handoff-03-shopper-sees-agent")

    # The shopper answers; the agent sees it live; the bot stays silent.
    bot_replies_before = shopper.bot_replies().count()
    shopper.send(SHOPPER_ANSWER)
    shopper_turn = agent.locator(
        '[data-testid="message"][data-author="user"]', has_text=SHOPPER_ANSWER
    )
    expect(shopper_turn).to_be_visible(timeout=LIVE_MS)
    agent.screenshot(path=str(ARTIFACTS / "handoff-04-console-conversation.png"))
    assert bot_utterances_since(site.servers.stored_events(sender), AGENT_REPLY) == []
    assert shopper.bot_replies().count() == bot_replies_before

    # Hand back: the bot resumes, says so, and answers the next question again.
    agent.get_by_test_id("handback").click()
    expect(shopper.page.locator("#shopbot-widget .sb-log [data-handoff=ended]")).to_be_visible(
        timeout=LIVE_MS
    )
    assert bot_utterances_since(site.servers.stored_events(sender), AGENT_REPLY) == []
    answer = shopper.ask("hello")
    expect(answer.locator(".sb-bubble")).not_to_be_empty()
    shopper.shoot("handoff-05-bot-is-back")
    assert not shopper.console_errors, shopper.console_errors
