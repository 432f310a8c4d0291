"""CPU time per turn of the tracker store (retrieve + save) and of the handoff broker, in process.

    python docs/benchmarks/2026-12-06/throughput-batching/store_cost.py store shop|rasa
    python docs/benchmarks/2026-12-06/throughput-batching/store_cost.py broker each|batch

``store``: 150 conversations of 6 turns (5 events each, as a form turn), every turn read back and
saved, on a new SQLite file, with a broker that records nothing; ``shop`` is
``ShopSQLTrackerStore``, ``rasa`` Rasa 3.6's ``SQLTrackerStore``. ``broker``: 300 conversations
of 4 turns through ``HandoffEventBroker`` on a migrated application database, each turn's events
published one by one (``each``, Rasa's way) or as one batch (``batch``, the store's way).
Process CPU time (``time.process_time``), so the commits' waits for the disk are not in it;
``store`` also prints the wall time per turn, which has them (the Rasa server's event loop waits
through them).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

logging.disable(logging.WARNING)
warnings.simplefilter("ignore")


def store_cost(kind: str) -> float:
    from rasa.core.brokers.broker import EventBroker
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        SlotSet,
        UserUttered,
    )

    from bot.storage.tracker_store import ShopSQLTrackerStore

    class Null(EventBroker):
        def publish(self, event: dict[str, Any]) -> None:
            pass

    def turn(t: float) -> list[Any]:
        return [
            UserUttered(
                "where is my order", {"name": "track_order", "confidence": 0.9}, timestamp=t
            ),
            SlotSet("order_number", "104233", timestamp=t + 0.1),
            ActionExecuted("order_form", timestamp=t + 0.2),
            BotUttered("What is your email?", timestamp=t + 0.3),
            ActionExecuted("action_listen", timestamp=t + 0.4),
        ]

    cls = ShopSQLTrackerStore if kind == "shop" else SQLTrackerStore
    db = Path(tempfile.mkdtemp()) / "tracker.db"
    store = cls(domain=Domain.load("bot/domain"), dialect="sqlite", db=str(db), event_broker=Null())

    async def run() -> float:
        turns, started, wall = 0, time.process_time(), time.perf_counter()
        for c in range(150):
            tracker = store.init_tracker(f"s{c}")
            for event in (
                ActionExecuted("action_session_start", timestamp=1.0 + c),
                SessionStarted(timestamp=1.1 + c),
                ActionExecuted("action_listen", timestamp=1.2 + c),
            ):
                tracker.update(event)
            await store.save(tracker)
            for k in range(6):
                tracker = await store.retrieve(f"s{c}")
                for event in turn(2.0 + c + k * 0.01):
                    tracker.update(event)
                await store.save(tracker)
                turns += 1
        print(f"store {kind}: {(time.perf_counter() - wall) / turns * 1000:.2f} ms wall per turn")
        return (time.process_time() - started) / turns * 1000

    return asyncio.run(run())


def broker_cost(mode: str) -> float:
    from bot.handoff.broker import HandoffEventBroker
    from bot.storage.engine import make_engine
    from bot.storage.migrate import upgrade_to_head

    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'app.db'}"
    upgrade_to_head(url)
    broker = HandoffEventBroker(make_engine(url))

    def turn(sender: str, t: float) -> list[dict[str, Any]]:
        parse = {
            "intent": {"name": "track_order", "confidence": 0.93},
            "sentiment": {"label": "neutral"},
        }
        return [
            {"sender_id": sender, "event": "user", "timestamp": t, "text": "where is my order 104233",
             "input_channel": "rest", "parse_data": parse},
            {"sender_id": sender, "event": "slot", "timestamp": t + 0.01, "name": "frustration_score",
             "value": 0.1},
            {"sender_id": sender, "event": "action", "timestamp": t + 0.02, "name": "order_form"},
            {"sender_id": sender, "event": "bot", "timestamp": t + 0.03,
             "text": "What is the email on the order?", "data": {}},
            {"sender_id": sender, "event": "action", "timestamp": t + 0.04, "name": "action_listen"},
        ]  # fmt: skip

    turns, started = 0, time.process_time()
    for c in range(300):
        for k in range(4):
            events = turn(f"s{c}", 1e9 + c * 10 + k)
            if mode == "batch":
                broker.publish_many(events)
            else:
                for event in events:
                    broker.publish(event)
            turns += 1
    return (time.process_time() - started) / turns * 1000


if __name__ == "__main__":
    part, variant = sys.argv[1], sys.argv[2]
    cost = store_cost(variant) if part == "store" else broker_cost(variant)
    print(f"{part} {variant}: {cost:.2f} ms CPU per turn")
