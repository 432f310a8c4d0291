"""``shopbot eval-retrieval``: dense vs BM25 vs hybrid retrieval on a docs/queries/qrels set.

Inputs (CSV with a header row):

- ``--docs``: ``id,text`` and optionally ``doc_id`` (rows sharing a ``doc_id`` are passages of one
  document; without it each row is a document, chunked when longer than 120 words) and ``title``
  (shown in ``misses.csv``).
- ``--queries``: ``id,text`` and optionally ``group`` (metrics are also reported per group).
- ``--qrels``: ``query_id,doc_id,relevance`` (relevance > 0 is relevant; graded gains count in nDCG).

Metrics are computed per document (a document's best passage is its rank): nDCG@10, recall@5,
recall@10 and MRR@10 from a top-10 search (the production candidate pool), recall@100 from a
separate top-100 search. Prints a table and writes
``metrics.json`` (and ``misses.csv``: queries whose relevant document the hybrid retriever did not
rank in its top 5) into ``--out``.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from knowledge.retriever import FUSIONS, RetrieverConfig
from knowledge.types import Embedder, Hit, Passage
from training.cli_args import (
    embed_batch_size_field,
    embedder_device_field,
    embedder_max_seq_length_field,
    embedder_model_field,
    embedder_variant_field,
    exit_code,
    parse_args,
)

logger = logging.getLogger(__name__)

DEPTH = 100
METRIC_NAMES = ("ndcg@10", "recall@5", "recall@10", "recall@100", "mrr@10")
SHALLOW = 10


class EvalDataError(ValueError):
    """An evaluation CSV is malformed (the message names the file, the problem and the fix)."""


@dataclass
class EvalRetrievalArgs:
    """Arguments of ``shopbot eval-retrieval``."""

    docs: str = field(metadata={"help": "Documents CSV: id,text[,doc_id,title,kind]."})
    queries: str = field(metadata={"help": "Queries CSV: id,text[,group]."})
    qrels: str = field(metadata={"help": "Relevance CSV: query_id,doc_id,relevance."})
    out: str = field(
        default="var/eval/retrieval/results",
        metadata={"help": "Folder for metrics.json and misses.csv."},
    )
    model: str | None = embedder_model_field()
    variant: str | None = embedder_variant_field()
    max_seq_length: int | None = embedder_max_seq_length_field()
    device: str | None = embedder_device_field()
    batch_size: int | None = embed_batch_size_field()
    index_type: str = field(
        default="flat",
        metadata={
            "help": "FAISS index for the dense side.",
            "choices": ["auto", "flat", "hnsw", "ivf"],
        },
    )
    fusion: str = field(
        default="weighted", metadata={"help": "Hybrid fusion.", "choices": list(FUSIONS)}
    )
    alpha: float = field(default=0.5, metadata={"help": "Dense weight of weighted fusion."})
    faq_alpha: float | None = field(
        default=RetrieverConfig.faq_alpha,
        metadata={
            "help": "Dense weight of weighted fusion for FAQ passages (docs.csv kind column; "
            "without it every passage gets --alpha)."
        },
    )
    rrf_k: int = field(default=60, metadata={"help": "Reciprocal-rank-fusion constant."})
    fetch_k: int = field(default=100, metadata={"help": "Candidates per retriever before fusion."})
    k1: float = field(default=1.2, metadata={"help": "BM25 k1."})
    b: float = field(default=0.75, metadata={"help": "BM25 b."})
    index_dir: str | None = field(
        default=None,
        metadata={
            "help": "Keep the index here and update it incrementally (re-runs embed nothing new); "
            "default: build in memory."
        },
    )
    sweep: bool = field(
        default=False,
        metadata={"help": "Also evaluate several fusion settings (rrf k, weighted alpha)."},
    )

    def __post_init__(self) -> None:
        if self.variant is None:
            from core.settings import Settings

            self.variant = Settings().embedder_variant
        if self.batch_size is not None and self.batch_size <= 0:
            raise ValueError(
                f"--batch-size must be greater than 0. Currently, batch_size is {self.batch_size}"
            )
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"--alpha must be between 0 and 1. Currently, alpha is {self.alpha}")
        if self.faq_alpha is not None and not 0.0 <= self.faq_alpha <= 1.0:
            raise ValueError(
                f"--faq-alpha must be between 0 and 1. Currently, faq_alpha is {self.faq_alpha}"
            )


# ------------------------------------------------------------------------------------ reading


def _read_csv(path: Path, what: str, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """Return ``(line_number, row)`` pairs, checking the file exists and has the columns."""
    header_hint = ",".join(required)
    if not path.is_file():
        raise EvalDataError(
            f"{what} CSV {str(path)!r} does not exist. Pass a file with header {header_hint}."
        )
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        found = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in required if c not in found]
        if missing:
            raise EvalDataError(
                f"{what} CSV {str(path)!r} is missing column(s) {missing}; found columns {found}. "
                f"The header must name {header_hint}."
            )
        rows = []
        for row in reader:
            clean = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            rows.append((reader.line_num, clean))
    if not rows:
        raise EvalDataError(f"{what} CSV {str(path)!r} has a header but no rows.")
    return rows


def _need(value: str, column: str, line: int, path: Path, what: str) -> str:
    if not value:
        raise EvalDataError(
            f"{what} CSV {str(path)!r} line {line}: column {column!r} is empty. Fill it or drop the row."
        )
    return value


def _unique_id(row: dict[str, str], seen: set[str], line: int, path: Path, kind: str) -> str:
    """The row's non-empty ``id``, added to ``seen``; a repeated id is an error naming the line."""
    row_id = _need(row["id"], "id", line, path, kind)
    if row_id in seen:
        raise EvalDataError(
            f"{kind} CSV {str(path)!r} line {line}: id {row_id!r} appears twice. Ids must be unique."
        )
    seen.add(row_id)
    return row_id


