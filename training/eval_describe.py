"""``shopbot eval-describe``: product descriptions written from attributes, on held-out products.

Describes products that fine-tuning never saw (``held_out_products`` of
``var/generator/<preset>/split.json``, written by the generator's data preparation; those without
a description too, which are what ``shopbot describe --missing`` is for) with ``shopbot describe``'s :class:`~knowledge.describe.Describer`, and
scores three systems side by side:

- ``generator`` — what a store would import: the drafts the verifier accepted (a rejected draft
  shows nothing and scores 0 on coverage and ROUGE-L);
- ``generator drafts`` — every draft before the gate, accepted or not (how good the model is);
- ``template`` — the fixed-template baseline (:func:`~knowledge.describe.template_description`).

Metrics (``training.describe_metrics``): descriptions with an unsupported fact (re-verified here
against the attribute passage; must be 0 for what is shown), attribute coverage, ROUGE-L F1
against the product's real description (all of it, and its first 50 words; averaged over the
products that have one), distinct-2, words per
description, the share accepted, and seconds per product. Writes ``metrics.json``,
``descriptions.jsonl`` and ``report.md`` into ``--out``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from core.settings import Settings
from knowledge.catalog.jsonl import read_catalog_jsonl
from knowledge.catalog.model import Product
from knowledge.describe import Describer, attribute_passage, template_description
from knowledge.prompt import sanitize
from knowledge.types import Generator
from knowledge.verifier import Verifier
from training.cli_args import parse_args
from training.describe_metrics import (
    attribute_coverage,
    distinct_n,
    product_attributes,
    rouge_l,
)

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = ("generator", "generator drafts", "template")
LEAD_WORDS = 50
# Problems of a draft that are not facts (Describer.check): they reject it, but count as no
# unsupported fact.
NOT_FACTS = ("empty draft", "too short")


@dataclass
class EvalDescribeArgs:
    """Arguments of ``shopbot eval-describe``."""

    preset: str = field(
        default_factory=lambda: Settings().preset,
        metadata={
            "help": "Preset whose generator and held-out split are evaluated.",
            "choices": ["tiny", "demo", "full"],
        },
    )
    products: int = field(default=100, metadata={"help": "Held-out products described (at most)."})
    knowledge_dir: str = field(
        default="",
        metadata={"help": "Generator folder's parent (default: models/<preset>/knowledge)."},
    )
    split: str = field(
        default="",
        metadata={"help": "Held-out split (default: var/generator/<preset>/split.json)."},
    )
    catalog: str = field(default="var/store/catalog.jsonl", metadata={"help": "The catalog."})
    out: str = field(
        default="results/eval_describe",
        metadata={"help": "Folder for metrics.json, descriptions.jsonl and report.md."},
    )
    max_new_tokens: int | None = field(
        default=None, metadata={"help": "Draft length (default: the model's)."}
    )
    threads: int | None = field(default=None, metadata={"help": "CPU threads for torch."})

    def __post_init__(self) -> None:
        self.knowledge_dir = self.knowledge_dir or f"models/{self.preset}/knowledge"
        self.split = self.split or f"var/generator/{self.preset}/split.json"
        if self.products <= 0:
            raise ValueError(
                f"--products must be greater than 0. Currently, products is {self.products}."
            )
        if self.max_new_tokens is not None and self.max_new_tokens <= 0:
            raise ValueError(
                "--max-new-tokens must be greater than 0. Currently, max_new_tokens is "
                f"{self.max_new_tokens}."
            )


def held_out_products(catalog: Sequence[Product], split_path: Path, n: int) -> list[Product]:
    """The first ``n`` held-out products (split order), with a real description or without.

    Raises:
        FileNotFoundError: When the split file is missing (with the command that writes it).
    """
    if not split_path.exists():
        raise FileNotFoundError(
            f"No held-out split at {split_path}. Run `shopbot train --preset <preset> --only "
            "generator` (its data step writes it) first."
        )
    held = json.loads(split_path.read_text(encoding="utf-8"))["held_out_products"]
    by_id = {p.id: p for p in catalog}
    return [by_id[i] for i in held if i in by_id][:n]


def fact_problems(problems: Sequence[str]) -> list[str]:
    """The unsupported facts among a draft's problems (without "empty draft"/"too short")."""
    return [p for p in problems if not p.startswith(NOT_FACTS)]


