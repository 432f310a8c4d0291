"""Tests for training/nlu/catalog_examples.py: product mentions and filled product templates."""

from __future__ import annotations

import random
import re
from collections import Counter

from tests.unit.training.nlu.nlu_helpers import DEMO_CATALOG, SOURCES, assert_spans
from training.nlu.catalog_examples import generate_product_examples, short_product_mention
from training.nlu.readers import load_catalog_terms, load_product_templates
from training.prepare_nlu import PRODUCT_TEMPLATES_FILE


def test_short_product_mention_is_short_and_clean() -> None:
    rng = random.Random(0)
    terms = load_catalog_terms(DEMO_CATALOG)
    for name in terms.names[:200]:
        mention = short_product_mention(name, rng)
        assert 1 <= len(mention.split()) <= 6, (name, mention)
        assert not re.search(r"[\[\]{}\"]", mention)
        assert mention[0].isalnum() and mention[-1].isalnum(), (name, mention)


def test_product_templates_are_varied_and_fill_with_valid_spans() -> None:
    templates = load_product_templates(SOURCES / PRODUCT_TEMPLATES_FILE)
    assert set(templates) == {"product_question", "product_search"}
    assert all(len(items) >= 25 for items in templates.values())
    terms = load_catalog_terms(DEMO_CATALOG)
    examples = generate_product_examples(terms.names, terms.category_paths, templates, 120, 13)
    assert examples == generate_product_examples(
        terms.names, terms.category_paths, templates, 120, 13
    )
    for example in examples:
        assert_spans(example.text, example.entities)
        assert example.group.startswith(f"{example.intent}/t")
    entities = Counter(s.entity for e in examples for s in e.entities)
    assert entities["product"] > 50 and entities["amount"] > 20
    assert all(
        s.entity == "amount" for e in examples if e.intent == "product_search" for s in e.entities
    )
