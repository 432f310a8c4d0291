"""Tests for training/nlu/groups.py: paraphrase groups join planted paraphrases, capped."""

from __future__ import annotations

from collections import Counter

from tests.unit.training.nlu.nlu_helpers import planted_rows
from training.nlu.examples import NluExample
from training.nlu.groups import assign_paraphrase_groups


def test_groups_join_planted_paraphrases_and_respect_the_cap() -> None:
    grouped = assign_paraphrase_groups(planted_rows(), threshold=0.7, max_group_fraction=0.2)
    assert grouped[0].group == grouped[1].group
    assert grouped[0].group.startswith("cancel_order/")
    sizes = Counter(e.group for e in grouped)
    per_intent = Counter(e.intent for e in grouped)
    for group, size in sizes.items():
        assert size <= max(2, -(-per_intent[group.split("/")[0]] * 20 // 100))
    assert len({e.group for e in grouped if e.intent == "track_order"}) > 1


def test_groups_keep_preassigned_groups() -> None:
    rows = [NluExample("a b c", "x", group="x/t00"), NluExample("a b c d", "x")]
    assert assign_paraphrase_groups(rows)[0].group == "x/t00"
