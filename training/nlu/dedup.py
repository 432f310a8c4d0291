"""Dedup of NLU examples: exact repeats within an intent, and texts found under several intents.

Texts are compared after lower-casing and collapsing whitespace. Repeats within one intent keep the
first occurrence; a text under two or more intents keeps the majority label (counted over raw rows)
and drops the other copies; on a tie every copy is dropped, since no label can be trusted.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from training.nlu.examples import NluExample

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DedupStats:
    """What :func:`dedup_examples` removed.

    Attributes:
        rows_in: Examples before dedup.
        duplicates_dropped: Repeats of a text within the same intent.
        conflict_texts: Distinct texts found under two or more intents.
        conflict_rows_dropped: Rows dropped to resolve those conflicts (minority labels and ties).
        conflict_ties: Conflicting texts dropped entirely because no label had a majority.
    """

    rows_in: int
    duplicates_dropped: int
    conflict_texts: int
    conflict_rows_dropped: int
    conflict_ties: int


def _dedup_key(text: str) -> str:
    return " ".join(text.lower().split())


def dedup_examples(examples: Sequence[NluExample]) -> tuple[list[NluExample], DedupStats]:
    """Drop exact duplicates (case- and whitespace-insensitive) and resolve cross-intent conflicts.

    Within an intent the first occurrence is kept. A text under several intents keeps the
    majority label (by raw row count); on a tie all copies are dropped.

    Args:
        examples: Examples in a stable order.

    Returns:
        The kept examples in input order, and what was dropped.
    """
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for example in examples:
        counts[_dedup_key(example.text)][example.intent] += 1
    winner: dict[str, str | None] = {}
    conflict_texts = conflict_rows = ties = 0
    for key, labels in counts.items():
        if len(labels) == 1:
            winner[key] = next(iter(labels))
            continue
        conflict_texts += 1
        ranked = labels.most_common()
        if ranked[0][1] == ranked[1][1]:
            winner[key] = None
            ties += 1
            conflict_rows += len(labels)
        else:
            winner[key] = ranked[0][0]
            conflict_rows += len(labels) - 1
    kept: list[NluExample] = []
    seen: set[str] = set()
    duplicates = 0
    for example in examples:
        key = _dedup_key(example.text)
        if winner[key] != example.intent:
            continue
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        kept.append(example)
    stats = DedupStats(len(examples), duplicates, conflict_texts, conflict_rows, ties)
    if conflict_texts:
        logger.warning(
            "%d texts appear under several intents: kept the majority label, dropped %d "
            "distinct copies (%d texts tied and were dropped entirely).",
            conflict_texts,
            conflict_rows,
            ties,
        )
    return kept, stats
