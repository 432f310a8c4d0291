"""The demo store's products, read from the normalised catalog (``var/store/catalog.jsonl``).

Only the fields a product grid shows; the file is the shared data contract (docs/CONVENTIONS.md),
read directly so the page needs no knowledge-layer code.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreProduct:
    """One product as the grid shows it."""

    id: str
    name: str
    price: float
    currency: str
    stock: int | None  # None: the export gives no count
    url: str
    image: str
    category: str
    availability: bool | None = None  # from words only ("InStock"); None: the data does not say

    @property
    def in_stock(self) -> bool | None:
        """In stock or not, or None when the catalog does not say (the page then says nothing)."""
        return self.stock > 0 if self.stock is not None else self.availability


def read_products(path: Path) -> list[StoreProduct]:
    """Read the catalog's products; rows that are not valid products are skipped with a warning.

    Raises:
        FileNotFoundError: If ``path`` does not exist, naming the command that builds it.
    """
    if not path.exists():
        raise FileNotFoundError(
            f"No catalog at {path}. Build the demo store first: `shopbot prepare --preset tiny` "
            "(or `make demo`)."
        )
    products: list[StoreProduct] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                category = row.get("category") or []
                products.append(
                    StoreProduct(
                        id=str(row["id"]),
                        name=str(row["name"]),
                        price=float(row["price"]),
                        currency=str(row.get("currency") or "USD"),
                        stock=None if row.get("stock") is None else int(row["stock"]),
                        url=str(row.get("url") or ""),
                        image=str(row.get("image") or ""),
                        category=str(category[0]) if category else "",
                        availability=row.get("availability")
                        if isinstance(row.get("availability"), bool)
                        else None,
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                logger.warning("Skipping catalog line %d of %s: %s", number, path, exc)
    return products