def score_text(text: str, product: Product, verifier: Verifier) -> dict[str, Any]:
    """The per-description scores of ``text`` (empty text: nothing shown, scores 0; ROUGE-L is
    None for a product without a real description)."""
    reference = sanitize(product.description)
    lead = " ".join(reference.split()[:LEAD_WORDS])
    unsupported = (
        verifier.verify(text, [attribute_passage(product)], generated=False).unsupported
        if text
        else []
    )
    return {
        "text": text,
        "unsupported": unsupported,
        "coverage": attribute_coverage(text, product_attributes(product)),
        "rouge_l": rouge_l(text, reference) if reference.strip() else None,
        "rouge_l_lead": rouge_l(text, lead) if reference.strip() else None,
        "words": len(text.split()),
    }


def summarise(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate one system's per-product scores."""
    shown = [r for r in records if r["text"]]
    referenced = [r for r in records if r["rouge_l"] is not None]
    return {
        "products": len(records),
        "shown": len(shown),
        "shown_share": len(shown) / max(1, len(records)),
        "with_unsupported_fact": sum(bool(r["unsupported"]) for r in shown),
        "attribute_coverage": float(np.mean([r["coverage"] for r in records])) if records else 0.0,
        "with_real_description": len(referenced),
        "rouge_l": float(np.mean([r["rouge_l"] for r in referenced])) if referenced else 0.0,
        "rouge_l_lead": (
            float(np.mean([r["rouge_l_lead"] for r in referenced])) if referenced else 0.0
        ),
        "distinct_2": distinct_n([r["text"] for r in shown], 2),
        "words_mean": float(np.mean([r["words"] for r in shown])) if shown else 0.0,
    }


def evaluate(
    describer: Describer, products: Sequence[Product]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Describe every product three ways; return the metrics per system and one record each."""
    verifier = Verifier()
    per_system: dict[str, list[dict[str, Any]]] = {s: [] for s in SYSTEMS}
    records: list[dict[str, Any]] = []
    seconds: list[float] = []
    for product in tqdm(products, desc="eval-describe", unit="product"):
        started = time.perf_counter()
        row = describer.describe(product)
        seconds.append(time.perf_counter() - started)
        scores = {
            "generator": score_text(row.description, product, verifier),
            "generator drafts": score_text(row.draft, product, verifier),
            "template": score_text(template_description(product), product, verifier),
        }
        for system, score in scores.items():
            per_system[system].append(score)
        records.append(
            {
                "product_id": product.id,
                "name": sanitize(product.name),
                "status": row.status,
                "draft_problems": row.unsupported,
                "draft_unsupported_facts": fact_problems(row.unsupported),
                "reference_lead": " ".join(sanitize(product.description).split()[:LEAD_WORDS]),
                **{system: score for system, score in scores.items()},
            }
        )
    metrics: dict[str, Any] = {s: summarise(per_system[s]) for s in SYSTEMS}
    # The drafts' own unsupported facts, as the gate saw them (generated=True).
    metrics["generator drafts"]["with_unsupported_fact"] = sum(
        bool(r["draft_unsupported_facts"]) for r in records
    )
    metrics["generator drafts"]["rejected_not_a_description"] = sum(
        bool(r["draft_problems"]) and not r["draft_unsupported_facts"] for r in records
    )
    metrics["seconds_per_product"] = float(np.mean(seconds)) if seconds else 0.0
    return metrics, records


ROWS = (
    ("descriptions shown", "shown", "{:d}"),
    ("shown with an unsupported fact", "with_unsupported_fact", "{:d}"),
    ("attribute coverage", "attribute_coverage", "{:.1%}"),
    ("ROUGE-L F1 (whole description)", "rouge_l", "{:.3f}"),
    (f"ROUGE-L F1 (first {LEAD_WORDS} words)", "rouge_l_lead", "{:.3f}"),
    ("distinct-2", "distinct_2", "{:.3f}"),
    ("words per description", "words_mean", "{:.1f}"),
)


def table_lines(metrics: dict[str, Any]) -> list[str]:
    """The markdown table of the three systems (generator, its drafts, the template)."""
    lines = ["| metric | " + " | ".join(SYSTEMS) + " |", "|---|" + "---:|" * len(SYSTEMS)]
    for label, key, fmt in ROWS:
        cells = [fmt.format(metrics[s][key]) for s in SYSTEMS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def format_report(
    metrics: dict[str, Any], records: Sequence[dict[str, Any]], examples: int = 5
) -> str:
    """The markdown report: the table of the three systems and a few examples."""
    args = metrics.get("args", {})
    lines = [
        f"# eval-describe — preset `{args.get('preset', '?')}`",
        "",
        f"{metrics['generator']['products']} held-out products (never used in fine-tuning; "
        f"ROUGE-L over the {metrics['generator']['with_real_description']} with a real "
        f"description), generator `{metrics.get('generator_name', '?')}`, "
        f"{metrics['seconds_per_product']:.2f} s per product.",
        "",
        *table_lines(metrics),
    ]
    drafts = metrics["generator drafts"]
    lines += [
        "",
        "`generator`: drafts the verifier accepted (what `shopbot describe` writes as accepted; a "
        "rejected draft shows nothing and scores 0). `generator drafts`: every draft before the "
        f"gate — {drafts['with_unsupported_fact']} stated an unsupported fact and "
        f"{drafts['rejected_not_a_description']} were empty or too short. `template`: the "
        "fixed-template baseline. Unsupported facts of what is shown are re-verified here "
        "against the attribute passage.",
        "",
        "## Examples",
        "",
    ]
    for record in records[:examples]:
        lines += [
            f"**{record['name']}** — {record['status']}",
            "",
            f"- draft: {record['generator drafts']['text'] or '(empty)'}",
            f"- problems: {', '.join(record['draft_problems']) or 'none'}",
            f"- template: {record['template']['text']}",
            f"- real description (first {LEAD_WORDS} words): {record['reference_lead']}",
            "",
        ]
    return "\n".join(lines)


def run(args: EvalDescribeArgs, generator: Generator | None = None) -> dict[str, Any]:
    """Evaluate as ``args`` describe (``generator`` overrides loading one, for tests)."""
    catalog_path = ROOT / args.catalog
    if not catalog_path.exists():
        raise FileNotFoundError(f"No catalog at {catalog_path}. Run `shopbot prepare` first.")
    products = held_out_products(read_catalog_jsonl(catalog_path), ROOT / args.split, args.products)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if generator is None:
        from knowledge.generator import make_generator

        generator = make_generator(ROOT / args.knowledge_dir / "generator")
    warm_up = getattr(generator, "warm_up", None)
    if callable(warm_up):
        warm_up()
    describer = Describer(generator, max_new_tokens=args.max_new_tokens)
    started = time.perf_counter()
    metrics, records = evaluate(describer, products)
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    metrics["generator_name"] = describer.name
    metrics["args"] = asdict(args)
    out = ROOT / args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    with open(out / "descriptions.jsonl", "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    (out / "report.md").write_text(format_report(metrics, records) + "\n", encoding="utf-8")
    logger.info("eval-describe results written to %s", out)
    return metrics


def main(argv: Sequence[str] | None = None) -> int:
    """Evaluate descriptions; 0, or 1 when artifacts are missing or a shown description states an
    unsupported fact (the guarantee)."""
    from knowledge.generator import GeneratorError

    args = parse_args(EvalDescribeArgs, argv, "shopbot eval-describe", __doc__)
    logger.info("eval-describe configuration: %s", json.dumps(asdict(args)))
    try:
        metrics = run(args)
    except (FileNotFoundError, ValueError, GeneratorError) as exc:
        logger.error("%s", exc)
        return 1
    print((ROOT / args.out / "report.md").read_text(encoding="utf-8").split("\n## Examples")[0])
    if metrics["generator"]["with_unsupported_fact"] > 0:
        logger.error("A shown description states an unsupported fact: see %s", ROOT / args.out)
        return 1
    return 0


if __name__ == "__main__":
    from core.logging_setup import configure_logging

    configure_logging()
    raise SystemExit(main())
