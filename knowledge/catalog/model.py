"""The catalog's data contract: ``Product`` (see docs/CONVENTIONS.md) and what a load reports."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CatalogLoadResult", "Product", "RowError"]


@dataclass(frozen=True)
class Product:
    """One product of the store's catalog (the shared contract, see docs/CONVENTIONS.md).

    Args:
        id: Unique product id within the catalog (what orders and citations reference).
        name: Product title as shown to shoppers.
        brand: Brand or manufacturer; may be derived (see the mapping that loaded it), ``""`` if
            unknown.
        category: Category path, root first, e.g. ``("Toys & Games", "Puzzles")``.
        price: Selling price in ``currency`` units (the lower bound when the source gave a range).
        currency: ISO 4217 code, e.g. ``"USD"``.
        description: Plain-text description; bullet points are joined with newlines.
        specs: Readable key → value facts, e.g. ``{"Item Weight": "12.8 ounces"}``. Not hashed.
        stock: Units in stock (0 = out of stock); ``None`` when the export gives no count.
        availability: In stock or not, when the export says so only in words ("InStock") and
            gives no count; ``None`` when it does not say. Ignored when ``stock`` is known.
        url: Product page URL, ``""`` if none.
        image: One image URL, ``""`` if none.
    """

    id: str
    name: str
    brand: str
    category: tuple[str, ...]
    price: float
    currency: str
    description: str
    specs: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    stock: int | None = None
    url: str = ""
    image: str = ""
    availability: bool | None = None

    @property
    def in_stock(self) -> bool | None:
        """Whether the product can be bought now, or ``None`` when the store's data does not say
        (nothing about stock is ever made up: the assistant then says it does not know)."""
        if self.stock is not None:
            return self.stock > 0
        return self.availability

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (``category`` becomes a list)."""
        return {
            "id": self.id,
            "name": self.name,
            "brand": self.brand,
            "category": list(self.category),
            "price": self.price,
            "currency": self.currency,
            "description": self.description,
            "specs": dict(self.specs),
            "stock": self.stock,
            "url": self.url,
            "image": self.image,
            "availability": self.availability,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Product:
        """Build a ``Product`` from ``to_dict()`` output.

        Raises:
            ValueError: If a required field is missing or has the wrong type.
        """
        optional = {"availability"}  # absent in catalogs written before it existed
        missing = [
            f.name for f in dataclasses.fields(cls) if f.name not in data and f.name not in optional
        ]
        if missing:
            raise ValueError(
                f"Product data is missing field(s) {missing}; got keys {sorted(data)}. "
                "Write catalogs with write_catalog_jsonl() so every field is present."
            )
        try:
            return cls(
                id=str(data["id"]),
                name=str(data["name"]),
                brand=str(data["brand"]),
                category=tuple(str(c) for c in data["category"]),
                price=float(data["price"]),
                currency=str(data["currency"]),
                description=str(data["description"]),
                specs={str(k): str(v) for k, v in dict(data["specs"]).items()},
                stock=None if data["stock"] is None else int(data["stock"]),
                url=str(data["url"]),
                image=str(data["image"]),
                availability=_optional_bool(data.get("availability")),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"Product data for id={data.get('id')!r} has a field of the wrong type ({exc}); "
                "category must be a list of strings, specs an object, price a number, stock an int or "
                "null, availability true, false or null."
            ) from exc


def _optional_bool(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"availability must be true, false or null, not {value!r}")


@dataclass(frozen=True)
class RowError:
    """A source row that was skipped.

    Args:
        line_number: 1-based line in the source file where the row starts (a CSV header is line 1).
        reason: Why the row was skipped, naming the column and the bad value.
    """

    line_number: int
    reason: str


@dataclass
class CatalogLoadResult:
    """What ``load_catalog`` returns: the products that loaded and the rows that did not."""

    products: list[Product]
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0
