"""What the FAQ matcher costs a search: the ranker's ``search`` over dev3's FAQ questions (open
question, FAQ and catalog), with and without the matcher, one after the other, 3 rounds each.

python search_latency.py OUT.json     # from the project root, in its .venv
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from knowledge.answer import AnswerPipeline
from training.shopper_eval import SETS, load_shopper_eval


def main(out: Path) -> None:
    pipeline = AnswerPipeline.from_dir("models/demo/knowledge")
    pipeline.warm_up()
    ranker = pipeline.retriever.inner
    matcher = ranker.encoder
    directory, minimums = SETS["dev3"]
    questions = [q.text for q in load_shopper_eval(directory, minimums=minimums).faq_questions]
    report: dict[str, object] = {"machine": platform.processor() or platform.machine()}
    times: dict[str, list[float]] = {"matcher": [], "index embedder": []}
    for _ in range(3):
        for name, encoder in (("matcher", matcher), ("index embedder", None)):
            ranker.encoder, ranker._matrix = encoder, None
            ranker.warm_up()
            for q in questions:
                started = time.perf_counter()
                pipeline.retriever.search(q, pipeline.top_k, None)
                times[name].append((time.perf_counter() - started) * 1000)
    for name, values in times.items():
        report[name] = {
            "searches": len(values),
            "p50_ms": round(float(np.percentile(values, 50)), 2),
            "p95_ms": round(float(np.percentile(values, 95)), 2),
        }
        print(name, report[name], flush=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
