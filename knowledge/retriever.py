"""Dense, BM25 and hybrid retrieval over a :class:`~knowledge.index.KnowledgeIndex`, with filters.

Every retriever implements ``knowledge.types.Retriever``. The hybrid one over-fetches ``fetch_k``
candidates from each side, scores the union exactly on both sides (a dot product against the
stored vectors, a lookup in the BM25 score array) and fuses:

- ``weighted`` (default): ``alpha * minmax(dense) + (1 - alpha) * minmax(bm25)`` over the
  candidate pool, ``alpha = 0.5`` for product passages and ``faq_alpha = 0.8`` for FAQ passages
  (shoppers reword policy questions, they name products with the catalog's words).
- ``rrf``: reciprocal-rank fusion ``1/(rrf_k + rank_dense) + 1/(rrf_k + rank_bm25)``.

Chosen by measurement on a development query set (``prepare_retrieval_eval --seed 7``, 1,523
queries over the demo catalog + FAQ, MiniLM): nDCG@10 weighted 0.967 at alpha 0.5 (0.962-0.967
over alpha 0.3-0.7) vs RRF 0.951-0.955 (k 10-100), BM25 alone 0.946, dense alone 0.864. RRF only
sees ranks, so it cannot tell a near-tie from a landslide; here one side is often very sure (BM25
on a rare product word, dense on a reworded FAQ question) and the score margins carry that.
``fetch_k`` 50-200 made no difference (0.9665-0.9666); 100 is the default. See
``docs/decisions/005-retrieval-index-and-fusion.md``.

Metadata filters (category substring on the category path, price range, stock, kind) are applied
before ranking, never after truncation: BM25 scores every passage anyway so the mask is exact;
the dense side over-fetches from FAISS in proportion to the filter's selectivity and falls back to
an exact scan of the matching rows when the filter is narrow or the over-fetch came back short. So
a filtered query returns ``top_k`` hits whenever at least ``top_k`` passages match.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

from knowledge.bm25 import top_k_rows
from knowledge.index import KnowledgeIndex
from knowledge.types import Embedder, Filters, Hit

logger = logging.getLogger(__name__)

FUSIONS: tuple[str, ...] = ("rrf", "weighted")
Mode = Literal["dense", "bm25", "hybrid"]


@dataclass(frozen=True)
class RetrieverConfig:
    """Retrieval knobs.

    Args:
        fusion: ``rrf`` or ``weighted`` (hybrid only).
        alpha: Dense weight of ``weighted`` fusion, in [0, 1].
        faq_alpha: Dense weight of ``weighted`` fusion for FAQ passages (None: ``alpha``). Shoppers
            ask policy questions in their own words, which share few terms with the FAQ's, while
            they name products by the catalog's own words: on shoppers' FAQ questions (the
            development set ``tests/fixtures/shopper_eval/dev1``, 187) the best hit was the right
            entry for 58% at 0.5 and 80% at 0.8, with the templated set's product nDCG@10 within
            0.002 (decision 005).
        rrf_k: The constant of reciprocal-rank fusion (60 in the original paper).
        fetch_k: Candidates fetched from each retriever before fusion (at least ``top_k``).
        exact_scan_max: Filtered subsets up to this many passages are scanned exactly.
        max_per_doc: At most this many passages of one product/FAQ in the results (None: no cap).
    """

    fusion: str = "weighted"
    alpha: float = 0.5
    faq_alpha: float | None = 0.8
    rrf_k: int = 60
    fetch_k: int = 100
    exact_scan_max: int = 20_000
    max_per_doc: int | None = None

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise ValueError(
                f"fusion must be one of {', '.join(FUSIONS)}. Currently, fusion is {self.fusion!r}"
            )
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must be between 0 and 1. Currently, alpha is {self.alpha}")
        if self.faq_alpha is not None and not 0.0 <= self.faq_alpha <= 1.0:
            raise ValueError(
                f"faq_alpha must be between 0 and 1 or None. Currently, faq_alpha is "
                f"{self.faq_alpha}"
            )
        for name in ("rrf_k", "fetch_k"):
            if getattr(self, name) <= 0:
                raise ValueError(
                    f"{name} must be greater than 0. Currently, {name} is {getattr(self, name)}"
                )
        if self.exact_scan_max < 0:
            raise ValueError(
                f"exact_scan_max must be >= 0. Currently, exact_scan_max is {self.exact_scan_max}"
            )
        if self.max_per_doc is not None and self.max_per_doc <= 0:
            raise ValueError(
                f"max_per_doc must be greater than 0 or None. Currently, max_per_doc is {self.max_per_doc}"
            )


class MetadataTable:
    """Column arrays of the passages' filterable metadata, for vectorised filtering."""

    def __init__(self, index: KnowledgeIndex) -> None:
        passages = index.passages
        self.size = len(passages)
        self.is_product = np.array([p.kind == "product" for p in passages], dtype=bool)
        self.price = np.array(
            [_as_float(p.metadata.get("price")) for p in passages], dtype=np.float64
        )
        self.in_stock = np.array(
            [_as_stock(p.metadata.get("in_stock")) for p in passages], dtype=np.int8
        )
        self.category = [
            " > ".join(str(c) for c in p.metadata.get("category") or ()).lower() for p in passages
        ]
        self._category_masks: dict[str, np.ndarray] = {}

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Return a boolean mask of passages satisfying ``filters`` (None when unconstrained).

        A constraint on a field a passage lacks (price or stock of an FAQ entry) excludes it.
        """
        if filters is None or filters == Filters():
            return None
        mask = np.ones(self.size, dtype=bool)
        if filters.kind is not None:
            mask &= self.is_product if filters.kind == "product" else ~self.is_product
        with np.errstate(invalid="ignore"):
            if filters.min_price is not None:
                mask &= self.price >= filters.min_price
            if filters.max_price is not None:
                mask &= self.price <= filters.max_price
        if filters.in_stock is not None:
            mask &= self.in_stock == (1 if filters.in_stock else 0)
        if filters.category:
            mask &= self._category_mask(filters.category.strip().lower())
        return mask

    def _category_mask(self, needle: str) -> np.ndarray:
        cached = self._category_masks.get(needle)
        if cached is None:
            cached = np.array([needle in c for c in self.category], dtype=bool)
            if len(self._category_masks) > 256:
                self._category_masks.clear()
            self._category_masks[needle] = cached
        return cached


def _as_float(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return math.nan


def _as_stock(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    return -1


def validate_filters(filters: Filters | None) -> None:
    """Raise ValueError for contradictory or negative price filters."""
    if filters is None:
        return
    for name in ("min_price", "max_price"):
        value = getattr(filters, name)
        if value is not None and value < 0:
            raise ValueError(f"{name} must be >= 0. Currently, {name} is {value}")
    if (
        filters.min_price is not None
        and filters.max_price is not None
        and filters.min_price > filters.max_price
    ):
        raise ValueError(
            f"min_price must not exceed max_price. Currently, min_price is {filters.min_price} "
            f"and max_price is {filters.max_price}; swap them."
        )


class _BaseRetriever:
    """Shared candidate generation, filtering and fusion; subclasses pick the mode."""

    mode: Mode = "hybrid"

    def __init__(self, index: KnowledgeIndex, config: RetrieverConfig | None = None) -> None:
        self.index = index
        self.config = config or RetrieverConfig()
        self.metadata = MetadataTable(index)
        logger.debug("%s config: %s", type(self).__name__, self.config)

    # ------------------------------------------------------------------------------ public API

    def search(self, query: str, top_k: int = 5, filters: Filters | None = None) -> list[Hit]:
        """Return up to ``top_k`` hits for ``query``, best first, satisfying ``filters``."""
        return self.search_many([query], top_k, filters)[0]

    def search_many(
        self,
        queries: Sequence[str],
        top_k: int = 5,
        filters: Filters | None = None,
        vectors: np.ndarray | None = None,
    ) -> list[list[Hit]]:
        """Like :meth:`search` for several queries, embedding them in one batch; ``vectors``
        (one row per query, from this index's embedder) when the caller has them already."""
        if top_k <= 0:
            raise ValueError(f"top_k must be greater than 0. Currently, top_k is {top_k}")
        validate_filters(filters)
        if not queries:
            return []
        mask = self.metadata.mask(filters)
        if mask is not None and not mask.any():
            return [[] for _ in queries]
        qvecs = None
        if self.mode != "bm25":
            qvecs = vectors if vectors is not None else self.index.embedder.embed(list(queries))
        results = []
        for i, query in enumerate(queries):
            qvec = qvecs[i] if qvecs is not None else None
            results.append(self._search_one(query, qvec, top_k, mask))
        return results

    # -------------------------------------------------------------------------------- internals

    def _fetch_k(self, top_k: int) -> int:
        fetch = max(self.config.fetch_k, top_k)
        if self.config.max_per_doc is not None:
            # Several passages per document collapse into one hit: fetch more to fill top_k.
            fetch = max(fetch, top_k * 3)
        return fetch

    def _dense_candidates(
        self, qvec: np.ndarray, k: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.index)
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        if mask is None:
            scores, rows = self.index.vector_index.search(qvec[None, :], min(k, n))
            keep = rows[0] >= 0
            return rows[0][keep].astype(np.int64), scores[0][keep]
        n_match = int(mask.sum())
        wanted = min(k, n_match)
        if n_match > self.config.exact_scan_max:
            # Over-fetch in proportion to selectivity (x2 margin), then keep matching rows.
            fetch = min(n, math.ceil(k * n / n_match * 2))
            scores, rows = self.index.vector_index.search(qvec[None, :], fetch)
            keep = (rows[0] >= 0) & mask[np.clip(rows[0], 0, None)]
            if int(keep.sum()) >= wanted:
                return rows[0][keep][:k].astype(np.int64), scores[0][keep][:k]
            logger.debug("Filtered over-fetch short (%d < %d): exact scan", keep.sum(), wanted)
        subset = np.flatnonzero(mask)
        sub_scores = np.asarray(self.index.vectors[subset] @ qvec, dtype=np.float32)
        top, top_scores = top_k_rows(sub_scores, wanted)
        return subset[top], top_scores

    def _search_one(
        self, query: str, qvec: np.ndarray | None, top_k: int, mask: np.ndarray | None
    ) -> list[Hit]:
        fetch = self._fetch_k(top_k)
        bm25_all: np.ndarray | None = None
        if self.mode != "dense":
            bm25_all = self.index.bm25.scores(query)
            if mask is not None:
                bm25_all = np.where(mask, bm25_all, 0.0).astype(np.float32)

        if self.mode == "dense":
            assert qvec is not None
            rows, dense = self._dense_candidates(qvec, fetch, mask)
            fused = dense.astype(np.float64)
            return self._hits(rows, fused, {"dense": dense}, top_k)
        if self.mode == "bm25":
            assert bm25_all is not None
            rows, scores = top_k_rows(bm25_all, fetch, positive_only=True)
            return self._hits(rows, scores.astype(np.float64), {"bm25": scores}, top_k)

        assert qvec is not None and bm25_all is not None
        dense_rows, _ = self._dense_candidates(qvec, fetch, mask)
        bm25_rows, _ = top_k_rows(bm25_all, fetch, positive_only=True)
        pool = np.union1d(dense_rows, bm25_rows)
        if pool.size == 0:
            return []
        dense = np.asarray(self.index.vectors[pool] @ qvec, dtype=np.float32)
        sparse = bm25_all[pool]
        fused = self._fuse(dense, sparse, ~self.metadata.is_product[pool])
        return self._hits(pool, fused, {"dense": dense, "bm25": sparse}, top_k)

    def _fuse(self, dense: np.ndarray, sparse: np.ndarray, is_faq: np.ndarray) -> np.ndarray:
        if self.config.fusion == "rrf":
            k = self.config.rrf_k
            dense_rank = _ranks(dense)
            sparse_rank = _ranks(sparse)
            fused = 1.0 / (k + dense_rank)
            fused += np.where(sparse > 0, 1.0 / (k + sparse_rank), 0.0)
            return fused
        alpha = np.full(dense.shape, self.config.alpha)
        if self.config.faq_alpha is not None:
            alpha[is_faq] = self.config.faq_alpha
        return alpha * _minmax(dense) + (1.0 - alpha) * _minmax(sparse)

    def _hits(
        self,
        rows: np.ndarray,
        fused: np.ndarray,
        parts: dict[str, np.ndarray],
        top_k: int,
    ) -> list[Hit]:
        order = np.lexsort((rows, -fused))
        per_doc: dict[str, int] = {}
        cap = self.config.max_per_doc
        hits: list[Hit] = []
        for j in order:
            passage = self.index.passages[int(rows[j])]
            if cap is not None:
                if per_doc.get(passage.doc_id, 0) >= cap:
                    continue
                per_doc[passage.doc_id] = per_doc.get(passage.doc_id, 0) + 1
            scores = {name: float(values[j]) for name, values in parts.items()}
            scores[self.mode if self.mode != "hybrid" else self.config.fusion] = float(fused[j])
            hits.append(Hit(passage=passage, score=float(fused[j]), scores=scores))
            if len(hits) == top_k:
                break
        return hits


def _ranks(scores: np.ndarray) -> np.ndarray:
    """1-based ranks, best (highest) first; ties share the order of appearance."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def _minmax(scores: np.ndarray) -> np.ndarray:
    scores = scores.astype(np.float64)
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-12:
        return np.ones_like(scores) if high > 0 else np.zeros_like(scores)
    return (scores - low) / (high - low)


class DenseRetriever(_BaseRetriever):
    """Embedding similarity only (FAISS, exact rescoring of filtered subsets)."""

    mode: Mode = "dense"


class BM25Retriever(_BaseRetriever):
    """BM25 only."""

    mode: Mode = "bm25"


class HybridRetriever(_BaseRetriever):
    """Dense + BM25 candidates, fused by reciprocal rank (default) or a min-max weighted sum.

    Args:
        index: The knowledge index (passages, vectors, FAISS, BM25, embedder).
        config: Fusion and candidate settings; ``fusion`` and ``alpha`` may also be given directly.
        fusion: Shortcut overriding ``config.fusion``.
        alpha: Shortcut overriding ``config.alpha``.
    """

    mode: Mode = "hybrid"

    def __init__(
        self,
        index: KnowledgeIndex,
        config: RetrieverConfig | None = None,
        *,
        fusion: str | None = None,
        alpha: float | None = None,
    ) -> None:
        config = config or RetrieverConfig()
        if fusion is not None:
            config = replace(config, fusion=fusion)
        if alpha is not None:
            config = replace(config, alpha=alpha)
        super().__init__(index, config)


def open_retriever(
    directory: Path | str,
    embedder: Embedder | None = None,
    config: RetrieverConfig | None = None,
) -> HybridRetriever:
    """Load the index in ``directory`` and return a hybrid retriever over it.

    Args:
        directory: A knowledge index directory (``models/knowledge/index``).
        embedder: The query embedder; None uses the packaged MiniLM in the configured variant
            (``SHOPBOT_EMBEDDER_VARIANT``). It must match the index manifest, else
            :class:`~knowledge.index.IndexMismatchError` is raised.
        config: Retrieval settings (defaults when None).
    """
    if embedder is None:
        from knowledge.embedder import make_embedder

        embedder = make_embedder()
    return HybridRetriever(KnowledgeIndex.load(directory, embedder), config)


# ------------------------------------------------------------------------------ parse_filters

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"
_PRE = r"(?:\$|us\$|usd\s?)"
_POST = r"(?:\s?(?:dollars?|bucks|usd)\b|\$)"
# An amount with an optional currency marker; groups: pre, num, k, post.
_AMT = rf"(?:{_PRE}\s?)?(?:{_NUM})(?:k\b)?(?:{_POST})?"
_MAX_WORDS = (
    r"under|below|less than|lower than|cheaper than|no more than|not more than|at most|up to|"
    r"max(?:imum)?|within|<=?"
)
_MIN_WORDS = r"over|above|more than|greater than|higher than|at least|min(?:imum)?|starting at|>=?"
_BETWEEN_RE = re.compile(
    rf"\b(?:between|from)\s+(?P<a>{_AMT})\s*(?:and|to|-|–)\s*(?P<b>{_AMT})", re.IGNORECASE
)
_RANGE_RE = re.compile(
    rf"(?<![\w$])(?P<a>{_PRE}\s?(?:{_NUM})(?:k\b)?)\s*(?:-|–|to)\s*(?P<b>{_AMT})", re.IGNORECASE
)
_MAX_RE = re.compile(rf"(?:\b|(?<=\s)|^)(?:{_MAX_WORDS})\s*(?P<a>{_AMT})", re.IGNORECASE)
_MIN_RE = re.compile(rf"(?:\b|(?<=\s)|^)(?:{_MIN_WORDS})\s*(?P<a>{_AMT})", re.IGNORECASE)
_MAX_SUFFIX_RE = re.compile(
    rf"(?P<a>{_PRE}\s?(?:{_NUM})(?:k\b)?|(?:{_NUM})(?:k\b)?{_POST})\s+"
    r"(?:or less|or under|or cheaper|and under|and below|max)\b",
    re.IGNORECASE,
)
_MIN_SUFFIX_RE = re.compile(
    rf"(?P<a>{_PRE}\s?(?:{_NUM})(?:k\b)?|(?:{_NUM})(?:k\b)?{_POST})\s*"
    r"(?:\+|or more|and up|and above|or above|plus)(?!\w)",
    re.IGNORECASE,
)
_STOCK_RE = re.compile(
    r"\b(?:(?:that\s+(?:is|are)\s+|which\s+(?:is|are)\s+)?(?:currently\s+)?in[\s-]stock|"
    r"available now|ready to ship)\b",
    re.IGNORECASE,
)
# A bare number ("under 5") is not a price when a unit follows or an age/person word precedes.
_UNIT_AFTER_RE = re.compile(
    r"^\s*(?:years?|yrs?|y/?o|months?|mos?|weeks?|days?|hours?|hrs?|minutes?|mins?|lbs?|pounds?|"
    r"kg|g|grams?|oz|ounces?|inch(?:es)?|in\b|\"|cm|mm|m\b|ft|feet|foot|pieces?|pcs|pc|pack|"
    r"gb|tb|mb|ml|l\b|liters?|litres?|watts?|w\b|mah|players?|people|persons?|kids?|%|percent)",
    re.IGNORECASE,
)
_AGE_BEFORE_RE = re.compile(
    r"(?:kids?|children|child|toddlers?|bab(?:y|ies)|boys?|girls?|ages?|aged|teens?|"
    r"infants?|players?|people)\s*$",
    re.IGNORECASE,
)
_CONNECTOR_BEFORE_RE = re.compile(
    r"(?:\b(?:that|which)\s+(?:are|is|costs?)\s*|\b(?:priced|costing|costs?|prices?|for|at|"
    r"with a price|with prices?|and|budget(?: of| is)?)\s*)$",
    re.IGNORECASE,
)


def _amount(text: str) -> float:
    match = re.search(_NUM, text)
    assert match is not None
    value = float(match.group(0).replace(",", ""))
    if re.search(rf"(?:{_NUM})k\b", text, re.IGNORECASE):
        value *= 1000
    return value


def _has_currency(text: str) -> bool:
    return bool(re.search(rf"{_PRE}|{_POST}", text, re.IGNORECASE))


def _is_price(query: str, match: re.Match[str], amount_text: str) -> bool:
    if _has_currency(match.group(0)):
        return True
    if _UNIT_AFTER_RE.match(query[match.end() :]):
        return False
    if amount_text.endswith("k") or amount_text.endswith("K"):
        return True
    return not _AGE_BEFORE_RE.search(query[: match.start()])


def parse_filters(query: str) -> tuple[str, Filters]:
    """Extract price and stock constraints from shopper text.

    Understands "under $100", "below 50 dollars", "less than 30 bucks", "between $20 and $40",
    "$20-$40", "over $200", "$50 or more", "$100+", "in stock". A number without a currency
    marker counts as a price unless a unit follows ("under 5 years", "over 100 pieces") or an
    age/person word precedes ("kids under 5").

    Args:
        query: The shopper's message.

    Returns:
        ``(clean_query, filters)``: the text with the constraints (and the connector words before
        them, like "that are" or "priced") removed, and the parsed ``Filters``.
    """
    spans: list[tuple[int, int]] = []
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool | None = None

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in spans)

    for match in _BETWEEN_RE.finditer(query):
        if not free(*match.span()) or not _is_price(query, match, match.group("b")):
            continue
        low, high = sorted((_amount(match.group("a")), _amount(match.group("b"))))
        min_price, max_price = low, high
        spans.append(match.span())
    for match in _RANGE_RE.finditer(query):
        if free(*match.span()):
            low, high = sorted((_amount(match.group("a")), _amount(match.group("b"))))
            min_price, max_price = low, high
            spans.append(match.span())
    for pattern, is_max in (
        (_MAX_SUFFIX_RE, True),
        (_MIN_SUFFIX_RE, False),
        (_MAX_RE, True),
        (_MIN_RE, False),
    ):
        for match in pattern.finditer(query):
            if not free(*match.span()) or not _is_price(query, match, match.group("a")):
                continue
            if is_max:
                max_price = _amount(match.group("a"))
            else:
                min_price = _amount(match.group("a"))
            spans.append(match.span())
    for match in _STOCK_RE.finditer(query):
        if free(*match.span()):
            in_stock = True
            spans.append(match.span())

    clean = query
    for start, end in sorted(spans, reverse=True):
        before = clean[:start]
        connector = _CONNECTOR_BEFORE_RE.search(before)
        if connector:
            before = before[: connector.start()]
        clean = before + " " + clean[end:]
    clean = re.sub(r"\s+", " ", clean)
    clean = re.sub(r"\s+([,.?!])", r"\1", clean).strip(" ,;:-")
    filters = Filters(min_price=min_price, max_price=max_price, in_stock=in_stock)
    return clean, filters
