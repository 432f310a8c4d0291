"""Tests for training/generator_data/dataset.py: the dataset is a pure function of store and seed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from knowledge.catalog.jsonl import read_catalog_jsonl
from knowledge.faq import read_faq_jsonl
from training.generator_data.dataset import build_dataset

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "generator"
CATALOG = FIXTURES / "catalog.jsonl"
FAQ = FIXTURES / "faq.jsonl"


def test_preparation_is_deterministic() -> None:
    products, faqs = read_catalog_jsonl(CATALOG), read_faq_jsonl(FAQ)
    first = build_dataset(products, faqs, [], preset="demo", seed=5)
    second = build_dataset(products, faqs, [], preset="demo", seed=5)
    assert [(e.question, e.answer, e.passage_ids) for e in first.train] == [
        (e.question, e.answer, e.passage_ids) for e in second.train
    ]
    kinds = {e.kind for e in first.train}
    assert {"price", "brand", "category", "spec", "stock", "faq", "unknown", "injection"} <= kinds
    refusal = next(e for e in first.train if e.kind == "unknown")
    assert "human agent" in refusal.answer


def test_unknown_availability_is_never_taught_as_a_fact() -> None:
    # The demo catalog's export has no stock column: the generator must learn "I don't know"
    # for availability questions, never an "in stock" it could not have read anywhere.
    products = [replace(p, stock=None) for p in read_catalog_jsonl(CATALOG)]
    dataset = build_dataset(products, read_faq_jsonl(FAQ), [], preset="demo", seed=5)
    assert not [e for e in dataset.train if e.kind == "stock"]
    assert not [e for e in dataset.train if "in stock" in e.answer.lower()]
    assert any(
        e.kind == "unknown" and "stock" in e.question.lower() and "human agent" in e.answer
        for e in dataset.train
    )
    assert not [q for q in dataset.eval_questions if q.type == "stock"]
    off_topic = 6  # the fixed off-topic questions; the rest ask about a product's availability
    assert sum(q.type == "unknown" for q in dataset.eval_questions) > off_topic
