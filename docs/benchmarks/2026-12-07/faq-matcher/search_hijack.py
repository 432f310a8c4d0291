"""How many real product searches the FAQ check of ``action_search_products`` would take from the
product list: each set's ``product_search`` messages (and its product questions, which the same
check would see if NLU read them as searches), with the FAQ closeness of each.

python search_hijack.py dev,dev2,test OUT.json     # from the project root, in its .venv
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from knowledge.answer import AnswerPipeline
from knowledge.faq_rank import SEARCH_FAQ_SCORE
from training.shopper_eval import SETS, load_shopper_eval


def main(names: str, out: Path) -> None:
    pipeline = AnswerPipeline.from_dir("models/demo/knowledge")
    report: dict[str, object] = {"threshold": SEARCH_FAQ_SCORE}
    for name in names.split(","):
        directory, minimums = SETS[name]
        evalset = load_shopper_eval(directory, minimums=minimums)
        texts = [e.text for e in evalset.intents if e.intent == "product_search"]
        texts += [q.text for q in evalset.product_questions]
        scored = sorted(((pipeline.faq_asked_like(t), t) for t in texts), reverse=True)
        taken = [t for s, t in scored if s >= SEARCH_FAQ_SCORE]
        report[name] = {
            "messages": len(texts),
            "taken": taken,
            "highest": [(round(s, 3), t) for s, t in scored[:5]],
        }
        print(name, len(texts), "taken:", taken, "highest:", report[name]["highest"][:3])
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
