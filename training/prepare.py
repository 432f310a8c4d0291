"""``shopbot prepare``: build the store's data — catalog, FAQ, order database — and the NLU data.

Each part is rebuilt only when its inputs changed (the order database is not re-seeded on every
run, so changes made while trying the demo survive a restart). ``--force`` rebuilds everything.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from actions.store.policy import POLICY_FILE
from core.artifacts import Stamp, hash_inputs
from core.settings import Settings
from knowledge.faq import PHRASINGS_SUFFIX
from training.prepare_nlu import PrepareNluArgs, run_prepare_nlu
from training.prepare_store import PrepareStoreArgs, run_prepare_store

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]


def prepare_store(args: argparse.Namespace, root: Path = ROOT) -> None:
    """Normalise catalog and FAQ into ``var/store`` and seed the order database (when changed)."""
    out_dir = root / "var" / "store"
    store_args = PrepareStoreArgs(
        catalog_path=str(args.catalog),
        catalog_mapping=args.catalog_mapping,
        faq_path=str(args.faq),
        out_dir=str(out_dir),
        db_url=args.store_db_url,
        seed=args.seed,
    )
    mapping_file = Path(args.catalog_mapping)
    inputs = [Path(args.catalog), Path(args.faq), root / "training" / "prepare_store.py"]
    # The catalog loader and the store's rules shape the data: a change to them rebuilds it.
    inputs += [root / "knowledge" / "catalog", root / "actions" / "store" / "schema.py"]
    inputs += [root / "actions" / "store" / "policy.py", POLICY_FILE]
    if mapping_file.is_file():
        inputs.append(mapping_file)
    # The FAQ loader, and the shoppers' phrasings beside the FAQ when the store has them.
    phrasings = Path(args.faq).with_name(Path(args.faq).stem + PHRASINGS_SUFFIX)
    inputs += [root / "knowledge" / "faq.py", *([phrasings] if phrasings.is_file() else [])]
    inputs_hash = hash_inputs(inputs, extra={"seed": args.seed, "db": store_args.resolved_db_url})
    stamp = Stamp(out_dir / ".prepared")
    outputs = [out_dir / "catalog.jsonl", out_dir / "faq.jsonl"]
    if not args.force and stamp.matches(inputs_hash, *outputs):
        logger.info("Store data in %s is up to date", out_dir)
        return
    counts = run_prepare_store(store_args)
    logger.info("Store data written to %s: %s", out_dir, counts)
    stamp.write(inputs_hash)


def prepare_nlu(args: argparse.Namespace, root: Path = ROOT) -> None:
    """Generate the NLU training data and the held-out split (when changed)."""
    nlu_args = PrepareNluArgs(catalog=root / "var" / "store" / "catalog.jsonl", preset=args.preset)
    assert nlu_args.catalog is not None  # resolved in PrepareNluArgs.__post_init__
    # Hand-written sources only: bot/data/nlu/generated/ is this step's output.
    sources = sorted((root / "bot" / "data" / "nlu").glob("*.yml"))
    code = [root / "training" / "prepare_nlu.py", root / "training" / "nlu"]
    inputs = [nlu_args.bitext_csv, nlu_args.catalog, *sources, *code]
    inputs_hash = hash_inputs(inputs, extra={"preset": args.preset})
    stamp = Stamp(nlu_args.csv_out_dir / f".prepared-{args.preset}")
    outputs = [
        nlu_args.csv_out_dir / "train.csv",
        nlu_args.csv_out_dir / "test.csv",
        nlu_args.rasa_out_dir,
    ]
    current = nlu_args.csv_out_dir / ".preset"
    same_preset = current.exists() and current.read_text().strip() == args.preset
    if not args.force and same_preset and stamp.matches(inputs_hash, *outputs):
        logger.info("NLU data (preset %s) is up to date", args.preset)
        return
    counts = run_prepare_nlu(nlu_args)
    logger.info(
        "NLU data written (preset %s): %s",
        args.preset,
        {k: v for k, v in counts.items() if not isinstance(v, dict)},
    )
    stamp.write(inputs_hash)
    current.write_text(args.preset + "\n")


def main(argv: list[str] | None = None) -> int:
    """Build the store data and the NLU data for a preset."""
    parser = argparse.ArgumentParser(prog="shopbot prepare", description=__doc__)
    parser.add_argument(
        "--preset",
        choices=("tiny", "demo", "full"),
        default=Settings().preset,
        help="caps the Rasa NLU training data per intent (tiny=25, demo=150, full=all)",
    )
    parser.add_argument(
        "--catalog",
        type=Path,
        default=ROOT / "data/demo/catalog/amazon_products_sample1000.csv",
        help="the store's catalog export (CSV, JSON list or JSON lines)",
    )
    parser.add_argument(
        "--catalog-mapping",
        default="amazon_2020",
        help="column mapping: a preset (amazon_2020, adidas_us, myntra) or a JSON/YAML file",
    )
    parser.add_argument(
        "--faq",
        type=Path,
        default=ROOT / "data/demo/faq/ecommerce_faq.csv",
        help="FAQ: CSV with id,question,answer or JSON {'questions': [...]}",
    )
    parser.add_argument(
        "--store-db-url",
        default=Settings().store_db_url,
        help="order database URL (default sqlite:///var/store/shop.db)",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated orders")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    if (
        args.store_db_url
        and args.store_db_url.startswith("sqlite:///")
        and not args.store_db_url.startswith("sqlite:////")
    ):
        args.store_db_url = f"sqlite:///{ROOT / args.store_db_url.removeprefix('sqlite:///')}"
    prepare_store(args)
    prepare_nlu(args)
    return 0
