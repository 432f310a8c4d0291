"""``python -m training.prepare_sentiment``: build sentiment train/eval CSVs from real review data.

Sources (``--source``, default ``data/demo/sentiment``):

- ``amazon_alexa.tsv`` — Alexa product reviews with 1–5 stars: 1–2 → negative, 3 → neutral,
  4–5 → positive (about 92% positive; neutral is rare).
- ``uci/{yelp,imdb,amazon_cells}_labelled.txt`` — ``sentence<TAB>0|1`` → negative/positive
  (``amazon_cells`` is used when present).
- ``--shopper`` (default ``var/nlu/train.csv``, written by ``shopbot prepare``) — shopper messages
  of the assistant's own NLU data. Reviews hold almost no neutral text that looks like a chat
  message, so a model trained on reviews alone rated plain questions ("how much is the Fisher-Price
  Little People Dump Truck?") negative at 0.9 and two of them in a row offered a human. Messages
  of the request and question intents (``SHOPPER_NEUTRAL_INTENTS``, up to ``--shopper-per-intent``
  each) become ``neutral``; those that swear (``PROFANITY``: Bitext's offensive variants, "see
  purchase 774432 goddamn status") become ``negative``. Paraphrase groups never straddle the split.

Identical texts (after lower-casing and collapsing punctuation/space) form one group, so no
review lands in both train and eval. Each source is split per label. Writes into ``--out``
(default ``var/sentiment``): ``train.csv`` (the union of every source's training part),
``eval_uci.csv`` (held-out yelp + imdb, 2 classes), ``eval_alexa.csv`` (held-out Alexa, 3
classes), ``eval_shopper.csv`` (held-out shopper messages), ``eval_amazon_cells.csv`` when that
source exists, and ``manifest.json``.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from core.encoder import write_json
from training.cli_args import parse_args

logger = logging.getLogger(__name__)

DESCRIPTION = "Build sentiment train/eval CSVs (var/sentiment/) from the Alexa and UCI review data."
STARS_TO_LABEL = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}
BINARY_TO_LABEL = {"0": "negative", "1": "positive"}
SHOPPER_NEUTRAL_INTENTS = frozenset(
    {
        "product_search", "product_question", "track_order", "track_refund", "delivery_options",
        "delivery_period", "check_refund_policy", "check_payment_methods",
        "check_cancellation_fee", "check_invoice", "get_invoice", "place_order", "change_order",
        "cancel_order", "set_up_shipping_address", "change_shipping_address", "create_account",
        "edit_account", "switch_account", "newsletter_subscription", "recover_password", "inform",
        "greet", "goodbye",
    }
)  # fmt: skip
"""Intents whose messages are requests or questions, neutral unless they swear. Complaints,
problems (payment, registration), refunds, reviews and requests for a human are left out: their
tone varies and the frustration score already counts the escalation intents."""
PROFANITY = re.compile(
    r"\b(god ?damn\w*|damn\w*|fuck\w*|f\*+k\w*|shit\w*|crap\w*|hell|bloody|pissed|"
    r"screw\w*|stupid|idiot\w*|useless|ridiculous|bullshit)\b",
    re.IGNORECASE,
)


@dataclass
class PrepareSentimentArgs:
    """Arguments of ``python -m training.prepare_sentiment``."""

    source: str = field(
        default="data/demo/sentiment",
        metadata={"help": "folder with amazon_alexa.tsv and uci/*_labelled.txt"},
    )
    out: str = field(default="var/sentiment", metadata={"help": "output folder for the CSVs"})
    eval_fraction: float = field(
        default=0.2, metadata={"help": "share of each source (per label) held out for evaluation"}
    )
    seed: int = field(default=13, metadata={"help": "random seed of the split"})
    shopper: str = field(
        default="var/nlu/train.csv",
        metadata={"help": "NLU CSV (text,label,group) of shopper messages; empty: none"},
    )
    shopper_per_intent: int = field(
        default=25, metadata={"help": "shopper messages taken per neutral intent"}
    )

    def __post_init__(self) -> None:
        if not 0.0 < self.eval_fraction < 0.9:
            raise ValueError(
                f"--eval-fraction must be in (0, 0.9). Currently, --eval-fraction is "
                f"{self.eval_fraction}."
            )


@dataclass
class Row:
    """One labelled sentence with its source and duplicate group."""

    text: str
    label: str
    source: str
    group: str = ""


def normalise(text: str) -> str:
    """Lower-case and collapse punctuation/whitespace (for duplicate detection)."""
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def read_alexa(path: Path) -> list[Row]:
    """Read the Alexa TSV (UTF-8 BOM, quoted reviews); stars become three classes."""
    rows: list[Row] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for record in csv.DictReader(fh, delimiter="\t"):
            text = " ".join((record.get("verified_reviews") or "").split())
            rating = (record.get("rating") or "").strip()
            if not text or not rating.isdigit() or int(rating) not in STARS_TO_LABEL:
                continue
            rows.append(Row(text, STARS_TO_LABEL[int(rating)], "alexa"))
    return rows


def read_uci(path: Path, source: str) -> list[Row]:
    """Read a UCI ``sentence<TAB>0|1`` file (no header, unquoted)."""
    rows: list[Row] = []
    # split("\n"), not splitlines(): some sentences contain U+0085, which splitlines breaks on.
    for line_no, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        text, _, label = line.rstrip().rpartition("\t")
        if label.strip() not in BINARY_TO_LABEL or not text.strip():
            raise ValueError(
                f"{path} line {line_no} is not 'sentence<TAB>0|1': {line[:120]!r}; fix or remove it."
            )
        rows.append(Row(" ".join(text.split()), BINARY_TO_LABEL[label.strip()], source))
    return rows


def read_shopper(path: Path, per_intent: int, seed: int) -> list[Row]:
    """Sample shopper messages from an NLU CSV: neutral requests, or negative when they swear.

    Rows keep their paraphrase group (prefixed ``nlu:``), so paraphrases of one message stay on
    one side of the split. Per intent, a seeded random sample of ``per_intent`` rows is taken.
    """
    import random

    from training.labelled_csv import read_labelled_csv

    data = read_labelled_csv(str(path), role="SHOPPER")
    by_intent: dict[str, list[int]] = {}
    for i, label in enumerate(data.labels):
        if label in SHOPPER_NEUTRAL_INTENTS:
            by_intent.setdefault(label, []).append(i)
    rng = random.Random(seed)
    rows: list[Row] = []
    for intent in sorted(by_intent):
        indices = by_intent[intent]
        rng.shuffle(indices)
        for i in indices[:per_intent]:
            text = data.texts[i]
            label = "negative" if PROFANITY.search(text) else "neutral"
            group = data.groups[i] if data.groups else intent
            rows.append(Row(text, label, "shopper", f"nlu:{group}"))
    return rows


def assign_groups(rows: list[Row]) -> None:
    """Give rows with the same normalised text the same group id (across sources).

    Rows that already carry a group (shopper messages: their paraphrase group) keep it.
    """
    for row in rows:
        if not row.group:
            row.group = hashlib.sha1(normalise(row.text).encode()).hexdigest()[:12]


def split_source(rows: list[Row], fraction: float, seed: int) -> tuple[list[Row], list[Row]]:
    """Split one source per label without splitting a duplicate group."""
    from core.encoder_fit import heldout_split

    train_idx, eval_idx = heldout_split(
        [r.label for r in rows], [r.group for r in rows], fraction, seed
    )
    return [rows[i] for i in train_idx], [rows[i] for i in eval_idx]


def write_csv(path: Path, rows: list[Row]) -> None:
    """Write ``text,label,group,source``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label", "group", "source"])
        writer.writerows([r.text, r.label, r.group, r.source] for r in rows)


