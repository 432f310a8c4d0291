"""Readers of the NLU sources: the Bitext CSV, hand-written YAML, product templates, catalog terms.

Hand-written sources keep Rasa-style blocks under the top-level key ``nlu_source`` so that Rasa does
not load them directly; ``product_templates.yml`` holds the templates filled from the catalog.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.nlu.examples import NluExample
from training.nlu.rasa_annotations import parse_rasa_annotation

SOURCE_KEY = "nlu_source"
TEMPLATES_KEY = "product_templates"


@dataclass(frozen=True)
class CatalogTerms:
    """Product names and category paths read from a catalog file."""

    names: tuple[str, ...]
    category_paths: tuple[tuple[str, ...], ...]


def read_bitext(path: Path) -> list[NluExample]:
    """Read the Bitext CSV (``text,category``) as raw examples (placeholders still in the text).

    Args:
        path: The CSV file.

    Returns:
        One example per row, in file order, with ``source="bitext"``.

    Raises:
        ValueError: If the CSV lacks the ``text`` or ``category`` column.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "category"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"bitext_csv={str(path)!r} lacks columns {sorted(missing)}; expected the Bitext "
                f"v11 file with columns text,category (data/demo/bitext/v11_instruction_intent.csv)."
            )
        return [
            NluExample(text=row["text"], intent=row["category"].strip(), source="bitext")
            for row in reader
            if row["text"] and row["text"].strip()
        ]


def _load_yaml(path: Path) -> Any:
    import yaml  # local import: only the readers need it

    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _yaml_section(path: Path, key: str, kind: type) -> Any:
    """The value under top-level ``key`` of the YAML file, or None when it is not a ``kind``."""
    data = _load_yaml(path)
    section = data.get(key) if isinstance(data, dict) else None
    return section if isinstance(section, kind) else None


def read_handwritten(path: Path) -> list[NluExample]:
    """Read a hand-written source file (Rasa NLU blocks under the top-level key ``nlu_source``).

    Args:
        path: A YAML file such as ``bot/data/nlu/chitchat.yml``.

    Returns:
        The examples in file order, with ``source="handwritten"``.

    Raises:
        ValueError: If the file has no ``nlu_source`` list or a block lacks ``intent``/``examples``.
    """
    blocks = _yaml_section(path, SOURCE_KEY, list)
    if blocks is None:
        raise ValueError(
            f"source file={str(path)!r} has no '{SOURCE_KEY}:' list; write "
            f"'{SOURCE_KEY}:' followed by '- intent: X' / 'examples: |' blocks (see chitchat.yml)."
        )
    examples: list[NluExample] = []
    for block in blocks:
        if not isinstance(block, dict) or "intent" not in block or "examples" not in block:
            raise ValueError(
                f"source file={str(path)!r} block={block!r} needs 'intent' and 'examples' keys."
            )
        for line in str(block["examples"]).splitlines():
            line = line.strip()
            if not line.startswith("-"):
                continue
            text, spans = parse_rasa_annotation(line[1:].strip())
            if text:
                examples.append(NluExample(text, str(block["intent"]), spans, source="handwritten"))
    return examples


def load_product_templates(path: Path) -> dict[str, list[str]]:
    """Read the catalog templates (``product_templates: {intent: [template, ...]}``).

    Args:
        path: ``bot/data/nlu/product_templates.yml``.

    Returns:
        Templates per intent, in file order.

    Raises:
        ValueError: If the file lacks the ``product_templates`` mapping.
    """
    templates = _yaml_section(path, TEMPLATES_KEY, dict)
    if templates is None:
        raise ValueError(
            f"templates file={str(path)!r} has no '{TEMPLATES_KEY}:' mapping of intent → list of "
            f"templates; see bot/data/nlu/product_templates.yml."
        )
    for intent, items in templates.items():
        bad = [t for t in items or () if not isinstance(t, str)]
        if not items or bad:
            raise ValueError(
                f"templates file={str(path)!r} intent={intent!r} needs a list of strings; got "
                f"{bad or items!r} (quote templates that contain ': ' or start with '{{')."
            )
    return {str(intent): list(items) for intent, items in templates.items()}


def load_catalog_terms(path: Path) -> CatalogTerms:
    """Read product names and category paths from the normalised catalog or the demo CSV.

    Args:
        path: ``var/store/catalog.jsonl`` (JSON lines with ``name`` and ``category`` list) or a
            CSV with ``Product Name`` and ``Category`` (``"A | B | C"``) columns.

    Returns:
        Names and category paths, in file order.

    Raises:
        ValueError: If the file is neither format.
    """
    names: list[str] = []
    paths: list[tuple[str, ...]] = []
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                product = json.loads(line)
                if "name" not in product:
                    raise ValueError(
                        f"catalog={str(path)!r} line {number} has no 'name'; expected one "
                        f"Product per line (docs/CONVENTIONS.md)."
                    )
                names.append(str(product["name"]))
                category = product.get("category") or ()
                paths.append(tuple(str(c) for c in category))
    elif path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if "Product Name" not in (reader.fieldnames or ()):
                raise ValueError(
                    f"catalog={str(path)!r} has no 'Product Name' column; pass the demo CSV "
                    f"data/demo/catalog/amazon_products_sample1000.csv or var/store/catalog.jsonl."
                )
            for row in reader:
                names.append(row["Product Name"])
                paths.append(
                    tuple(p.strip() for p in (row.get("Category") or "").split("|") if p.strip())
                )
    else:
        raise ValueError(
            f"catalog={str(path)!r} must be a .jsonl (normalised catalog) or .csv (demo) file."
        )
    return CatalogTerms(tuple(n for n in names if n.strip()), tuple(paths))
