"""The handoff queue: one open handoff per conversation, an atomic claim, ends by the rules."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine

from bot.console.agents import AgentStore
from bot.storage.handoffs import HandoffQueue
from tests.unit.bot.console.helpers import FakeClock as Clock


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def queue(app_engine: Engine, clock: Clock) -> HandoffQueue:
    return HandoffQueue(app_engine, clock)


def _agent(queue: HandoffQueue, email: str, name: str) -> int:
    return AgentStore(queue.engine).add(email, name, "agent", "a long enough password 1").id


def test_open_is_idempotent_while_open(queue: HandoffQueue) -> None:
    first, created = queue.open("c1", "widget", "asked")
    again, created_again = queue.open("c1", "widget", "frustration")
    assert created and not created_again
    assert again.id == first.id and again.reason == "asked" and again.status == "waiting"
    assert queue.count_waiting() == 1


def test_positions_follow_the_order_of_arrival(queue: HandoffQueue, clock: Clock) -> None:
    for name in ("a", "b", "c"):
        queue.open(name, "rest", "asked")
        clock.now += dt.timedelta(seconds=1)
    assert [queue.position(n) for n in ("a", "b", "c")] == [1, 2, 3]
    agent = _agent(queue, "ana@example.org", "Ana")
    assert queue.claim(queue.current("a").id, agent).won  # type: ignore[union-attr]
    assert queue.position("a") is None and queue.position("c") == 2


def test_only_the_first_claim_wins_and_names_the_holder(queue: HandoffQueue) -> None:
    handoff, _ = queue.open("c1", "widget", "asked")
    ana, ben = _agent(queue, "ana@example.org", "Ana"), _agent(queue, "ben@example.org", "Ben")
    first, second = queue.claim(handoff.id, ana), queue.claim(handoff.id, ben)
    assert first.won and not second.won
    assert second.holder == "Ana" and second.handoff and second.handoff.agent_id == ana


def test_only_the_claimer_ends_a_claimed_handoff(queue: HandoffQueue) -> None:
    handoff, _ = queue.open("c1", "widget", "asked")
    ana, ben = _agent(queue, "ana@example.org", "Ana"), _agent(queue, "ben@example.org", "Ben")
    queue.claim(handoff.id, ana)
    assert queue.finish("c1", "returned", agent_id=ben) is None
    assert queue.finish("c1", "left", waiting_only=True) is None  # the shopper cannot leave now
    ended = queue.finish("c1", "returned", agent_id=ana)
    assert ended is not None and ended.status == "returned" and not ended.is_open
    assert queue.current("c1") is None
    # A new handoff of the same conversation is a new row.
    reopened, created = queue.open("c1", "widget", "frustration")
    assert created and reopened.id != handoff.id
    assert [h.status for h in queue.history("c1")] == ["returned", "waiting"]


def test_finish_refuses_an_unknown_status(queue: HandoffQueue) -> None:
    queue.open("c1", "widget", "asked")
    with pytest.raises(ValueError, match="status must be one of"):
        queue.finish("c1", "waiting")


def test_overdue_lists_each_waiting_handoff_until_notified(
    queue: HandoffQueue, clock: Clock
) -> None:
    handoff, _ = queue.open("c1", "widget", "asked")
    assert queue.overdue(dt.timedelta(minutes=5)) == []
    clock.now += dt.timedelta(minutes=6)
    assert [h.id for h in queue.overdue(dt.timedelta(minutes=5))] == [handoff.id]
    assert queue.mark_timeout_notified(handoff.id)
    assert not queue.mark_timeout_notified(handoff.id)  # exactly once, across callers
    assert queue.overdue(dt.timedelta(minutes=5)) == []
    assert queue.current("c1") is not None  # still in the queue
