"""Stock levels: the export's stock column (a count or availability words), else derived from the id."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from knowledge.catalog.mappings import ColumnMapping
from knowledge.catalog.text import cell, cell_text

__all__ = ["derive_stock", "stock_from_record"]


_OUT_OF_STOCK_WORDS = {"outofstock", "soldout", "unavailable", "discontinued", "no", "false", "0"}
_IN_STOCK_WORDS = {"instock", "available", "yes", "true", "limitedavailability", "preorder"}


def derive_stock(product_id: str, in_stock: bool | None = None) -> int:
    """Deterministic stock level for exports without quantities.

    ``sha256(id)`` picks 0–60 units; about 10% of ids are out of stock (0). With ``in_stock=True``
    the level is 1–60, with ``in_stock=False`` it is 0. Same id → same stock, on every machine.
    """
    digest = int.from_bytes(hashlib.sha256(product_id.encode("utf-8")).digest()[:8], "big")
    if in_stock is False:
        return 0
    if in_stock is None and digest % 10 == 0:
        return 0
    return 1 + (digest // 10) % 60


def stock_from_record(record: Mapping[str, Any], mapping: ColumnMapping, product_id: str) -> int:
    """Stock from the stock column (a count or availability words), else ``derive_stock``."""
    value = cell_text(cell(record, mapping.stock_column))
    if not value:
        return derive_stock(product_id)
    try:
        return max(0, int(float(value.replace(",", ""))))
    except ValueError:
        pass
    word = re.sub(r"[^a-z]", "", value.lower())
    if word in _OUT_OF_STOCK_WORDS:
        return derive_stock(product_id, in_stock=False)
    if word in _IN_STOCK_WORDS:
        return derive_stock(product_id, in_stock=True)
    return derive_stock(product_id)
