"""FAQ entries offered when the bot does not know: how often the right one is offered.

Runs the demo answer pipeline the way the bot does (policy route: FAQ only; open route: FAQ and
catalog, at the open-question floor) over each named set's FAQ questions, and for every reply
that is "I don't know" asks ``knowledge.faq_suggest.suggest`` for up to two entries at several
closeness floors: "offered right" when an accepted entry is among them. Out-of-scope messages
that get "I don't know" on the open route count as "offered any" when any entry is offered
(noise: nothing in the FAQ answers them).

python suggestions.py dev,dev3,dev2 OUT.json   # project root, .venv
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from core.settings import Settings
from knowledge.answer import AnswerPipeline
from knowledge.faq_suggest import SUGGESTIONS, suggest
from knowledge.types import Filters
from training.shopper_eval import SETS, load_shopper_eval

FLOORS = (0.4, 0.45, 0.5, 0.55, 0.6)


def main(names: str, out: Path) -> None:
    pipeline = AnswerPipeline.from_dir("models/demo/knowledge")
    chain = pipeline._retriever_chain()
    floor = Settings().open_question_min_score
    report: dict[str, object] = {"floors": FLOORS, "k": SUGGESTIONS}
    for name in names.split(","):
        directory, minimums = SETS[name]
        evalset = load_shopper_eval(directory, minimums=minimums)
        for route, filters in (("policy", Filters(kind="faq")), ("open", None)):
            unknown = []
            for q in evalset.faq_questions:
                if pipeline.answer(q.text, None, filters, floor).outcome == "unknown":
                    unknown.append(q)
            if not evalset.faq_questions:
                break
            rows = {}
            for f in FLOORS:
                right = sum(
                    any(e in q.accepted_ids for e, _ in suggest(chain, q.text, SUGGESTIONS, f))
                    for q in unknown
                )
                rows[str(f)] = {"offered_right": right}
            report[f"{name}/{route}"] = {
                "questions": len(evalset.faq_questions),
                "unknown": len(unknown),
                "by_floor": rows,
            }
            print(name, route, len(evalset.faq_questions), len(unknown), rows, flush=True)
        oos = [e.text for e in evalset.intents if e.intent == "out_of_scope"]
        unknown_oos = [t for t in oos if pipeline.answer(t, None, None, floor).outcome == "unknown"]
        rows = {}
        for f in FLOORS:
            offered = [t for t in unknown_oos if suggest(chain, t, SUGGESTIONS, f)]
            rows[str(f)] = {"offered_any": len(offered), "texts": offered}
        report[f"{name}/out_of_scope"] = {
            "messages": len(oos),
            "unknown": len(unknown_oos),
            "by_floor": rows,
        }
        print(
            name, "oos", len(oos), len(unknown_oos), {f: r["offered_any"] for f, r in rows.items()}
        )
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
