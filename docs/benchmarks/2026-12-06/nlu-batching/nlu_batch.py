"""The demo model's NLU graph: each message in its own pass, or several in one pass.

    python docs/benchmarks/2026-12-06/nlu-batching/nlu_batch.py [MODEL]

Loads the Rasa model (default ``models/rasa/shopbot-demo.tar.gz``), takes the first 96 messages of
the second development set (``tests/fixtures/shopper_eval/dev2``) and parses them through the
model's NLU graph one message a pass (what Rasa does) and in passes of 8 and of 4 (what
``bot.nlu_batching`` does for messages that wait together), twice. Prints CPU ms a message
(``process_time``) and how many messages got the same intent both ways.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[4]


def main(model: str) -> None:
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.trackers import DialogueStateTracker

    logging.disable(logging.WARNING)
    items = yaml.safe_load((ROOT / "tests/fixtures/shopper_eval/dev2/intents.yml").read_text())
    texts = [item["text"] for item in items][:96]
    agent = asyncio.run(load_agent(model_path=model))
    processor = agent.processor
    assert processor is not None
    tracker = DialogueStateTracker.from_events("bench", [])
    messages = [UserMessage(text, sender_id="bench") for text in texts]
    target = processor.model_metadata.nlu_target

    def one(message: UserMessage) -> dict[str, Any]:
        return processor._parse_message_with_graph(message, tracker)

    def together(batch: list[UserMessage]) -> list[Any]:
        inputs = {PLACEHOLDER_MESSAGE: batch, PLACEHOLDER_TRACKER: tracker}
        return list(processor.graph_runner.run(inputs=inputs, targets=[target])[target])

    for message in messages[:8]:
        one(message)  # warm
    together(messages[:8])
    for _ in range(2):
        started = time.process_time()
        alone = [one(m) for m in messages]
        one_s = time.process_time() - started
        timings = {}
        batched: dict[int, list[Any]] = {}
        for size in (8, 4):
            started = time.process_time()
            batched[size] = [
                parsed
                for i in range(0, len(messages), size)
                for parsed in together(messages[i : i + size])
            ]
            timings[size] = time.process_time() - started
        same = sum(
            a["intent"]["name"] == b.get("intent")["name"]
            for a, b in zip(alone, batched[8], strict=True)
        )
        per = {k: v / len(messages) * 1000 for k, v in timings.items()}
        print(
            f"one at a time {one_s / len(messages) * 1000:.2f} ms/msg; batches of 8 {per[8]:.2f}; "
            f"of 4 {per[4]:.2f}; same intent in batches of 8: {same}/{len(messages)}"
        )


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    main(sys.argv[1] if len(sys.argv) > 1 else "models/rasa/shopbot-demo.tar.gz")