def read_docs(path: Path) -> list[Passage]:
    """Read the docs CSV into passages (chunking long documents when there is no doc_id column).

    A ``kind`` column (``product``/``faq``, as ``shopbot prepare-retrieval-eval`` writes) gives
    each passage its kind; without it every row is a generic ``faq`` passage.
    """
    from knowledge.passages import text_passages

    rows = _read_csv(path, "docs", ("id", "text"))
    has_doc_id = "doc_id" in rows[0][1]
    seen: set[str] = set()
    plain: list[tuple[str, str]] = []
    passages: list[Passage] = []
    for line, row in rows:
        pid = _unique_id(row, seen, line, path, "docs")
        text = _need(row["text"], "text", line, path, "docs")
        if has_doc_id:
            doc_id = row.get("doc_id") or pid
            title = row.get("title") or doc_id
            kind = row.get("kind") or "faq"
            if kind not in ("product", "faq"):
                raise EvalDataError(
                    f"{path}, line {line}: kind must be product or faq. Currently, kind is "
                    f"{kind!r}."
                )
            passages.append(
                Passage(
                    id=pid,
                    doc_id=doc_id,
                    kind="product" if kind == "product" else "faq",
                    text=text,
                    title=title,
                    metadata={},
                )
            )
        else:
            plain.append((pid, text))
    return passages if has_doc_id else text_passages(plain)


