"""Reading Rasa's tracker store: rows shaped as SQLTrackerStore writes them become transcript
items; polling moves past skipped events; a missing store or table is an empty history."""

from __future__ import annotations

from pathlib import Path

from bot.console.transcript import TranscriptReader
from tests.unit.bot.console.helpers import (
    TrackerStore,
    action_event,
    bot_event,
    feedback_event,
    simple_event,
    user_event,
)

CID = "3f2a9c"


def reader_for(path: Path) -> TranscriptReader:
    return TranscriptReader(f"sqlite:///{path}")


def fill(store: TrackerStore) -> None:
    store.add(
        CID,
        action_event("action_session_start", 1.0),
        simple_event("session_started", 1.0),
        action_event("action_listen", 1.0),
        user_event(
            "where is my order??",
            "order_status",
            0.91,
            ranking=[("order_status", 0.91), ("human_handoff", 0.06)],
            sentiment=("negative", 0.83),
            timestamp=1_796_000_000.25,
        ),
        simple_event("slot", name="sentiment", value="negative"),
        action_event("action_handoff"),
        bot_event("Let me get a person for you."),
        simple_event("pause"),
        bot_event(
            "Ann from the support team joined the conversation.",
            {"kind": "handoff", "state": "joined", "agent": "Ann"},
        ),
        bot_event("Hi, I'm on it.", {"kind": "agent", "agent": "Ann", "agent_id": 2}),
        bot_event("No agent is online right now.", {"kind": "notice"}),
        simple_event("resume"),
    )
    store.add("someone-else", user_event("hello", "greet", 0.99))


def test_rows_become_items(tmp_path: Path) -> None:
    store = TrackerStore(tmp_path / "tracker.db")
    fill(store)
    reader = reader_for(tmp_path / "tracker.db")
    page = reader.items_after(CID)
    kinds = [(i["type"], i.get("author") or i.get("name")) for i in page.items]
    assert kinds == [
        ("action", "action_session_start"),
        ("session", None),
        ("user", "user"),
        ("action", "action_handoff"),
        ("bot", "bot"),
        ("pause", None),
        ("bot", "notice"),
        ("bot", "agent"),
        ("bot", "notice"),
        ("resume", None),
    ]  # action_listen and the slot are left out
    user = page.items[2]
    assert user == {
        "id": 4,
        "at": "2026-11-30T00:53:20.250Z",
        "type": "user",
        "author": "user",
        "text": "where is my order??",
        "intent": {"name": "order_status", "confidence": 0.91},
        "runner_up": {"name": "human_handoff", "confidence": 0.06},
        "entities": [],
        "sentiment": {"label": "negative", "confidence": 0.83},
        "channel": "widget",
    }
    joined, agent, notice = page.items[6:9]
    assert joined["agent"] == "Ann" and joined["state"] == "joined"
    assert agent["text"] == "Hi, I'm on it." and agent["agent"] == "Ann"
    assert notice["author"] == "notice" and notice["agent"] is None
    assert page.items[4]["agent"] is None and page.items[4]["buttons"] == []
    assert page.items[4]["reasoning"] is None  # a plain response, not a knowledge answer
    assert page.cursor == 12 and page.more is False
    assert reader.paused(CID) is False  # resumed at the end
    reader.dispose()
    store.close()


def test_polling_moves_past_skipped_events(tmp_path: Path) -> None:
    store = TrackerStore(tmp_path / "tracker.db")
    fill(store)
    reader = reader_for(tmp_path / "tracker.db")
    first = reader.items_after(CID, 0, limit=3)
    assert [i["id"] for i in first.items] == [1, 2] and first.cursor == 3 and first.more
    rest = reader.items_after(CID, first.cursor, limit=500)
    assert rest.items[0]["id"] == 4 and not rest.more
    slots_only = reader.items_after(CID, 4, limit=1)  # one slot event: no item, cursor moves
    assert slots_only.items == [] and slots_only.cursor == 5
    assert reader.items_after(CID, 12).items == [] and reader.items_after(CID, 12).cursor == 12
    reader.dispose()
    store.close()


