"""Benchmark section "Indexing": passage embedding throughput and retrieval quality per embedder.

For each embedder configuration — sentence-transformers in PyTorch fp32 (today's ``shopbot index``
path, the baseline), ONNX Runtime fp32, ONNX Runtime int8, and the measured tweaks (int8 with
``max_seq_length`` 128 in batches of 64 and of 8, the shipped default; int8 without length-sorted
batches; int8 splitting each batch over intra-op threads instead of running batches in parallel)
— the section reports:

- **passages/s** on a seeded sample of the Myntra catalog's passages (``../shared/data``; the
  demo catalog when it is absent), the exact texts ``shopbot index`` embeds. The sample is split
  in halves and the configurations run interleaved (A B C … A B C …), so a change in the machine's
  load during the run falls on every configuration alike; the load average is recorded.
- **nDCG@10** (hybrid and dense) on the project's retrieval test set
  (``shopbot prepare-retrieval-eval`` over the demo catalog and FAQ, evaluated as
  ``shopbot eval-retrieval`` does), and the difference to the baseline.

Each configuration keeps its evaluation index under ``var/bench/knowledge/indexing-<config>/``
(a re-run embeds nothing new there); the throughput sample is embedded afresh every run. ONNX
exports are cached in ``models/embedders/`` (their one-off export time is reported).
``ctx.quick``: 48 demo passages, baseline and int8 only, no nDCG.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.bench.report import BenchContext, BenchSection, markdown_table

logger = logging.getLogger(__name__)

TITLE = "Indexing"
PLOT_FILE = "indexing_throughput.png"
SAMPLE = 2000
QUICK_SAMPLE = 48
ROUNDS = 4
SPEEDUP_TARGET = 4.0
NDCG_TOLERANCE = 0.005


@dataclass(frozen=True)
class EmbedderConfig:
    """One row of the table.

    Args:
        label: Row label.
        variant: ``torch``, ``onnx`` or ``onnx-int8``.
        max_seq_length: Tokens kept per text (None: the model's 256).
        sort_by_length: ONNX only: length-sorted batches (sentence-transformers always sorts).
        batch_parallel: ONNX only: whole batches in parallel, one thread each (False: one batch
            at a time over intra-op threads).
        quality: Evaluate nDCG (False when the vectors equal another row's by construction).
        batch_size: Texts per batch (every row used 64 until batches of 8 measured faster for
            the ONNX variants; int8 quantizes activations per batch, so it can move nDCG).
    """

    label: str
    variant: str
    max_seq_length: int | None = None
    sort_by_length: bool = True
    batch_parallel: bool = True
    quality: bool = True
    batch_size: int = 64

    @property
    def slug(self) -> str:
        """A folder-safe name."""
        return "".join(c if c.isalnum() else "-" for c in self.label.lower()).strip("-")

    def make(self) -> Any:
        """Build the embedder (nothing loads until ``warm_up``)."""
        if self.variant == "torch":
            from knowledge.embedder import SentenceTransformerEmbedder

            return SentenceTransformerEmbedder(
                device="cpu", max_seq_length=self.max_seq_length, batch_size=self.batch_size
            )
        from knowledge.onnx_embedder import OnnxEmbedder

        return OnnxEmbedder(
            self.variant,
            max_seq_length=self.max_seq_length,
            sort_by_length=self.sort_by_length,
            batch_parallel=self.batch_parallel,
            batch_size=self.batch_size,
        )


BASELINE = EmbedderConfig("torch fp32 (today)", "torch")
CONFIGS: tuple[EmbedderConfig, ...] = (
    BASELINE,
    EmbedderConfig("onnx fp32", "onnx"),
    EmbedderConfig("onnx int8", "onnx-int8"),
    EmbedderConfig("onnx int8, intra-op threads", "onnx-int8", batch_parallel=False, quality=False),
    EmbedderConfig("onnx int8, max_seq_length 128", "onnx-int8", max_seq_length=128),
    EmbedderConfig(
        "onnx int8, max_seq_length 128, batch 8 (shipped)",
        "onnx-int8",
        max_seq_length=128,
        batch_size=8,
    ),
    EmbedderConfig("onnx int8, unsorted batches", "onnx-int8", sort_by_length=False, quality=False),
)
QUICK_CONFIGS = (BASELINE, CONFIGS[5])


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return math.nan


def interleaved_throughput(
    embedders: dict[str, Any],
    texts: Sequence[str],
    rounds: int = ROUNDS,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Texts per second of each embedder over ``texts``, run in interleaved rounds.

    ``texts`` is split into ``rounds`` parts; each part is embedded by every embedder in turn
    before the next part, and each embedder's rate is all its texts over all its seconds.
    """
    parts = [list(texts[i::rounds]) for i in range(rounds)]
    seconds = dict.fromkeys(embedders, 0.0)
    for number, part in enumerate(parts, 1):
        for label, embedder in embedders.items():
            start = clock()
            embedder.embed(part)
            seconds[label] += clock() - start
            logger.info(
                "Indexing bench round %d/%d: %s embedded %d passages (%.1f s so far), load %.1f",
                number,
                rounds,
                label,
                len(part),
                seconds[label],
                _load_average(),
            )
    return {label: len(texts) / max(s, 1e-9) for label, s in seconds.items()}


def _sample_texts(ctx: BenchContext, n: int) -> tuple[str, list[str], int]:
    """(catalog name, n seeded passage texts, passages in the catalog) from Myntra, else demo."""
    from knowledge.passages import build_passages

    myntra = (
        ctx.shared_data / "product_catalog_myntra/myntra_products_catalog.csv"
        if ctx.shared_data
        else None
    )
    if myntra is not None and myntra.exists() and not ctx.quick:
        from knowledge.catalog.load import load_catalog
        from knowledge.catalog.mappings import MYNTRA

        name, passages = "Myntra", build_passages(load_catalog(myntra, MYNTRA).products)
    else:
        from training.bench.knowledge_retrieval import _demo_catalog

        products, faqs = _demo_catalog(ctx)
        name, passages = "demo", build_passages(products, faqs)
    texts = [p.text for p in random.Random(17).sample(passages, min(n, len(passages)))]
    return name, texts, len(passages)


def _quality(ctx: BenchContext, config: EmbedderConfig, embedder: Any) -> dict[str, Any] | None:
    """nDCG@10 etc. of dense/BM25/hybrid on the project's retrieval test set with ``embedder``."""
    from training import prepare_retrieval_eval
    from training.eval_retrieval import EvalRetrievalArgs, run_eval

    root = ctx.project_root
    set_dir = root / "var" / "eval" / "retrieval"
    if not (set_dir / "qrels.csv").exists():
        code = prepare_retrieval_eval.main(
            ["--catalog", str(root / "var/store/catalog.jsonl"),
             "--faq", str(root / "var/store/faq.jsonl"), "--out", str(set_dir)]
        )  # fmt: skip
        if code != 0:
            return None
    report: dict[str, Any] = run_eval(
        EvalRetrievalArgs(
            docs=str(set_dir / "docs.csv"),
            queries=str(set_dir / "queries.csv"),
            qrels=str(set_dir / "qrels.csv"),
            out=str(ctx.out_dir / "indexing_eval" / config.slug),
            variant=config.variant,
            max_seq_length=config.max_seq_length,
            index_dir=str(root / "var" / "bench" / "knowledge" / f"indexing-{config.slug}"),
        ),
        embedder,
    )
    return report


def _threads(config: EmbedderConfig, embedder: Any) -> str:
    if config.variant == "torch":
        import torch

        return f"{torch.get_num_threads()} intra-op (torch)"
    if config.batch_parallel:
        return f"{embedder.threads} batches at once, 1 thread each"
    return f"{embedder.threads} intra-op (ORT, no spinning)"


def _plot(ctx: BenchContext, rows: list[dict[str, Any]]) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return None
    fig, ax = plt.subplots(figsize=(8, 3.8))
    labels = [r["label"] for r in rows][::-1]
    rates = [r["per_s"] for r in rows][::-1]
    bars = ax.barh(labels, rates, color=["#888" if "today" in s else "#3a7" for s in labels])
    for bar, row in zip(bars, rows[::-1], strict=True):
        note = f" {row['per_s']:.0f}/s ×{row['speedup']:.1f}"
        if row.get("hybrid") is not None:
            note += f"  hybrid nDCG {row['hybrid']:.4f}"
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, note, va="center", fontsize=8)
    ax.set_xlabel("passages embedded per second (higher is better)")
    ax.set_xlim(0, max(rates) * 1.8)
    ax.set_title("Passage embedding throughput by embedder")
    fig.tight_layout()
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    fig.savefig(ctx.out_dir / PLOT_FILE, dpi=120)
    plt.close(fig)
    return PLOT_FILE


def run_section(ctx: BenchContext) -> BenchSection:
    """Measure every embedder configuration and return the report section."""
    import json

    started = time.perf_counter()
    configs = QUICK_CONFIGS if ctx.quick else CONFIGS
    catalog, texts, catalog_passages = _sample_texts(ctx, QUICK_SAMPLE if ctx.quick else SAMPLE)
    logger.info(
        "Indexing bench: %d %s passages, %d rounds, configurations %s",
        len(texts),
        catalog,
        ROUNDS,
        [c.label for c in configs],
    )
    embedders = {c.label: c.make() for c in configs}
    export_s: dict[str, float] = {}
    for config in configs:
        embedder = embedders[config.label]
        embedder.warm_up()  # ONNX: export once (cached) before anything is timed
        embedder.embed(texts[:32])  # first-call allocations and thread pools
        onnx_path: Path | None = getattr(embedder, "onnx_path", None)
        if onnx_path is not None:
            info = json.loads((onnx_path.parent / "export.json").read_text(encoding="utf-8"))
            export_s[config.label] = sum(info.get("timings", {}).values())
    load_before = _load_average()
    rates = interleaved_throughput(embedders, texts)
    load_after = _load_average()

    base_rate = rates[BASELINE.label]
    rows: list[dict[str, Any]] = []
    base_quality: dict[str, float] | None = None
    for config in configs:
        row: dict[str, Any] = {
            "label": config.label,
            "batch": config.batch_size,
            "per_s": rates[config.label],
            "speedup": rates[config.label] / base_rate,
            "threads": _threads(config, embedders[config.label]),
            "export_s": export_s.get(config.label),
            "hybrid": None,
            "dense": None,
        }
        report = (
            None
            if ctx.quick or not config.quality
            else _quality(ctx, config, embedders[config.label])
        )
        if report is not None:
            metrics = report["metrics"]
            row["hybrid"] = metrics["hybrid"]["ndcg@10"]
            row["dense"] = metrics["dense"]["ndcg@10"]
            row["hybrid_r5"] = metrics["hybrid"]["recall@5"]
            row["eval"] = report["data"]
            if config == BASELINE:
                base_quality = {"hybrid": row["hybrid"], "dense": row["dense"]}
        rows.append(row)

    def delta(row: dict[str, Any], key: str) -> str:
        if row[key] is None or base_quality is None:
            return "-"
        return f"{row[key] - base_quality[key]:+.4f}"

    table = markdown_table(
        ["embedder", "batch", "passages/s", "× today", "hybrid nDCG@10", "Δ hybrid", "dense nDCG@10",
         "Δ dense", "hybrid recall@5", "threads", "one-off export (s)"],
        [[r["label"], r["batch"], r["per_s"], f"{r['speedup']:.2f}",
          "-" if r["hybrid"] is None else f"{r['hybrid']:.4f}", delta(r, "hybrid"),
          "-" if r["dense"] is None else f"{r['dense']:.4f}", delta(r, "dense"),
          "-" if r.get("hybrid_r5") is None else f"{r['hybrid_r5']:.4f}",
          r["threads"], "-" if r["export_s"] is None else f"{r['export_s']:.0f}"]
         for r in rows],
    )  # fmt: skip
    verdicts: list[str] = []
    for row in rows:
        if row["label"] == BASELINE.label or row["hybrid"] is None or base_quality is None:
            continue
        fast = row["speedup"] >= SPEEDUP_TARGET
        close = abs(row["hybrid"] - base_quality["hybrid"]) <= NDCG_TOLERANCE
        verdicts.append(
            f"{row['label']}: ×{row['speedup']:.2f} today's throughput (target ≥ "
            f"{SPEEDUP_TARGET:g}: {'met' if fast else 'NOT met'}), hybrid nDCG@10 "
            f"{delta(row, 'hybrid')} (target within {NDCG_TOLERANCE}: "
            f"{'met' if close else 'NOT met'})."
        )
    eval_data = next((r["eval"] for r in rows if r.get("eval")), None)
    quality_note = (
        "nDCG: not measured in the quick run."
        if eval_data is None
        else f"nDCG@10 on the project's retrieval test set: {eval_data['queries']} queries over "
        f"{eval_data['documents']} documents ({eval_data['passages']} passages) of the demo "
        "catalog and FAQ (`shopbot prepare-retrieval-eval`), weighted hybrid fusion as shipped."
    )
    plot = _plot(ctx, rows)
    markdown = "\n".join(
        [
            f"Throughput: {len(texts)} passages sampled (seed 17) from the {catalog} catalog's "
            f"{catalog_passages} passages (the texts `shopbot index` embeds), batch size per row, "
            f"CPU, {ROUNDS} interleaved rounds over halves of the sample (each configuration "
            "embeds the same texts; load drift falls on all alike). Models warmed up first; the "
            "ONNX export is a one-off cost, cached in `models/embedders/`.",
            "",
            table,
            "",
            quality_note,
            "",
            *[f"- {v}" for v in verdicts],
            f"- 1-minute load average {load_before:.1f} before and {load_after:.1f} after the "
            f"throughput rounds on {os.cpu_count()} cores (other jobs shared the machine: "
            "absolute rates move with the load, the ratios measured side by side less so). "
            f"Section wall time {time.perf_counter() - started:.0f} s.",
        ]
    )
    numbers: dict[str, float] = {}
    for row in rows:
        key = row["label"].split(" (")[0].replace(",", "").replace(" ", "_")
        numbers[f"{key}_passages_per_s"] = row["per_s"]
        numbers[f"{key}_speedup"] = row["speedup"]
        if row["hybrid"] is not None:
            numbers[f"{key}_hybrid_ndcg@10"] = row["hybrid"]
            numbers[f"{key}_dense_ndcg@10"] = row["dense"]
    return BenchSection(
        title=TITLE, markdown=markdown, plots=[plot] if plot else [], numbers=numbers
    )
