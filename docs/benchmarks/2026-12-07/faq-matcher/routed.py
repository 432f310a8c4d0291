"""FAQ questions as the running bot routes them: NLU first, then the route the rules take.

Parses each FAQ question of the named sets with the demo Rasa model (in this process), then:
a policy intent → the answer pipeline on the FAQ (open-question floor); out of scope or NLU
fallback → the pipeline on FAQ and catalog (same floor); ``product_question`` → the pipeline at
its general floor; ``product_search`` asked like an FAQ entry (``SEARCH_FAQ_SCORE``, as
``action_search_products`` does) → the pipeline on the FAQ; an order request naming no order
that ``actions.order_questions`` answers from the FAQ when the order form starts (a return or
refund request at ``REFUND_FAQ_SCORE``, any request at ``MISREAD_FAQ_SCORE`` from an entry NLU
reads as another intent, and a delivery question misread that way, as the delivery actions do;
``REFUND=0`` leaves all out, ``MISREAD=0`` all but the first) → the pipeline on the FAQ; any other
intent → "misrouted" (a form, a product list, a fixed response or an action answering from the
store's settings, not the FAQ). Counts replies citing an accepted FAQ entry. Measurement only.

OUT=routed.json python routed.py dev,dev3      # from the project root, in its .venv
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
sys.path.insert(0, str(Path(__file__).resolve().parent))  # faq_replies, beside this script

from faq_replies import reply_verdict

from actions import order_questions
from actions.order_questions import ORDER_REQUESTS, asked_instead, misread
from actions.orders import DELIVERY_QUESTIONS
from actions.validation import order_numbers_in
from core.settings import Settings
from knowledge.answer import AnswerPipeline
from knowledge.faq_rank import SEARCH_FAQ_SCORE
from knowledge.types import Filters
from training.shopper_eval import SETS, FaqQuestion, load_shopper_eval

# The intents whose rules run action_answer_policy (bot/data/rules).
POLICY = {
    "check_payment_methods",
    "check_refund_policy",
    "create_account",
    "edit_account",
    "newsletter_subscription",
    "place_order",
    "recover_password",
    "registration_problems",
    "set_up_shipping_address",
    "switch_account",
}


def faq_like(pipeline: AnswerPipeline, intent: str, text: str, refund_questions: bool) -> bool:
    """A product search, or an order request naming no order, asked like an FAQ entry."""
    if intent == "product_search":
        return pipeline.faq_asked_like(text) >= SEARCH_FAQ_SCORE
    if refund_questions and intent in ORDER_REQUESTS and not order_numbers_in(text):
        found = pipeline.faq_entry_asked_like(text)
        return found is not None and asked_instead(intent, *found)
    if refund_questions and intent in DELIVERY_QUESTIONS:
        found = pipeline.faq_entry_asked_like(text)
        return found is not None and misread(DELIVERY_QUESTIONS, *found)
    return False


async def parse_all(agent: Any, questions: tuple[FaqQuestion, ...]) -> list[dict[str, Any]]:
    return [await agent.parse_message(q.text) for q in questions]


def main(names: str, out: Path) -> None:
    import structlog
    from rasa.core.agent import Agent

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    agent = Agent.load("models/rasa/shopbot-demo.tar.gz")
    pipeline = AnswerPipeline.from_dir("models/demo/knowledge")
    floor = Settings().open_question_min_score
    refund_questions = os.environ.get("REFUND", "1") != "0"
    if os.environ.get("MISREAD", "1") == "0":  # only the return and refund rule
        order_questions.faq_entry_intents = dict
    report: dict[str, Any] = {}
    for name in names.split(","):
        directory, minimums = SETS[name]
        questions = load_shopper_eval(directory, minimums=minimums).faq_questions
        parsed = asyncio.run(parse_all(agent, questions))
        verdicts: Counter[str] = Counter()
        misrouted: Counter[str] = Counter()
        rows = []
        for q, message in zip(questions, parsed, strict=True):
            intent = message["intent"]["name"]
            route: tuple[Filters | None, float] | None = None
            if intent in POLICY:
                route = (Filters(kind="faq"), floor)
            elif intent in ("out_of_scope", "nlu_fallback"):
                route = (None, floor)
            elif intent == "product_question":
                route = (None, 0.3)
            elif faq_like(pipeline, intent, q.text, refund_questions):
                route = (Filters(kind="faq"), floor)
            if route is None:
                verdict = "misrouted"
                misrouted[intent] += 1
            else:
                verdict = reply_verdict(pipeline.answer(q.text, None, *route), q)
            verdicts[verdict] += 1
            rows.append({"text": q.text, "gold": q.faq_id, "intent": intent, "verdict": verdict})
        shares = {k: round(verdicts[k] / len(questions), 4) for k in sorted(verdicts)}
        report[name] = {"questions": len(questions), **shares, "misrouted_intents": misrouted}
        report[f"{name}/rows"] = rows
        print(name, shares, misrouted.most_common(), flush=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], Path(os.environ.get("OUT", "routed.json")))
