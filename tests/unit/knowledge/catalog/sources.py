"""Catalog and FAQ exports the tests read (not collected: no test_ prefix)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
AMAZON_CSV = ROOT / "data/demo/catalog/amazon_products_sample1000.csv"
FAQ_CSV = ROOT / "data/demo/faq/ecommerce_faq.csv"
SHARED = ROOT.parent / "shared" / "data"
ADIDAS_CSV = SHARED / "product_catalog_adidas_us/adidas_usa.csv"
MYNTRA_CSV = SHARED / "product_catalog_myntra/myntra_products_catalog.csv"

AMAZON_HEADER = (
    "Uniq Id,Product Name,Brand Name,Category,Selling Price,About Product,"
    "Product Specification,Technical Details,Shipping Weight,Model Number,Image,Product Url,Stock"
)


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (UTF-8) and return the path."""
    path.write_text(text, encoding="utf-8")
    return path
