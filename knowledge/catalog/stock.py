"""Stock from the export's stock column: a count, or availability words without one.

Nothing is made up: an export without a stock column, an empty cell or words that say neither
"in stock" nor "out of stock" leave the product's availability unknown (``None``), and the
assistant then says it does not know rather than quoting a number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from knowledge.catalog.mappings import ColumnMapping
from knowledge.catalog.text import cell, cell_text

__all__ = ["stock_from_record"]


_OUT_OF_STOCK_WORDS = {"outofstock", "soldout", "unavailable", "discontinued", "no", "false"}
_IN_STOCK_WORDS = {"instock", "available", "yes", "true", "limitedavailability"}


def stock_from_record(
    record: Mapping[str, Any], mapping: ColumnMapping
) -> tuple[int | None, bool | None]:
    """Return ``(units, availability)`` from the stock column.

    ``units`` is the count when the cell holds a number (negative counts read as 0); otherwise
    ``availability`` is what the words say (``True``/``False``), or ``None`` when they say
    neither ("PreOrder", "see store") or the cell is empty or absent.
    """
    value = cell_text(cell(record, mapping.stock_column))
    if not value:
        return None, None
    try:
        return max(0, int(float(value.replace(",", "")))), None
    except ValueError:
        pass
    word = re.sub(r"[^a-z]", "", value.lower().rsplit("/", 1)[-1])  # schema.org/InStock
    if word in _OUT_OF_STOCK_WORDS:
        return None, False
    if word in _IN_STOCK_WORDS:
        return None, True
    return None, None
