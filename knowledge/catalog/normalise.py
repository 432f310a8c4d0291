"""One source record → one ``Product``, following a ``ColumnMapping``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from knowledge.catalog.brand import derive_brand
from knowledge.catalog.fields import (
    extract_category,
    extract_description,
    extract_image,
    extract_specs,
)
from knowledge.catalog.mappings import ColumnMapping
from knowledge.catalog.model import Product
from knowledge.catalog.price import parse_price
from knowledge.catalog.stock import stock_from_record
from knowledge.catalog.text import cell, cell_text

__all__ = ["to_product"]


def to_product(record: Mapping[str, Any], mapping: ColumnMapping) -> Product:
    """Normalise one source record.

    Raises:
        ValueError: When the id, name or price is missing or unparseable (the message names the
            column and the value).
    """
    product_id = cell_text(cell(record, mapping.id_column))
    if not product_id:
        raise ValueError(f"missing id (column {mapping.id_column!r} is empty or absent)")
    name = cell_text(cell(record, mapping.name_column))
    if not name:
        raise ValueError(f"missing name (column {mapping.name_column!r} is empty or absent)")
    raw_price = cell(record, mapping.price_column)
    if isinstance(raw_price, int | float) and not isinstance(raw_price, bool):
        if raw_price < 0:
            raise ValueError(f"negative price {raw_price!r} in column {mapping.price_column!r}")
        price = round(float(raw_price), 2)
    else:
        try:
            price = parse_price(cell_text(raw_price), mapping.price_parser)
        except ValueError as exc:
            raise ValueError(f"{exc} in column {mapping.price_column!r}") from None
    specs = extract_specs(record, mapping)
    brand = cell_text(cell(record, mapping.brand_column))
    if not brand and mapping.derive_brand:
        brand = derive_brand(name, specs)
    currency = cell_text(cell(record, mapping.currency_column)).upper() or mapping.currency
    stock, availability = stock_from_record(record, mapping)
    return Product(
        id=product_id,
        name=name,
        brand=brand,
        category=extract_category(record, mapping),
        price=price,
        currency=currency,
        description=extract_description(record, mapping),
        specs=specs,
        stock=stock,
        url=cell_text(cell(record, mapping.url_column)),
        image=extract_image(record, mapping),
        availability=availability,
    )
