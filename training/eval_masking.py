"""``shopbot eval-masking``: how well the exports' masking finds personal data, and how often it
touches ordinary shopper text.

    shopbot eval-masking [--labelled tests/fixtures/masking] [--shared ../shared/data] [--out F]

- **Recall per kind** on the labelled set (``training/prepare_masking_eval.py``): a labelled span
  counts as masked when the masker's spans cover every character of it (any kind: what matters
  for an export is that nothing survives). Measured twice: with the store's customers (the
  set's ``customers.json``) and with patterns only (an empty directory).
- **False positives**: masked spans outside every labelled span in the labelled messages; the
  ``ordinary`` messages (real order numbers, totals, dates, product names) changed; and, as
  real shopper text, the 9,011 Amazon product questions and the Bitext customer-service
  utterances from ``../shared/data`` changed (their share of texts, and the texts themselves).
- With ``mask_orders``: recall of order numbers in the ordinary messages.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bot.privacy.directory import StoreDirectory
from bot.privacy.masking import Masker, Span

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
LABELLED_DIR = ROOT / "tests" / "fixtures" / "masking"
SHARED_DATA = ROOT.parent / "shared" / "data"
NEGATIVE_SETS = {
    "amazon_product_questions": (
        "amazon_product_qa_mcauley_appliances/qa_Appliances.csv",
        "question",
    ),
    "bitext_customer_service": ("bitext_customer_support/v11_instruction_intent.csv", "text"),
}
KINDS = ("email", "phone", "card", "address", "name")


def load_labelled(folder: Path) -> tuple[StoreDirectory, list[dict[str, Any]]]:
    """The set's customers (as a directory) and its labelled messages."""
    customers = json.loads((folder / "customers.json").read_text(encoding="utf-8"))
    with (folder / "labelled.jsonl").open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return StoreDirectory.from_records(customers), rows


def load_negatives(shared: Path | None) -> dict[str, list[str]]:
    """Real shopper texts from ``../shared/data`` (empty when the folder is not there)."""
    out: dict[str, list[str]] = {}
    if shared is None:
        return out
    for name, (relative, column) in NEGATIVE_SETS.items():
        path = shared / relative
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as handle:
                out[name] = [row[column] for row in csv.DictReader(handle) if row.get(column)]
    return out


def _covered(span: dict[str, Any], found: Sequence[Span]) -> bool:
    chars = set(range(span["start"], span["end"]))
    for hit in found:
        chars -= set(range(hit.start, hit.end))
    return not chars


def _outside(hit: Span, labelled: Sequence[dict[str, Any]]) -> bool:
    return all(hit.end <= s["start"] or hit.start >= s["end"] for s in labelled)


