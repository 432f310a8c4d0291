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
    stock: int
    url: str
    image: str
    category: str


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
                        stock=int(row.get("stock") or 0),
                        url=str(row.get("url") or ""),
                        image=str(row.get("image") or ""),
                        category=str(category[0]) if category else "",
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                logger.warning("Skipping catalog line %d of %s: %s", number, path, exc)
    return products
