"""The normalised catalog file: JSON lines, one ``Product`` per line (``var/store/catalog.jsonl``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from knowledge.catalog.model import Product

__all__ = ["read_catalog_jsonl", "write_catalog_jsonl"]


def write_catalog_jsonl(products: Iterable[Product], path: str | Path) -> int:
    """Write one product per line (UTF-8 JSON lines); creates parent folders.

    Returns:
        The number of products written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for product in products:
            handle.write(json.dumps(product.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)  # readers never see a half-written catalog
    return count


def read_catalog_jsonl(path: str | Path) -> list[Product]:
    """Read a catalog written by ``write_catalog_jsonl``.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If a line is not a valid product (the message names the line).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"Catalog file {str(path)!r} does not exist; build it with "
            "`python -m training.prepare_store`."
        )
    products: list[Product] = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                products.append(Product.from_dict(json.loads(line)))
            except (json.JSONDecodeError, ValueError) as exc:
                raise ValueError(
                    f"{path} line {line_number} is not a valid product: {exc}. "
                    "Rebuild the file with `python -m training.prepare_store`."
                ) from exc
    return products
