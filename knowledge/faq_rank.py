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

An entry that also lists the ways shoppers ask it (``also_asked``, see :mod:`knowledge.faq`) is as
close as the closest of its question and those phrasings: the store's own examples of "how long
have I got to send something back?" reach the return policy whatever words its question uses.
Measured in ``docs/benchmarks/2026-12-06/faq-phrasings/``.

Every FAQ hit also carries that closeness as its ``question`` score. The answer pipeline counts an
entry whose question or phrasings are at least :data:`QUESTION_SCORE` close as relevant even when
its passage's relevance is under the floor (``knowledge.answer_checks.asked_like``): shoppers'
short questions ("return window?") score low against a whole entry but high against the way
shoppers ask it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

import numpy as np

from knowledge.types import Filters, Hit, Retriever

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_WEIGHT", "QUESTION_SCORE", "FaqQuestionRanker"]

# Chosen on the development set (dev1, 187 FAQ questions; top hit right, open question / policy):
# without phrasings 0.5 → 81.8 / 82.9%, 1.0 → 82.4 / 84.0%; with the demo FAQ's phrasings
# 0.5 → 87.2 / 87.2%, 1.0 → 87.7 / 88.8%, 2.0 → 89.3 / 90.9%, 3.0 → 89.8 / 90.4%, 4.0 → 89.8 / 91.4%.
DEFAULT_WEIGHT = 2.0
# Chosen on the development sets: dev1's 187 FAQ questions answered from the right entry (top hit
# right and let through) 73.8% → 81.8% on both routes, while the share of dev1's and dev2's 80
# out-of-scope messages let through stayed 15.0% (0.60: 84.0%, 17.5%; 0.55: 86.6%, 22.5%).
QUESTION_SCORE = 0.65


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
        # Per FAQ passage: the unit vectors of its question and its phrasings, one per row.
        self._questions: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Embed the FAQ entries' questions (and phrasings) now rather than on the first FAQ
        hit."""
        with self._lock:
            if self._questions is not None:
                return
            faq = [p for p in getattr(self.index, "passages", []) if p.kind == "faq" and p.title]
            asked = {p.id: [p.title, *p.metadata.get("also_asked", ())] for p in faq}
            texts = [text for p in faq for text in asked[p.id]]
            vectors = np.asarray(self.index.embedder.embed(texts) if texts else [], np.float32)
            self._questions, start = {}, 0
            for passage in faq:
                end = start + len(asked[passage.id])
                self._questions[passage.id] = vectors[start:end]
                start = end
            logger.info(
                "FAQ question ranking: %d entries, %d questions and phrasings, weight %.2f",
                len(faq),
                len(texts),
                self.weight,
            )

    def _embed(self, query: str) -> np.ndarray:
        return np.asarray(self.index.embedder.embed([query]), dtype=np.float32)[0]

    def search(self, query: str, top_k: int = 5, filters: Filters | None = None) -> list[Hit]:
        """The inner hits, the FAQ hits with their ``question`` score and re-ordered among their
        own positions."""
        if self.index is None:
            return self.inner.search(query, top_k, filters)
        # The query is embedded once: a dense or hybrid retriever searches with the same vector
        # the FAQ questions are compared with.
        vector: np.ndarray | None = None
        if getattr(self.inner, "mode", "bm25") != "bm25" and hasattr(self.inner, "search_many"):
            vector = self._embed(query)
            hits = self.inner.search_many([query], top_k, filters, vector[None, :])[0]
        else:
            hits = self.inner.search(query, top_k, filters)
        if not any(hit.passage.kind == "faq" for hit in hits):
            return hits
        self.warm_up()
        assert self._questions is not None
        known = [i for i, hit in enumerate(hits) if hit.passage.id in self._questions]
        if not known:
            return hits
        if vector is None:
            vector = self._embed(query)
        hits = list(hits)
        for i in known:
            closest = float((self._questions[hits[i].passage.id] @ vector).max())
            hits[i] = replace(hits[i], scores={**hits[i].scores, "question": closest})
        if len(known) < 2 or self.weight == 0:
            return hits

        def key(hit: Hit) -> float:
            return hit.score + self.weight * hit.scores["question"]

        ordered = sorted((hits[i] for i in known), key=key, reverse=True)
        out = list(hits)
        for i, hit in zip(known, ordered, strict=True):
            out[i] = hit
        return out
