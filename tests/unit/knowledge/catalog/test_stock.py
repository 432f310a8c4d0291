"""Derived stock levels."""

from __future__ import annotations

from knowledge.catalog.model import Product
from knowledge.catalog.stock import derive_stock


def test_derived_stock_is_deterministic_with_about_ten_percent_out(
    amazon: list[Product],
) -> None:
    assert all(0 <= p.stock <= 60 for p in amazon)
    out = sum(1 for p in amazon if p.stock == 0) / len(amazon)
    assert 0.05 < out < 0.15
    assert derive_stock("abc") == derive_stock("abc")
    assert derive_stock("abc", in_stock=False) == 0
    assert derive_stock("abc", in_stock=True) > 0
