"""FAQ hits ordered by how close the shopper's question is to each entry's own question.

Shoppers ask a store's policy questions in their own words ("how long have I got to send
something back?"), which share few terms with the FAQ's. On the development set of such questions
(``tests/fixtures/shopper_eval/dev1``, 187) retrieval found the right entry among its top 3 hits
for 92% but ranked it first for only 78%: the ranking, not the recall, lost the rest. MiniLM is at
its best comparing a question with a question, and the fused score compares the question with the
whole entry (question and answer).

:class:`FaqQuestionRanker` wraps a retriever and re-orders its FAQ hits among the positions FAQ
hits hold (products keep theirs) by fused score + ``weight`` × the cosine similarity between the
shopper's question and the entry's question. Nothing else changes: the same passages, the same
per-retriever scores (the relevance gate reads the dense score, ``knowledge.answer_checks
.relevance``), so a question the store cannot answer is not pulled over the floor. The entries'
questions are embedded once, on first use (the FAQ of a store is small). Measured in
``docs/benchmarks/2026-12-06/faq-question-rank/``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from knowledge.types import Filters, Hit, Retriever

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_WEIGHT", "FaqQuestionRanker"]

DEFAULT_WEIGHT = 1.0  # dev top hit right: 0.5 → 82.4%, 1.0 → 84.0%, 2.0 → 84.0% (open questions)


class FaqQuestionRanker:
    """A retriever whose FAQ hits are ordered by their questions' closeness to the query.

    Args:
        inner: The retriever to wrap (``knowledge.retriever.HybridRetriever``); its ``index``
            gives the FAQ passages and the embedder.
        weight: Weight of the question similarity added to the fused score; 0 keeps the order.
    """

    def __init__(self, inner: Retriever, weight: float = DEFAULT_WEIGHT) -> None:
        if weight < 0:
            raise ValueError(f"weight must be at least 0. Currently, weight is {weight}.")
        self.inner = inner
        self.weight = weight
        self.index: Any = getattr(inner, "index", None)
        self._questions: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Embed the FAQ entries' questions now rather than on the first FAQ hit."""
        with self._lock:
            if self._questions is not None:
                return
            faq = [p for p in getattr(self.index, "passages", []) if p.kind == "faq" and p.title]
            vectors = self.index.embedder.embed([p.title for p in faq]) if faq else []
            self._questions = {
                p.id: np.asarray(v, dtype=np.float32) for p, v in zip(faq, vectors, strict=True)
            }
            logger.info("FAQ question ranking: %d entries, weight %.2f", len(faq), self.weight)

    def search(self, query: str, top_k: int = 5, filters: Filters | None = None) -> list[Hit]:
        """The inner hits, with the FAQ hits re-ordered among their own positions."""
        hits = self.inner.search(query, top_k, filters)
        positions = [i for i, hit in enumerate(hits) if hit.passage.kind == "faq"]
        if len(positions) < 2 or self.weight == 0 or self.index is None:
            return hits
        self.warm_up()
        assert self._questions is not None
        known = [i for i in positions if hits[i].passage.id in self._questions]
        if len(known) < 2:
            return hits
        vector = np.asarray(self.index.embedder.embed([query]), dtype=np.float32)[0]

        def key(hit: Hit) -> float:
            assert self._questions is not None
            return hit.score + self.weight * float(self._questions[hit.passage.id] @ vector)

        ordered = sorted((hits[i] for i in known), key=key, reverse=True)
        out = list(hits)
        for i, hit in zip(known, ordered, strict=True):
            out[i] = hit
        return out
