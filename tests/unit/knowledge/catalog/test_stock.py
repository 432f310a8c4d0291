"""Stock comes from the export or stays unknown: nothing about availability is made up."""

from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge.catalog.mappings import ColumnMapping
from knowledge.catalog.model import Product
from knowledge.catalog.stock import stock_from_record

MAPPING = ColumnMapping(preset="t", id_column="id", name_column="name", stock_column="stock")


def test_the_demo_export_has_no_stock_so_availability_is_unknown(amazon: list[Product]) -> None:
    # The 2020 Amazon export's Stock column is empty on every row (see its PROVENANCE.md).
    assert all(p.stock is None and p.in_stock is None for p in amazon)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("7", (7, None)),
        ("1,204", (1204, None)),
        ("0", (0, None)),
        ("-3", (0, None)),
        ("InStock", (None, True)),
        ("https://schema.org/OutOfStock", (None, False)),
        ("Sold out", (None, False)),
        ("PreOrder", (None, None)),  # not buyable now, not out of stock: the data does not say
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_stock_cells(cell: object, expected: tuple[int | None, bool | None]) -> None:
    assert stock_from_record({"stock": cell}, MAPPING) == expected


def test_in_stock_follows_the_count_when_there_is_one() -> None:
    mug = Product("p", "Mug", "", (), 3.0, "USD", "")
    assert replace(mug, stock=0, availability=True).in_stock is False
    assert replace(mug, stock=2).in_stock is True
    assert replace(mug, availability=False).in_stock is False
    assert mug.in_stock is None


def test_round_trip_keeps_unknown_stock() -> None:
    product = Product("p", "Mug", "", (), 3.0, "USD", "", availability=True)
    assert Product.from_dict(product.to_dict()) == product
    legacy = product.to_dict()
    del legacy["availability"]  # a catalog written before the field existed
    assert Product.from_dict(legacy).availability is None
