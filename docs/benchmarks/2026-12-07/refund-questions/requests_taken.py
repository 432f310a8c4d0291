"""Which of a set's intent messages the return/refund question path would answer from the FAQ.

Parses every intent message of the named sets with the demo Rasa model (in this process); a
message NLU reads as ``get_refund`` or ``track_refund`` that names no order and is asked like an
FAQ entry at least ``REFUND_FAQ_SCORE`` closely is "taken" (``actions.order_questions``): the FAQ
answers it and the order form does not ask. Reports, per gold intent, how many were taken, with
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

from actions.order_questions import START_BUTTONS
from actions.validation import order_numbers_in
from knowledge.answer import AnswerPipeline
from knowledge.faq_rank import REFUND_FAQ_SCORE
from training.shopper_eval import SETS, load_shopper_eval


def main(names: str, out: Path) -> None:
    import structlog
    from rasa.core.agent import Agent

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    agent = Agent.load("models/rasa/shopbot-demo.tar.gz")
    pipeline = AnswerPipeline.from_dir("models/demo/knowledge")
    report: dict[str, Any] = {"threshold": REFUND_FAQ_SCORE}
    for name in names.split(","):
        directory, minimums = SETS[name]
        examples = load_shopper_eval(directory, minimums=minimums).intents
        parsed = asyncio.run(_parse(agent, [e.text for e in examples]))
        routed: Counter[str] = Counter()
        taken: Counter[str] = Counter()
        texts = []
        for example, message in zip(examples, parsed, strict=True):
            intent = message["intent"]["name"]
            if intent not in START_BUTTONS:
                continue
            routed[example.intent] += 1
            closeness = pipeline.faq_asked_like(example.text)
            if not order_numbers_in(example.text) and closeness >= REFUND_FAQ_SCORE:
                taken[example.intent] += 1
                texts.append([example.intent, intent, round(closeness, 3), example.text])
        report[name] = {
            "messages": len(examples),
            "read_as_return_or_refund": dict(routed),
            "taken": dict(taken),
            "taken_texts": texts,
        }
        print(name, dict(routed), dict(taken), texts, flush=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


async def _parse(agent: Any, texts: list[str]) -> list[dict[str, Any]]:
    return [await agent.parse_message(t) for t in texts]


if __name__ == "__main__":
    main(sys.argv[1], Path(os.environ.get("OUT", "requests_taken.json")))
