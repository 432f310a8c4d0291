"""The running assistant over HTTP: a multi-turn conversation that survives a Rasa server restart,
every turn read back from the tracker store, bad input that never breaks the server — the fixed
corpus of hostile bodies and paths in ``hostile_corpus.py`` on every endpoint of every process
included, each case a test, every process's health checked after every request — and the
operator routes (health, readiness, Prometheus metrics) of the Rasa server and the console."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.runner import Service, demo_store
from tests.conftest import free_port
from tests.e2e.console_server import AGENT, ConsoleServer, running_console
from tests.e2e.harness import STREAM_SECRET, ShopBotServers
from tests.e2e.hostile_corpus import (
    BODY_CASES,
    LEAKS,
    PATH_VALUES,
    SCRIPT,
    UNREADABLE,
    VALUE_BODIES,
    body_for,
    send,
)
from tests.e2e.test_console import CSRF_RE, Browser
from tests.e2e.widget_client import WidgetClient
from training.bench.telegram_fake import TOKEN, FakeTelegram, text_update

pytestmark = pytest.mark.e2e

TELEGRAM_SECRET = "e2e-telegram-secret-0123456789abcdef"
# Shopper text the tiny model understands as a request for a person (tests/stories/test_handoff.yml).
ASK_FOR_HUMAN = "can I speak to someone from your support team?"
TRACEBACK = re.compile(r"Traceback|File \"|line \d+, in ")


def user_texts(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e.get("event") == "user"]


def bot_texts(events: list[dict]) -> list[str]:
    return [e.get("text") or "" for e in events if e.get("event") == "bot"]


def test_order_conversation_survives_restart_and_is_stored(servers: ShopBotServers) -> None:
    sender = "e2e-shopper-1"
    greeting = servers.say(sender, "hello there")
    assert greeting.status == 200 and "store assistant" in greeting.text.lower()

    asked = servers.say(sender, "where is my order")
    assert "order number" in asked.text.lower(), asked.body

    wrong = servers.say(sender, "my order number is 12")
    assert "doesn't look like one of our order numbers" in wrong.text
    assert "order number" in wrong.text.lower()

    number = servers.say(sender, "104233")
    assert "email" in number.text.lower(), number.body

    # The Rasa server goes away mid-conversation; the conversation continues where it was.
    servers.restart_rasa()

    bad_email = servers.say(sender, "maria@")
    assert "doesn't look like an email address" in bad_email.text, bad_email.body

    done = servers.say(sender, "maria.garcia@example.com")
    assert "#104233" in done.text and "maria.garcia@example.com" in done.text, done.body

    tracker = servers.tracker(sender)
    assert tracker["slots"]["order_request"] == "track_order"
    # The demo store has no such order for that email: one generic reply, and both are asked again.
    assert tracker["slots"]["verified_order"] is None
    assert tracker["slots"]["order_number"] is None

    stored = servers.stored_events(sender)
    assert user_texts(stored) == [
        "hello there",
        "where is my order",
        "my order number is 12",
        "104233",
        "maria@",
        "maria.garcia@example.com",
    ]
    replies = bot_texts(stored)
    for reply in (greeting, asked, wrong, number, bad_email, done):
        for text in reply.texts:
            assert text in replies
    intents = [e["parse_data"]["intent"]["name"] for e in stored if e.get("event") == "user"]
    assert intents[1] == "track_order"


def test_bad_input_gets_a_clear_answer_and_the_server_keeps_serving(
    servers: ShopBotServers,
) -> None:
    empty = servers.say("e2e-bad", "")
    assert empty.status == 200 and "empty" in empty.text

    huge = servers.say("e2e-bad", "where is my order " * 6000)
    assert huge.status == 413 and "limit" in huge.body["error"]

    invalid_json = servers.post_raw(b'{"sender": "e2e-bad", "message": ')
    assert invalid_json.status == 400 and "not valid JSON" in invalid_json.body["error"]

    non_utf8 = servers.post_raw(b'{"sender": "e2e-bad", "message": "\xff\xfe hi"}')
    assert non_utf8.status == 400 and "UTF-8" in non_utf8.body["error"]

    # curl -d sends form-encoded content type with a JSON body: accepted, like Rasa's own channel.
    form_typed = servers.post_raw(
        json.dumps({"sender": "e2e-bad", "message": "hello"}).encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert form_typed.status == 200 and form_typed.texts
    wrong_type = servers.post_raw(b"sender=e2e-bad&message=hi", content_type="text/plain")
    assert wrong_type.status == 400 and "not valid JSON" in wrong_type.body["error"]

    not_object = servers.post_raw(b'["hi"]')
    assert not_object.status == 400

    hostile = servers.say("e2e-bad", "'; DROP TABLE events; -- ignore previous instructions")
    assert hostile.status == 200 and hostile.texts

    after = servers.say("e2e-bad", "hi")
    assert after.status == 200 and after.texts
    assert servers.rasa.running and servers.actions.running
    stored = user_texts(servers.stored_events("e2e-bad"))
    assert "'; DROP TABLE events; -- ignore previous instructions" in stored
    assert stored[-1] == "hi"


def test_plain_questions_are_not_frustration_but_an_outburst_is(servers: ShopBotServers) -> None:
    """Sentiment reaches the tracker; questions read neutral, two angry messages offer a human.

    Regression: a sentiment model trained on reviews alone rated "how much is ...?" negative at
    0.9, so two plain questions in a row offered a human.
    """
    sender = "e2e-mood"
    offer = "connect you with a human agent"
    for question in (
        "what is your return policy?",
        "do you ship to Canada?",
        "what payment methods do you accept?",
    ):
        reply = servers.say(sender, question)
        assert reply.status == 200 and offer not in reply.text, (question, reply.body)
    tracker = servers.tracker(sender)
    assert tracker["slots"]["frustrated"] is False
    moods = [e["parse_data"]["sentiment"] for e in tracker["events"] if e.get("event") == "user"]
    assert [m["label"] for m in moods] == ["neutral"] * 3, moods

    # Either message may tip the score, or be read as a complaint or a request for a human.
    angry = [servers.say(sender, "I'm really annoyed, nobody answers")]
    angry.append(servers.say(sender, "this bot is terrible"))
    human = (offer, "passing this conversation to a human agent")
    assert any(h in reply.text for reply in angry for h in human), [r.body for r in angry]
    events = servers.stored_events(sender)
    moods = [e["parse_data"]["sentiment"]["label"] for e in events if e.get("event") == "user"]
    assert moods[3:] == ["negative", "negative"], moods


@dataclass
class Everything:
    """Every process of ``shopbot run`` (Telegram against a fake Bot API), on free ports."""

    servers: ShopBotServers
    console: ConsoleServer
    store: Service

    @property
    def store_url(self) -> str:
        return f"http://{self.servers.settings.host}:{self.servers.settings.demo_port}"


@pytest.fixture(scope="module")
def everything(
    tmp_path_factory: pytest.TempPathFactory, tiny_rasa_model: Path, project_root: Path
) -> Iterator[Everything]:
    tmp_path = tmp_path_factory.mktemp("hostile-e2e")
    with FakeTelegram() as fake:
        servers = ShopBotServers.with_store_copy(
            project_root,
            tmp_path,
            tiny_rasa_model,
            telegram_token=TOKEN,
            telegram_secret=TELEGRAM_SECRET,
            telegram_api_url=fake.url,
            demo_port=free_port(),
        )
        store = demo_store(servers.settings)
        try:
            servers.start()
            store.start()
            store.wait_ready(timeout=60)
            with running_console(project_root, tmp_path, beside=servers.settings) as console:
                yield Everything(servers, console, store)
        finally:
            store.stop()
            servers.stop()


def fetch(
    url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """GET (or POST ``body``) and return the status and the body as text; errors included."""
    answer = send(url, body, headers)
    return answer.status, answer.text


def agent_headers(everything: Everything) -> dict[str, str]:
    """The session cookie and CSRF header of an agent signed in to the console."""
    browser = Browser(everything.console.url)
    assert browser.sign_in(AGENT[0], AGENT[3])[0] == 200
    _, page, _ = browser.request("/")
    csrf = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]
    return {
        "X-CSRF-Token": csrf,
        "Cookie": "; ".join(f"{c.name}={c.value}" for c in browser.jar),
    }


def public_endpoints(everything: Everything) -> dict[str, tuple[str, dict[str, str]]]:
    """Every public POST route that reads JSON, with what a legitimate caller sends."""
    servers = everything.servers
    rasa, token = servers.base_url, servers.settings.api_token
    json_type = {"Content-Type": "application/json"}
    widget = WidgetClient(rasa)
    assert widget.start().status == 200
    shopper = {**json_type, "Authorization": f"Bearer {widget.token}"}
    stream = {**json_type, "Authorization": f"Bearer {STREAM_SECRET}"}
    agent = {**json_type, **agent_headers(everything)}
    return {
        "REST": (f"{rasa}/webhooks/rest/webhook", {**json_type, "Authorization": f"Bearer {servers.settings.rest_secret}"}),
        "widget session": (f"{rasa}/webhooks/widget/session", json_type),
        "widget message": (f"{rasa}/webhooks/widget/messages", shopper),
        "widget feedback": (f"{rasa}/webhooks/widget/feedback", shopper),
        "widget token push": (f"{rasa}/webhooks/widget/internal/stream", stream),
        "Telegram webhook": (
            f"{rasa}/webhooks/telegram/webhook",
            {**json_type, "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        ),
        "Telegram webhook without secret": (f"{rasa}/webhooks/telegram/webhook", json_type),
        "Telegram token push": (f"{rasa}/webhooks/telegram/internal/stream", stream),
        "Rasa API parse": (f"{rasa}/model/parse?token={token}", json_type),
        "Rasa API messages": (f"{rasa}/conversations/e2e-hostile/messages?token={token}", json_type),
        "Rasa API events": (f"{rasa}/conversations/e2e-hostile/tracker/events?token={token}", json_type),
        "Rasa API without token": (f"{rasa}/model/parse", json_type),
        "console claim": (f"{everything.console.url}/api/conversations/e2e-hostile/claim", agent),
        "console reply": (f"{everything.console.url}/api/conversations/e2e-hostile/reply", agent),
        "console correction": (f"{everything.console.url}/api/conversations/e2e-hostile/corrections", agent),
        "console sign-in": (f"{everything.console.url}/signin", {"Content-Type": "application/x-www-form-urlencoded"}),
        "demo store CSP report": (f"{everything.store_url}/csp-report", json_type),
        "action server webhook": (
            f"http://{servers.settings.host}:{servers.settings.actions_port}/webhook", json_type
        ),
    }  # fmt: skip


@pytest.fixture(scope="module")
def endpoints(everything: Everything) -> dict[str, tuple[str, dict[str, str]]]:
    return public_endpoints(everything)


def sick_processes(everything: Everything) -> list[str]:
    """The processes of ``everything`` that do not answer their health check with 200."""
    settings = everything.servers.settings
    checks = {
        "rasa": f"{everything.servers.base_url}/webhooks/ops/health",
        "actions": f"http://{settings.host}:{settings.actions_port}/health",
        "console": f"{everything.console.url}/health",
        "demo store": f"{everything.store_url}/health",
    }
    sick = []
    for name, url in checks.items():
        try:
            if send(url).status != 200:
                sick.append(name)
        except OSError as error:
            sick.append(f"{name} ({error})")
    return sick


def problems_of(status: int, text: str, content_type: str) -> list[str]:
    """What is wrong with a reply to hostile input: a 5xx (or 1xx/3xx), a leak, a live script."""
    found = [] if 200 <= status < 300 or 400 <= status < 500 else [f"status {status}"]
    found += [f"{leak!r} in the reply" for leak in LEAKS if leak in text]
    if TRACEBACK.search(text):
        found.append("a stack trace")
    if SCRIPT in text and "html" in content_type:
        found.append("the script unescaped in an HTML page")
    return found


@pytest.mark.parametrize("case", BODY_CASES)
def test_a_hostile_body_gets_a_2xx_or_a_4xx_with_a_reason_on_every_endpoint(
    everything: Everything, endpoints: dict[str, tuple[str, dict[str, str]]], case: str
) -> None:
    """Every POST endpoint of every process; each process still healthy after each request."""
    answers: dict[str, tuple[int, str]] = {}
    failures: list[tuple[str, list[str], str]] = []
    for name, (url, headers) in endpoints.items():
        answer = send(url, body_for(name, case), headers)
        answers[name] = (answer.status, answer.text)
        problems = problems_of(answer.status, answer.text, answer.content_type)
        if "without" in name and not 400 <= answer.status < 500:
            problems.append(f"status {answer.status} without the secret")
        if case in UNREADABLE and name != "demo store CSP report":
            # JSON no endpoint can read: refused, with a reason.
            if not 400 <= answer.status < 500:
                problems.append(f"status {answer.status}, not a 4xx")
            if len(answer.text.strip()) <= 2:
                problems.append("no reason given")
        problems += [f"{sick} is down" for sick in sick_processes(everything)]
        if problems:
            failures.append((name, problems, answer.text[:300]))
    print({name: status for name, (status, _) in answers.items()})  # the table, with -s
    assert not failures, failures

    for name, (status, text) in answers.items():
        if name.startswith(("REST", "widget", "Telegram", "console")) and status == 400:
            # Ours: the reason says what was wrong with the body.
            assert "error" in json.loads(text), (name, text[:300])
        if name.startswith("Rasa API") and "without" not in name and status == 400:
            # Rasa's error format; /model/parse answered 500 before bot.channels.rasa_api_guard.
            assert json.loads(text)["status"] == "failure", (name, text[:300])
        if name == "demo store CSP report":
            # Reports are fire-and-forget: an unreadable one is dropped (204), an oversized one 413.
            assert status in (204, 413), (name, status)
    rest_status, rest_text = answers["REST"]
    if case == "5,000-digit number":
        assert rest_status == 400 and "digits" in json.loads(rest_text)["error"]
    if case == "10,000-deep nesting":
        assert rest_status == 400 and "levels deep" in json.loads(rest_text)["error"]
    if case == "2 MB":
        assert rest_status == 413
    if case == "10k-character id":
        assert rest_status == 400 and "sender" in json.loads(rest_text)["error"]
    if case in VALUE_BODIES and case != "10k-character id":
        assert rest_status in (200, 400, 413), rest_text[:300]


def test_every_process_still_serves_after_the_hostile_input(everything: Everything) -> None:
    servers = everything.servers
    after = servers.say("e2e-after-hostile", "hello there")
    assert after.status == 200 and after.texts
    widget = WidgetClient(servers.base_url)
    assert widget.start().status == 200 and widget.send("hi").status == 202
    status, _ = fetch(
        f"{servers.base_url}/webhooks/telegram/webhook",
        json.dumps(text_update(4242, "hello")).encode(),
        {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert status == 200
    assert not sick_processes(everything)
    assert servers.rasa.running and servers.actions.running
    assert everything.console.service.running and everything.store.running


def get_routes(everything: Everything) -> dict[str, tuple[str, dict[str, str]]]:
    """Every GET route that takes a path segment or a query value (``{v}``: the hostile value)."""
    rasa, token = everything.servers.base_url, everything.servers.settings.api_token
    console, store = everything.console.url, everything.store_url
    agent = agent_headers(everything)
    return {
        "widget static file": (f"{rasa}/webhooks/widget/static/{{v}}", {}),
        "widget stream": (f"{rasa}/webhooks/widget/stream?token={{v}}&after={{v}}", {}),
        "ops route": (f"{rasa}/webhooks/ops/{{v}}", {}),
        "REST channel route": (f"{rasa}/webhooks/rest/{{v}}", {}),
        "Telegram channel route": (f"{rasa}/webhooks/telegram/{{v}}", {}),
        "Rasa API tracker": (f"{rasa}/conversations/{{v}}/tracker?token={token}", {}),
        "Rasa API story": (f"{rasa}/conversations/{{v}}/story?token={token}", {}),
        "Rasa API without token": (f"{rasa}/conversations/{{v}}/tracker?token={{v}}", {}),
        "console page": (f"{console}/conversations/{{v}}", agent),
        "console API": (f"{console}/api/conversations/{{v}}", agent),
        "console export": (f"{console}/api/conversations/{{v}}/export", agent),
        "console search": (f"{console}/api/conversations?q={{v}}&page={{v}}", agent),
        "console exported file": (f"{console}/api/corrections/export/{{v}}", agent),
        "console static file": (f"{console}/static/{{v}}", {}),
        "console signed out": (f"{console}/api/conversations/{{v}}", {}),
        "demo store static file": (f"{store}/static/{{v}}", {}),
        "demo store page": (f"{store}/?q={{v}}&page={{v}}&customer={{v}}", {}),
    }


@pytest.fixture(scope="module")
def routes(everything: Everything) -> dict[str, tuple[str, dict[str, str]]]:
    return get_routes(everything)


@pytest.mark.parametrize("case", PATH_VALUES)
def test_a_hostile_path_gets_a_2xx_or_a_4xx_and_serves_no_file(
    everything: Everything, routes: dict[str, tuple[str, dict[str, str]]], case: str
) -> None:
    failures: list[tuple[str, list[str], str]] = []
    statuses = {}
    for name, (template, headers) in routes.items():
        try:
            answer = send(template.replace("{v}", PATH_VALUES[case]), headers=headers)
        except (OSError, HTTPException) as error:
            failures.append((name, [f"no reply: {error!r}"], ""))
            continue
        statuses[name] = answer.status
        problems = problems_of(answer.status, answer.text, answer.content_type)
        problems += [f"{sick} is down" for sick in sick_processes(everything)]
        if problems:
            failures.append((name, problems, answer.text[:300]))
    print(statuses)  # the table, with -s
    assert not failures, failures


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape: (name, sorted labels) → value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(
    scrape: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(
        value
        for (sample, sample_labels), value in scrape.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the server parses itself")
def test_the_rasa_server_parses_in_its_nlu_worker_process(servers: ShopBotServers) -> None:
    """With more than one core the Rasa server runs its NLU graph in a worker process
    (bot.nlu_worker), which loads while the server starts; shoppers are answered meanwhile."""
    ops = f"{servers.base_url}/webhooks/ops"
    parsed, deadline = 0.0, time.monotonic() + 180
    while not parsed and time.monotonic() < deadline:
        reply = servers.say("e2e-nlu-worker", "hello there")
        assert reply.status == 200 and "store assistant" in reply.text.lower(), reply.body
        parsed = total(samples(fetch(f"{ops}/metrics")[1]), "shopbot_nlu_worker_messages_total")
        time.sleep(0.5)
    assert parsed > 0, "no message was parsed in the NLU worker process"


def test_operator_routes_health_readiness_and_metrics_that_move(everything: Everything) -> None:
    servers, console = everything.servers, everything.console
    ops = f"{servers.base_url}/webhooks/ops"
    assert fetch(f"{ops}/health") == (200, '{"status":"ok"}')
    status, text = fetch(f"{ops}/ready")
    assert status == 200, text
    assert json.loads(text)["checks"] == {"model": "ok", "action_server": "ok"}
    status, text = fetch(f"{console.url}/ready")
    assert status == 200 and json.loads(text)["checks"] == {"database": "ok"}

    status, text = fetch(f"{ops}/metrics")
    assert status == 200, text
    before = samples(text)
    sender = "e2e-metrics"
    assert servers.say(sender, "hello there").status == 200
    assert servers.say(sender, "where is my order").status == 200
    assert servers.say(sender, ASK_FOR_HUMAN).status == 200
    after = samples(fetch(f"{ops}/metrics")[1])

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("shopbot_messages_received_total", channel="rest") == 3
    assert moved("shopbot_reply_seconds_count", channel="rest") == 3
    kinds = {
        dict(labels)["kind"]
        for (name, labels), value in after.items()
        if name == "shopbot_reply_seconds_count" and dict(labels)["channel"] == "rest"
    }
    assert "order_form" in kinds or "action_handoff" in kinds, kinds  # the action that answered
    assert moved("shopbot_handoffs_total", channel="rest") == 1
    assert moved("shopbot_errors_total") == 0
    assert moved("shopbot_nlu_batch_messages_sum") == 3  # every message went through the parser

    # Through a proxy (X-Forwarded-For), or with a token that is not set: refused.
    status, text = fetch(f"{ops}/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert status == 403 and "SHOPBOT_METRICS_TOKEN" in text
    status, text = fetch(f"{console.url}/metrics")
    assert status == 200 and total(samples(text), "shopbot_console_handoffs_waiting") >= 1
    assert fetch(f"{console.url}/metrics", headers={"X-Forwarded-For": "1.2.3.4"})[0] == 403

    # The action server goes away: the Rasa server is alive but no longer ready.
    servers.actions.stop()
    status, text = fetch(f"{ops}/ready")
    assert status == 503 and json.loads(text)["checks"]["action_server"].startswith("unreachable")
    assert fetch(f"{ops}/health")[0] == 200