def test_last_turns_for_the_queue(tmp_path: Path) -> None:
    store = TrackerStore(tmp_path / "tracker.db")
    fill(store)
    store.add(CID, user_event("x" * 1000, "chitchat", 0.5))
    reader = reader_for(tmp_path / "tracker.db")
    recent = reader.last_turns(CID, 3)
    assert [m["author"] for m in recent.messages] == ["agent", "notice", "user"]
    assert len(recent.messages[-1]["text"]) == 300
    assert recent.turns == [
        {
            "text": "where is my order??",
            "intent": "order_status",
            "confidence": 0.91,
            "sentiment": "negative",
        },
        {"text": "x" * 300, "intent": "chitchat", "confidence": 0.5, "sentiment": None},
    ]
    assert reader.exists(CID) and not reader.exists("nobody")
    reader.dispose()
    store.close()


def test_paused_follows_the_latest_pause_or_resume(tmp_path: Path) -> None:
    store = TrackerStore(tmp_path / "tracker.db")
    store.add("c", simple_event("pause"))
    reader = reader_for(tmp_path / "tracker.db")
    assert reader.paused("c")
    store.add("c", simple_event("resume"), simple_event("pause"), simple_event("restart"))
    assert not reader.paused("c")
    reader.dispose()
    store.close()


def test_missing_store_or_table_is_an_empty_history(tmp_path: Path) -> None:
    path = tmp_path / "var" / "tracker.db"
    reader = reader_for(path)
    assert reader.items_after(CID, 7).items == [] and reader.items_after(CID, 7).cursor == 7
    assert reader.last_turns(CID).messages == [] and not reader.exists(CID)
    assert not path.exists()  # read-only: never creates Rasa's file
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")  # an empty SQLite file: no events table yet
    assert reader.items_after(CID).items == [] and not reader.paused(CID)
    store = TrackerStore(path)  # Rasa starts and creates the table
    store.add(CID, user_event("hi", "greet", 0.9))
    assert [i["text"] for i in reader.items_after(CID).items] == ["hi"]
    reader.dispose()
    store.close()


def test_odd_rows_do_not_break_the_transcript(tmp_path: Path) -> None:
    store = TrackerStore(tmp_path / "tracker.db")
    store.add(
        CID,
        {"event": "user", "timestamp": None, "text": None, "parse_data": None},
        {"event": "bot", "timestamp": 2.0, "text": "pick", "data": {"buttons": [{"title": "A"}]}},
        {"event": "bot", "timestamp": 3.0, "metadata": {"shopbot": "not a dict"}},
    )
    reader = reader_for(tmp_path / "tracker.db")
    user, buttons, plain = reader.items_after(CID).items
    assert user["text"] == "" and user["intent"] is None and user["at"] is None
    assert buttons["buttons"] == ["A"]
    assert plain["author"] == "bot" and plain["text"] == ""
    reader.dispose()
    store.close()


def test_thumbs_find_the_bot_message_they_rate(tmp_path: Path) -> None:
    store = TrackerStore(tmp_path / "tracker.db")
    store.add(
        CID,
        bot_event("Hello! How can I help?"),  # 1
        bot_event(  # 2: the widget showed display_text, the tracker keeps the full text
            "The Delta Kite costs $24.50 [1].\n\nSources: [1] Delta Kite (https://s/kite)",
            custom={"outcome": "generated", "display_text": "The Delta Kite costs $24.50 [1]."},
        ),
        bot_event("Hello! How can I help?", timestamp=1_796_000_002.0),  # 3: same text again
        feedback_event("down", "The Delta Kite costs $24.50 [1]."),  # 4
        feedback_event("up", "Hello! How can I help?"),  # 5: the latest one with that text
        feedback_event("up", None),  # 6: recorded before the widget stored the text
        feedback_event("up", "a message of another conversation"),  # 7
        simple_event("agent", text="an agent event without feedback", data=None),  # 8
    )
    reader = reader_for(tmp_path / "tracker.db")
    items = reader.items_after(CID).items
    thumbs = [(i["id"], i["value"], i["refers_to"]) for i in items if i["type"] == "feedback"]
    assert thumbs == [(4, "down", 2), (5, "up", 3), (6, "up", None), (7, "up", None)]
    assert items[3]["at"] == "2026-11-30T00:53:24.000Z" and items[3]["message_id"] == "9f1c"
    # a page that starts after the rated message still finds it
    assert reader.items_after(CID, 4).items[0]["refers_to"] == 3
    reader.dispose()
    store.close()
