"""Build the generator's training data from the store's catalog, FAQ and support responses.

Writes into ``var/generator/`` (deterministic for a given seed and inputs):

- ``pretrain.jsonl`` — stage 1 text: every product rendered as a source section (the layout the
  generator sees at serving time) plus its description, every FAQ entry, and Bitext customer-support
  responses (placeholders replaced).
- ``passages.jsonl`` — every passage a fine-tuning prompt refers to (store passages and copies with a
  planted prompt injection).
- ``finetune_train.jsonl`` / ``finetune_valid.jsonl`` — stage 2 grounded question → answer examples:
  many phrasings per fact (price, brand, category, a spec, availability, "tell me about"),
  answers that cite the source by its position in the prompt and restate the fact as the source
  states it (``[S1] Guillow Airplane Design Studio — Price: $28.91.``), with distractor passages
  as retrieval would return them; FAQ questions paraphrased → the FAQ's answer with its source
  tag; "not in the sources → say so" examples;
  prompt-injection examples (in the question, or planted in a source) whose answers ignore them;
  follow-up questions that need the history ("how much is it?").
- ``eval_questions.jsonl`` — the held-out set for ``shopbot eval-answers``: questions about products
  and FAQ entries never used in fine-tuning, half of them in phrasings (templates) never seen.
- ``injection_eval.jsonl`` — prompt-injection fixtures (in the question, planted in a passage) with
  injection phrasings never seen in training.
- ``split.json`` — the held-out product ids, FAQ ids and template ids; ``manifest.json`` — counts,
  seed, preset and the hash of the inputs.

The steps live in ``training/generator_data/`` (one job per module); the question and answer
phrasings are data, in ``training/generator_data/qa_phrasings.yml``.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.artifacts import hash_inputs
from training.cli_args import exit_code, parse_args
from training.generator_data.dataset import build_dataset
from training.generator_data.files import write_dataset
from training.generator_data.presets import DATA_PRESETS
from training.generator_data.store import BITEXT_FILE, hash_store, load_store, read_bitext_responses

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class PrepareGeneratorArgs:
    """Arguments of ``python -m training.prepare_generator``."""

    preset: str = field(
        default="demo",
        metadata={"help": "Data size preset.", "choices": list(DATA_PRESETS)},
    )
    catalog: str = field(
        default="var/store/catalog.jsonl",
        metadata={
            "help": "Normalised catalog (JSON lines); falls back to the demo CSV when missing."
        },
    )
    faq: str = field(
        default="var/store/faq.jsonl",
        metadata={"help": "Normalised FAQ (JSON lines); falls back to the demo CSV when missing."},
    )
    bitext: str = field(
        default=f"data/demo/bitext/{BITEXT_FILE}",
        metadata={"help": "Bitext responses CSV; '' for none (falls back to ../shared)."},
    )
    out_dir: str = field(default="var/generator", metadata={"help": "Output folder."})
    seed: int = field(default=13, metadata={"help": "Random seed (same seed → same files)."})
    holdout_products: float = field(
        default=0.1, metadata={"help": "Share of products never used in fine-tuning."}
    )
    holdout_faq: float = field(
        default=0.15, metadata={"help": "Share of FAQ entries never used in fine-tuning."}
    )
    valid_fraction: float = field(
        default=0.03, metadata={"help": "Share of fine-tuning examples kept for the eval loss."}
    )
    describe_specs: int | None = field(
        default=None,
        metadata={
            "help": "Most spec sentences of a describe-from-attributes example; 0 = no such "
            "examples; default: the preset's (none for tiny)."
        },
    )

    def __post_init__(self) -> None:
        if self.preset not in DATA_PRESETS:
            raise ValueError(
                f"preset must be one of {sorted(DATA_PRESETS)}. Currently, preset is {self.preset!r}."
            )
        for name in ("holdout_products", "holdout_faq", "valid_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value < 0.9:
                raise ValueError(
                    f"{name} must be in [0, 0.9). Currently, {name} is {value}; use e.g. 0.1."
                )
        if self.describe_specs is not None and self.describe_specs < 0:
            raise ValueError(
                f"describe_specs must be 0 or more. Currently, describe_specs is "
                f"{self.describe_specs}."
            )


def inputs_fingerprint(args: PrepareGeneratorArgs) -> str:
    """A hash of everything the prepared data depends on: the store's files, the data-building
    code and the arguments (the output folder aside). Data with another fingerprint is stale."""
    paths = [ROOT / args.catalog, ROOT / args.faq, ROOT / "training" / "generator_data"]
    paths.append(ROOT / "training" / "prepare_generator.py")
    if args.bitext:
        paths.append(ROOT / args.bitext)
    settings = {k: v for k, v in asdict(args).items() if k != "out_dir"}
    return hash_inputs(paths, extra=settings)


def run(args: PrepareGeneratorArgs) -> dict[str, Any]:
    """Prepare the generator data as ``args`` describe; returns the manifest."""
    products, faqs = load_store(ROOT / args.catalog, ROOT / args.faq)
    if not products:
        raise ValueError(f"The catalog {args.catalog!r} has no products; check the file.")
    rng = random.Random(args.seed)
    bitext_path = ROOT / args.bitext if args.bitext else None
    bitext = read_bitext_responses(bitext_path, DATA_PRESETS[args.preset].bitext_responses, rng)
    dataset = build_dataset(
        products,
        faqs,
        bitext,
        preset=args.preset,
        seed=args.seed,
        holdout_products=args.holdout_products,
        holdout_faq=args.holdout_faq,
        valid_fraction=args.valid_fraction,
        describe_specs=args.describe_specs,
    )
    manifest = {
        "preset": args.preset,
        "seed": args.seed,
        "data_hash": hash_store(products, faqs, bitext),
        "inputs_sha256": inputs_fingerprint(args),
        "products": len(products),
        "faq_entries": len(faqs),
        "bitext_responses": len(bitext),
        "pretrain_documents": len(dataset.pretrain),
        "train_examples": len(dataset.train),
        "valid_examples": len(dataset.valid),
        "eval_questions": len(dataset.eval_questions),
        "injection_fixtures": len(dataset.injection_eval),
        "held_out_products": len(dataset.split["held_out_products"]),
        "held_out_faq": len(dataset.split["held_out_faq"]),
        "args": asdict(args),
    }
    write_dataset(dataset, ROOT / args.out_dir, manifest)
    logger.info("Generator data written to %s: %s", ROOT / args.out_dir, manifest)
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare the generator's training data; returns an exit code."""
    args = parse_args(PrepareGeneratorArgs, argv, "prepare_generator", __doc__)
    logger.info("prepare_generator configuration: %s", json.dumps(asdict(args)))
    return exit_code(run, args, logger)


if __name__ == "__main__":
    from core.logging_setup import configure_logging

    configure_logging()
    raise SystemExit(main())
