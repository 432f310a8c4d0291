"""The demo catalog's products for the description tests (not collected)."""

from __future__ import annotations

import functools
from pathlib import Path

from knowledge.catalog.load import load_catalog
from knowledge.catalog.model import Product

ROOT = Path(__file__).resolve().parents[3]
DEMO_CATALOG = ROOT / "data/demo/catalog/amazon_products_sample1000.csv"
GUILLOW_ID = "18018b6bc416dab347b1b7db79994afa"  # Guillow Airplane Design Studio, $28.91


@functools.cache
def demo_products() -> tuple[Product, ...]:
    """The demo store's catalog as ``shopbot prepare`` loads it (no stock column: stock unknown)."""
    return tuple(load_catalog(DEMO_CATALOG).products)


def demo_product(product_id: str = GUILLOW_ID) -> Product:
    """One product of the demo catalog by id."""
    return next(p for p in demo_products() if p.id == product_id)
