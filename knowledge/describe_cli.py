"""``shopbot describe``: write product descriptions from attributes, verified, as JSONL or CSV.

Examples::

    shopbot describe --product 4c69b61db1fc16e7013b43fc926e502d --out descriptions.jsonl
    shopbot describe --missing --out missing.csv
    shopbot describe --all --limit 50 --fallback template --out descriptions.jsonl

Each row: ``product_id``, ``name``, ``status`` (``accepted`` / ``rejected`` / ``template``),
``description`` (what to import: empty when rejected), ``source``, ``draft``, ``unsupported`` and
``generator`` (see :class:`knowledge.describe.DescriptionResult`). A store imports the rows whose
status is ``accepted`` (and ``template`` if it wants the baseline).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from core.settings import Settings
from knowledge.catalog.jsonl import read_catalog_jsonl
from knowledge.catalog.model import Product
from knowledge.describe import FALLBACKS, Describer, DescriptionResult
from knowledge.types import Generator

logger = logging.getLogger(__name__)

OUTPUT_FORMATS = (".jsonl", ".csv")
CSV_FIELDS = (
    "product_id",
    "name",
    "status",
    "description",
    "source",
    "draft",
    "unsupported",
    "generator",
)


def build_parser() -> argparse.ArgumentParser:
    """The command's options (``--product`` repeats; exactly one of the selections)."""
    parser = argparse.ArgumentParser(
        prog="shopbot describe",
        description="Write product descriptions from their attributes with the generator; every "
        "draft is verified against the attributes before it is accepted.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--product",
        action="append",
        metavar="ID",
        help="a product id from the catalog (repeat the flag for several)",
    )
    which.add_argument(
        "--missing", action="store_true", help="every product whose description is empty"
    )
    which.add_argument("--all", action="store_true", help="every product of the catalog")
    parser.add_argument("--limit", type=int, default=None, help="describe at most this many")
    parser.add_argument(
        "--out", required=True, help="output file: .jsonl or .csv (the store's import format)"
    )
    parser.add_argument(
        "--fallback",
        choices=FALLBACKS,
        default="none",
        help="a draft that fails verification: 'none' writes it as rejected with an empty "
        "description; 'template' writes the fixed-template description instead (status template)",
    )
    parser.add_argument(
        "--catalog", default="var/store/catalog.jsonl", help="the normalised catalog (JSONL)"
    )
    parser.add_argument(
        "--preset",
        default="",
        help="preset whose generator writes (models/<preset>/knowledge/generator); default: "
        "SHOPBOT_KNOWLEDGE_DIR, else SHOPBOT_PRESET's",
    )
    parser.add_argument(
        "--knowledge-dir", default="", help="folder with the generator (overrides --preset)"
    )
    parser.add_argument(
        "--max-new-tokens", type=int, default=None, help="draft length (default: the model's)"
    )
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and cross-check the arguments (exits with a usage error naming the flag)."""
    parser = build_parser()
    args = parser.parse_args(None if argv is None else list(argv))
    if args.limit is not None and args.limit <= 0:
        parser.error(f"--limit must be greater than 0. Currently, limit is {args.limit}.")
    if Path(args.out).suffix.lower() not in OUTPUT_FORMATS:
        parser.error(
            f"--out must end in .jsonl or .csv. Currently, out is {args.out!r}; "
            "e.g. --out descriptions.jsonl"
        )
    if args.max_new_tokens is not None and args.max_new_tokens <= 0:
        parser.error(
            f"--max-new-tokens must be greater than 0. Currently, it is {args.max_new_tokens}."
        )
    return args


def select_products(
    catalog: Sequence[Product],
    ids: Sequence[str] | None = None,
    missing: bool = False,
    limit: int | None = None,
) -> list[Product]:
    """The products to describe: the given ids (in that order), those without a description
    (``missing``), or all; at most ``limit``.

    Raises:
        ValueError: When an id is not in the catalog (naming it).
    """
    if ids:
        by_id = {p.id: p for p in catalog}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise ValueError(
                f"--product {unknown[0]!r} is not in the catalog ({len(unknown)} unknown id(s)); "
                "use an id from the catalog's 'id' field."
            )
        chosen = [by_id[i] for i in dict.fromkeys(ids)]
    elif missing:
        chosen = [p for p in catalog if not p.description.strip()]
    else:
        chosen = list(catalog)
    return chosen[:limit] if limit is not None else chosen


def knowledge_dir(args: argparse.Namespace, settings: Settings) -> Path:
    """``--knowledge-dir``, else ``models/<--preset>/knowledge``, else the settings' folder."""
    if args.knowledge_dir:
        return settings.path(args.knowledge_dir)
    if args.preset:
        return settings.path(f"models/{args.preset}/knowledge")
    return settings.path(settings.knowledge_dir)


