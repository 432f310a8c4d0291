"""Check every tracker the Rasa server answers from memory against the one its table gives.

With this directory on ``PYTHONPATH`` and ``SHOPBOT_KEPT_CHECK`` naming a folder (the servers
inherit both from the mix probe), the Rasa server's ``ShopSQLTrackerStore._retrieve`` is wrapped
once the module is loaded: on every retrieval answered from a kept tracker, the same conversation
is also read from the table, and both are compared as JSON — events as Rasa serialises them,
every slot's value and whether it has been set, the tracker's state and the states the policies
see.
Every 5 s the process writes ``hits mismatches`` to ``$SHOPBOT_KEPT_CHECK/kept-<pid>.txt``, and
the first mismatches in full to ``mismatch-<pid>.txt``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

if os.environ.get("SHOPBOT_KEPT_CHECK") and "venv-load" not in sys.prefix:
    _counts = {"hits": 0, "mismatches": 0}

    def _held(tracker: Any, domain: Any) -> Any:
        from rasa.shared.core.trackers import EventVerbosity

        if tracker is None:
            return None
        slots = {n: (s.value, s.has_been_set) for n, s in tracker.slots.items()}
        held = (
            [e.as_dict() for e in tracker.events],
            slots,
            tracker.current_state(EventVerbosity.ALL),
            tracker.past_states(domain),
        )
        # As JSON: a kept tracker holds the turn's own event objects, whose parse data has tuples
        # (``text_tokens``) where the table's decoded rows have lists; Rasa sends and stores both
        # as the same JSON.
        return json.loads(json.dumps(held))

    def _patch(folder: str) -> None:
        module = sys.modules["bot.storage.tracker_store"]
        store_class = module.ShopSQLTrackerStore
        original = store_class._retrieve

        async def checked(self: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
            was_kept = sender_id in self._kept and not fetch_events_from_all_sessions
            got = await original(self, sender_id, fetch_events_from_all_sessions)
            if was_kept and sender_id in self._kept:  # answered from memory
                kept = self._kept.pop(sender_id)
                table = await original(self, sender_id, False)
                self._kept[sender_id] = kept
                _counts["hits"] += 1
                if _held(got, self.domain) != _held(table, self.domain):
                    _counts["mismatches"] += 1
                    if _counts["mismatches"] <= 3:
                        path = os.path.join(folder, f"mismatch-{os.getpid()}.txt")
                        with open(path, "a") as out:
                            out.write(f"{sender_id}\n{_held(got, self.domain)}\n")
                            out.write(f"{_held(table, self.domain)}\n\n")
            return got

        store_class._retrieve = checked

    def _watch(folder: str) -> None:
        while "bot.storage.tracker_store" not in sys.modules:
            time.sleep(0.05)
        if "rasa_server" not in " ".join(sys.argv):  # -m gives the module's path
            return
        _patch(folder)
        path = os.path.join(folder, f"kept-{os.getpid()}.txt")
        while True:
            time.sleep(5.0)
            with open(path, "w") as out:
                out.write(f"{_counts['hits']} {_counts['mismatches']}\n")

    _folder = os.environ["SHOPBOT_KEPT_CHECK"]
    os.makedirs(_folder, exist_ok=True)
    threading.Thread(target=_watch, args=(_folder,), name="kept-check", daemon=True).start()
