"""Tests for training/nlu/readers.py and the sources it reads (Bitext, hand-written YAML, catalog)."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

import yaml

from tests.unit.training.nlu.nlu_helpers import BITEXT, EXTRA_INTENTS, SOURCES, assert_spans
from training.nlu.dedup import dedup_examples
from training.nlu.placeholders import fill_placeholders
from training.nlu.readers import load_catalog_terms, read_bitext, read_handwritten
from training.nlu.writers import TOPIC_OF_INTENT
from training.prepare_nlu import BITEXT_INTENTS, HANDWRITTEN_FILES


def test_catalog_terms_from_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    lines = [
        {"id": "p1", "name": "LEGO City Fire Station 60215", "brand": "LEGO", "category": ["Toys & Games", "Building Toys"], "price": 99.99},
        {"id": "p2", "name": "Crayola 64 Count Crayons", "brand": "Crayola", "category": ["Arts & Crafts", "Crayons"], "price": 4.5},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    terms = load_catalog_terms(path)
    assert terms.names == ("LEGO City Fire Station 60215", "Crayola 64 Count Crayons")
    assert terms.category_paths[0] == ("Toys & Games", "Building Toys")


def test_handwritten_sources_cover_the_extra_intents() -> None:
    examples = [e for name in HANDWRITTEN_FILES for e in read_handwritten(SOURCES / name)]
    counts = Counter(e.intent for e in examples)
    assert set(counts) | {"product_question", "product_search"} == EXTRA_INTENTS
    assert all(count >= 40 for count in counts.values()), counts
    assert counts["out_of_scope"] >= 150
    inform = Counter(s.entity for e in examples if e.intent == "inform" for s in e.entities)
    assert inform["order_number"] >= 20 and inform["email"] >= 15
    for example in examples:
        assert_spans(example.text, example.entities)
    assert set(TOPIC_OF_INTENT) == set(BITEXT_INTENTS) | EXTRA_INTENTS


def test_regexes_match_order_numbers_not_invoice_digits() -> None:
    data = yaml.safe_load((SOURCES / "regex.yml").read_text())
    patterns = {
        block["regex"]: block["examples"].strip().removeprefix("- ").strip()
        for block in data["nlu"]
    }
    order = re.compile(patterns["order_number"])
    assert [m.group() for m in order.finditer("order #482913 and 100234, not 1234567")] == [
        "#482913",
        "100234",
    ]
    assert not order.search("invoice INV-2024-004512")
    assert re.search(patterns["invoice_number"], "invoice INV-2024-004512 please")
    email = re.compile(patterns["email"])
    found = email.search("mail maria.lopez@example.com.")
    assert found is not None and found.group() == "maria.lopez@example.com"


def test_real_bitext_file_reads_and_fills() -> None:
    rows = read_bitext(BITEXT)
    assert len(rows) == 26872
    assert set(e.intent for e in rows) == set(BITEXT_INTENTS)
    kept, stats = dedup_examples(rows)
    assert stats.duplicates_dropped >= 2237 and stats.conflict_texts == 0
    rng = random.Random(13)
    for example in kept:
        text, spans = fill_placeholders(example.text, rng)
        assert "{{" not in text
        assert_spans(text, spans)
