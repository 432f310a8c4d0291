"""Teaching from the console: admins export accepted corrections and start a retrain (the real
commands, as child processes); agents cannot; every export and retrain is audited."""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.console import teach_views
from bot.console.context import Console
from bot.console.transcript import events
from bot.storage.audit import AuditLog
from bot.storage.retrain_runs import RetrainRuns
from tests.unit.bot.console.helpers import (
    ADMIN,
    AGENT,
    TestClient,
    TrackerStore,
    csrf_header,
    signed_in,
    user_event,
)

ROUTES = [
    ("POST", "/api/corrections/export"),
    ("GET", "/api/corrections/export/nlu_corrections.yml"),
    ("GET", "/api/retrain"),
    ("POST", "/api/retrain"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_only_admins_teach(client_factory: Any, method: str, path: str) -> None:
    anonymous = client_factory()
    assert anonymous.request(method, path).status_code == 401
    agent = signed_in(client_factory(), AGENT)
    headers = csrf_header(agent) if method == "POST" else {}
    assert agent.request(method, path, headers=headers).status_code == 403


def test_an_admin_exports_accepted_corrections(
    console: Console, client_factory: Any, tracker: TrackerStore
) -> None:
    tracker.add("c-teach", user_event("are final sale things returnable?", "track_refund", 0.52))
    with tracker.engine.connect() as conn:
        event_id = int(conn.execute(select(events.c.id)).scalar_one())
    admin_agent = console.agents.get(ADMIN[0])
    assert admin_agent is not None
    made = console.corrections.propose(
        "c-teach",
        event_id,
        "intent",
        "are final sale things returnable?",
        admin_agent.id,
        original_intent="track_refund",
        intent="check_refund_policy",
    )
    console.corrections.review(made.id, True, admin_agent.id)

    admin = signed_in(client_factory(), ADMIN)
    assert admin.get("/api/corrections/export/nlu_corrections.yml").status_code == 404  # not yet
    reply = admin.post("/api/corrections/export", headers=csrf_header(admin))
    assert reply.status_code == 200, reply.text
    assert "1 NLU examples, 0 FAQ rows written" in reply.json()["summary"]
    assert "INFO" not in reply.json()["summary"]  # the summary, not the log
    exported = admin.get("/api/corrections/export/nlu_corrections.yml")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    nlu = yaml.safe_load(exported.text)["nlu"]
    assert nlu[0]["intent"] == "check_refund_policy"
    assert nlu[0]["examples"][0]["text"] == "are final sale things returnable?"
    assert admin.get("/api/corrections/export/../../app.db").status_code == 404
    assert admin.get("/api/corrections/export/secrets.txt").status_code == 404
    [entry] = AuditLog(console.engine).recent("corrections_export")
    assert entry.actor == admin_agent.id


def test_one_retrain_at_a_time(console: Console, client_factory: Any) -> None:
    RetrainRuns(console.engine).start("tiny", None)
    admin = signed_in(client_factory(), ADMIN)
    refused = admin.post("/api/retrain", headers=csrf_header(admin))
    assert refused.status_code == 409 and "already running" in refused.json()["error"]


def test_a_retrain_that_cannot_run_says_why(console: Console, client: TestClient) -> None:
    """The real ``shopbot retrain`` child process, in a home with no served model: it fails
    fast, and the run records the reason for the page."""
    with client:  # one event loop for the whole test: the console reaps its child process
        _retrain_fails(console, signed_in(client, ADMIN))


def _retrain_fails(console: Console, admin: TestClient) -> None:
    started = admin.post("/api/retrain", headers=csrf_header(admin))
    assert started.status_code == 202, started.text
    run_id = started.json()["run"]["id"]
    assert started.json()["run"]["status"] == "running"
    deadline = time.monotonic() + 180
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = next(r for r in admin.get("/api/retrain").json()["runs"] if r["id"] == run_id)
        if run["status"] != "running":
            break
        time.sleep(1)
    assert run["status"] == "failed"
    assert "No served model" in run["summary"]
    while teach_views._CHILDREN and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not teach_views._CHILDREN
    assert [e.action for e in AuditLog(console.engine).recent()][:2] == [
        "retrain",
        "retrain_started",
    ]
