"""The handoff broker's CPU per saved turn, in process on a fresh SQLite application database.

    python docs/benchmarks/2026-12-06/rasa-floor/broker_turn.py [many|each]

A turn is what the tracker store publishes after a shopper's message: the message, a slot, the
form's action, the bot's reply, ``action_listen``. 300 conversations of 4 turns, handed over
together (``many``, ShopBot's tracker store) or event by event (``each``, Rasa's).
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.handoff.broker import HandoffEventBroker
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade_to_head


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


def main() -> None:
    logging.disable(logging.WARNING)
    mode = sys.argv[1] if len(sys.argv) > 1 else "many"
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'app.db'}"
    upgrade_to_head(url)
    broker = HandoffEventBroker(make_engine(url))
    turns = 0
    started = time.process_time()
    for conversation in range(300):
        for k in range(4):
            events = turn(f"s{conversation}", 1e9 + conversation * 10 + k)
            if mode == "many":
                broker.publish_many(events)
            else:
                for event in events:
                    broker.publish(event)
            turns += 1
    print(mode, f"{(time.process_time() - started) / turns * 1000:.2f} ms CPU per turn")


if __name__ == "__main__":
    main()
