"""Sweep FaqQuestionRanker's weight on the development set of shoppers' FAQ questions.

python docs/benchmarks/2026-12-06/faq-question-rank/weight_sweep.py
"""

from __future__ import annotations

from knowledge.answer import AnswerPipeline
from knowledge.types import Filters
from training.eval_shopper import SETS
from training.shopper_eval import load_shopper_eval


def main() -> None:
    directory, minimums = SETS["dev"]
    questions = load_shopper_eval(directory, minimums=minimums).faq_questions
    pipeline = AnswerPipeline.from_dir("models/demo/knowledge")
    ranker = pipeline.retriever.inner  # PlaceholderFilter → FaqQuestionRanker
    for weight in (0.0, 0.5, 1.0, 2.0):
        ranker.weight = weight
        for route, filters in (("open", None), ("policy", Filters(kind="faq"))):
            right = 0
            for q in questions:
                hits = pipeline.retriever.search(q.text, pipeline.top_k, filters)
                right += bool(hits) and hits[0].passage.doc_id in q.accepted_ids
            print(f"weight {weight}: {route} top hit right {right / len(questions):.1%}")


if __name__ == "__main__":
    main()
