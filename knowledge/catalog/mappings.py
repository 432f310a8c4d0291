"""Column mappings: which source column gives each ``Product`` field, and the built-in presets.

A store loads its own export without code: pick a preset (``AMAZON_2020``, ``ADIDAS_US``,
``MYNTRA``) or write a JSON/YAML mapping file and load it with ``ColumnMapping.from_file`` (or
``get_mapping``, which takes either).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.catalog.price import PRICE_PARSERS

__all__ = ["ADIDAS_US", "AMAZON_2020", "MYNTRA", "PRESETS", "ColumnMapping", "get_mapping"]


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column gives each ``Product`` field, and how to clean it.

    Every ``*_column`` names a CSV header or JSON key; ``None`` means the store has no such column.

    Args:
        preset: A label for logs (a preset name or ``"custom"``).
        id_column: Unique product id.
        name_column: Product title. Rows with an empty name are reported and skipped.
        price_column: Selling price, parsed with ``price_parser``. Unparseable → row skipped.
        price_parser: A key of ``PRICE_PARSERS`` (``"auto"`` handles "$1,179.99", ranges, "40").
        brand_column: Brand. When empty and ``derive_brand`` is set, the brand is derived
            (see ``derive_brand``).
        derive_brand: Derive missing brands: the "Brand" or "Manufacturer" spec, else the leading
            capitalised token(s) of the name. A heuristic: it can be wrong for generic names.
        category_columns: Columns whose values form the category path, root first, each split on
            ``category_separator``; repeated segments are dropped.
        category_separator: Separator inside a category cell, e.g. ``"|"`` or ``"/"``.
        currency: Currency code used when ``currency_column`` is absent or empty.
        currency_column: Per-row currency code.
        description_columns: Candidate description columns; the first non-empty one after
            cleaning wins.
        bullet_separator: Separator between bullet points in a description cell (bullets are
            joined with newlines).
        drop_phrases: Boilerplate removed from descriptions and spec values (also matched with
            its spaces removed, for exports that stripped spaces).
        spec_columns: Columns holding ``"Key:Value|Key:Value"`` blobs.
        spec_pair_separator: Separator between spec pairs.
        spec_key_value_separator: Separator between a spec key and its value.
        extra_spec_columns: Source column → spec key, for plain columns kept as specs (they
            fill keys the ``spec_columns`` blobs lack).
        drop_spec_keys: Spec keys (readable form) to discard as noise.
        spec_phrases: Known readable phrases used to restore spaces in values of exports that
            stripped them (``"ItemcanbeshippedwithinU.S."`` → ``"Item can be shipped within U.S."``).
        stock_column: Units in stock, or availability words ("InStock"/"OutOfStock"). Empty or
            absent → availability unknown (the assistant says it does not know).
        url_column: Product page URL.
        image_column: Image URL(s).
        image_separator: Separator between several image URLs; the first real one is kept.
        ignore_images: Substrings marking placeholder images (e.g. a transparent pixel).
        file_format: ``"auto"`` (by extension), ``"csv"``, ``"json"`` (a list) or ``"jsonl"``.
        delimiter: CSV delimiter.
        encoding: Text encoding of the source file (``utf-8-sig`` also reads plain UTF-8).
    """

    preset: str = "custom"
    id_column: str = "id"
    name_column: str = "name"
    price_column: str = "price"
    price_parser: str = "auto"
    brand_column: str | None = "brand"
    derive_brand: bool = False
    category_columns: tuple[str, ...] = ("category",)
    category_separator: str = "|"
    currency: str = "USD"
    currency_column: str | None = None
    description_columns: tuple[str, ...] = ("description",)
    bullet_separator: str | None = None
    drop_phrases: tuple[str, ...] = ()
    spec_columns: tuple[str, ...] = ()
    spec_pair_separator: str = "|"
    spec_key_value_separator: str = ":"
    extra_spec_columns: dict[str, str] = field(default_factory=dict, hash=False)
    drop_spec_keys: tuple[str, ...] = ()
    spec_phrases: tuple[str, ...] = ()
    stock_column: str | None = None
    url_column: str | None = "url"
    image_column: str | None = "image"
    image_separator: str | None = None
    ignore_images: tuple[str, ...] = ()
    file_format: str = "auto"
    delimiter: str = ","
    encoding: str = "utf-8-sig"

    def __post_init__(self) -> None:
        if self.price_parser not in PRICE_PARSERS:
            raise ValueError(
                f"price_parser={self.price_parser!r} is unknown; use one of {sorted(PRICE_PARSERS)}."
            )
        if self.file_format not in {"auto", "csv", "json", "jsonl"}:
            raise ValueError(
                f"file_format={self.file_format!r} is unknown; use auto, csv, json or jsonl."
            )
        if len(self.delimiter) != 1:
            raise ValueError(
                f"delimiter={self.delimiter!r} must be exactly one character, e.g. ',' or ';'."
            )
        if not self.id_column or not self.name_column or not self.price_column:
            raise ValueError(
                "id_column, name_column and price_column are required; got "
                f"id_column={self.id_column!r}, name_column={self.name_column!r}, "
                f"price_column={self.price_column!r}. Name the source columns that hold them."
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnMapping:
        """Build a mapping from plain data (a parsed JSON/YAML file).

        A ``"preset"`` key naming a built-in preset (e.g. ``"amazon_2020"``) starts from that
        preset; the other keys override it. Lists become tuples.

        Raises:
            ValueError: On an unknown key or preset.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(
                f"Unknown column-mapping key(s) {unknown}; valid keys are {sorted(names)}."
            )
        values: dict[str, Any] = {}
        for key, value in data.items():
            values[key] = tuple(value) if isinstance(value, list) else value
        if "extra_spec_columns" in values:
            values["extra_spec_columns"] = {
                str(k): str(v) for k, v in dict(values["extra_spec_columns"]).items()
            }
        preset = values.get("preset")
        if isinstance(preset, str) and preset.lower() in PRESETS:
            return dataclasses.replace(PRESETS[preset.lower()], **values)
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | Path) -> ColumnMapping:
        """Load a mapping from a ``.json``, ``.yml`` or ``.yaml`` file (see ``from_dict``).

        Raises:
            ValueError: If the file is not a JSON/YAML object or holds unknown keys.
        """
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in {".yml", ".yaml"}:
            import yaml  # only needed for YAML mapping files

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(
                f"Column-mapping file {str(path)!r} must hold an object of mapping keys, "
                f"got {type(data).__name__}."
            )
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """Return the mapping as plain JSON-serialisable data (round-trips through ``from_dict``)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        out["extra_spec_columns"] = dict(self.extra_spec_columns)
        return out


_AMAZON_BOILERPLATE = (
    "Make sure this fits by entering your model number.",
    "Go to your orders and start the return Select the ship method Ship it!",
    "show up to 2 reviews by default",
    "(View shipping rates and policies)",
    "View shipping rates and policies",
    "Learn More",
)

AMAZON_2020 = ColumnMapping(
    preset="amazon_2020",
    id_column="Uniq Id",
    name_column="Product Name",
    price_column="Selling Price",
    brand_column="Brand Name",
    derive_brand=True,
    category_columns=("Category",),
    category_separator="|",
    currency="USD",
    description_columns=("About Product", "Product Description", "Technical Details"),
    bullet_separator="|",
    drop_phrases=_AMAZON_BOILERPLATE,
    spec_columns=("Product Specification",),
    extra_spec_columns={
        "Shipping Weight": "Shipping Weight",
        "Model Number": "Item Model Number",
        "Product Dimensions": "Product Dimensions",
        "Color": "Color",
    },
    drop_spec_keys=("Shipping Information", "Pricing", "California Residents", "Media"),
    spec_phrases=(
        "Item can be shipped within U.S.",
        "Currently, item can be shipped only within the U.S. and to APO/FPO addresses.",
        "For APO/FPO shipments, please check with the manufacturer regarding warranty and "
        "support issues.",
        "This item can be shipped to select countries outside of the U.S.",
        "This item is not eligible for international shipping.",
        "This item must be shipped separately from other items in your order.",
        "Additional shipping charges will not apply.",
        "batteries required.",
        "years and up",
    ),
    stock_column="Stock",
    url_column="Product Url",
    image_column="Image",
    image_separator="|",
    ignore_images=("transparent-pixel",),
)
"""PromptCloud "Amazon Product Dataset 2020" (``data/demo/catalog/amazon_products_sample1000.csv``).

Brand is empty in this export and is *derived* (``derive_brand``); its stock column is empty, so
availability is unknown and never quoted.
"""

ADIDAS_US = ColumnMapping(
    preset="adidas_us",
    id_column="sku",
    name_column="name",
    price_column="selling_price",
    brand_column="brand",
    category_columns=("category", "breadcrumbs"),
    category_separator="/",
    currency="USD",
    currency_column="currency",
    description_columns=("description",),
    extra_spec_columns={
        "color": "Color",
        "original_price": "Original Price",
        "average_rating": "Average Rating",
        "reviews_count": "Reviews",
    },
    stock_column="availability",
    url_column="url",
    image_column="images",
    image_separator="~",
)
"""adidas US web-store export (``adidas_usa.csv``): category path ``(category, audience)``."""

MYNTRA = ColumnMapping(
    preset="myntra",
    id_column="ProductID",
    name_column="ProductName",
    price_column="Price (INR)",
    brand_column="ProductBrand",
    category_columns=("Gender",),
    currency="INR",
    description_columns=("Description",),
    extra_spec_columns={"PrimaryColor": "Color", "Gender": "Gender"},
    stock_column=None,
    url_column=None,
    image_column=None,
)
"""Myntra fashion catalog (``myntra_products_catalog.csv``), prices in INR; no category column, so
the category path is the shopper group (``Gender``); no URL or image."""

PRESETS: dict[str, ColumnMapping] = {
    "amazon_2020": AMAZON_2020,
    "adidas_us": ADIDAS_US,
    "myntra": MYNTRA,
}
"""Built-in mappings by (lower-case) name."""


def get_mapping(name_or_path: str | Path) -> ColumnMapping:
    """Return a preset by name (case-insensitive) or load a mapping file.

    Raises:
        ValueError: If ``name_or_path`` is neither a preset nor an existing file.
    """
    key = str(name_or_path).lower()
    if key in PRESETS:
        return PRESETS[key]
    path = Path(name_or_path)
    if path.is_file():
        return ColumnMapping.from_file(path)
    raise ValueError(
        f"mapping={str(name_or_path)!r} is neither a preset ({sorted(PRESETS)}) nor an existing "
        "JSON/YAML mapping file; pass a preset name or a path to a mapping file."
    )
