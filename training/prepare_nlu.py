"""Build the assistant's NLU training data from the Bitext corpus, hand-written YAML and the catalog.

Inputs:

* ``data/demo/bitext/v11_instruction_intent.csv`` (``text,category``; ``category`` is the intent):
  27 customer-service intents with ``{{Order Number}}``-style placeholders.
* Hand-written sources under ``bot/data/nlu/`` (``chitchat.yml``, ``handoff.yml``, ``inform.yml``,
  ``out_of_scope.yml``): Rasa-style blocks under the top-level key ``nlu_source`` so that Rasa
  does not load them directly, and ``product_templates.yml`` (templates filled from the catalog).
* Product names and category paths: ``var/store/catalog.jsonl`` when it exists, else the demo CSV
  ``data/demo/catalog/amazon_products_sample1000.csv``.

Pipeline: read → dedup → fill placeholders (seeded, entity-annotated) → paraphrase groups →
grouped train/test split → write.

Decisions:

* **Dedup.** Texts are compared after lower-casing and collapsing whitespace (Bitext placeholders
  still in place). Repeats within one intent keep the first occurrence. A text under two or more
  intents keeps the **majority label** (counted over raw rows) and drops the other copies; on a tie
  every copy is dropped, since no label can be trusted. Counts are logged and returned. (The
  Bitext file itself has no cross-intent conflicts; the rule guards hand-written and generated
  data.)
* **Paraphrase groups.** Bitext utterances are templated variations (typos, "order"/"purchase"
  swaps, prefixes such as "i need help"), so a random split leaks near-copies into the test set.
  Each text is normalised (lower case, entities/placeholders replaced by their entity name,
  punctuation dropped) and embedded with character 3–5-gram TF-IDF (word-bounded, sublinear tf);
  within each intent, pairs with cosine ≥ ``similarity_threshold`` (0.70) are merged with
  union-find in order of decreasing similarity, refusing merges that would grow a group beyond
  ``max_group_fraction`` (5 %) of its intent. Why: plain union-find chains templated data into
  one giant component (at 0.80 one intent has 50 % of its rows in one group; at 0.70 85 %), which
  makes a stratified split impossible; at 0.85 groups stay small but 36 % of test rows still have
  a training row with cosine ≥ 0.80. With 0.70 and the 5 % cap, measured on Bitext: ~4.7k groups,
  test rows with a training neighbour ≥ 0.80 drop from 68 % (random split) to ~7 %, and every
  intent's test share stays within 3 points of the target. Pairs at 0.70–0.75 are still clear
  paraphrases ("i need help with canceling purchase" / "i need help with cancelling order").
  Catalog-generated examples take their template as group, so whole templates are held out.
* **Out of scope.** The Rasa intent is ``out_of_scope`` (Rasa NLU YAML, train split only in
  ``bot/data/nlu/generated/``, test split in ``var/nlu/test.yml``). In the CSVs for the BERT
  intent classifier the label is ``oos`` and never appears in ``var/nlu/train.csv``: its train
  split goes to ``var/nlu/oos_train.csv`` (usable as a trained OOS class or for calibration) and
  its test split is part of ``var/nlu/test.csv``, so OOS detection is always evaluated on unseen
  out-of-scope messages.
* **Honest Rasa evaluation.** Rasa trains only on the train split (written to
  ``bot/data/nlu/generated/``, capped per intent by the preset); ``var/nlu/test.yml`` holds the
  full test split for ``rasa test nlu --nlu var/nlu/test.yml``. The CSVs are always full size.
* **Annotation safety.** Rasa reads ``[text](entity)`` inside examples, so square brackets and
  braces in source text become parentheses, control characters become spaces, and whitespace is
  collapsed before any entity offsets are computed. CSV text and Rasa text are identical.
* **Order numbers** keep an optional leading ``#`` inside the entity span ("#482913"), because
  Rasa's WhitespaceTokenizer keeps it as one token; strip the ``#`` when filling the slot.

Run: ``python -m training.prepare_nlu --preset demo`` (or ``shopbot prepare --preset demo``).
The output is a pure function of the inputs and the arguments (byte-identical on re-runs).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.artifacts import sha256_chunks
from training.cli_args import parse_args
from training.nlu.catalog_examples import generate_product_examples, product_lookup
from training.nlu.dedup import dedup_examples
from training.nlu.examples import OOS_INTENT, NluExample
from training.nlu.groups import assign_paraphrase_groups, near_duplicate_rate
from training.nlu.placeholders import fill_placeholders
from training.nlu.readers import (
    load_catalog_terms,
    load_product_templates,
    read_bitext,
    read_handwritten,
)
from training.nlu.split import cap_per_intent, split_grouped
from training.nlu.writers import (
    PRESET_CAPS,
    render_rasa_nlu,
    write_if_changed,
    write_rasa_nlu,
    write_split_csv,
)

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]

_DESCRIPTION = (
    "Build the NLU training data (Rasa YAML + classifier CSVs) from Bitext and the catalog."
)

#: The intents of the Bitext corpus (its ``category`` column).
BITEXT_INTENTS: tuple[str, ...] = (
    "cancel_order",
    "change_order",
    "change_shipping_address",
    "check_cancellation_fee",
    "check_invoice",
    "check_payment_methods",
    "check_refund_policy",
    "complaint",
    "contact_customer_service",
    "contact_human_agent",
    "create_account",
    "delete_account",
    "delivery_options",
    "delivery_period",
    "edit_account",
    "get_invoice",
    "get_refund",
    "newsletter_subscription",
    "payment_issue",
    "place_order",
    "recover_password",
    "registration_problems",
    "review",
    "set_up_shipping_address",
    "switch_account",
    "track_order",
    "track_refund",
)

HANDWRITTEN_FILES: tuple[str, ...] = (
    "chitchat.yml",
    "handoff.yml",
    "inform.yml",
    "out_of_scope.yml",
)
SEED_FILES: tuple[str, ...] = ("shopper_phrasings.yml",)
"""Hand-written seed phrasings the Bitext data lacks: always trained on, never held out or capped."""
MORE_SEED_FILES: tuple[str, ...] = (
    "shopper_phrasings_more.yml",
    "shopper_phrasings_round2.yml",
    "shopper_phrasings_round3.yml",
)
"""Seed phrasings in shoppers' own words for every intent (~950, 2026-12-04), for the ``demo`` and
``full`` presets. The ``tiny`` preset (the test suite's 4-epoch model, 25 templated examples per
intent) trains on :data:`SEED_FILES` only: there the extra phrasings outnumber the templated
examples and moved which borderline story messages the small model reads right from one retrain to
the next (measured: 3 of the 56 conversation tests changed, different ones each time). Round 2
(``shopper_phrasings_round2.yml``, 640, 2026-12-05) adds 280 out-of-scope hard negatives and
chit-chat plus 15 phrasings for each of 24 intents the development set confused, written from its
confusion summary (intent pairs) only, without seeing the evaluation texts. Round 3
(``shopper_phrasings_round3.yml``, 724, 2026-12-06): 12 terse, slangy, abbreviated or misspelled
phrasings for every intent, 10 more for each side of the development set's remaining confusion
pairs, and 100 out-of-scope hard negatives (numbers and measurements in general-knowledge
questions; other organisations' orders, accounts and invoices), written the same way."""


def seed_files(preset: str) -> tuple[str, ...]:
    """The seed phrasing files a preset trains on."""
    return SEED_FILES if preset == "tiny" else (*SEED_FILES, *MORE_SEED_FILES)


PRODUCT_TEMPLATES_FILE = "product_templates.yml"


def _default_catalog() -> Path:
    normalised = REPO_ROOT / "var" / "store" / "catalog.jsonl"
    return (
        normalised
        if normalised.exists()
        else REPO_ROOT / "data/demo/catalog/amazon_products_sample1000.csv"
    )


@dataclass
class PrepareNluArgs:
    """Arguments of :func:`run_prepare_nlu` (and of ``python -m training.prepare_nlu``)."""

    bitext_csv: Path = field(
        default=REPO_ROOT / "data/demo/bitext/v11_instruction_intent.csv",
        metadata={"help": "Bitext CSV with columns text,category (category holds the intent)."},
    )
    catalog: Path | None = field(
        default=None,
        metadata={
            "help": "Product names source: var/store/catalog.jsonl (normalised catalog) or a CSV "
            "with 'Product Name'/'Category'. Default: the jsonl when it exists, else "
            "data/demo/catalog/amazon_products_sample1000.csv."
        },
    )
    source_dir: Path = field(
        default=REPO_ROOT / "bot/data/nlu",
        metadata={"help": "Folder with the hand-written sources and product_templates.yml."},
    )
    rasa_out_dir: Path = field(
        default=REPO_ROOT / "bot/data/nlu/generated",
        metadata={"help": "Where the Rasa NLU YAML of the train split goes (one file per topic)."},
    )
    csv_out_dir: Path = field(
        default=REPO_ROOT / "var/nlu",
        metadata={"help": "Where train.csv, test.csv, oos_train.csv, test.yml, stats.json go."},
    )
    preset: str = field(
        default="demo",
        metadata={
            "help": "Cap per intent for the Rasa files: tiny=25, demo=150, full=all.",
            "choices": sorted(PRESET_CAPS),
        },
    )
    seed: int = field(default=13, metadata={"help": "Seed of every random choice."})
    test_fraction: float = field(
        default=0.2, metadata={"help": "Share of each intent held out for test, in (0, 1)."}
    )
    similarity_threshold: float = field(
        default=0.7,
        metadata={"help": "Char n-gram TF-IDF cosine at which two texts are paraphrases, (0, 1]."},
    )
    max_group_fraction: float = field(
        default=0.05,
        metadata={"help": "Largest paraphrase group as a share of its intent, (0, 1]."},
    )
    product_examples: int = field(
        default=800,
        metadata={"help": "Examples generated per catalog intent (product_question/search)."},
    )

    def __post_init__(self) -> None:
        """Resolve defaults, coerce paths and check every value."""
        self.bitext_csv = Path(self.bitext_csv)
        self.catalog = Path(self.catalog) if self.catalog is not None else _default_catalog()
        self.source_dir = Path(self.source_dir)
        self.rasa_out_dir = Path(self.rasa_out_dir)
        self.csv_out_dir = Path(self.csv_out_dir)
        if self.preset not in PRESET_CAPS:
            raise ValueError(
                f"preset must be one of {sorted(PRESET_CAPS)}. Currently, preset is {self.preset!r}."
            )
        if not 0 < self.test_fraction < 1:
            raise ValueError(
                f"test_fraction must be in (0, 1). Currently, test_fraction is {self.test_fraction}."
            )
        if not 0 < self.similarity_threshold <= 1:
            raise ValueError(
                f"similarity_threshold must be in (0, 1]. Currently, similarity_threshold is "
                f"{self.similarity_threshold}."
            )
        if not 0 < self.max_group_fraction <= 1:
            raise ValueError(
                f"max_group_fraction must be in (0, 1]. Currently, max_group_fraction is "
                f"{self.max_group_fraction}."
            )
        if self.product_examples < 1:
            raise ValueError(
                f"product_examples must be at least 1. Currently, product_examples is "
                f"{self.product_examples}."
            )
        for name in ("bitext_csv", "catalog"):
            path = getattr(self, name)
            if not path.is_file():
                raise ValueError(
                    f"{name}={str(path)!r} does not exist; pass an existing file (see --help)."
                )
        for name in (*HANDWRITTEN_FILES, *SEED_FILES, *MORE_SEED_FILES, PRODUCT_TEMPLATES_FILE):
            if not (self.source_dir / name).is_file():
                raise ValueError(
                    f"source_dir={str(self.source_dir)!r} lacks {name}; point it at bot/data/nlu."
                )


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def run_prepare_nlu(args: PrepareNluArgs) -> dict[str, Any]:
    """Build all NLU data: Rasa YAML (train, capped by preset), test YAML and full-size CSVs.

    Args:
        args: The resolved arguments.

    Returns:
        Counts: rows read per source, duplicates and conflicts dropped, groups, train/test sizes
        per intent (Rasa label names), Rasa training examples per intent, the near-duplicate
        leak rate of the split, and the files written. Also saved as ``stats.json``.
    """
    catalog_path = args.catalog if args.catalog is not None else _default_catalog()
    config = {k: (_display(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    logger.info("prepare_nlu configuration: %s", json.dumps(config, sort_keys=True))

    bitext = read_bitext(args.bitext_csv)
    handwritten = [
        e for name in HANDWRITTEN_FILES for e in read_handwritten(args.source_dir / name)
    ]
    handwritten += [
        dataclasses.replace(e, source="seed")
        for name in seed_files(args.preset)
        for e in read_handwritten(args.source_dir / name)
    ]
    terms = load_catalog_terms(catalog_path)
    templates = load_product_templates(args.source_dir / PRODUCT_TEMPLATES_FILE)
    catalog = generate_product_examples(
        terms.names, terms.category_paths, templates, args.product_examples, args.seed
    )
    logger.info(
        "read %d Bitext rows, %d hand-written examples, %d catalog products; generated %d "
        "catalog examples",
        len(bitext),
        len(handwritten),
        len(terms.names),
        len(catalog),
    )

    # Whitespace is collapsed before dedup so "rebating  {{X}}" equals "rebating {{X}}".
    bitext = [dataclasses.replace(e, text=" ".join(e.text.split())) for e in bitext]
    examples, dedup = dedup_examples([*bitext, *handwritten, *catalog])
    filled: list[NluExample] = []
    for example in examples:
        if example.source == "bitext":
            rng = random.Random(f"{args.seed}:fill:{example.intent}:{example.text}")
            text, spans = fill_placeholders(example.text, rng)
            example = dataclasses.replace(example, text=text, entities=spans)
        filled.append(example)
    grouped = assign_paraphrase_groups(filled, args.similarity_threshold, args.max_group_fraction)
    train, test = split_grouped(grouped, args.test_fraction, args.seed)
    # Seed phrasings are part of the assistant's design, not of the measured data: always train.
    train = [*train, *(e for e in test if e.source == "seed")]
    test = [e for e in test if e.source != "seed"]

    rasa_files = write_rasa_nlu(
        train, args.rasa_out_dir, args.preset, args.seed, {"product": product_lookup(terms.names)}
    )
    out = args.csv_out_dir
    write_split_csv([e for e in train if e.intent != OOS_INTENT], out / "train.csv")
    write_split_csv([e for e in train if e.intent == OOS_INTENT], out / "oos_train.csv")
    write_split_csv(test, out / "test.csv")
    write_if_changed(out / "test.yml", render_rasa_nlu(test))

    inputs = [
        args.bitext_csv,
        catalog_path,
        *(
            args.source_dir / n
            for n in (*HANDWRITTEN_FILES, *seed_files(args.preset), PRODUCT_TEMPLATES_FILE)
        ),
    ]
    rasa_counts = Counter(
        e.intent for e in cap_per_intent(train, PRESET_CAPS[args.preset], args.seed)
    )
    stats: dict[str, Any] = {
        "config": config,
        "inputs_sha256": sha256_chunks(
            chunk for path in inputs for chunk in (path.name, path.read_bytes())
        ),
        "rows_read": {
            "bitext": len(bitext),
            "handwritten": len(handwritten),
            "catalog_generated": len(catalog),
            "catalog_products": len(terms.names),
        },
        "dedup": dataclasses.asdict(dedup),
        "examples": len(grouped),
        "examples_per_source": dict(sorted(Counter(e.source for e in grouped).items())),
        "groups": len({e.group for e in grouped}),
        "intents": len({e.intent for e in grouped}),
        "train_size": len(train),
        "test_size": len(test),
        "train_per_intent": dict(sorted(Counter(e.intent for e in train).items())),
        "test_per_intent": dict(sorted(Counter(e.intent for e in test).items())),
        "rasa_train_per_intent": dict(sorted(rasa_counts.items())),
        "test_near_duplicate_rate_cos80": round(near_duplicate_rate(train, test, 0.8), 4),
        "files": sorted(
            _display(p)
            for p in [
                *rasa_files,
                out / "train.csv",
                out / "oos_train.csv",
                out / "test.csv",
                out / "test.yml",
                out / "stats.json",
            ]
        ),
    }
    write_if_changed(out / "stats.json", json.dumps(stats, indent=2, sort_keys=True) + "\n")
    logger.info(
        "NLU data: %d examples (%d duplicates, %d conflict rows dropped), %d groups, "
        "train %d / test %d, test near-duplicate rate %.3f",
        stats["examples"],
        dedup.duplicates_dropped,
        dedup.conflict_rows_dropped,
        stats["groups"],
        stats["train_size"],
        stats["test_size"],
        stats["test_near_duplicate_rate_cos80"],
    )
    return stats


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Parse arguments, build the NLU data and return the counts of :func:`run_prepare_nlu`.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The counts dictionary.
    """
    args = parse_args(PrepareNluArgs, argv, "python -m training.prepare_nlu", _DESCRIPTION)
    return run_prepare_nlu(args)


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    result = main(sys.argv[1:])
    summary = {k: v for k, v in result.items() if k not in ("config", "files")}
    print(json.dumps(summary, indent=2, sort_keys=True))
