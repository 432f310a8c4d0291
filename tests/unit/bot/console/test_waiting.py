"""The waiting watcher: an honest notice, once, only when no agent is online; never an invented
address or hours; a failing round does not stop it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import pytest

from bot.console.context import Console
from bot.console.waiting import ONLINE_WITHIN, WaitingWatcher, notice_text
from tests.unit.bot.console.helpers import AGENT, FakeClock, RecordingRasa

TIMEOUT = 300


def watcher_of(console: Console, interval_s: float = 10.0) -> WaitingWatcher:
    return WaitingWatcher(
        console.queue, console.sessions, console.rasa, console.settings, interval_s
    )


@pytest.fixture()
def quiet_console(console_factory: Callable[..., Console]) -> Console:
    return console_factory(handoff_wait_timeout=TIMEOUT, support_email="", support_hours="")


def test_no_agent_online_one_notice_exactly_once(quiet_console: Console, clock: FakeClock) -> None:
    console = quiet_console
    rasa = console.rasa
    assert isinstance(rasa, RecordingRasa)
    console.queue.open("c1", "widget", "asked")
    watcher = watcher_of(console)
    clock.advance(TIMEOUT - 1)
    assert asyncio.run(watcher.check_once()) == 0  # not overdue yet
    clock.advance(2)
    assert asyncio.run(watcher.check_once()) == 1
    assert asyncio.run(watcher.check_once()) == 0  # never twice
    clock.advance(3600)
    assert asyncio.run(watcher.check_once()) == 0
    ((cid, events),) = rasa.calls
    assert cid == "c1"
    assert events == [
        {
            "event": "bot",
            "text": notice_text(console.settings),
            "metadata": {"shopbot": {"kind": "notice"}},
        }
    ]
    text = events[0]["text"]
    assert "No agent is online right now" in text and "stays in the queue" in text
    assert "@" not in text and "email" not in text and "work" not in text  # nothing invented
    handoff = console.queue.current("c1")
    assert handoff is not None and handoff.status == "waiting"  # still in the queue


def test_an_agent_online_means_no_notice(quiet_console: Console, clock: FakeClock) -> None:
    console = quiet_console
    agent = console.agents.get(AGENT[0])
    assert agent is not None
    session_id, _ = console.sessions.create(agent)
    console.queue.open("c1", "widget", "asked")
    clock.advance(TIMEOUT + 1)
    console.sessions.lookup(session_id)  # the agent's console polls
    watcher = watcher_of(console)
    assert asyncio.run(watcher.check_once()) == 0
    assert console.rasa.calls == []  # type: ignore[attr-defined]
    clock.advance(ONLINE_WITHIN.total_seconds() + 60)  # the agent went away
    assert asyncio.run(watcher.check_once()) == 1


def test_the_notice_names_only_what_the_settings_hold(
    console_factory: Callable[..., Console],
) -> None:
    both = console_factory(support_email="help@shop.example", support_hours="Mon–Fri 9–17 CET")
    text = notice_text(both.settings)
    assert "write to help@shop.example" in text and "follow up by email" in text
    assert "Our agents work Mon–Fri 9–17 CET." in text
    hours_only = console_factory(support_email="", support_hours="weekdays")
    assert "@" not in notice_text(hours_only.settings)


def test_a_failing_round_is_logged_and_the_watcher_goes_on(
    quiet_console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = watcher_of(quiet_console, interval_s=0.01)
    rounds = 0

    async def flaky() -> int:
        nonlocal rounds
        rounds += 1
        raise RuntimeError("database is locked")

    watcher.check_once = flaky  # type: ignore[method-assign]

    async def run_a_while() -> None:
        task = asyncio.create_task(watcher.run())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run_a_while())
    assert rounds >= 3
    assert "The waiting watcher's round failed" in caplog.text


def test_rasa_down_does_not_stop_the_round(quiet_console: Console, clock: FakeClock) -> None:
    console = quiet_console
    rasa = console.rasa
    assert isinstance(rasa, RecordingRasa)
    console.queue.open("c1", "widget", "asked")
    clock.advance(TIMEOUT + 1)
    rasa.fail = True
    assert asyncio.run(watcher_of(console).check_once()) == 0


def test_agents_online_counts_recent_agents_not_sessions(
    console: Console, clock: FakeClock
) -> None:
    agent = console.agents.get(AGENT[0])
    assert agent is not None
    within = dt.timedelta(minutes=2)
    assert console.sessions.agents_online(within) == 0
    first, _ = console.sessions.create(agent)
    console.sessions.create(agent)  # a second tab or device
    assert console.sessions.agents_online(within) == 1
    # last_seen_at is written every 30 s at most: seen 2 min 29 s ago may still be active.
    clock.advance(149)
    assert console.sessions.agents_online(within) == 1
    clock.advance(2)
    assert console.sessions.agents_online(within) == 0
    console.sessions.lookup(first)
    assert console.sessions.agents_online(within) == 1
    console.agents.set_disabled(agent.email, True)
    assert console.sessions.agents_online(within) == 0


def test_the_app_runs_the_watcher_and_stops_it_on_shutdown(
    quiet_console: Console, clock: FakeClock
) -> None:
    import time

    from bot.console.app import build_app
    from tests.unit.bot.console.helpers import TestClient

    console = quiet_console
    rasa = console.rasa
    assert isinstance(rasa, RecordingRasa)
    console.queue.open("c1", "widget", "asked")
    clock.advance(TIMEOUT + 1)
    with TestClient(build_app(console)) as client:  # runs the lifespan
        deadline = time.monotonic() + 10
        while not rasa.calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/health").status_code == 200
    assert [cid for cid, _ in rasa.calls] == ["c1"]
