"""Counterfactual copies of fine-tuning examples: renamed products, new prices, consistent."""

from __future__ import annotations

import random
import re
from pathlib import Path

from knowledge.catalog.jsonl import read_catalog_jsonl
from knowledge.passages import product_passages
from knowledge.prompt import build_prompt
from knowledge.types import Passage
from training.counterfactual import counterfactual_copies
from training.generator_data.records import QAExample

CATALOG = Path(__file__).resolve().parents[2] / "fixtures" / "generator" / "catalog.jsonl"


def _store() -> tuple[dict[str, Passage], list[str]]:
    passages: dict[str, Passage] = {}
    doc_ids: list[str] = []
    for product in read_catalog_jsonl(CATALOG):
        doc_ids.append(product.id)
        for passage in product_passages(product):
            passages[passage.id] = passage
    return passages, doc_ids


def _price_example(passages: dict[str, Passage], doc_id: str, other: str) -> QAExample:
    header = next(p for p in passages.values() if p.doc_id == doc_id)
    price = re.search(r"\$[\d,]+\.\d{2}", header.text)
    assert price is not None
    title = header.title
    return QAExample(
        id="price-1",
        kind="price",
        question=f"How much is the {title}?",
        answer=f"[S1] {title} — Price: {price.group(0)}.",
        passage_ids=[header.id, next(p.id for p in passages.values() if p.doc_id == other)],
        history=[],
        doc_id=doc_id,
        expected=price.group(0),
    )


def test_a_copy_renames_the_product_and_its_price_everywhere_at_once() -> None:
    passages, doc_ids = _store()
    original = _price_example(passages, doc_ids[0], doc_ids[1])
    copies, new_passages = counterfactual_copies([original], passages, random.Random(3), 1.0)
    assert len(copies) == 1
    copy = copies[0]
    all_passages = {**passages, **new_passages}
    prompt = build_prompt(copy.question, [all_passages[i] for i in copy.passage_ids]).text

    assert copy.expected != original.expected  # a new price...
    assert copy.expected in copy.answer and copy.expected in prompt  # ...stated in the source
    assert original.expected not in prompt
    # The product is renamed in the question, the answer and the source alike.
    assert copy.question != original.question
    name = copy.answer.removeprefix("[S1] ").split(" — ")[0]
    assert name in copy.question and name in prompt
    # The distractor is shared, untouched; the renamed document is a new document.
    assert copy.passage_ids[1] == original.passage_ids[1]
    assert copy.doc_id != original.doc_id
    assert all(all_passages[i].doc_id == copy.doc_id for i in copy.passage_ids[:1])
    # The original passages are not modified.
    assert original.expected in passages[original.passage_ids[0]].text


def test_only_product_facts_are_copied_and_the_fraction_is_honoured() -> None:
    passages, doc_ids = _store()
    price = _price_example(passages, doc_ids[0], doc_ids[1])
    faq = QAExample(
        id="faq-1",
        kind="faq",
        question="What is your return policy?",
        answer="[S1] 30 days.",
        passage_ids=[price.passage_ids[1]],
        history=[],
        doc_id=doc_ids[1],
        expected="30 days",
    )
    refusal = QAExample(
        id="unknown-1",
        kind="unknown",
        question="What colour is it?",
        answer="I don't have that information.",
        passage_ids=price.passage_ids,
        history=[],
        doc_id="",
        expected="",
    )
    copies, _ = counterfactual_copies([faq, refusal, price], passages, random.Random(0), 1.0)
    assert [c.id for c in copies] == ["price-1~cf"]
    none, extra = counterfactual_copies([price] * 50, passages, random.Random(0), 0.0)
    assert none == [] and extra == {}
    half, _ = counterfactual_copies([price] * 200, passages, random.Random(0), 0.5)
    assert 70 <= len(half) <= 130
