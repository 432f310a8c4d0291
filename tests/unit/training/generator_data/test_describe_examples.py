"""Tests for the describe-from-attributes fine-tuning examples (builder.description_example,
facts.description_target): targets that reference what the prompt shows and expand to supported
text, held-out products kept out, nothing else moved."""

from __future__ import annotations

from pathlib import Path

from knowledge.catalog.model import Product
from knowledge.describe import DESCRIBE_INSTRUCTION, attribute_passage, describe_prompt
from knowledge.faq import read_faq_jsonl
from knowledge.references import PromptSources
from knowledge.verifier import Verifier
from tests.unit.knowledge.describe_helpers import GUILLOW_ID, demo_product, demo_products
from training.generator_data.dataset import build_dataset
from training.generator_data.facts import approx_tokens, description_target
from training.generator_data.presets import DATA_PRESETS, PROMPT_BUDGETS

FAQ = Path(__file__).resolve().parents[3] / "fixtures" / "generator" / "faq.jsonl"


def _expanded(product: Product, target: str) -> str:
    built = describe_prompt(product, PROMPT_BUDGETS["demo"], approx_tokens)
    return PromptSources.of(built).expand(target)


def test_target_references_the_attributes_the_prompt_shows() -> None:
    product = demo_product(GUILLOW_ID)
    target = description_target(product, Verifier(), PROMPT_BUDGETS["demo"], max_specs=6)
    assert target.startswith("The [[S1:name]]")
    assert "[[S1:Price]]" in target and "[[S1:Category]]" in target
    assert "[[S1:Item Weight]]" in target
    text = _expanded(product, target)
    assert text.startswith("The Guillow Airplane Design Studio")
    assert "$28.91" in text and "13.4 ounces" in text and "[[" not in text
    # One spec sentence at most when asked for one.
    short = description_target(product, Verifier(), PROMPT_BUDGETS["demo"], max_specs=1)
    assert short.count(". ") == 1


def test_targets_state_only_what_the_attributes_show() -> None:
    verifier = Verifier()
    products = demo_products()[:120]
    targets = [(p, description_target(p, verifier, PROMPT_BUDGETS["demo"])) for p in products]
    made = [(p, t) for p, t in targets if t]
    assert len(made) > len(products) * 0.9
    for product, target in made:
        text = _expanded(product, target)
        verdict = verifier.verify(text, [attribute_passage(product)], generated=True)
        assert verdict.unsupported == [], (product.id, text)
    # The longboard's description names rival brands ("Sector 9, Landyachtz") and a rider weight
    # ("120 to 170 pounds") its attributes do not: a target never states them.
    longboard = next(p for p in products if p.id.startswith("4c69b61d"))
    text = _expanded(longboard, description_target(longboard, verifier, PROMPT_BUDGETS["demo"]))
    assert "Landyachtz" not in text and "170" not in text and "$" in text


def test_examples_for_training_products_only_and_the_rest_unchanged() -> None:
    products = list(demo_products()[:60])
    faqs = read_faq_jsonl(FAQ)
    with_describe = build_dataset(products, faqs, [], preset="tiny", seed=3, describe_specs=4)
    without = build_dataset(products, faqs, [], preset="tiny", seed=3)
    assert DATA_PRESETS["tiny"].describe_specs == 0 and DATA_PRESETS["demo"].describe_specs > 0
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