def read_queries(path: Path) -> list[tuple[str, str, str]]:
    """Read the queries CSV into ``(id, text, group)`` triples (group "" when absent)."""
    rows = _read_csv(path, "queries", ("id", "text"))
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for line, row in rows:
        qid = _unique_id(row, seen, line, path, "queries")
        out.append((qid, _need(row["text"], "text", line, path, "queries"), row.get("group", "")))
    return out


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Read the qrels CSV into ``{query_id: {doc_id: relevance}}``."""
    rows = _read_csv(path, "qrels", ("query_id", "doc_id", "relevance"))
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for line, row in rows:
        qid = _need(row["query_id"], "query_id", line, path, "qrels")
        did = _need(row["doc_id"], "doc_id", line, path, "qrels")
        raw = _need(row["relevance"], "relevance", line, path, "qrels")
        try:
            rel = int(float(raw))
        except ValueError:
            raise EvalDataError(
                f"qrels CSV {str(path)!r} line {line}: relevance {raw!r} is not a number. "
                "Use an integer grade such as 1."
            ) from None
        qrels[qid][did] = rel
    return dict(qrels)


# ------------------------------------------------------------------------------------ metrics


def ranked_docs(hits: Sequence[Hit], depth: int = DEPTH) -> list[str]:
    """Document ids in first-appearance order of their passages, at most ``depth``."""
    docs: list[str] = []
    seen: set[str] = set()
    for hit in hits:
        if hit.passage.doc_id not in seen:
            seen.add(hit.passage.doc_id)
            docs.append(hit.passage.doc_id)
            if len(docs) == depth:
                break
    return docs


def query_metrics(
    ranking: Sequence[str], relevant: dict[str, int], deep: Sequence[str] | None = None
) -> dict[str, float]:
    """nDCG@10, recall@5/10, MRR@10 of ``ranking``; recall@100 of ``deep`` (default ``ranking``)."""
    positive = {d: r for d, r in relevant.items() if r > 0}
    if not positive:
        raise ValueError("query_metrics needs at least one relevant document")
    deep = ranking if deep is None else deep
    dcg = sum(positive.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:10]))
    ideal = sorted(positive.values(), reverse=True)[:10]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    out = {"ndcg@10": dcg / idcg}
    for k in (5, 10):
        out[f"recall@{k}"] = sum(1 for d in ranking[:k] if d in positive) / len(positive)
    out["recall@100"] = sum(1 for d in deep[:DEPTH] if d in positive) / len(positive)
    out["mrr@10"] = next((1.0 / (i + 1) for i, d in enumerate(ranking[:10]) if d in positive), 0.0)
    return out


def mean_metrics(per_query: Sequence[dict[str, float]]) -> dict[str, float]:
    """Average per-query metrics (0.0 for an empty list)."""
    if not per_query:
        return {name: 0.0 for name in METRIC_NAMES}
    return {name: sum(m[name] for m in per_query) / len(per_query) for name in METRIC_NAMES}


def format_table(rows: dict[str, dict[str, float]], title: str = "") -> str:
    """Render ``{system: metrics}`` as a fixed-width table."""
    width = max([len(s) for s in rows] + [8])
    header = f"{'system':<{width}}  " + "  ".join(f"{m:>10}" for m in METRIC_NAMES)
    lines = [title] if title else []
    lines += [header, "-" * len(header)]
    for system, metrics in rows.items():
        lines.append(
            f"{system:<{width}}  " + "  ".join(f"{metrics[m]:>10.4f}" for m in METRIC_NAMES)
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------- run


def _make_embedder(args: EvalRetrievalArgs) -> Embedder:
    from knowledge.embedder import make_embedder

    return make_embedder(
        args.variant, args.model, args.device, args.batch_size, args.max_seq_length
    )


def run_eval(args: EvalRetrievalArgs, embedder: Embedder | None = None) -> dict[str, Any]:
    """Evaluate dense, BM25 and hybrid retrieval; write ``metrics.json``; return its content."""
    from knowledge.bm25 import BM25Config
    from knowledge.index import MANIFEST_FILE, IndexParams, KnowledgeIndex
    from knowledge.retriever import BM25Retriever, DenseRetriever, HybridRetriever

    passages = read_docs(Path(args.docs))
    queries = read_queries(Path(args.queries))
    qrels = read_qrels(Path(args.qrels))
    doc_ids = {p.doc_id for p in passages}
    query_ids = {q[0] for q in queries}
    unknown_q = sorted(set(qrels) - query_ids)
    if unknown_q:
        logger.warning(
            "qrels name %d unknown query ids (ignored), e.g. %s", len(unknown_q), unknown_q[:3]
        )
    unknown_d = sorted({d for rel in qrels.values() for d in rel} - doc_ids)
    if unknown_d:
        logger.warning(
            "qrels name %d doc ids absent from the docs (never retrievable), e.g. %s",
            len(unknown_d),
            unknown_d[:3],
        )
    judged = [q for q in queries if any(r > 0 for r in qrels.get(q[0], {}).values())]
    if len(judged) < len(queries):
        logger.warning(
            "%d queries have no relevant document in the qrels and are skipped",
            len(queries) - len(judged),
        )
    if not judged:
        raise EvalDataError(
            f"No query in {args.queries!r} has a relevant document in {args.qrels!r}. "
            "Check that qrels query_id values match the queries' id column."
        )

    embedder = embedder or _make_embedder(args)
    start = time.perf_counter()
    params = IndexParams(index_type=args.index_type)
    bm25 = BM25Config(k1=args.k1, b=args.b)
    index_dir = Path(args.index_dir) if args.index_dir else None
    if index_dir is not None and (index_dir / MANIFEST_FILE).exists():
        index = KnowledgeIndex.load(index_dir, embedder)
        index.update(passages, params=params, batch_size=args.batch_size, bm25_config=bm25)
    else:
        index = KnowledgeIndex.build(
            passages,
            embedder,
            index_dir,
            params=params,
            bm25_config=bm25,
            batch_size=args.batch_size,
        )
    build_seconds = time.perf_counter() - start
    # Without kinds in the docs every passage is "faq": one weight for all of them then.
    kinds = {p.kind for p in passages}
    faq_alpha = args.faq_alpha if kinds == {"product", "faq"} else None
    base = RetrieverConfig(
        fusion=args.fusion,
        alpha=args.alpha,
        faq_alpha=faq_alpha,
        rrf_k=args.rrf_k,
        fetch_k=args.fetch_k,
        max_per_doc=1,
    )
    logger.info("Retrieval settings: %s", base)
    systems: dict[str, Any] = {
        "dense": DenseRetriever(index, base),
        "bm25": BM25Retriever(index, base),
        "hybrid": HybridRetriever(index, base),
    }
    if args.sweep:
        for k in (10, 30, 60, 100):
            systems[f"hybrid rrf k={k}"] = HybridRetriever(
                index, RetrieverConfig(**{**asdict(base), "fusion": "rrf", "rrf_k": k})
            )
        for alpha in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
            systems[f"hybrid weighted a={alpha}"] = HybridRetriever(
                index,
                RetrieverConfig(
                    **{**asdict(base), "fusion": "weighted", "alpha": alpha, "faq_alpha": None}
                ),
            )
        if faq_alpha is not None:
            for alpha in (0.5, 0.6, 0.7, 0.9, 1.0):
                systems[f"hybrid weighted a={args.alpha}, FAQ a={alpha}"] = HybridRetriever(
                    index,
                    RetrieverConfig(**{**asdict(base), "fusion": "weighted", "faq_alpha": alpha}),
                )
        for fetch_k in (20, 50, 200):
            systems[f"hybrid fetch_k={fetch_k}"] = HybridRetriever(
                index, RetrieverConfig(**{**asdict(base), "fetch_k": fetch_k})
            )

    texts = [q[1] for q in judged]
    query_vectors = embedder.embed(texts, args.batch_size)
    results: dict[str, Any] = {}
    per_group: dict[str, dict[str, Any]] = defaultdict(dict)
    misses: list[dict[str, str]] = []
    timing: dict[str, float] = {"index_build_s": build_seconds}
    # Queries are embedded once; every system reads the same vectors.
    index.embedder = _CachedEmbedder(embedder, texts, query_vectors)
    for name, retriever in tqdm(systems.items(), desc="retrievers", unit="system"):
        # Two passes: top 10 with the production candidate pool (fetch_k per side) for the
        # top-heavy metrics, and a deep top-100 pass for recall@100 (its pool is larger).
        t0 = time.perf_counter()
        shallow_hits = retriever.search_many(texts, top_k=SHALLOW)
        timing[f"{name}_ms_per_query"] = (time.perf_counter() - t0) * 1000 / len(texts)
        deep_hits = retriever.search_many(texts, top_k=DEPTH)
        per_query = []
        groups: dict[str, list[dict[str, float]]] = defaultdict(list)
        for (qid, text, group), hits, deep in zip(judged, shallow_hits, deep_hits, strict=True):
            ranking = ranked_docs(hits)
            metrics = query_metrics(ranking, qrels[qid], ranked_docs(deep))
            per_query.append(metrics)
            groups[group or "all"].append(metrics)
            if name == "hybrid" and metrics["recall@5"] < 1.0:
                misses.append(
                    {
                        "query_id": qid,
                        "group": group,
                        "query": text,
                        "relevant": " ".join(d for d, r in qrels[qid].items() if r > 0),
                        "top3": " | ".join(
                            next(h.passage.title for h in hits if h.passage.doc_id == d)[:60]
                            for d in ranking[:3]
                        ),
                    }
                )
        results[name] = mean_metrics(per_query)
        if len(groups) > 1 or "all" not in groups:
            for group, values in groups.items():
                per_group[group][name] = mean_metrics(values)
    index.embedder = embedder

    main_rows = {k: v for k, v in results.items() if k in ("dense", "bm25", "hybrid")}
    print(format_table(main_rows, f"Retrieval ({len(judged)} queries, {len(doc_ids)} documents)"))
    for group, rows in sorted(per_group.items()):
        counts = sum(1 for q in judged if (q[2] or "all") == group)
        print()
        print(
            format_table(
                {k: v for k, v in rows.items() if k in main_rows},
                f"group {group} ({counts} queries)",
            )
        )
    if args.sweep:
        print()
        print(
            format_table({k: v for k, v in results.items() if k not in main_rows}, "fusion sweep")
        )

    report: dict[str, Any] = {
        "config": asdict(args),
        "embedder": embedder.name,
        "embedder_variant": getattr(embedder, "variant", None),
        "data": {
            "documents": len(doc_ids),
            "passages": len(passages),
            "queries": len(judged),
            "queries_skipped": len(queries) - len(judged),
            "groups": {g: sum(1 for q in judged if (q[2] or "all") == g) for g in per_group},
        },
        "metrics": main_rows,
        "by_group": dict(per_group),
        "sweep": {k: v for k, v in results.items() if k not in main_rows},
        "timing": timing,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    with (out / "misses.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["query_id", "group", "query", "relevant", "top3"])
        writer.writeheader()
        writer.writerows(misses)
    logger.info("Wrote %s and %s", out / "metrics.json", out / "misses.csv")
    return report


class _CachedEmbedder:
    """Serves precomputed query vectors (falls back to the real embedder for other texts)."""

    def __init__(self, embedder: Embedder, texts: Sequence[str], vectors: Any) -> None:
        self.name = embedder.name
        self.variant = getattr(embedder, "variant", None)
        self.max_seq_length = getattr(embedder, "max_seq_length", None)
        self.dimension = embedder.dimension
        self._embedder = embedder
        self._rows = {t: i for i, t in enumerate(texts)}
        self._vectors = vectors

    def embed(self, texts: Sequence[str], batch_size: int | None = None) -> Any:
        if all(t in self._rows for t in texts):
            return self._vectors[[self._rows[t] for t in texts]]
        return self._embedder.embed(texts, batch_size)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation; returns 0 on success, 1 on malformed input."""
    args = parse_args(EvalRetrievalArgs, argv, "shopbot eval-retrieval", __doc__)
    logger.info("shopbot eval-retrieval configuration: %s", json.dumps(asdict(args)))
    from knowledge.index import IndexMismatchError

    return exit_code(run_eval, args, logger, (EvalDataError, FileNotFoundError, IndexMismatchError))


if __name__ == "__main__":
    import sys

    from core.logging_setup import configure_logging

    configure_logging()
    sys.exit(main())
