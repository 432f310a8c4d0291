"""Shoppers' FAQ questions answered end to end: does the reply cite the right FAQ entry?

Runs the demo answer pipeline (``models/demo/knowledge``) the way the bot does for a policy intent
(FAQ only, ``Filters(kind="faq")``) and for an open question (FAQ and catalog), both with the
open-question floor (``SHOPBOT_OPEN_QUESTION_MIN_SCORE``), over the shopper FAQ questions of one
set, and counts replies whose first citation is an accepted FAQ entry ("right"), replies that
cite another document ("wrong") and "I don't know" replies ("unknown").

python faq_answers.py dev|test OUT.json     # from the project root, in its .venv
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from core.settings import Settings
from knowledge.answer import AnswerPipeline
from knowledge.types import Filters
from training.shopper_eval import SETS, load_shopper_eval


def main(which: str, out: Path) -> None:
    directory, minimums = SETS[which]
    questions = load_shopper_eval(directory, minimums=minimums).faq_questions
    pipeline = AnswerPipeline.from_dir("models/demo/knowledge")
    floor = Settings().open_question_min_score
    report: dict[str, object] = {"set": which, "questions": len(questions), "floor": floor}
    for route, filters in (("policy", Filters(kind="faq")), ("open", None)):
        counts: Counter[str] = Counter()
        misses = []
        for q in questions:
            answer = pipeline.answer(q.text, None, filters, floor)
            cited = answer.citations[0].doc_id if answer.citations else None
            verdict = (
                "unknown"
                if answer.outcome == "unknown"
                else ("right" if cited in q.accepted_ids else "wrong")
            )
            counts[verdict] += 1
            if verdict != "right":
                misses.append(
                    {"text": q.text, "gold": q.faq_id, "cited": cited, "verdict": verdict}
                )
        report[route] = {k: counts[k] / len(questions) for k in ("right", "wrong", "unknown")}
        report[f"{route}_misses"] = misses
        print(route, {k: round(v, 3) for k, v in report[route].items()}, flush=True)  # type: ignore[union-attr]
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
