"""Tracker copies from the held state against Rasa's copy, on a mix run's real conversations.

python docs/benchmarks/2026-12-07/round4/copy_real.py TRACKER_DB
"""

import json
import random
import sqlite3
import sys
import warnings

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.tracker_copy import RASA_METHOD, copy_tracker

warnings.simplefilter("ignore")
D = Domain.load("bot/domain")
c = sqlite3.connect(sys.argv[1])
senders = [r[0] for r in c.execute("select distinct sender_id from events")]


def held(t):
    h = {k: v for k, v in vars(t).items() if k not in ("slots", "events")}
    h["slots"] = {n: (s.value, s.has_been_set) for n, s in t.slots.items()}
    h["events"] = [id(e) for e in t.events]
    h["state"] = t.current_state(EventVerbosity.ALL)
    return h


n = 0
for s in senders[:200]:
    evs = [
        Event.from_parameters(json.loads(d))
        for (d,) in c.execute("select data from events where sender_id=? order by id", (s,))
    ]
    tr = DialogueStateTracker(s, D.slots)
    tr.model_id = "m"
    for e in evs:
        tr.update(e)
        if random.random() < 0.3:
            assert held(copy_tracker(tr)) == held(RASA_METHOD(tr))
            n += 1
print("copies agreed", n)
