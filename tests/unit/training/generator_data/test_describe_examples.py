"""Tests for the describe-from-attributes fine-tuning examples (builder.description_example,
facts.description_target): faithful targets, held-out products kept out, nothing else moved."""

from __future__ import annotations

from pathlib import Path

from knowledge.describe import DESCRIBE_INSTRUCTION, attribute_passage
from knowledge.faq import read_faq_jsonl
from knowledge.verifier import Verifier
from tests.unit.knowledge.describe_helpers import GUILLOW_ID, demo_product, demo_products
from training.generator_data.dataset import build_dataset
from training.generator_data.facts import description_target
from training.generator_data.presets import DATA_PRESETS

FAQ = Path(__file__).resolve().parents[3] / "fixtures" / "generator" / "faq.jsonl"


def test_target_is_a_lead_and_the_supported_sentences_of_the_real_description() -> None:
    product = demo_product(GUILLOW_ID)
    target = description_target(product, attribute_passage(product), Verifier(), max_words=24)
    assert target.startswith("The Guillow Airplane Design Studio (Airplane & Jet Kits). ")
    body = target.split(". ", 1)[1]
    assert body and body.split(". ")[0].rstrip(".") in product.description
    assert len(target.split()) <= 24


def test_targets_state_only_what_the_attributes_show() -> None:
    verifier = Verifier()
    products = demo_products()[:120]
    targets = [(p, description_target(p, attribute_passage(p), verifier, 24)) for p in products]
    made = [(p, t) for p, t in targets if t]
    assert len(made) > len(products) // 2
    for product, target in made:
        verdict = verifier.verify(target, [attribute_passage(product)], generated=True)
        assert verdict.unsupported == [], (product.id, target)
    # The longboard's description names rival brands ("Sector 9, Landyachtz") and a rider weight
    # ("120 to 170 pounds") its attributes do not: none of that is ever a target.
    longboard = next(p for p in products if p.id.startswith("4c69b61d"))
    target = description_target(longboard, attribute_passage(longboard), verifier, 60)
    assert target and "Landyachtz" not in target and "170" not in target


def test_examples_for_training_products_only_and_the_rest_unchanged() -> None:
    products = list(demo_products()[:60])
    faqs = read_faq_jsonl(FAQ)
    with_describe = build_dataset(products, faqs, [], preset="tiny", seed=3, describe_words=14)
    without = build_dataset(products, faqs, [], preset="tiny", seed=3)
    assert DATA_PRESETS["tiny"].describe_words == 0 and DATA_PRESETS["demo"].describe_words > 0
    written = [e for e in with_describe.train + with_describe.valid if e.id.startswith("write-")]
    held = set(with_describe.split["held_out_products"])
    assert written and all(e.kind == "describe" for e in written)
    assert all(e.question == DESCRIBE_INSTRUCTION and e.doc_id not in held for e in written)
    assert all(e.passage_ids == [f"p:{e.doc_id}#attributes"] for e in written)
    assert all(pid in with_describe.passages for e in written for pid in e.passage_ids)
    others = [e for e in with_describe.train + with_describe.valid if e not in written]
    assert [(e.id, e.answer) for e in others] == [
        (e.id, e.answer) for e in without.train + without.valid
    ]
    assert with_describe.eval_questions == without.eval_questions
    assert with_describe.split == without.split
