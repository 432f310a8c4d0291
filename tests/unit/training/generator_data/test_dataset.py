"""Tests for training/generator_data/dataset.py: the dataset is a pure function of store and seed."""

from __future__ import annotations

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
