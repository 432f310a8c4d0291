"""BM25: the tokenizer, scores against the textbook formula, masks, persistence, speed."""

from __future__ import annotations

import math
import random
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from knowledge.bm25 import BM25Config, BM25Index, tokenize

DOCS = [
    "Wooden jigsaw puzzle with 500 pieces",
    "Plush teddy bear, soft and cuddly",
    "Remote control car with rechargeable batteries",
    "Puzzle mat for jigsaw puzzles up to 1500 pieces",
    "Teddy bear costume for kids",
]


def test_tokenize_normalises_and_stems() -> None:
    assert tokenize("Café BOXES, 3 Batteries & glasses!") == [
        "cafe",
        "box",
        "3",
        "battery",
        "glass",
    ]
    assert tokenize('The 41" longboards are in stock') == ["41", "longboard", "stock"]
    assert tokenize("bus campus") == ["bus", "campus"]
    assert tokenize("how do I return it", stopwords=frozenset()) == [
        "how", "do", "i", "return", "it",
    ]  # fmt: skip


def reference_bm25(docs: list[str], query: str, k1: float, b: float) -> list[float]:
    tokenised = [tokenize(d) for d in docs]
    avgdl = sum(map(len, tokenised)) / len(docs)
    n = len(docs)
    scores = []
    for tokens in tokenised:
        tf = Counter(tokens)
        score = 0.0
        for term in tokenize(query):
            df = sum(1 for t in tokenised if term in t)
            if not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            f = tf[term]
            score += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * len(tokens) / avgdl))
        scores.append(score)
    return scores


@pytest.mark.parametrize("k1,b", [(1.2, 0.75), (2.0, 0.0), (0.5, 1.0)])
def test_scores_match_the_textbook_formula(k1: float, b: float) -> None:
    index = BM25Index.build(DOCS, BM25Config(k1=k1, b=b))
    for query in ("jigsaw puzzle pieces", "teddy bear", "batteries", "bear teddy bear"):
        expected = reference_bm25(DOCS, query, k1, b)
        assert np.allclose(index.scores(query), expected, atol=1e-5)


def test_top_k_ranks_and_masks() -> None:
    index = BM25Index.build(DOCS)
    rows, scores = index.top_k("teddy bear costume", 3)
    assert rows[0] == 4 and list(rows) == [4, 1]  # only docs sharing a term are returned
    assert scores[0] > scores[1] > 0
    mask = np.array([True, True, True, True, False])
    rows, _ = index.top_k("teddy bear costume", 3, mask=mask)
    assert list(rows) == [1]
    assert index.top_k("unknown words", 3)[0].size == 0
    with pytest.raises(ValueError, match=re.escape("k must be greater than 0. Currently, k is 0")):
        index.top_k("bear", 0)


def test_config_is_validated() -> None:
    with pytest.raises(
        ValueError, match=re.escape("b must be between 0 and 1. Currently, b is 1.5")
    ):
        BM25Config(b=1.5)
    with pytest.raises(ValueError, match="k1 is -1"):
        BM25Config(k1=-1)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    index = BM25Index.build(DOCS, BM25Config(k1=1.5, b=0.6))
    index.save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    assert loaded.config == index.config
    assert np.array_equal(loaded.scores("jigsaw puzzle"), index.scores("jigsaw puzzle"))
    with pytest.raises(FileNotFoundError, match="shopbot index --rebuild"):
        BM25Index.load(tmp_path / "missing")


def test_scales_to_a_large_catalog() -> None:
    rng = random.Random(0)
    vocab = [f"term{i}" for i in range(5000)]
    docs = [" ".join(rng.choices(vocab, k=40)) for _ in range(12_500)]
    start = time.perf_counter()
    index = BM25Index.build(docs)
    build = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(20):
        index.top_k("term1 term22 term333 term4444", 10)
    per_query = (time.perf_counter() - start) / 20
    assert build < 20 and per_query < 0.05, (build, per_query)
