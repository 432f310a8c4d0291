"""The handoff broker's CPU per saved turn (a shopper message, a slot, a form action, a bot
message, action_listen), in process on a fresh SQLite application database: 300 conversations of
4 turns. ``python docs/benchmarks/2026-12-06/rasa-floor/broker_turn.py many``."""

import time, tempfile, sys
from pathlib import Path
import logging
logging.disable(logging.WARNING)
from bot.handoff.broker import HandoffEventBroker
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade_to_head
tmp = Path(tempfile.mkdtemp())
url = f"sqlite:///{tmp/'app.db'}"
upgrade_to_head(url)
broker = HandoffEventBroker(make_engine(url))
def turn(sender, t):
    return [
        {"sender_id": sender, "event": "user", "timestamp": t, "text": "where is my order 104233", "input_channel": "rest",
         "parse_data": {"intent": {"name": "track_order", "confidence": 0.93}, "sentiment": {"label": "neutral"}}},
        {"sender_id": sender, "event": "slot", "timestamp": t + .01, "name": "frustration_score", "value": 0.1},
        {"sender_id": sender, "event": "action", "timestamp": t + .02, "name": "order_form"},
        {"sender_id": sender, "event": "bot", "timestamp": t + .03, "text": "What is the email on the order?", "data": {}},
        {"sender_id": sender, "event": "action", "timestamp": t + .04, "name": "action_listen"},
    ]
mode = sys.argv[1]
n = 0
t0 = time.process_time()
for c in range(300):
    for k in range(4):
        ev = turn(f"s{c}", 1e9 + c * 10 + k)
        if mode == "many":
            broker.publish_many(ev)
        else:
            for e in ev: broker.publish(e)
        n += 1
print(mode, f"{(time.process_time() - t0) / n * 1000:.2f} ms CPU per turn")
