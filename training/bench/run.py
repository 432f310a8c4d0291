"""``shopbot bench`` / ``make bench``: run every benchmark section in one process, one report.

Sections run in order and each one's failure is recorded in the report (and makes the command exit
non-zero) without hiding the others' numbers.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import time
import traceback
from pathlib import Path

from core.settings import Settings
from training.bench.report import BenchContext, BenchSection, write_report

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
# name -> module with run_section(ctx) -> BenchSection
SECTIONS: dict[str, str] = {
    "nlu": "training.bench.nlu",
    "encoder-pass": "training.bench.encoder_pass",
    "retrieval": "training.bench.knowledge_retrieval",
    "indexing": "training.bench.indexing",
    "generation": "training.bench.knowledge_generation",
    "widget": "training.bench.widget",
    "telegram": "training.bench.telegram",
    "console": "training.bench.console",
    "throughput": "training.bench.throughput",
    "reliability": "training.bench.reliability",
}


def run_sections(ctx: BenchContext, names: list[str]) -> tuple[list[BenchSection], list[str]]:
    """Run the named sections; return their results and the names of those that failed."""
    results: list[BenchSection] = []
    failed: list[str] = []
    for name in names:
        started = time.monotonic()
        logger.info("Benchmark section %r starting", name)
        try:
            module = importlib.import_module(SECTIONS[name])
            section: BenchSection = module.run_section(ctx)
        except Exception as exc:
            logger.exception("Benchmark section %r failed", name)
            failed.append(name)
            section = BenchSection(
                title=f"{name} (failed)",
                markdown=f"This section failed: `{type(exc).__name__}: {exc}`\n\n```\n{traceback.format_exc()[-2000:]}\n```",
            )
        logger.info("Benchmark section %r took %.0f s", name, time.monotonic() - started)
        results.append(section)
    return results, failed


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write ``bench/out/report.md`` (+ ``numbers.json`` and plots)."""
    parser = argparse.ArgumentParser(prog="shopbot bench", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="report folder")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(SECTIONS), help="run only these sections"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small smoke run (seconds per section)"
    )
    parser.add_argument(
        "--preset",
        choices=("tiny", "demo", "full"),
        default=Settings().preset,
        help="preset whose trained models are measured (default: demo)",
    )
    args = parser.parse_args(argv)
    shared = ROOT.parent / "shared" / "data"
    ctx = BenchContext(
        out_dir=args.out,
        project_root=ROOT,
        shared_data=shared if shared.is_dir() else None,
        quick=args.quick,
        preset=args.preset,
    )
    names = args.only or list(SECTIONS)
    sections, failed = run_sections(ctx, names)
    report = write_report(ctx, sections)
    # A number that could not be measured (NaN) is written as null: numbers.json stays strict JSON.
    numbers = {s.title: {k: None if v != v else v for k, v in s.numbers.items()} for s in sections}
    (ctx.out_dir / "numbers.json").write_text(
        json.dumps(numbers, indent=2, allow_nan=False), encoding="utf-8"
    )
    print(f"Benchmark report: {report}")
    if failed:
        logger.error("Failed sections: %s", ", ".join(failed))
        return 1
    return 0
