"""Shoppers' FAQ questions answered end to end, and out-of-scope messages answered at all.

Runs the demo answer pipeline (``models/demo/knowledge``, with its FAQ matcher when
``knowledge/faq_matcher/`` exists) the way the bot does for a policy intent (FAQ only) and for
an open question (FAQ and catalog), at the open-question floor, over the FAQ questions of each
named set; counts replies whose first citation is an accepted FAQ entry ("right"), another
document ("wrong") or "I don't know" ("unknown"). It also runs each set's out-of-scope messages as
open questions and counts those that got an answer instead of "I don't know".

python faq_replies.py dev,dev3,dev2 OUT.json [--no-matcher] [--no-join]   # project root, .venv

``--no-matcher`` compares questions with the packaged MiniLM (the index's embedder) instead;
``--no-join`` never adds the entry asked most like the question to the hits.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from core.settings import Settings
from knowledge.answer import AnswerPipeline
from knowledge.types import Answer, Filters
from training.shopper_eval import SETS, FaqQuestion, load_shopper_eval


def reply_verdict(answer: Answer, question: FaqQuestion) -> str:
    """ "right" when the reply's first citation is an accepted FAQ entry, "unknown" for "I don't
    know", else "wrong"."""
    if answer.outcome == "unknown":
        return "unknown"
    cited = answer.citations[0].doc_id if answer.citations else None
    return "right" if cited in question.accepted_ids else "wrong"


def main(names: str, out: Path, flags: list[str]) -> None:
    pipeline = AnswerPipeline.from_dir("models/demo/knowledge")
    ranker = pipeline.retriever.inner  # PlaceholderFilter → FaqQuestionRanker
    if "--no-matcher" in flags:
        ranker.encoder = None
    if "--no-join" in flags:
        ranker.match_score = None
    floor = Settings().open_question_min_score
    report: dict[str, object] = {"floor": floor, "flags": flags}
    for name in names.split(","):
        directory, minimums = SETS[name]
        evalset = load_shopper_eval(directory, minimums=minimums)
        questions = evalset.faq_questions
        for route, filters in (("policy", Filters(kind="faq")), ("open", None)):
            if not questions:
                break
            counts: Counter[str] = Counter()
            misses = []
            for q in questions:
                answer = pipeline.answer(q.text, None, filters, floor)
                verdict = reply_verdict(answer, q)
                counts[verdict] += 1
                if verdict != "right":
                    cited = answer.citations[0].doc_id if answer.citations else None
                    misses.append(
                        {"text": q.text, "gold": q.faq_id, "cited": cited, "verdict": verdict}
                    )
            shares = {
                k: round(counts[k] / len(questions), 4) for k in ("right", "wrong", "unknown")
            }
            report[f"{name}/{route}"] = {"questions": len(questions), **shares, "misses": misses}
            print(name, route, shares, flush=True)
        oos = [e.text for e in evalset.intents if e.intent == "out_of_scope"]
        answered = [t for t in oos if pipeline.answer(t, None, None, floor).outcome != "unknown"]
        report[f"{name}/out_of_scope"] = {
            "messages": len(oos),
            "answered": len(answered),
            "answered_texts": answered,
        }
        print(name, "out of scope answered", f"{len(answered)}/{len(oos)}", flush=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), sys.argv[3:])
