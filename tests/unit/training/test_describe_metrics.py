"""Tests for training/describe_metrics.py on known values (hand-computed)."""

from __future__ import annotations

import pytest

from tests.unit.knowledge.describe_helpers import demo_product
from training.describe_metrics import (
    attribute_coverage,
    distinct_n,
    lcs_length,
    mentions,
    product_attributes,
    rouge_l,
)


def test_lcs_length() -> None:
    assert lcs_length(["a", "b", "c", "d"], ["a", "c", "d"]) == 3
    assert lcs_length(["a", "b", "c"], ["c", "b", "a"]) == 1
    assert lcs_length([], ["a"]) == 0
    assert lcs_length(["a", "x", "b", "y", "c"], ["a", "b", "c"]) == 3


def test_rouge_l_known_values() -> None:
    # Lin (2004): reference "police killed the gunman"; candidate "police kill the gunman":
    # LCS 3 ("police the gunman"), P = R = 3/4 → F1 0.75.
    assert rouge_l("police kill the gunman", "police killed the gunman") == pytest.approx(0.75)
    # "the gunman kill police": LCS 2 ("the gunman") → 0.5.
    assert rouge_l("the gunman kill police", "police killed the gunman") == pytest.approx(0.5)
    # Unequal lengths: candidate 2 tokens, reference 4, LCS 2 → P 1, R 0.5, F1 2/3.
    assert rouge_l("Great kit!", "a great KIT for kids") == pytest.approx(2 * 1.0 * 0.4 / 1.4)
    assert rouge_l("same words", "same words") == 1.0
    assert rouge_l("", "anything") == 0.0
    assert rouge_l("nothing shared", "other text") == 0.0


def test_distinct_2_is_corpus_level() -> None:
    # "a b c" → (a b), (b c); "a b d" → (a b), (b d): 3 unique of 4.
    assert distinct_n(["a b c", "a b d"]) == pytest.approx(0.75)
    assert distinct_n(["same text here", "same text here"]) == pytest.approx(0.5)
    assert distinct_n(["one"]) == 0.0  # no bigram
    assert distinct_n(["a b a b"], n=1) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="n is 0"):
        distinct_n(["a b"], n=0)


def test_attributes_of_a_demo_product() -> None:
    attributes = product_attributes(demo_product())
    assert attributes["name"] == "Guillow Airplane Design"
    assert attributes["brand"] == "Guillow"
    assert attributes["category"] == "Airplane & Jet Kits"
    assert attributes["price"] == "$28.91"
    assert attributes["spec:Item Weight"] == "13.4 ounces"
    assert not any("ASIN" in k or ("Shipping" in k and "Weight" not in k) for k in attributes)


def test_mentions_and_coverage() -> None:
    assert mentions("It weighs 13.4 ounces.", "13.4 ounces")
    assert not mentions("It weighs 13 ounces.", "13.4 ounces")
    assert not mentions("a 28.91 kit", "$8.91")  # whole tokens, not substrings
    attributes = {"brand": "Guillow", "price": "$28.91", "spec:Item Weight": "13.4 ounces"}
    assert attribute_coverage("Guillow's kit for $28.91.", attributes) == pytest.approx(2 / 3)
    assert attribute_coverage("", attributes) == 0.0
    assert attribute_coverage("anything", {}) == 0.0
