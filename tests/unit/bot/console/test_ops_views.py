"""The console's readiness and metrics routes: who may scrape, what the gauges read."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from bot.console.app import build_app
from bot.console.context import Console

TOKEN = "unit-metrics-token-0123456789abcdef"


def client_from(console: Console, host: str) -> TestClient:
    return TestClient(build_app(console), base_url="http://127.0.0.1:5006", client=(host, 4242))


def test_ready_checks_the_database(console: Console) -> None:
    with client_from(console, "127.0.0.1") as client:
        reply = client.get("/ready")
        assert reply.status_code == 200
        assert reply.json() == {"status": "ready", "checks": {"database": "ok"}}
        console.engine.dispose()
        db = console.settings.sqlite_path(console.settings.app_db_url)
        assert db is not None
        db.unlink()
        db.mkdir()  # a directory where the database file was: SQLite cannot open it
        reply = client.get("/ready")
        assert reply.status_code == 503
        assert reply.json()["checks"] == {"database": "unreachable"}


def test_metrics_for_loopback_show_the_waiting_handoffs(console: Console) -> None:
    console.queue.open("c-1", "widget", "asked")
    console.queue.open("c-2", "telegram", "frustrated")
    with client_from(console, "127.0.0.1") as client:
        reply = client.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    assert "shopbot_console_handoffs_waiting 2.0" in reply.text
    assert "shopbot_console_database_up 1.0" in reply.text


def test_metrics_are_refused_to_others_and_through_a_proxy(console: Console) -> None:
    with client_from(console, "203.0.113.9") as client:
        reply = client.get("/metrics")
        assert reply.status_code == 403 and "SHOPBOT_METRICS_TOKEN" in reply.json()["error"]
    with client_from(console, "127.0.0.1") as client:
        assert client.get("/metrics", headers={"X-Forwarded-For": "1.2.3.4"}).status_code == 403


def test_with_a_token_anyone_who_sends_it_may_scrape(
    console_factory: Callable[..., Console],
) -> None:
    console = console_factory(metrics_token=TOKEN)
    with client_from(console, "203.0.113.9") as client:
        assert client.get("/metrics").status_code == 403
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        right = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200 and "shopbot_console_handoffs_waiting" in right.text
    with client_from(console, "127.0.0.1") as client:  # the token is then needed from loopback too
        assert client.get("/metrics").status_code == 403
