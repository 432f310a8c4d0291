"""Shared policy states against Rasa's own, on the real conversations of a mix run (issue 17).

    python docs/benchmarks/2026-12-07/round4/states_real.py TRACKER_DB

``TRACKER_DB``: a run's tracker store (``PROBE_KEEP_DB=1`` with the mix probe keeps it). Every
third prefix of 120 conversations, fresh, and 120 more grown a random 1-6 events at a time, each
with the memoization policy's and the rule policy's arguments.
"""

import json
import random
import sqlite3
import sys
import time
import warnings

from rasa.shared.core import constants
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policy_states import RASA_METHOD, states_for_tracker_history

warnings.simplefilter("ignore")
D = Domain.load("bot/domain")
c = sqlite3.connect(sys.argv[1])
senders = [r[0] for r in c.execute("select distinct sender_id from events")]
random.seed(1)
random.shuffle(senders)
RO = {constants.RULE_ONLY_SLOTS: ["frustrated"], constants.RULE_ONLY_LOOPS: list(D.form_names)}
n = hidden = 0
t0 = time.time()
for s in senders[:120]:
    evs = [
        Event.from_parameters(json.loads(d))
        for (d,) in c.execute("select data from events where sender_id=? order by id", (s,))
    ]
    hidden += sum(1 for e in evs if getattr(e, "hide_rule_turn", False))
    for k in range(1, len(evs) + 1, 3):
        tr = DialogueStateTracker.from_events(s, evs[:k], slots=D.slots)
        for a in (
            {},
            {"ignore_rule_only_turns": True, "rule_only_data": RO},
            {"rule_only_data": RO},
        ):
            assert states_for_tracker_history(D, tr, **a) == RASA_METHOD(D, tr, **a), (s, k, a)
            n += 1
print("agreed", n, "hidden turns", hidden, round(time.time() - t0), "s")
n = 0
for s in senders[120:240]:
    evs = [
        Event.from_parameters(json.loads(d))
        for (d,) in c.execute("select data from events where sender_id=? order by id", (s,))
    ]
    tr = DialogueStateTracker(s, D.slots)
    i = 0
    while i < len(evs):
        k = random.randint(1, 6)
        for e in evs[i : i + k]:
            tr.update(e)
        i += k
        for a in (
            {},
            {"ignore_rule_only_turns": True, "rule_only_data": RO},
            {"rule_only_data": RO},
        ):
            assert states_for_tracker_history(D, tr, **a) == RASA_METHOD(D, tr, **a), (s, i, a)
            n += 1
print("growing agreed", n)
