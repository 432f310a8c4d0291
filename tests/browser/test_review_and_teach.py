"""Review and teach, end to end in headless Chromium on the real servers (Rasa + action servers
with the tiny models, the console beside them):

a shopper asks a product question and a policy question the model misreads; an agent filters the
conversation list to low-confidence turns, opens the conversation, sees each turn's intent,
confidence and sentiment and the knowledge answer's retrieved passages and citations, and corrects
the misread intent; an admin accepts the correction, exports it (the message is under the right
intent in the exported YAML) and retrains from the console; the gate's report says accepted, the
running Rasa server loads the new model, and the same message is now classified correctly.
Screenshots: test-artifacts/browser/teach-*.png."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import ARTIFACTS, WidgetSite
from tests.browser.console_page import sign_in, watch_errors
from tests.browser.widget_page import REPLY_TIMEOUT_MS, WidgetPage
from tests.e2e.console_server import ADMIN, AGENT, ConsoleServer, running_console

pytestmark = pytest.mark.browser

PRODUCT_QUESTION = "how much is the Classic Wood Chess Set?"
MISREAD = "are final sale things returnable?"
RIGHT_INTENT = "check_refund_policy"
THRESHOLD = "0.8"
RETRAIN_TIMEOUT_MS = 12 * 60_000


@pytest.fixture(scope="module")
def console_server(
    site: WidgetSite, tmp_path_factory: pytest.TempPathFactory, project_root: Path
) -> Iterator[ConsoleServer]:
    """The console beside the site's servers, serving a private copy of the tiny model (a retrain
    replaces it) and exporting corrections into a private folder."""
    tmp = tmp_path_factory.mktemp("teach-console")
    served = tmp / "shopbot-tiny.tar.gz"
    shutil.copy2(site.servers.settings.rasa_model, served)
    with running_console(
        project_root,
        tmp,
        beside=site.servers.settings,
        model_path=str(served),
        corrections_dir=str(tmp / "corrections"),
        run_dir=str(tmp / "run"),
        retrain_heldout_sample=300,
    ) as server:
        yield server


def last_user_parse(site: WidgetSite, sender: str) -> dict[str, Any]:
    """The parse data of the shopper's latest message, from the running Rasa server's tracker."""
    settings = site.servers.settings
    reply = httpx.get(
        f"{site.servers.base_url}/conversations/{sender}/tracker",
        params={"token": settings.api_token},
        timeout=30,
    )
    reply.raise_for_status()
    users = [e for e in reply.json()["events"] if e["event"] == "user"]
    return dict(users[-1]["parse_data"])


def test_review_correct_export_and_retrain(
    new_context: Callable[..., BrowserContext],
    site: WidgetSite,
    console_server: ConsoleServer,
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    shared_model = site.servers.settings.rasa_model  # other tests' model: never replaced
    shared_stamp = shared_model.stat().st_mtime_ns

    # A shopper: a product question (a cited knowledge answer), then a misread policy question.
    shopper = WidgetPage.new(new_context(), site.url, ARTIFACTS)
    shopper.open()
    expect(shopper.ask(PRODUCT_QUESTION).locator(".sb-source-link").first).to_contain_text(
        "Classic Wood Chess Set"
    )
    shopper.ask(MISREAD)
    sender = site.conversation_id(shopper.token())
    before = last_user_parse(site, sender)
    assert before["text"] == MISREAD
    assert before["intent"]["name"] != RIGHT_INTENT, "the tiny model already reads it right"
    assert before["intent"]["confidence"] < float(THRESHOLD), before["intent"]

    # An agent: the low-confidence filter finds the conversation; the transcript shows why.
    agent = watch_errors(new_context().new_page(), errors)
    sign_in(agent, console_server, AGENT)
    agent.goto(console_server.url + "/conversations")
    agent.get_by_test_id("filter-low-confidence").fill(THRESHOLD)
    agent.get_by_test_id("filter-apply").click()
    row = agent.locator(f'[data-testid="conversation-row"][data-conversation-id="{sender}"]')
    expect(row).to_be_visible()
    expect(row.locator('[data-badge="lowest-confidence"]')).to_contain_text("lowest confidence")
    row.get_by_role("link").first.click()
    misread = agent.locator('[data-testid="message"][data-author="user"]').filter(has_text=MISREAD)
    expect(misread).to_contain_text(f"intent {before['intent']['name']}")
    expect(misread).to_contain_text("runner-up")
    expect(misread).to_contain_text("sentiment ")
    answer = agent.locator('[data-testid="message"][data-author="bot"]').filter(
        has_text="Classic Wood Chess Set"
    )
    answer.first.get_by_test_id("reasoning").locator("summary").click()
    expect(answer.first.get_by_test_id("passage").first).to_contain_text("score")
    expect(answer.first.get_by_test_id("citation").first).to_contain_text("Classic Wood Chess Set")
    agent.screenshot(path=str(ARTIFACTS / "teach-01-transcript.png"), full_page=True)

    misread.get_by_test_id("correct-intent").click()
    misread.get_by_test_id("correction-intent-select").select_option(RIGHT_INTENT)
    misread.get_by_test_id("correction-save").click()
    expect(misread.get_by_test_id("correction")).to_contain_text(RIGHT_INTENT)

    # An admin: accept, export (the YAML has the message under the right intent), retrain.
    admin = watch_errors(new_context().new_page(), errors)
    sign_in(admin, console_server, ADMIN)
    admin.goto(console_server.url + "/corrections")
    proposal = admin.get_by_test_id("correction").filter(has_text=MISREAD)
    expect(proposal).to_have_attribute("data-status", "proposed")
    proposal.get_by_test_id("correction-accept").click()
    expect(proposal).to_have_attribute("data-status", "accepted")
    admin.get_by_test_id("export-corrections").click()
    expect(admin.get_by_test_id("export-result")).to_contain_text("1 NLU examples")
    href = admin.get_by_test_id("export-nlu").get_attribute("href")
    exported = admin.request.get(console_server.url + str(href))
    assert exported.ok
    blocks = {b["intent"]: b["examples"] for b in yaml.safe_load(exported.text())["nlu"]}
    assert [e["text"] for e in blocks[RIGHT_INTENT]] == [MISREAD]
    assert blocks[RIGHT_INTENT][0]["metadata"]["conversation_id"] == sender

    admin.get_by_test_id("retrain").click()
    run = admin.get_by_test_id("retrain-run").first
    expect(run).to_have_attribute("data-status", "running")
    expect(run).not_to_have_attribute("data-status", "running", timeout=RETRAIN_TIMEOUT_MS)
    report = run.get_by_test_id("retrain-report")
    print(report.inner_text())
    expect(run).to_have_attribute("data-status", "accepted")
    expect(report).to_contain_text("ACCEPTED")
    expect(report).to_contain_text("| corrections | 1 | 0.0000 | 1.0000 |")
    expect(report).to_contain_text(str(console_server.settings.rasa_model))
    assert shared_model.stat().st_mtime_ns == shared_stamp
    admin.screenshot(path=str(ARTIFACTS / "teach-02-retrained.png"), full_page=True)

    # The running Rasa server now serves the retrained model: the same words, the right intent.
    again = shopper.ask(MISREAD)
    again.wait_for(timeout=REPLY_TIMEOUT_MS)
    after = last_user_parse(site, sender)
    assert after["text"] == MISREAD and after["intent"]["name"] == RIGHT_INTENT, after["intent"]
    assert not errors, errors
