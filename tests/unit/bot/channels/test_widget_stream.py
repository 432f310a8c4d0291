"""The SSE stream: stored events with ids after a seq, ephemeral ones without, order, pings."""

from __future__ import annotations

import asyncio
import json

from bot.channels.widget_stream import Ephemeral, StreamHub, event_stream, format_event
from bot.storage.event_log import EventLog, StoredEvent


def parse(frames: str) -> list[dict[str, object]]:
    """SSE text → [{"id": ..., "event": ..., "data": {...}}] (comments dropped)."""
    out = []
    for block in frames.split("\n\n"):
        fields: dict[str, object] = {}
        for line in block.splitlines():
            if line.startswith(":") or not line:
                continue
            name, _, value = line.partition(": ")
            fields[name] = json.loads(value) if name == "data" else value
        if "event" in fields:
            out.append(fields)
    return out


def test_frames_carry_an_id_only_for_stored_events() -> None:
    assert format_event("bot", {"seq": 3, "text": "a\nb"}, 3) == (
        'id: 3\nevent: bot\ndata: {"seq":3,"text":"a\\nb"}\n\n'
    )
    assert format_event("typing", {"on": True}) == 'event: typing\ndata: {"on":true}\n\n'


async def collect(
    hub: StreamHub, log: EventLog, conversation: str, after: int, rounds: int, **kwargs: float
) -> str:
    async def read_after(conv: str, seq: int) -> list[StoredEvent]:
        return log.read_after(conv, seq)

    stream = event_stream(hub, read_after, conversation, after, **kwargs)
    chunks = []
    try:
        for _ in range(rounds):
            chunks.append(await asyncio.wait_for(stream.__anext__(), 2))
    finally:
        await stream.aclose()
    return "".join(chunks)


def test_resume_after_a_seq_sends_nothing_twice(event_log: EventLog) -> None:
    for i in range(1, 4):
        event_log.append("c", "user" if i % 2 else "bot", {"text": str(i)})
    hub = StreamHub()
    frames = parse(asyncio.run(collect(hub, event_log, "c", after=1, rounds=2)))
    assert [(f["id"], f["event"]) for f in frames] == [("2", "bot"), ("3", "user")]
    assert frames[0]["data"] == {"seq": 2, "text": "2"}
    assert hub.open_streams("c") == 0  # the subscription is gone with the stream


def test_tokens_come_before_the_final_message_and_late_ones_are_dropped(
    event_log: EventLog,
) -> None:
    hub = StreamHub()

    async def scenario() -> str:
        async def read_after(conv: str, seq: int) -> list[StoredEvent]:
            return event_log.read_after(conv, seq)

        stream = event_stream(hub, read_after, "c", 0, poll_interval=0.05)
        out = [await stream.__anext__()]  # retry + connected
        # The action pushed tokens, then Rasa stored the final message, before the stream ran.
        hub.publish("c", Ephemeral("token", {"stream_id": "s1", "index": 0, "text": "The"}))
        event_log.append("c", "bot", {"text": "The kite.", "stream_id": "s1"})
        hub.notify("c")
        while "event: bot" not in "".join(out):
            out.append(await asyncio.wait_for(stream.__anext__(), 2))
        # A token of the finished stream arriving late is not sent; a typing event is.
        hub.publish("c", Ephemeral("token", {"stream_id": "s1", "index": 1, "text": " kite"}))
        hub.publish("c", Ephemeral("typing", {"on": False}))
        out.append(await asyncio.wait_for(stream.__anext__(), 2))
        await stream.aclose()
        return "".join(out)

    frames = parse(asyncio.run(scenario()))
    assert [f["event"] for f in frames] == ["token", "bot", "typing"]
    assert "id" not in frames[0] and frames[1]["id"] == "1"


def test_events_stored_by_another_replica_arrive_by_polling(event_log: EventLog) -> None:
    hub = StreamHub()  # nobody notifies this hub: the append happens "elsewhere"

    async def scenario() -> str:
        async def read_after(conv: str, seq: int) -> list[StoredEvent]:
            return event_log.read_after(conv, seq)

        stream = event_stream(hub, read_after, "c", 0, poll_interval=0.05)
        await stream.__anext__()
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, event_log.append, "c", "agent", {"agent": "Ana", "text": "Hi"})
        frame = await asyncio.wait_for(stream.__anext__(), 2)
        await stream.aclose()
        return frame

    assert parse(asyncio.run(scenario()))[0]["data"] == {"seq": 1, "agent": "Ana", "text": "Hi"}


def test_a_quiet_stream_sends_pings(event_log: EventLog) -> None:
    text = asyncio.run(
        collect(StreamHub(), event_log, "c", 0, rounds=2, poll_interval=0.02, ping_interval=0.05)
    )
    assert text.endswith(": ping\n\n")
