"""Our ``knowledge/bm25.py`` against ``bm25s`` and ``rank_bm25`` on the project's retrieval test set.

Issue 10. Quality (nDCG@10, recall@5, MRR@10) is computed exactly as ``shopbot eval-retrieval``
computes it (the same readers, retrievers, fusion and metrics), with the BM25 scorer of the index
swapped for each candidate, for BM25 alone and for the hybrid (MiniLM dense + BM25, weighted
fusion, alpha 0.5). Latency is one query's ``scores`` + top-10 selection, the call the retriever
makes, tokenisation included. Every query is timed ``--repeats`` times per candidate, the
candidates in a fresh random order each time, and the query's latency is the median of its
repeats: the machine is shared, and this keeps another process's time slice out of the numbers
while a query that is slow every time stays slow. p50/p95 are then taken over the queries. Build
time (tokenising the 2,193 passages included) is the best of five builds, interleaved the same way,
in CPU seconds of this process (``time.process_time``; every candidate builds on one thread), since
wall time of a sub-second build on a shared machine mostly measures the other processes.

The two libraries are not project dependencies; install them into the venv for the measurement::

    uv pip install --python .venv/bin/python bm25s==0.3.16 rank-bm25==0.2.2
    shopbot prepare-retrieval-eval --out /tmp/h3/retrieval
    shopbot eval-retrieval --docs /tmp/h3/retrieval/docs.csv --queries /tmp/h3/retrieval/queries.csv \
        --qrels /tmp/h3/retrieval/qrels.csv --out /tmp/h3/eval-ours --index-dir /tmp/h3/index --device cpu
    HF_HUB_OFFLINE=1 .venv/bin/python docs/benchmarks/2026-12-03/bm25_libraries.py \
        --data /tmp/h3/retrieval --index /tmp/h3/index --out /tmp/h3/bm25-libraries.json
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.bm25 import BM25Config, BM25Index, tokenize, top_k_rows
from training.eval_retrieval import (
    DEPTH,
    SHALLOW,
    mean_metrics,
    query_metrics,
    ranked_docs,
    read_docs,
    read_qrels,
    read_queries,
)
from training.stats import p50_p95

OURS = BM25Config()  # k1 1.2, b 0.75: what `shopbot index` and eval-retrieval use


class Scorer:
    """What the retriever needs of ``index.bm25``: every document's score for a query."""

    def __init__(self, num_docs: int, score: Callable[[str], np.ndarray]) -> None:
        self.num_docs = num_docs
        self._score = score
        self.config = OURS

    def scores(self, query: str) -> np.ndarray:
        return np.asarray(self._score(query), dtype=np.float32)


def build_ours(texts: Sequence[str]) -> Scorer:
    index = BM25Index.build(texts, OURS)
    return Scorer(len(texts), index.scores)


class _ScipyMatvecBM25(BM25Index):
    """``BM25Index.scores`` as it was before this benchmark: scipy column fancy-index + mat-vec."""

    def scores(self, query: str) -> np.ndarray:
        counts = Counter(t for t in tokenize(query) if t in self.vocabulary)
        if not counts:
            return np.zeros(self.num_docs, dtype=np.float32)
        cols = [self.vocabulary[t] for t in counts]
        qtf = np.asarray([counts[t] for t in counts], dtype=np.float32)
        return np.asarray(self._weights[:, cols] @ qtf, dtype=np.float32).ravel()


def build_ours_before(texts: Sequence[str]) -> Scorer:
    index = _ScipyMatvecBM25.build(texts, OURS)
    return Scorer(len(texts), index.scores)


def _bm25s_scorer(retriever: Any, num_docs: int, tokens: Callable[[str], list[str]]) -> Scorer:
    def score(query: str) -> np.ndarray:
        ids = retriever.get_tokens_ids(tokens(query))
        if not ids:  # bm25s.get_scores indexes query[0]: an empty query is ours to answer
            return np.zeros(num_docs, dtype=np.float32)
        return retriever.get_scores_from_ids(ids)

    return Scorer(num_docs, score)