def recall(masker: Masker, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Recall per kind of personal data, and false-positive spans, on the ``pii`` messages."""
    totals = {kind: [0, 0] for kind in KINDS}  # kind -> [masked, labelled]
    missed: dict[str, list[str]] = {kind: [] for kind in KINDS}
    stray: list[str] = []
    for row in rows:
        if row["group"] != "pii":
            continue
        found = masker.spans(row["text"])
        personal = [s for s in row["spans"] if s["kind"] != "order"]
        for span in personal:
            totals[span["kind"]][1] += 1
            if _covered(span, found):
                totals[span["kind"]][0] += 1
            elif len(missed[span["kind"]]) < 10:
                missed[span["kind"]].append(row["text"][span["start"] : span["end"]])
        stray += [
            f"{row['text'][h.start : h.end]} ({h.kind})"
            for h in found
            if _outside(h, personal) and h.kind != "order"
        ]
    per_kind: dict[str, dict[str, Any]] = {
        kind: {
            "labelled": n,
            "masked": hit,
            "recall": round(hit / n, 4) if n else None,
            "missed_examples": missed[kind],
        }
        for kind, (hit, n) in totals.items()
    }
    masked = sum(hit for hit, _ in totals.values())
    labelled = sum(n for _, n in totals.values())
    return {
        "per_kind": per_kind,
        "overall_recall": round(masked / labelled, 4) if labelled else None,
        "false_positive_spans": len(stray),
        "false_positive_examples": stray[:20],
    }


def changed_texts(masker: Masker, texts: Sequence[str]) -> dict[str, Any]:
    """How many of ``texts`` the masker changes (each change is a false positive here)."""
    started = time.perf_counter()
    changed = [t for t in texts if masker.spans(t)]
    elapsed = time.perf_counter() - started
    return {
        "texts": len(texts),
        "changed": len(changed),
        "rate": round(len(changed) / len(texts), 5) if texts else None,
        "examples": [t[:160] for t in changed[:20]],
        "ms_per_text": round(1000 * elapsed / len(texts), 3) if texts else None,
    }


def order_recall(masker: Masker, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """With ``mask_orders``: order numbers masked, and other text changed, in ordinary messages."""
    hit = total = stray = 0
    for row in rows:
        if row["group"] != "ordinary":
            continue
        found = masker.spans(row["text"])
        orders = [s for s in row["spans"] if s["kind"] == "order"]
        total += len(orders)
        hit += sum(_covered(s, found) for s in orders)
        stray += sum(1 for h in found if _outside(h, orders))
    return {"labelled": total, "masked": hit, "recall": round(hit / total, 4) if total else None,
            "other_spans": stray}  # fmt: skip


def evaluate_masking(
    directory: StoreDirectory,
    rows: list[dict[str, Any]],
    negatives: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The full report (see the module docstring)."""
    with_store = Masker(directory)
    report: dict[str, Any] = {
        "labelled_messages": sum(r["group"] == "pii" for r in rows),
        "with_store_customers": recall(with_store, rows),
        "patterns_only": recall(Masker(None), rows),
        "ordinary_messages": changed_texts(
            with_store, [r["text"] for r in rows if r["group"] == "ordinary"]
        ),
        "mask_orders": order_recall(with_store.with_orders(True), rows),
        "shopper_text": {
            name: changed_texts(with_store, texts) for name, texts in (negatives or {}).items()
        },
    }
    return report


def to_markdown(report: dict[str, Any]) -> str:
    """The report as a short Markdown table."""
    store, patterns = report["with_store_customers"], report["patterns_only"]
    lines = [
        "| kind | labelled | recall (store customers + patterns) | recall (patterns only) |",
        "|---|---:|---:|---:|",
    ]
    for kind in KINDS:
        a, b = store["per_kind"][kind], patterns["per_kind"][kind]
        lines.append(f"| {kind} | {a['labelled']} | {a['recall']:.3f} | {b['recall']:.3f} |")
    lines.append(
        f"| all | {report['labelled_messages']} msgs | {store['overall_recall']:.3f} | "
        f"{patterns['overall_recall']:.3f} |"
    )
    lines += [
        "",
        f"False-positive spans in the labelled messages: {store['false_positive_spans']}.",
        f"Ordinary order messages changed: {report['ordinary_messages']['changed']} of "
        f"{report['ordinary_messages']['texts']}; with mask_orders, order numbers masked "
        f"{report['mask_orders']['masked']} of {report['mask_orders']['labelled']}.",
    ]
    for name, result in report["shopper_text"].items():
        lines.append(
            f"Real shopper text ({name}): {result['changed']} of {result['texts']} texts changed "
            f"({result['ms_per_text']} ms per text)."
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation and print (and optionally write) the report."""
    parser = argparse.ArgumentParser(prog="shopbot eval-masking", description=__doc__)
    parser.add_argument("--labelled", default=str(LABELLED_DIR), help="the labelled set's folder")
    parser.add_argument(
        "--shared", default=str(SHARED_DATA), help="../shared/data (real shopper text)"
    )
    parser.add_argument("--out", default="", help="write the JSON report here")
    args = parser.parse_args(argv)
    directory, rows = load_labelled(Path(args.labelled))
    shared = Path(args.shared)
    report = evaluate_masking(directory, rows, load_negatives(shared if shared.is_dir() else None))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(to_markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
