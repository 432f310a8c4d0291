"""``load_catalog``: read a store's export, normalise each row, report and skip the bad ones.

Malformed rows are reported with their file line number and skipped; the rest of the file loads.
"""

from __future__ import annotations

import logging
from pathlib import Path

from knowledge.catalog.mappings import AMAZON_2020, ColumnMapping
from knowledge.catalog.model import CatalogLoadResult, RowError
from knowledge.catalog.normalise import to_product
from knowledge.catalog.readers import detect_format, read_csv, read_json_lines, read_json_list

logger = logging.getLogger(__name__)

__all__ = ["load_catalog"]


def load_catalog(
    path: str | Path, mapping: ColumnMapping = AMAZON_2020, limit: int | None = None
) -> CatalogLoadResult:
    """Load and normalise a catalog export.

    Malformed rows (no id or name, unparseable price, wrong field count) and duplicate ids (the
    first occurrence is kept) are logged as warnings with their line number, reported in
    ``errors`` and skipped; the rest of the file loads.

    Args:
        path: CSV, JSON list or JSON-lines file.
        mapping: How the export's columns map to ``Product`` fields.
        limit: Stop after this many products (for tests and previews); ``None`` loads all.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If ``limit`` is negative or the file is JSON but not a list/JSON lines.
    """
    path = Path(path)
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be None or >= 0. Currently, limit is {limit}.")
    if not path.is_file():
        raise FileNotFoundError(
            f"Catalog file {str(path)!r} does not exist; pass the path of the store's export."
        )
    fmt = detect_format(path, mapping)
    readers = {"csv": read_csv, "json": read_json_list, "jsonl": read_json_lines}
    result = CatalogLoadResult(products=[])
    first_line: dict[str, int] = {}
    for line_number, record, problem in readers[fmt](path, mapping):
        if limit is not None and len(result.products) >= limit:
            break
        result.rows_read += 1
        if record is None:
            _report(result, path, line_number, problem)
            continue
        try:
            product = to_product(record, mapping)
        except ValueError as exc:
            _report(result, path, line_number, str(exc))
            continue
        if product.id in first_line:
            _report(
                result,
                path,
                line_number,
                f"duplicate id {product.id!r} (first seen on line {first_line[product.id]}); "
                "kept the first",
            )
            continue
        first_line[product.id] = line_number
        result.products.append(product)
    logger.info(
        "Loaded %d products from %s (mapping %s, %s): %d rows read, %d skipped",
        len(result.products),
        path,
        mapping.preset,
        fmt,
        result.rows_read,
        len(result.errors),
    )
    return result


def _report(result: CatalogLoadResult, path: Path, line_number: int, reason: str) -> None:
    """Record and log a skipped row."""
    result.errors.append(RowError(line_number=line_number, reason=reason))
    logger.warning("%s line %d skipped: %s", path, line_number, reason)
