"""Live handoff against the real Rasa and action servers (tiny models): the bot pauses itself.

A handoff puts the conversation in the queue (the event broker in the Rasa server writes it to the
application database), the bot then stays silent while every shopper message is still stored, the
shopper can leave the queue from the widget, and a Rasa restart changes none of it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.storage.engine import make_engine
from bot.storage.handoffs import Handoff, HandoffQueue
from tests.e2e.harness import ShopBotServers, running_servers
from tests.e2e.widget_client import SseEvent, WidgetClient

pytestmark = pytest.mark.e2e

# Shopper text the tiny model understands as a request for a person (tests/stories/test_handoff.yml).
ASK_FOR_HUMAN = "can I speak to someone from your support team?"
WAIT_S = 60.0


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, tiny_rasa_model: Path, project_root: Path
) -> Iterator[ShopBotServers]:
    with running_servers(
        project_root, tmp_path_factory.mktemp("handoff-e2e"), tiny_rasa_model
    ) as running:
        yield running


@pytest.fixture(scope="module")
def queue(servers: ShopBotServers) -> Iterator[HandoffQueue]:
    settings = servers.settings
    engine = make_engine(settings.resolve_db_url(settings.app_db_url))
    yield HandoffQueue(engine)
    engine.dispose()


def wait_for_handoff(queue: HandoffQueue, sender: str) -> Handoff:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        handoff = queue.current(sender)
        if handoff is not None:
            return handoff
        time.sleep(0.2)
    raise AssertionError(f"{sender} never reached the handoff queue")


def events_after_pause(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kinds = [e["event"] for e in events]
    return events[len(kinds) - kinds[::-1].index("pause") :]


def test_a_handoff_pauses_the_bot_and_keeps_every_message(
    servers: ShopBotServers, queue: HandoffQueue
) -> None:
    sender = f"shopper-{uuid.uuid4().hex[:8]}"
    reply = servers.say(sender, ASK_FOR_HUMAN)
    assert reply.status == 200 and "human agent" in reply.text, reply.body
    handoff = wait_for_handoff(queue, sender)
    assert (handoff.status, handoff.reason, handoff.channel) == ("waiting", "asked", "rest")

    # Paused: the bot answers nothing, but the message is in the tracker store.
    later = servers.say(sender, "hello? is anybody there?")
    assert later.status == 200 and later.body == []
    tracker = servers.tracker(sender)
    assert tracker["paused"] is True
    after = events_after_pause(servers.stored_events(sender))
    assert [e.get("text") for e in after if e["event"] == "user"] == ["hello? is anybody there?"]
    assert not [e for e in after if e["event"] == "bot"]


def test_the_shopper_can_leave_the_queue_from_the_widget(
    servers: ShopBotServers, queue: HandoffQueue
) -> None:
    client = WidgetClient(servers.base_url)
    assert client.start().status == 200
    stream = client.open_stream(after=0)
    assert client.send(ASK_FOR_HUMAN).status == 202

    def waiting(events: list[SseEvent]) -> bool:
        return any(e.event == "handoff" and e.data.get("state") == "waiting" for e in events)

    assert stream.wait_for(waiting, WAIT_S), stream.events
    notice = next(e for e in stream.events if e.event == "handoff")
    assert notice.data["position"] >= 1
    sender = next(e for e in stream.events if e.event == "user").data  # echo of the message
    assert sender["text"] == ASK_FOR_HUMAN

    left = client.request("POST", "/handoff/leave", {}, token=client.token)
    assert left.status == 204, left.body

    def ended(events: list[SseEvent]) -> bool:
        return any(e.event == "handoff" and e.data.get("state") == "ended" for e in events)

    assert stream.wait_for(ended, WAIT_S), stream.events
    # Back with the bot: the next message is answered again.
    bots_before = sum(1 for e in stream.events if e.event == "bot")
    assert client.send("hi there").status == 202
    assert stream.wait_for(
        lambda evs: sum(1 for e in evs if e.event == "bot") > bots_before, WAIT_S
    ), stream.events
    stream.stop()
    # Leaving twice (or when not waiting) is refused with a reason.
    again = client.request("POST", "/handoff/leave", {}, token=client.token)
    assert again.status == 409 and again.body["error"]
    # Another conversation's token cannot take this one out of the queue: it names its own.
    assert client.request("POST", "/handoff/leave", {}, token="forged.token.value").status == 401


def test_after_a_rasa_restart_the_conversation_is_still_paused_and_queued(
    servers: ShopBotServers, queue: HandoffQueue
) -> None:
    sender = f"shopper-{uuid.uuid4().hex[:8]}"
    servers.say(sender, ASK_FOR_HUMAN)
    before = wait_for_handoff(queue, sender)
    servers.restart_rasa()
    reply = servers.say(sender, "still waiting for someone")
    assert reply.status == 200 and reply.body == []
    assert servers.tracker(sender)["paused"] is True
    after = queue.current(sender)
    assert after is not None and after.id == before.id and after.status == "waiting"
