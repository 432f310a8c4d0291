"""Paraphrase groups: near-identical templated utterances share a group, so a split cannot leak them.

Each text is normalised (:func:`paraphrase_key`) and embedded with character 3–5-gram TF-IDF; within
each intent, pairs with cosine ≥ a threshold are merged with a size-capped union-find, most similar
first (see the decisions in ``training/prepare_nlu.py``).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm import tqdm

from training.nlu.examples import NluExample
from training.nlu.placeholders import clean_placeholders

logger = logging.getLogger(__name__)

_NON_WORD_RE = re.compile(r"[^\w\s]|_")


def paraphrase_key(example: NluExample) -> str:
    """The text compared for paraphrase grouping: entities → entity names, lower case, no punctuation.

    Args:
        example: An example (raw Bitext text with placeholders, or filled text with spans).

    Returns:
        The normalised text (falls back to the lower-cased text when nothing else remains).
    """
    text = example.text
    for span in sorted(example.entities, key=lambda s: s.start, reverse=True):
        text = f"{text[: span.start]} {span.entity} {text[span.end :]}"
    text = clean_placeholders(text).lower()
    normalised = " ".join(_NON_WORD_RE.sub(" ", text).split())
    return normalised or example.text.lower()


class _UnionFind:
    """Union-find with union by size and a cap on the merged size."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int, cap: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b or self.size[root_a] + self.size[root_b] > cap:
            return
        if self.size[root_a] < self.size[root_b] or (
            self.size[root_a] == self.size[root_b] and root_b < root_a
        ):
            root_a, root_b = root_b, root_a
        self.parent[root_b] = root_a
        self.size[root_a] += self.size[root_b]


def _tfidf(texts: Sequence[str]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    return vectorizer.fit_transform(texts)


def _similar_pairs(texts: Sequence[str], threshold: float) -> list[tuple[float, int, int]]:
    """Pairs ``(similarity, i, j)`` with i < j and cosine ≥ threshold, most similar first."""
    if len(texts) < 2:
        return []
    try:
        matrix = _tfidf(texts)
    except ValueError:  # empty vocabulary: nothing to compare
        return []
    from scipy import sparse

    similarity = sparse.triu(matrix @ matrix.T, k=1).tocoo()
    keep = similarity.data >= threshold - 1e-9
    sims = np.round(similarity.data[keep], 6)
    rows, cols = similarity.row[keep], similarity.col[keep]
    order = np.lexsort((cols, rows, -sims))
    return [(float(sims[k]), int(rows[k]), int(cols[k])) for k in order]


def assign_paraphrase_groups(
    examples: Sequence[NluExample],
    threshold: float = 0.7,
    max_group_fraction: float = 0.05,
) -> list[NluExample]:
    """Give every example without a group a paraphrase group id, per intent.

    Pairs within one intent whose character n-gram TF-IDF cosine (over :func:`paraphrase_key`)
    is at least ``threshold`` are merged with union-find, most similar first; a merge that would
    make a group larger than ``max(2, ceil(max_group_fraction * n_intent))`` is refused, so
    chains of templated variants cannot swallow an intent. Examples that already have a group
    (catalog templates) keep it.

    Args:
        examples: Examples in a stable order.
        threshold: Cosine similarity at or above which two texts are paraphrases, in (0, 1].
        max_group_fraction: Largest group, as a fraction of its intent's examples, in (0, 1].

    Returns:
        The examples in input order, each with a group ``"<intent>/<nnnn>"`` (or its own).

    Raises:
        ValueError: If ``threshold`` or ``max_group_fraction`` is outside (0, 1].
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1]. Currently, threshold is {threshold}.")
    if not 0 < max_group_fraction <= 1:
        raise ValueError(
            f"max_group_fraction must be in (0, 1]. Currently, max_group_fraction is "
            f"{max_group_fraction}."
        )
    by_intent: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        if not example.group:
            by_intent[example.intent].append(index)
    groups: dict[int, str] = {}
    progress = tqdm(
        sorted(by_intent),
        desc="paraphrase groups",
        unit="intent",
        disable=not logger.isEnabledFor(logging.INFO),
    )
    for intent in progress:
        indices = by_intent[intent]
        cap = max(2, math.ceil(max_group_fraction * len(indices)))
        union_find = _UnionFind(len(indices))
        for _, i, j in _similar_pairs([paraphrase_key(examples[k]) for k in indices], threshold):
            union_find.union(i, j, cap)
        numbering: dict[int, int] = {}
        for local, index in enumerate(indices):
            root = union_find.find(local)
            numbering.setdefault(root, len(numbering))
            groups[index] = f"{intent}/{numbering[root]:04d}"
    return [
        dataclasses.replace(example, group=groups[i]) if i in groups else example
        for i, example in enumerate(examples)
    ]


def near_duplicate_rate(
    train: Sequence[NluExample], test: Sequence[NluExample], threshold: float = 0.8
) -> float:
    """Share of test rows with a same-intent train row at TF-IDF cosine ≥ ``threshold``.

    A leakage measure for the split (a random split of Bitext scores about 0.68 at 0.8).

    Args:
        train: The train split.
        test: The test split.
        threshold: Cosine similarity that counts as a near duplicate.

    Returns:
        The share in [0, 1] (0.0 when ``test`` is empty).
    """
    train_keys: dict[str, list[str]] = defaultdict(list)
    test_keys: dict[str, list[str]] = defaultdict(list)
    for row in train:
        train_keys[row.intent].append(paraphrase_key(row))
    for row in test:
        test_keys[row.intent].append(paraphrase_key(row))
    hits = 0
    for intent, keys in test_keys.items():
        if not train_keys.get(intent):
            continue
        matrix = _tfidf(train_keys[intent] + keys)
        n_train = len(train_keys[intent])
        similarity = (matrix[n_train:] @ matrix[:n_train].T).max(axis=1).toarray().ravel()
        hits += int((similarity >= threshold).sum())
    return hits / len(test) if test else 0.0
