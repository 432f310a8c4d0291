"""Which of a set's intent messages the order-question path would answer from the FAQ.

Parses every intent message of the named sets with the demo Rasa model (in this process); a
message NLU reads as an order request that names no order and that ``actions.order_questions``
finds asked like an FAQ entry (``asked_instead``: a return or refund request at
``REFUND_FAQ_SCORE``, any request at ``MISREAD_FAQ_SCORE`` from an entry NLU reads as another
intent; ``MISREAD=0`` only the first) is "taken": the FAQ answers it and the order form does not
ask. A message read as a delivery question is taken when misread that way (the delivery actions
answer it from the FAQ instead of the store's settings). Reports, per gold intent, how many were taken, with
the texts, so the real requests it takes are visible. Measurement only.

OUT=requests_taken.json python requests_taken.py dev,dev2,test   # from the project root
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from actions import order_questions
from actions.order_questions import ORDER_REQUESTS, asked_instead, misread
from actions.orders import DELIVERY_QUESTIONS
from actions.validation import order_numbers_in
from knowledge.answer import AnswerPipeline
from knowledge.faq_rank import MISREAD_FAQ_SCORE, REFUND_FAQ_SCORE
from training.shopper_eval import SETS, load_shopper_eval


def main(names: str, out: Path) -> None:
    import structlog
    from rasa.core.agent import Agent

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    agent = Agent.load("models/rasa/shopbot-demo.tar.gz")
    pipeline = AnswerPipeline.from_dir("models/demo/knowledge")
    if os.environ.get("MISREAD", "1") == "0":  # only the return and refund rule
        order_questions.faq_entry_intents = dict
    report: dict[str, Any] = {"refund": REFUND_FAQ_SCORE, "misread": MISREAD_FAQ_SCORE}
    for name in names.split(","):
        directory, minimums = SETS[name]
        examples = load_shopper_eval(directory, minimums=minimums).intents
        parsed = asyncio.run(_parse(agent, [e.text for e in examples]))
        routed: Counter[str] = Counter()
        taken: Counter[str] = Counter()
        texts = []
        for example, message in zip(examples, parsed, strict=True):
            intent = message["intent"]["name"]
            if intent not in ORDER_REQUESTS and intent not in DELIVERY_QUESTIONS:
                continue
            routed[example.intent] += 1
            found = pipeline.faq_entry_asked_like(example.text)
            if intent in DELIVERY_QUESTIONS:
                taken_here = found is not None and misread(DELIVERY_QUESTIONS, *found)
            else:
                taken_here = (
                    found is not None
                    and not order_numbers_in(example.text)
                    and asked_instead(intent, *found)
                )
            if found and taken_here:
                taken[example.intent] += 1
                texts.append([example.intent, intent, found[0], round(found[1], 3), example.text])
        report[name] = {
            "messages": len(examples),
            "read_as_order_or_delivery": dict(routed),
            "taken": dict(taken),
            "taken_texts": texts,
        }
        print(name, dict(routed), dict(taken), texts, flush=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


async def _parse(agent: Any, texts: list[str]) -> list[dict[str, Any]]:
    return [await agent.parse_message(t) for t in texts]


if __name__ == "__main__":
    main(sys.argv[1], Path(os.environ.get("OUT", "requests_taken.json")))