def prepare(args: PrepareSentimentArgs) -> dict[str, object]:
    """Build the CSVs; return the manifest (counts per file and label)."""
    source = Path(args.source)
    alexa = source / "amazon_alexa.tsv"
    if not alexa.is_file():
        raise ValueError(
            f"--source {str(source)!r} has no amazon_alexa.tsv; pass the folder that holds it "
            f"(data/demo/sentiment or ../shared/data/amazon_alexa_reviews with uci/ beside it)."
        )
    uci_dir = source / "uci"
    sources: dict[str, list[Row]] = {"alexa": read_alexa(alexa)}
    for name in ("yelp", "imdb", "amazon_cells"):
        path = uci_dir / f"{name}_labelled.txt"
        if path.is_file():
            sources[name] = read_uci(path, name)
        elif name != "amazon_cells":
            raise ValueError(f"{str(path)!r} is missing; the UCI yelp and imdb files are required.")
    if args.shopper:
        if not Path(args.shopper).is_file():
            raise ValueError(
                f"--shopper {args.shopper!r} does not exist; run `shopbot prepare` first (it "
                f"writes var/nlu/train.csv) or pass --shopper '' to train on reviews only."
            )
        sources["shopper"] = read_shopper(Path(args.shopper), args.shopper_per_intent, args.seed)
    all_rows = [row for rows in sources.values() for row in rows]
    assign_groups(all_rows)
    train: list[Row] = []
    held: dict[str, list[Row]] = {}
    for name, rows in sources.items():
        part_train, part_eval = split_source(rows, args.eval_fraction, args.seed)
        train += part_train
        held[name] = part_eval
    # A duplicate group that also occurs in another source's eval part must not be trained on.
    eval_groups = {r.group for rows in held.values() for r in rows}
    leaked = [r for r in train if r.group in eval_groups]
    train = [r for r in train if r.group not in eval_groups]
    out = Path(args.out)
    files = {
        "train.csv": train,
        "eval_uci.csv": held["yelp"] + held["imdb"],
        "eval_alexa.csv": held["alexa"],
    }
    if "shopper" in held:
        files["eval_shopper.csv"] = held["shopper"]
    if "amazon_cells" in held:
        files["eval_amazon_cells.csv"] = held["amazon_cells"]
    manifest: dict[str, object] = {"source": str(source), "seed": args.seed, "files": {}}
    for name, rows in files.items():
        write_csv(out / name, rows)
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.label] = counts.get(r.label, 0) + 1
        manifest["files"][name] = {"rows": len(rows), "labels": dict(sorted(counts.items()))}  # type: ignore[index]
    manifest["dropped_cross_source_duplicates"] = len(leaked)
    write_json(out / "manifest.json", manifest)
    logger.info("Sentiment data written to %s: %s", out, manifest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Run the preparation; return the exit code (2 on bad input)."""
    args = parse_args(
        PrepareSentimentArgs, argv, "python -m training.prepare_sentiment", DESCRIPTION
    )
    try:
        manifest = prepare(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, info in manifest["files"].items():  # type: ignore[attr-defined]
        print(f"{args.out}/{name}: {info['rows']} rows {info['labels']}")
    return 0


if __name__ == "__main__":
    from core.logging_setup import configure_logging

    configure_logging()
    raise SystemExit(main())
