"""The normalised catalog file: JSON lines, one ``Product`` per line (``var/store/catalog.jsonl``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from knowledge.catalog.model import Product
from knowledge.jsonl import read_jsonl_records, write_jsonl_records

__all__ = ["read_catalog_jsonl", "write_catalog_jsonl"]


def write_catalog_jsonl(products: Iterable[Product], path: str | Path) -> int:
    """Write one product per line (UTF-8 JSON lines, atomically); creates parent folders.

    Returns:
        The number of products written.
    """
    return write_jsonl_records(products, path)


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
    return read_jsonl_records(path, Product.from_dict, "product")
