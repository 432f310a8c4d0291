"""Re-ask eval-answers' product questions in phrasings written after all tuning (a one-off check).

The held-out questions of ``var/generator/demo/eval_questions.jsonl`` keep their product, fact and
expected answer; each is re-worded with one of the templates of ``phrasings_eval_v2.yml`` (written
by a helper that saw neither the evaluation set nor the held-out phrasings, after the changes
measured in this folder were made), and each product asked about gets an availability question
(its data does not say: "I don't know" is the right answer). FAQ and off-topic questions are left
out (no new wordings).

    python docs/benchmarks/2026-12-05/generator-round2/make_questions.py > /tmp/v2.jsonl
    shopbot eval-answers --preset demo --questions /tmp/v2.jsonl --out /tmp/ea_v2

Another set of templates (the same keys) re-words the same questions under its own seed::

    python docs/benchmarks/2026-12-05/generator-round2/make_questions.py \
        docs/benchmarks/2026-12-06/generator-round3/phrasings_eval_v3.yml v3 > /tmp/v3.jsonl
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import yaml

from knowledge.catalog.jsonl import read_catalog_jsonl
from knowledge.prompt import sanitize
from training.generator_data.facts import question_name, spec_question_key

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else HERE / "phrasings_eval_v2.yml"
    seed = argv[1] if len(argv) > 1 else "v2"
    templates = yaml.safe_load(path.read_text(encoding="utf-8"))
    products = {p.id: p for p in read_catalog_jsonl(ROOT / "var/store/catalog.jsonl")}
    questions = [
        json.loads(line)
        for line in (ROOT / "var/generator/demo/eval_questions.jsonl").read_text().splitlines()
    ]
    asked: list[str] = []
    for q in questions:
        if q["type"] not in ("price", "brand", "category", "spec"):
            continue
        rng = random.Random(f"{seed}:{q['id']}")
        product = products[q["doc_id"]]
        spec = ""
        if q["type"] == "spec":
            key = next(k for k, v in product.specs.items() if sanitize(v) == q["expected"])
            spec = spec_question_key(key, rng)
        template = rng.choice(templates[q["type"]])
        text = template.format(name=question_name(product, rng), spec=spec)
        print(json.dumps({**q, "question": text, "split": "unseen"}, ensure_ascii=False))
        if product.id not in asked:
            asked.append(product.id)
    # Availability of the same products: their data does not say, so "I don't know" is right.
    for i, product_id in enumerate(asked):
        product = products[product_id]
        if product.in_stock is not None:
            continue
        rng = random.Random(f"{seed}:stock:{product_id}")
        text = rng.choice(templates["stock"]).format(name=question_name(product, rng), spec="")
        record = {"id": f"{seed}-stock-{i:03d}", "type": "unknown", "question": text, "doc_id": "",
                  "expected": "", "split": "unseen", "history": []}  # fmt: skip
        print(json.dumps(record, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