def build_bm25s_default(texts: Sequence[str]) -> Scorer:
    """bm25s as its README uses it: its tokenizer (lower, ``\\w\\w+``, English stopwords), k1 1.5."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(list(texts), show_progress=False), show_progress=False)

    def tokens(query: str) -> list[str]:
        return bm25s.tokenize(query, return_ids=False, show_progress=False)[0]

    return _bm25s_scorer(retriever, len(texts), tokens)


def build_bm25s_ours(texts: Sequence[str]) -> Scorer:
    """bm25s with our tokenizer and k1/b (Lucene idf, as ours)."""
    import bm25s

    retriever = bm25s.BM25(k1=OURS.k1, b=OURS.b, method="lucene")
    retriever.index([tokenize(t) for t in texts], show_progress=False)
    return _bm25s_scorer(retriever, len(texts), tokenize)


def build_rank_bm25_default(texts: Sequence[str]) -> Scorer:
    """rank_bm25 as its README uses it: ``text.split(" ")``, BM25Okapi k1 1.5, b 0.75."""
    from rank_bm25 import BM25Okapi

    model = BM25Okapi([t.split(" ") for t in texts])
    return Scorer(len(texts), lambda q: model.get_scores(q.split(" ")))


def build_rank_bm25_ours(texts: Sequence[str]) -> Scorer:
    """rank_bm25 BM25Okapi with our tokenizer and k1/b (its own idf, floored at eps * mean idf)."""
    from rank_bm25 import BM25Okapi

    model = BM25Okapi([tokenize(t) for t in texts], k1=OURS.k1, b=OURS.b)
    return Scorer(len(texts), lambda q: model.get_scores(tokenize(q)))


CANDIDATES: dict[str, Callable[[Sequence[str]], Scorer]] = {
    "ours before (scipy mat-vec)": build_ours_before,
    "ours (knowledge/bm25.py)": build_ours,
    "bm25s, library default": build_bm25s_default,
    "bm25s + our tokenizer": build_bm25s_ours,
    "rank_bm25, library default": build_rank_bm25_default,
    "rank_bm25 + our tokenizer": build_rank_bm25_ours,
}


def quality(index: Any, texts: list[str], judged: list[tuple[str, str, str]], qrels: dict) -> dict:
    from knowledge.retriever import BM25Retriever, HybridRetriever, RetrieverConfig

    config = RetrieverConfig(fusion="weighted", alpha=0.5, rrf_k=60, fetch_k=100, max_per_doc=1)
    out = {}
    for name, retriever in (
        ("bm25", BM25Retriever(index, config)),
        ("hybrid", HybridRetriever(index, config)),
    ):
        shallow = retriever.search_many(texts, top_k=SHALLOW)
        deep = retriever.search_many(texts, top_k=DEPTH)
        per_query = [
            query_metrics(ranked_docs(hits), qrels[qid], ranked_docs(deep_hits))
            for (qid, _, _), hits, deep_hits in zip(judged, shallow, deep, strict=True)
        ]
        out[name] = mean_metrics(per_query)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="prepare-retrieval-eval output folder")
    parser.add_argument("--index", required=True, help="eval-retrieval --index-dir folder")
    parser.add_argument("--out", required=True, help="JSON results file")
    parser.add_argument("--repeats", type=int, default=5, help="Timings per query and candidate")
    parser.add_argument(
        "--timing-only",
        action="store_true",
        help="Keep quality from an earlier --out file; measure build time and latency again",
    )
    args = parser.parse_args(argv)

    from knowledge.embedder import SentenceTransformerEmbedder
    from knowledge.index import KnowledgeIndex
    from training.eval_retrieval import _CachedEmbedder

    data = Path(args.data)
    passages = read_docs(data / "docs.csv")
    queries = read_queries(data / "queries.csv")
    qrels = read_qrels(data / "qrels.csv")
    judged = [q for q in queries if any(r > 0 for r in qrels.get(q[0], {}).values())]
    texts = [q[1] for q in judged]

    embedder = SentenceTransformerEmbedder(device="cpu")
    index = KnowledgeIndex.load(Path(args.index), embedder)
    if [p.id for p in index.passages] != [p.id for p in passages]:
        raise SystemExit(f"{args.index} does not hold the passages of {data / 'docs.csv'}")
    doc_texts = [p.text for p in index.passages]
    cache = Path(args.out).with_suffix(".queries.npy")
    if cache.exists():
        vectors = np.load(cache)
    else:
        vectors = embedder.embed(texts, 64)
        np.save(cache, vectors)
    index.embedder = _CachedEmbedder(embedder, texts, vectors)

    previous = json.loads(Path(args.out).read_text()) if args.timing_only else None
    results: dict[str, Any] = {}
    scorers: dict[str, Scorer] = {}
    for name, build in CANDIDATES.items():
        scorers[name] = build(doc_texts)
        if previous is not None:
            results[name] = {k: previous["results"][name][k] for k in ("bm25", "hybrid")}
            continue
        index.bm25 = scorers[name]
        results[name] = quality(index, texts, judged, qrels)
        print(name, json.dumps(results[name]), flush=True)

    rng = random.Random(0)
    names = list(scorers)
    builds: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(5):
        rng.shuffle(names)
        for name in names:
            start = time.process_time()
            CANDIDATES[name](doc_texts)
            builds[name].append(time.process_time() - start)
    for name, values in builds.items():
        results[name]["build_cpu_s"] = min(values)

    for scorer in scorers.values():  # warm-up: caches, lazy imports
        for query in texts[:50]:
            top_k_rows(scorer.scores(query), SHALLOW, positive_only=True)
    timings = {name: np.zeros((len(texts), args.repeats)) for name in names}
    for row, query in enumerate(texts):
        for rep in range(args.repeats):
            rng.shuffle(names)
            for name in names:
                start = time.perf_counter()
                top_k_rows(scorers[name].scores(query), SHALLOW, positive_only=True)
                timings[name][row, rep] = (time.perf_counter() - start) * 1000.0
    for name, values in timings.items():
        p50, p95 = p50_p95(np.median(values, axis=1).tolist())
        results[name].update({"query_ms_p50": p50, "query_ms_p95": p95})

    from importlib.metadata import version

    import bm25s
    import rank_bm25  # noqa: F401  (version below)

    report = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": version("scipy"),
            "bm25s": bm25s.__version__,
            "rank_bm25": version("rank-bm25"),
        },
        "data": {"passages": len(doc_texts), "queries": len(texts)},
        "results": results,
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
