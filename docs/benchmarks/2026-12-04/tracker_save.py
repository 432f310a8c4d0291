"""Time one tracker store save as a conversation grows: Rasa 3.6's SQLTrackerStore (reads the
session back to stream events) against ShopSQLTrackerStore (one count). SQLite file, a recording
event broker, the project's domain; 5 events per turn (the unit test's turn).

Run: .venv/bin/python docs/benchmarks/2026-12-04/tracker_save.py
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import warnings

from rasa.core.tracker_store import SQLTrackerStore

from bot.storage.tracker_store import ShopSQLTrackerStore
from tests.unit.bot.storage.test_tracker_store import DOMAIN, SESSION, Recording, turn

TURNS = 61


async def save_times(cls: type[SQLTrackerStore], db: str) -> list[float]:
    store = cls(domain=DOMAIN, dialect="sqlite", db=db, event_broker=Recording())
    times = []
    for n in range(TURNS):
        tracker = await store.retrieve("s") or store.init_tracker("s")
        for event in SESSION if n == 0 else turn("where is my order", 2.0 + n):
            tracker.update(event)
        started = time.perf_counter()
        await store.save(tracker)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        for cls in (SQLTrackerStore, ShopSQLTrackerStore):
            t = asyncio.run(save_times(cls, f"{tmp}/{cls.__name__}.db"))
            at = {k: sum(t[k - 1 : k + 2]) / 3 for k in (10, 30, 60)}
            print(
                f"{cls.__name__}: save ms at turn 2 {t[2]:.1f}, turn 10 {at[10]:.1f}, "
                f"turn 30 {at[30]:.1f}, turn 60 {at[60]:.1f}"
            )


if __name__ == "__main__":
    main()
