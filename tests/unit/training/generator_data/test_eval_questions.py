"""Tests for the held-out evaluation questions of the generator's data (dataset._eval_questions)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from knowledge.faq import read_faq_jsonl
from tests.unit.knowledge.describe_helpers import demo_products
from training.generator_data import builder, dataset, facts, phrasings
from training.generator_data.dataset import build_dataset

FAQ = Path(__file__).resolve().parents[3] / "fixtures" / "generator" / "faq.jsonl"


def test_more_training_phrasings_move_no_evaluation_question(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each evaluation question has its own random generator: adding training phrasings changes
    the training examples, never which product, fact or held-out wording an evaluation asks."""
    products = list(demo_products()[:60])
    faqs = read_faq_jsonl(FAQ)
    before = build_dataset(products, faqs, [], preset="tiny", seed=3)
    base = phrasings.load_phrasings()
    templates = {
        kind: dataclasses.replace(
            t, train=(*t.train, "so, the {name}: {spec}?" if kind == "spec" else "so, the {name}?")
        )
        for kind, t in base.templates.items()
    }
    more = dataclasses.replace(base, templates=templates)
    for module in (builder, dataset, facts):
        monkeypatch.setattr(module, "load_phrasings", lambda *a, **k: more)
    after = build_dataset(products, faqs, [], preset="tiny", seed=3)
    assert [(e.id, e.answer) for e in after.train] != [(e.id, e.answer) for e in before.train]
    key = [(q.id, q.type, q.doc_id, q.expected, q.split) for q in before.eval_questions]
    assert [(q.id, q.type, q.doc_id, q.expected, q.split) for q in after.eval_questions] == key
    unseen = [(q.id, q.question) for q in before.eval_questions if q.split == "unseen"]
    assert [(q.id, q.question) for q in after.eval_questions if q.split == "unseen"] == unseen
