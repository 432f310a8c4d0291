"""Tests for knowledge/describe.py: the attribute prompt, the template baseline and the
verification gate (with a scripted generator double), on the demo catalog's products."""

from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge.describe import (
    DESCRIBE_INSTRUCTION,
    Describer,
    attribute_passage,
    attribute_specs,
    describe_prompt,
    template_description,
)
from knowledge.prompt import ANSWER, QUESTION, SOURCES, PromptBudget
from knowledge.verifier import Verifier
from tests.unit.knowledge.answer_doubles import ScriptedGenerator
from tests.unit.knowledge.describe_helpers import demo_product, demo_products

FAITHFUL = (
    "The Guillow Airplane Design Studio by Guillow is a model kit for builders 8 years and up. "
    "Experiment with different designs and learn about flight."
)


def test_attribute_passage_holds_the_attributes_and_nothing_else() -> None:
    product = replace(demo_product(), stock=7)  # availability must stay out even when known
    passage = attribute_passage(product)
    assert passage.doc_id == product.id and passage.kind == "product"
    assert passage.text.splitlines()[:4] == [
        "Guillow Airplane Design Studio with Travel Case Building Kit",
        "Brand: Guillow",
        "Category: Toys & Games > Hobbies > Models & Model Kits > Model Kits > Airplane & Jet Kits",
        "Price: $28.91",
    ]
    assert "Item Weight: 13.4 ounces" in passage.text
    assert "stock" not in passage.text.lower() and "Availability" not in passage.text
    assert "balsa" not in passage.text.lower()  # the description is what is being written
    assert "ASIN" not in passage.text and "ASIN" in product.specs  # an identifier, no attribute


def test_prompt_is_the_answer_format_with_the_task_prefix() -> None:
    built = describe_prompt(demo_product())
    assert built.text.startswith(f"{SOURCES}\n<|source|>[S1] Guillow Airplane Design Studio")
    assert built.text.endswith(f"{QUESTION}\n{DESCRIBE_INSTRUCTION}\n{ANSWER}")
    assert "Price: $28.91" in built.text
    assert [p.id for p in built.passages] == [f"p:{demo_product().id}#attributes"]
    # A small budget cuts the specs, never the title or the task prefix.
    small = describe_prompt(
        demo_product(),
        PromptBudget(
            max_prompt_tokens=60, max_source_tokens=20, max_question_tokens=16, max_history_tokens=8
        ),
    )
    assert DESCRIBE_INSTRUCTION in small.text and "Guillow Airplane" in small.text
    assert len(small.text) < len(built.text)


def test_template_fills_the_fixed_sentence_with_the_attributes() -> None:
    text = template_description(demo_product())
    assert text.startswith(
        "The Guillow Airplane Design Studio with Travel Case Building Kit by Guillow is a "
        "Airplane & Jet Kits priced at $28.91. "
    )
    assert "Product Dimensions: 3.5 x 6.2 x 13 inches; Item Weight: 13.4 ounces" in text
    assert "ASIN" not in text and "B076Y2SNHM" not in text and "shipped" not in text
    assert "ASIN" not in attribute_specs(demo_product())


def test_template_is_supported_by_the_attributes_for_the_demo_catalog() -> None:
    verifier = Verifier()
    products = demo_products()[:150]
    bad = [
        (p.id, problems)
        for p in products
        if (
            problems := verifier.verify(
                template_description(p), [attribute_passage(p)], generated=False
            ).unsupported
        )
    ]
    assert len(bad) <= 2, bad  # the verifier's name heuristic may trip on an odd title


def test_the_one_source_gets_the_whole_prompt_so_a_long_title_leaves_room_for_the_specs() -> None:
    # The demo generator's answer budget: 120 tokens for the top source of 200.
    budget = PromptBudget(200, 56, 40, 32, 120)
    longest = max(demo_products(), key=lambda p: len(p.name))
    built = describe_prompt(longest, budget, lambda text: len(text.split()))
    assert "Price: $" in built.text and "Specs: " in built.text


def test_references_expand_to_the_attributes_and_a_sentence_that_cannot_is_dropped() -> None:
    draft = (
        "The [[S1:name]] costs [[S1:Price]] and is listed under [[S1:Category]]. "
        "Its colour is [[S1:Color]]. It weighs [[S1:Item Weight]]. The recommended age is [[S1:Ma"
    )
    row = Describer(ScriptedGenerator(draft)).describe(demo_product())
    assert row.status == "accepted", row.unsupported
    assert row.description == (
        "The Guillow Airplane Design Studio costs $28.91 and is listed under Model Kits > "
        "Airplane & Jet Kits. It weighs 13.4 ounces."
    )


def test_a_faithful_draft_is_accepted() -> None:
    generator = ScriptedGenerator(FAITHFUL)
    row = Describer(generator).describe(demo_product())
    assert row.status == "accepted" and row.source == "generator"
    assert row.description == FAITHFUL and row.unsupported == []
    assert DESCRIBE_INSTRUCTION in generator.prompts[0]
    assert row.to_dict()["product_id"] == demo_product().id


@pytest.mark.parametrize(
    ("draft", "problem"),
    [
        ("The Guillow Airplane Design Studio costs $19.99 and flies far.", "price $19.99"),
        ("The Guillow Airplane Design Studio by Revell is a fun model kit to build.", "Revell"),
        ("The Guillow Airplane Design Studio weighs 2 pounds and is easy to build.", "2 pounds"),
        ("The Guillow Airplane Design Studio comes with a full refund guarantee.", "refund"),
        (".", "too short"),
        ("11111111111111111111", "11111111111111111111"),  # what an undertrained model writes
        ("", "empty draft"),
    ],
)
def test_a_draft_with_an_unsupported_fact_is_never_accepted(draft: str, problem: str) -> None:
    row = Describer(ScriptedGenerator(draft)).describe(demo_product())
    assert row.status == "rejected"
    assert row.description == "" and row.source == ""
    assert row.draft == draft.strip()
    assert any(problem in p for p in row.unsupported), row.unsupported


def test_fallback_writes_the_template_marked_as_such() -> None:
    draft = "The Guillow Airplane Design Studio costs $19.99."
    row = Describer(ScriptedGenerator(draft), fallback="template").describe(demo_product())
    assert row.status == "template" and row.source == "template"
    assert row.description == template_description(demo_product())
    assert row.draft == draft and row.unsupported  # the rejected draft stays for review


def test_citation_tags_are_removed_from_drafts() -> None:
    row = Describer(ScriptedGenerator(f"[S1] {FAITHFUL}")).describe(demo_product())
    assert row.status == "accepted" and row.description == FAITHFUL


def test_invalid_settings_name_the_value() -> None:
    with pytest.raises(ValueError, match="fallback is 'maybe'"):
        Describer(ScriptedGenerator(""), fallback="maybe")
    with pytest.raises(ValueError, match="max_new_tokens is 0"):
        Describer(ScriptedGenerator(""), max_new_tokens=0)
