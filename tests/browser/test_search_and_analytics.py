"""Message search and the analytics page in headless Chromium, on a realistic seeded dataset: an
agent searches for a phrase a shopper wrote, sees the snippet with the match marked, opens the
conversation, then opens /analytics and sees every chart. No CSP violation, no script error, no
serious or critical axe finding. Leaves ``test-artifacts/browser/console-analytics.png`` (the
README's screenshot, ``docs/images/console-analytics.png``, is a copy of it)."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.console.agents import AgentStore
from bot.handoff.broker import HandoffEventBroker
from bot.storage.corrections import CorrectionStore
from bot.storage.engine import make_engine
from bot.storage.handoff_tables import conversation_summaries
from tests.browser.conftest import ARTIFACTS
from tests.browser.console_page import serious_violations, sign_in, watch_errors
from tests.browser.widget_page import CSP_WATCH
from tests.e2e.console_server import AGENT, ConsoleServer, running_console
from tests.unit.bot.console.helpers import TrackerStore, bot_event, user_event
from tests.unit.training.test_seed_conversations import make_corpus_root
from training.bench.seed_conversations import SeedArgs, seed

pytestmark = pytest.mark.browser

SCREEN = {"width": 1280, "height": 900}
CID = "browser-search-1"
PHRASE = "cracked water tank"
DAY = 86_400.0


def add_the_searched_conversation(server: ConsoleServer, now: float) -> None:
    """One conversation with the phrase, in the tracker store (the transcript) and folded into the
    application database by the real broker (the search)."""
    events = [
        user_event(
            f"my espresso machine arrived with a {PHRASE}",
            "complaint",
            0.88,
            sentiment=("negative", 0.93),
            timestamp=now - 600,
        ),
        bot_event("I'm sorry to hear that. Would you like a replacement?", timestamp=now - 598),
        user_event("yes please, a new one", "affirm", 0.97, timestamp=now - 560),
    ]
    path = server.settings.sqlite_path(server.settings.tracker_store_url)
    assert path is not None
    tracker = TrackerStore(path)
    tracker.add(CID, *events)
    tracker.close()
    engine = make_engine(server.settings.resolve_db_url(server.settings.app_db_url))
    broker = HandoffEventBroker(engine)
    for event in events:
        broker.publish({"sender_id": CID, **event})
    engine.dispose()


# Shopper turns the bot did not understand (the seed makes none), as shoppers write them.
NOT_UNDERSTOOD = [
    ("nlu_fallback", "asdfgh"),
    ("nlu_fallback", "the thing with the stuff from before??"),
    ("out_of_scope", "what's the weather like in Lisbon tomorrow"),
    ("out_of_scope", "can you write my essay about the french revolution"),
    ("nlu_fallback", "hmm ok and the other one"),
]


def add_thumbs_fallbacks_and_corrections(server: ConsoleServer, now: float) -> None:
    """What the seed does not make: shoppers' thumbs, turns not understood, and agents'
    corrections over the month (in the application database: what the analytics read)."""
    rng = random.Random(5)
    engine = make_engine(server.settings.resolve_db_url(server.settings.app_db_url))
    with engine.connect() as conn:
        ids = sorted(conn.execute(select(conversation_summaries.c.conversation_id)).scalars())
    broker = HandoffEventBroker(engine)
    for cid in rng.sample(ids, 400):
        value = "up" if rng.random() < 0.78 else "down"
        broker.publish({"sender_id": cid, "event": "agent", "timestamp": now - rng.uniform(0, 29) * DAY,
                        "text": None, "data": {"feedback": {"value": value, "message_id": "m"}}})  # fmt: skip
    for cid in rng.sample(ids, 150):
        intent, text = rng.choice(NOT_UNDERSTOOD)
        event = user_event(text, intent, round(rng.uniform(0.12, 0.29), 3),
                           sentiment=("neutral", 0.8), timestamp=now - rng.uniform(0, 29) * DAY)  # fmt: skip
        broker.publish({"sender_id": cid, **event})
    bob = AgentStore(engine).get(AGENT[0])
    assert bob is not None
    for n in range(40):
        at = dt.datetime.fromtimestamp(now - rng.uniform(0, 29) * DAY, dt.timezone.utc)
        at = at.replace(tzinfo=None)
        store = CorrectionStore(engine, lambda at=at: at)
        made = store.propose(rng.choice(ids), 1, "intent", "where's my stuff", bob.id,
                             original_intent="greet", intent="track_order")  # fmt: skip
        if n % 3:
            store.review(made.id, n % 3 == 1, bob.id)
    engine.dispose()


@pytest.fixture(scope="module")
def console_server(
    tmp_path_factory: pytest.TempPathFactory, project_root: Path
) -> Iterator[ConsoleServer]:
    tmp = tmp_path_factory.mktemp("search-analytics-browser")
    with running_console(project_root, tmp) as server:
        settings = server.settings
        now = time.time()
        seed(
            SeedArgs(
                str(settings.resolve_db_url(settings.tracker_store_url)),
                str(settings.resolve_db_url(settings.app_db_url)),
                conversations=3000,
                days=30.0,
                seed=13,
                now=now,
            ),
            make_corpus_root(tmp / "corpus"),
        )
        add_the_searched_conversation(server, now)
        add_thumbs_fallbacks_and_corrections(server, now)
        yield server


def test_an_agent_searches_opens_the_match_and_reads_the_analytics(
    browser: object, console_server: ConsoleServer
) -> None:
    context = browser.new_context(viewport=SCREEN, locale="en-US")  # type: ignore[attr-defined]
    context.add_init_script(CSP_WATCH)
    errors: list[str] = []
    try:
        page = watch_errors(context.new_page(), errors)
        sign_in(page, console_server, AGENT)
        page.goto(console_server.url + "/conversations")
        page.get_by_label("Search messages").fill(f'"{PHRASE}" espresso')
        page.get_by_test_id("filter-apply").click()
        page.wait_for_url("**/conversations?*")
        rows = page.get_by_test_id("conversation-row")
        assert rows.count() == 1
        snippet = rows.first.get_by_test_id("search-snippet")
        assert [m.inner_text() for m in snippet.locator("mark").all()] == ["espresso", PHRASE]
        assert "Shopper" in snippet.inner_text()
        assert serious_violations(page) == []

        page.goto(console_server.url + f"/conversations?q={PHRASE.replace(' ', '+')}")
        page.get_by_test_id("conversation-row").first.locator("a.qi-title").click()
        page.wait_for_url(f"**/conversations/{CID}")
        page.get_by_text(f"my espresso machine arrived with a {PHRASE}").wait_for()

        page.goto(console_server.url + "/analytics")
        charts = page.get_by_test_id("chart")
        assert charts.count() == 8
        assert page.locator('svg[role="img"]').count() == 8  # the dataset fills every chart
        figures = page.get_by_test_id("figure-value").all_inner_texts()
        assert int(figures[0].replace(",", "")) > 2500  # conversations in the last 30 days
        page.get_by_text("The numbers of “Top intents and their confidence”").click()
        assert page.locator("#top-intents table tbody tr").count() == 10
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.get_by_text("The numbers of “Top intents and their confidence”").click()
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(ARTIFACTS / "console-analytics.png"))
        page.screenshot(path=str(ARTIFACTS / "console-analytics-full.png"), full_page=True)
        assert page.evaluate("() => window.__cspViolations") == []
        assert not errors, errors
        assert serious_violations(page) == []
    finally:
        context.close()
