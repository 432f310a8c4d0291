"""Okapi BM25 over a sparse term-weight matrix, with the normalising tokenizer retrieval shares.

The BM25 weight of every (document, term) pair is precomputed once into a CSC matrix, so scoring a
query adds up one stored column per query term: about a millisecond for 25k passages on one core.

Kept over ``bm25s`` and ``rank_bm25`` after measuring them on the project's retrieval test set
(docs/benchmarks/2026-12-03/bm25-libraries.md): ``bm25s`` with this tokenizer ranks identically and
is no faster, but importing it starts JAX (installed here with Rasa's TensorFlow), adding ~2.7 CPU
seconds and ~120 MiB to every process that loads the index; ``rank_bm25`` is ~50x slower per query.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

logger = logging.getLogger(__name__)

_TOKEN_RE = re.compile(r"[a-z0-9]+")

# Function words that carry no product or policy meaning. Kept short on purpose: "not", "no", "off",
# "out" and numbers stay, because "out of stock" and "50% off" matter in a shop.
STOPWORDS: frozenset[str] = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "did", "do",
        "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it",
        "its", "me", "my", "of", "on", "or", "our", "please", "so", "than", "that", "the", "their",
        "them", "then", "there", "these", "this", "those", "to", "too", "us", "was", "we", "were",
        "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your",
    }
)  # fmt: skip


@lru_cache(maxsize=1 << 17)
def _stem(token: str) -> str:
    """Strip a plural ending ("boards" → "board", "batteries" → "battery", "boxes" → "box")."""
    if len(token) <= 3 or token.isdigit() or not token.endswith("s"):
        return token
    if token.endswith(("ss", "us", "is")):
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("sses", "xes", "zes", "ches", "shes")):
        return token[:-2]
    return token[:-1]


def tokenize(text: str, *, stopwords: frozenset[str] = STOPWORDS) -> list[str]:
    """Normalise and split text into terms.

    Lower-cases, applies NFKD and drops accents, splits on anything that is not a letter or digit
    (numbers are kept as their own terms), removes ``stopwords`` and strips plural "s".

    Args:
        text: Any text.
        stopwords: Terms to drop (pass ``frozenset()`` to keep all).

    Returns:
        The list of terms, in order.
    """
    folded = text.lower()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [_stem(tok) for tok in _TOKEN_RE.findall(folded) if tok not in stopwords]


@dataclass(frozen=True)
class BM25Config:
    """BM25 parameters.

    Args:
        k1: Term-frequency saturation (1.2 is the usual default; higher lets repeats count more).
        b: Length normalisation in [0, 1] (0.75 usual; 0 ignores document length).
    """

    k1: float = 1.2
    b: float = 0.75

    def __post_init__(self) -> None:
        if self.k1 < 0:
            raise ValueError(f"k1 must be >= 0. Currently, k1 is {self.k1}")
        if not 0.0 <= self.b <= 1.0:
            raise ValueError(f"b must be between 0 and 1. Currently, b is {self.b}")


class BM25Index:
    """Okapi BM25 scores for a fixed list of documents (row ``i`` is document ``i``).

    Build it with :meth:`build`; score with :meth:`scores` (all documents) or :meth:`top_k`.
    """

    def __init__(
        self, weights: sp.csc_matrix, vocabulary: dict[str, int], config: BM25Config
    ) -> None:
        self._weights = weights.tocsc()
        # Canonical form (sorted, unique rows per column): scores() adds columns by fancy index.
        self._weights.sum_duplicates()
        self.vocabulary = vocabulary
        self.config = config

    @property
    def num_docs(self) -> int:
        """Number of indexed documents."""
        return int(self._weights.shape[0])

    @classmethod
    def build(cls, texts: Sequence[str], config: BM25Config | None = None) -> BM25Index:
        """Tokenise ``texts`` and precompute their BM25 term weights.

        Args:
            texts: The documents, in row order.
            config: k1 and b (defaults when None).

        Returns:
            The index.
        """
        config = config or BM25Config()
        token_lists = [tokenize(text) for text in texts]
        n_docs = len(texts)
        lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=n_docs)
        vocabulary: dict[str, int] = {}
        term_ids = np.fromiter(
            (vocabulary.setdefault(tok, len(vocabulary)) for toks in token_lists for tok in toks),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        doc_ids = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        # COO → CSR sums repeated (doc, term) pairs: the term frequencies.
        tf_matrix = sp.csr_matrix(
            (np.ones(term_ids.size, dtype=np.float64), (doc_ids, term_ids)),
            shape=(n_docs, max(len(vocabulary), 1)),
        ).tocoo()
        row_arr, col_arr, tf_arr = tf_matrix.row, tf_matrix.col, tf_matrix.data
        df = np.bincount(col_arr, minlength=len(vocabulary)).astype(np.float64)
        # Lucene's idf: never negative, so a term in most documents still counts a little.
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        dl = lengths.astype(np.float64)
        avgdl = float(dl.mean()) if n_docs and dl.sum() > 0 else 1.0
        norm = config.k1 * (1.0 - config.b + config.b * dl[row_arr] / avgdl)
        values = idf[col_arr] * tf_arr * (config.k1 + 1.0) / (tf_arr + norm)
        weights = sp.csc_matrix(
            (values.astype(np.float32), (row_arr, col_arr)),
            shape=(n_docs, max(len(vocabulary), 1)),
        )
        logger.debug("BM25 built: %d docs, %d terms, avgdl %.1f", n_docs, len(vocabulary), avgdl)
        return cls(weights, vocabulary, config)

    def scores(self, query: str) -> np.ndarray:
        """Return the BM25 score of every document for ``query`` (float32, shape (num_docs,))."""
        result = np.zeros(self.num_docs, dtype=np.float32)
        indptr, indices, data = self._weights.indptr, self._weights.indices, self._weights.data
        # A term repeated in the query counts once per occurrence (query term frequency). Slicing
        # the CSC arrays directly is ~3x faster than scipy's column fancy-indexing + mat-vec.
        for term, qtf in Counter(tokenize(query)).items():
            col = self.vocabulary.get(term)
            if col is None:
                continue
            start, end = indptr[col], indptr[col + 1]
            # Rows within one column are unique, so a plain fancy += adds each weight once.
            result[indices[start:end]] += data[start:end] * np.float32(qtf)
        return result

    def top_k(
        self, query: str, k: int, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(rows, scores)`` of the ``k`` best documents with a positive score.

        Args:
            query: The query text.
            k: How many to return at most.
            mask: Optional boolean array (num_docs,); only True rows are eligible.
        """
        if k <= 0:
            raise ValueError(f"k must be greater than 0. Currently, k is {k}")
        scores = self.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0).astype(np.float32)
        return top_k_rows(scores, k, positive_only=True)

    def save(self, directory: Path) -> None:
        """Write ``bm25.npz`` (weights) and ``bm25.json`` (parameters, vocabulary) into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        sp.save_npz(directory / "bm25.npz", self._weights, compressed=False)
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        meta = {"config": asdict(self.config), "num_docs": self.num_docs, "terms": terms}
        (directory / "bm25.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        """Read an index written by :meth:`save`."""
        meta_path = directory / "bm25.json"
        if not meta_path.exists():
            raise FileNotFoundError(
                f"No BM25 index in {directory} (missing bm25.json). Rebuild it: shopbot index --rebuild"
            )
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        weights = sp.load_npz(directory / "bm25.npz").tocsc()
        vocabulary = {term: i for i, term in enumerate(meta["terms"])}
        return cls(weights, vocabulary, BM25Config(**meta["config"]))


def top_k_rows(
    scores: np.ndarray, k: int, *, positive_only: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(rows, scores)`` of the ``k`` highest scores, best first (ties by row)."""
    if positive_only:
        candidates = np.flatnonzero(scores > 0)
    else:
        candidates = np.flatnonzero(np.isfinite(scores))
    if candidates.size > k:
        part = np.argpartition(-scores[candidates], k - 1)[:k]
        candidates = candidates[part]
    order = np.lexsort((candidates, -scores[candidates]))
    rows = candidates[order]
    return rows, scores[rows].astype(np.float32)
