"""Tests for training/nlu/split.py: the grouped, stratified split and the per-intent cap."""

from __future__ import annotations

import pytest

from tests.unit.training.nlu.nlu_helpers import many, planted_rows
from training.nlu.examples import NluExample
from training.nlu.groups import assign_paraphrase_groups
from training.nlu.split import cap_per_intent, split_grouped


def test_split_grouped_never_straddles_and_is_stratified() -> None:
    grouped = assign_paraphrase_groups(planted_rows(), threshold=0.7, max_group_fraction=0.2)
    for seed in range(10):
        train, test = split_grouped(grouped, 0.25, seed)
        assert len(train) + len(test) == len(grouped)
        assert not {e.group for e in train} & {e.group for e in test}
        planted = {grouped[0].text, grouped[1].text}
        sides = {("train" if e in train else "test") for e in grouped if e.text in planted}
        assert len(sides) == 1
        for intent in ("cancel_order", "track_order", "get_refund"):
            assert any(e.intent == intent for e in train)
            assert any(e.intent == intent for e in test)


def test_split_grouped_validates_fraction() -> None:
    with pytest.raises(ValueError, match="test_fraction must be in"):
        split_grouped([NluExample("a", "x", group="g")], 1.5, 0)


def test_split_grouped_hits_target_on_real_sized_intents() -> None:
    rows = [
        NluExample(f"text {i}", intent, group=f"{intent}/{i // 3:04d}")
        for intent in ("a", "b")
        for i in range(300)
    ]
    _, test = split_grouped(rows, 0.2, 13)
    for intent in ("a", "b"):
        share = sum(e.intent == intent for e in test) / 300
        assert abs(share - 0.2) < 0.02


def test_cap_spreads_over_groups() -> None:
    kept = cap_per_intent(many("greet", 200), 25, 13)
    assert len({e.group for e in kept}) == 25