def dump_rows(rows: Sequence[DescriptionResult], fh: TextIO, fmt: str) -> None:
    """Write rows to an open text file as ``jsonl`` (one JSON object a line) or ``csv`` (with a
    header; ``unsupported`` becomes a ``; ``-joined cell): the one row format of every export
    (this command's ``--out``, the agent console's download)."""
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"fmt must be jsonl or csv. Currently, fmt is {fmt!r}.")
    if fmt == "csv":
        writer = csv.DictWriter(fh, fieldnames=list(CSV_FIELDS))
        writer.writeheader()
        for row in rows:
            record = row.to_dict()
            record["unsupported"] = "; ".join(row.unsupported)
            writer.writerow(record)
    else:
        for row in rows:
            fh.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")


def write_rows(rows: Sequence[DescriptionResult], out: str | Path) -> Path:
    """Write rows as JSON lines or CSV (by the file's suffix), as :func:`dump_rows` does."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            dump_rows(rows, fh, "csv")
    else:
        with open(path, "w", encoding="utf-8") as fh:
            dump_rows(rows, fh, "jsonl")
    return path


def run(args: argparse.Namespace, generator: Generator | None = None) -> list[DescriptionResult]:
    """Describe the selected products and write the output file (``generator`` overrides the
    configured one, for tests)."""
    settings = Settings()
    catalog_path = settings.path(args.catalog)
    if not catalog_path.exists():
        raise FileNotFoundError(
            f"No catalog at {catalog_path}. Run `shopbot prepare` or pass --catalog."
        )
    products = select_products(
        read_catalog_jsonl(catalog_path), args.product, args.missing, args.limit
    )
    if generator is None:
        from knowledge.generator import make_generator

        generator = make_generator(knowledge_dir(args, settings) / "generator")
    describer = Describer(generator, fallback=args.fallback, max_new_tokens=args.max_new_tokens)
    warm_up = getattr(generator, "warm_up", None)
    if callable(warm_up):
        warm_up()  # a missing model fails here, before the progress bar
    logger.info(
        "describe: %d product(s) from %s, generator %s, fallback %s, out %s",
        len(products),
        catalog_path,
        describer.name,
        args.fallback,
        args.out,
    )
    rows = describer.describe_all(products)
    path = write_rows(rows, settings.path(args.out))
    counts = Counter(r.status for r in rows)
    logger.info("describe: wrote %d row(s) to %s (%s)", len(rows), path, dict(counts))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``shopbot describe``; 0 on success, 1 when the catalog, an id or the model is missing."""
    from knowledge.generator import GeneratorError

    args = parse(argv)
    logger.info("describe configuration: %s", json.dumps(vars(args)))
    try:
        rows = run(args)
    except (FileNotFoundError, ValueError, GeneratorError) as exc:
        logger.error("%s", exc)
        return 1
    counts = Counter(r.status for r in rows)
    print(
        f"{len(rows)} product(s): {counts.get('accepted', 0)} accepted, "
        f"{counts.get('rejected', 0)} rejected, {counts.get('template', 0)} template → {args.out}"
    )
    return 0
