"""Catalog ingestion: a store's product export (CSV, JSON list, JSON lines) → normalised ``Product``s.

A ``ColumnMapping`` says which source column gives each ``Product`` field, so a store can load its
own export without code: pick a preset (``AMAZON_2020``, ``ADIDAS_US``, ``MYNTRA``) or write a
JSON/YAML mapping file and load it with ``ColumnMapping.from_file``. Malformed rows are reported
with their file line number and skipped; the rest of the file loads.

The normalised catalog is JSON lines, one ``Product`` per line (``var/store/catalog.jsonl``).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = [
    "ADIDAS_US",
    "AMAZON_2020",
    "MYNTRA",
    "PRESETS",
    "PRICE_PARSERS",
    "CatalogLoadResult",
    "ColumnMapping",
    "Product",
    "RowError",
    "derive_stock",
    "get_mapping",
    "load_catalog",
    "parse_price",
    "read_catalog_jsonl",
    "write_catalog_jsonl",
]


# --------------------------------------------------------------------------------------------------
# The shared data contract
# --------------------------------------------------------------------------------------------------


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
        stock: Units in stock (0 = out of stock).
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
    stock: int = 0
    url: str = ""
    image: str = ""

    @property
    def in_stock(self) -> bool:
        """Whether at least one unit is in stock."""
        return self.stock > 0

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
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Product:
        """Build a ``Product`` from ``to_dict()`` output.

        Raises:
            ValueError: If a required field is missing or has the wrong type.
        """
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in data]
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
                stock=int(data["stock"]),
                url=str(data["url"]),
                image=str(data["image"]),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"Product data for id={data.get('id')!r} has a field of the wrong type ({exc}); "
                "category must be a list of strings, specs an object, price a number, stock an int."
            ) from exc


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


# --------------------------------------------------------------------------------------------------
# Price parsing
# --------------------------------------------------------------------------------------------------

_CURRENCY_SYMBOLS = "$€£¥₹"
# "$ 19 99 $39.95 ..." — Amazon's split-cents rendering of a sale price (19.99), list price after it.
_SPLIT_CENTS = re.compile(rf"^\s*[{_CURRENCY_SYMBOLS}]\s+(\d{{1,6}})\s+(\d{{2}})(?!\d)")
_NUMBER_DOT = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_NUMBER_COMMA = re.compile(r"-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")


def _parse_price_dot(text: str) -> float:
    """Parse prices written with a decimal point ("$1,179.99", "$74.99 - $249.99", "40", "₹ 899").

    Ranges and repeated renderings ("$6.94 $ 6 . 94") yield the first number, i.e. the lower bound.
    """
    split = _SPLIT_CENTS.match(text)
    if split:
        return float(f"{split.group(1)}.{split.group(2)}")
    match = _NUMBER_DOT.search(text)
    if not match:
        raise ValueError("no number found")
    return float(match.group(0).replace(",", ""))


def _parse_price_comma(text: str) -> float:
    """Parse prices written with a decimal comma ("1.234,56 €"); the first number wins."""
    match = _NUMBER_COMMA.search(text)
    if not match:
        raise ValueError("no number found")
    return float(match.group(0).replace(".", "").replace(",", "."))


PRICE_PARSERS: dict[str, Callable[[str], float]] = {
    "auto": _parse_price_dot,
    "decimal_point": _parse_price_dot,
    "decimal_comma": _parse_price_comma,
}
"""Price parsers by name (a mapping file names one with ``price_parser``)."""


def parse_price(text: str, parser: str = "auto") -> float:
    """Parse a price string into a non-negative float rounded to cents.

    Args:
        text: The source cell, e.g. ``"$28.91"``, ``"$74.99 - $249.99"`` (→ 74.99), ``"11745"``.
        parser: A key of ``PRICE_PARSERS``.

    Raises:
        ValueError: If ``parser`` is unknown, or ``text`` holds no price or a negative one.
    """
    if parser not in PRICE_PARSERS:
        raise ValueError(f"price_parser={parser!r} is unknown; use one of {sorted(PRICE_PARSERS)}.")
    cleaned = " ".join(text.replace("\xa0", " ").split())
    if not cleaned:
        raise ValueError("empty price")
    try:
        value = PRICE_PARSERS[parser](cleaned)
    except ValueError as exc:
        raise ValueError(f"unparseable price {_short(cleaned)!r} ({exc})") from None
    if value < 0:
        raise ValueError(f"negative price {_short(cleaned)!r}")
    return round(value, 2)


# --------------------------------------------------------------------------------------------------
# Column mapping
# --------------------------------------------------------------------------------------------------


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
            absent → derived deterministically from the id (see ``derive_stock``).
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

Brand is empty in this export and is *derived* (``derive_brand``); stock is empty and is *derived*
from the id (``derive_stock``).
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


# --------------------------------------------------------------------------------------------------
# Cleaning helpers
# --------------------------------------------------------------------------------------------------


def _short(text: str, limit: int = 60) -> str:
    """Shorten ``text`` for messages."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _collapse(text: str) -> str:
    """Collapse whitespace (non-breaking spaces included)."""
    return " ".join(text.replace("\xa0", " ").split())


def _squash(text: str) -> str:
    """Lower-case ``text`` without whitespace: how space-stripped exports compare to clean text."""
    return "".join(text.split()).lower()


def _cell(record: Mapping[str, Any], column: str | None) -> Any:
    """Return the raw value of ``column`` (``None`` when the column is unmapped or absent)."""
    if column is None:
        return None
    return record.get(column)


def _text(value: Any) -> str:
    """Render a cell as collapsed text (lists are joined with ``" | "``)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " | ".join(_text(v) for v in value if _text(v))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _collapse(str(value))


def _remove_phrases(text: str, phrases: Iterable[str]) -> str:
    """Remove each phrase, also in its space-stripped spelling."""
    for phrase in phrases:
        text = text.replace(phrase, " ")
        squashed = "".join(phrase.split())
        if squashed != phrase:
            text = text.replace(squashed, " ")
    return _collapse(text)


_KNOWN_SPEC_KEYS = {
    _squash(k): k
    for k in (
        "ASIN",
        "UPC",
        "Batteries",
        "Brand",
        "California Residents",
        "Color",
        "Date First Available",
        "Date First Listed on Amazon",
        "Department",
        "Discontinued by Manufacturer",
        "Domestic Shipping",
        "International Shipping",
        "Item Model Number",
        "Item Weight",
        "Manufacturer",
        "Manufacturer Recommended Age",
        "Material",
        "Media",
        "Package Dimensions",
        "Pricing",
        "Product Dimensions",
        "Release Date",
        "Shipping Advisory",
        "Shipping Information",
        "Shipping Weight",
        "Size",
    )
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _readable_key(key: str) -> str:
    """Readable spec key: known keys by their squashed spelling, else camel-case split.

    ``"ProductDimensions"`` → ``"Product Dimensions"``, ``"Itemmodelnumber"`` → ``"Item Model Number"``.
    """
    key = _collapse(key).strip(" :")
    known = _KNOWN_SPEC_KEYS.get(_squash(key))
    if known:
        return known
    if " " not in key:
        key = _CAMEL.sub(" ", key)
    return key[:1].upper() + key[1:]


_UNITS = (
    "inches|inch|ounces|ounce|pounds|pound|lbs|years|year|months|month|grams|gram|kilograms|kg|"
    "feet|foot|cm|mm|ml|liters|pieces|pcs"
)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_VALUE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<=\d)x(?=\d)"), " x "),
    (re.compile(rf"(?<=\d)({_UNITS})\b|(?<=\d)({_UNITS})(?=[A-Z(\-;,]|and)"), r" \1\2"),
    (re.compile(r"(?<=[a-z])and up\b|andup\b"), " and up"),
    (re.compile(rf"\b({_MONTHS})(\d{{1,2}}),\s?(\d{{4}})"), r"\1 \2, \3"),
    (re.compile(r"^(\d+)([A-Za-z][A-Za-z0-9]*?) ?batteries required"), r"\1 \2 batteries required"),
    (re.compile(r"\.\((included)\)"), r". (\1)"),
    (re.compile(r"(?<=\S)-(?=\d+ (?:years|months))"), " - "),
)


_IDENTIFIER_KEYS = {"ASIN", "UPC", "Item Model Number", "Model Number", "SKU"}


def _readable_value(key: str, value: str, mapping: ColumnMapping) -> str:
    """Clean a spec value and restore spaces an export stripped (units, dates, known phrases).

    Identifier values (ASIN, model numbers) are only trimmed: unit rules would break "5KG12".
    """
    if key in _IDENTIFIER_KEYS:
        return _collapse(value).strip(" :;")
    value = _remove_phrases(value, mapping.drop_phrases)
    for phrase in mapping.spec_phrases:
        squashed = "".join(phrase.split())
        if squashed != phrase and squashed in value:
            value = value.replace(squashed, f" {phrase} ")
    value = _collapse(value)
    for pattern, repl in _VALUE_RULES:
        value = pattern.sub(repl, value)
    return _collapse(value).strip(" :;")


def _parse_specs(text: str, mapping: ColumnMapping) -> dict[str, str]:
    """Parse a ``"Key:Value|Key:Value"`` blob; parts without a separator (sales ranks) are dropped."""
    specs: dict[str, str] = {}
    for part in text.split(mapping.spec_pair_separator):
        if mapping.spec_key_value_separator not in part:
            continue
        raw_key, raw_value = part.split(mapping.spec_key_value_separator, 1)
        key = _readable_key(raw_key)
        value = _readable_value(key, raw_value, mapping)
        if key and value and key not in specs:
            specs[key] = value
    return specs


def _specs(record: Mapping[str, Any], mapping: ColumnMapping) -> dict[str, str]:
    """Collect specs from blob columns, then plain columns for keys still missing, minus noise."""
    specs: dict[str, str] = {}
    for column in mapping.spec_columns:
        value = _cell(record, column)
        if isinstance(value, dict):
            specs.update({_readable_key(str(k)): _text(v) for k, v in value.items() if _text(v)})
        elif value:
            specs.update(_parse_specs(str(value), mapping))
    for column, key in mapping.extra_spec_columns.items():
        value = _text(_cell(record, column))
        if value:
            specs.setdefault(key, value)
    drop = {_squash(k) for k in mapping.drop_spec_keys}
    return {k: v for k, v in specs.items() if _squash(k) not in drop and v.strip("-– ")}


_BULLET_JUNK = re.compile(r"^[\s✅✔☑•·*\-–—]+|[【】]")
_WEIGHT_ONLY = re.compile(
    r"[\d.,]+\s*(?:ounces|ounce|pounds|pound|lbs|oz|grams|kg|g)", re.IGNORECASE
)


def _description(record: Mapping[str, Any], mapping: ColumnMapping) -> str:
    """First non-empty description column, split into bullets, cleaned and de-duplicated."""
    for column in mapping.description_columns:
        value = _cell(record, column)
        if value is None:
            continue
        pieces = [_text(v) for v in value] if isinstance(value, list) else [str(value)]
        bullets: list[str] = []
        for piece in pieces:
            parts = piece.split(mapping.bullet_separator) if mapping.bullet_separator else [piece]
            for part in parts:
                cleaned = _BULLET_JUNK.sub(" ", _remove_phrases(part, mapping.drop_phrases))
                cleaned = _collapse(cleaned)
                # A bullet reduced to a weight ("13.4 ounces") carries no prose.
                if cleaned and not _WEIGHT_ONLY.fullmatch(cleaned) and cleaned not in bullets:
                    bullets.append(cleaned)
        if bullets:
            return "\n".join(bullets)
    return ""


def _category(record: Mapping[str, Any], mapping: ColumnMapping) -> tuple[str, ...]:
    """Category path from ``category_columns``, root first, without repeated segments."""
    path: list[str] = []
    for column in mapping.category_columns:
        value = _cell(record, column)
        parts = (
            [_text(v) for v in value]
            if isinstance(value, list)
            else _text(value).split(mapping.category_separator)
        )
        for part in parts:
            part = _collapse(part)
            if part and part not in path:
                path.append(part)
    return tuple(path)


def _image(record: Mapping[str, Any], mapping: ColumnMapping) -> str:
    """The first image URL that is not a placeholder."""
    value = _cell(record, mapping.image_column)
    if value is None:
        return ""
    if isinstance(value, list):
        candidates = [_text(v) for v in value]
    else:
        text = str(value).strip()
        candidates = text.split(mapping.image_separator) if mapping.image_separator else [text]
    for candidate in candidates:
        candidate = candidate.strip()
        if candidate and not any(marker in candidate for marker in mapping.ignore_images):
            return candidate
    return ""


_NAME_CONNECTORS = {"&", "and", "+", "n'", "by"}
_BRAND_SUFFIXES = {
    "co",
    "co.",
    "company",
    "inc",
    "inc.",
    "llc",
    "ltd",
    "novelties",
    "world",
    "republic",
    "racing",
    "trains",
    "international",
    "resources",
    "games",
    "toys",
    "collectibles",
    "designs",
    "creations",
    "products",
    "brands",
    "education",
    "insights",
}
_NOT_BRANDS = {"a", "an", "new", "set", "pack", "the", "kids", "baby", "mini", "large", "small"}
_STOPWORDS = {"in", "on", "of", "for", "with", "and", "to", "by", "at", "from", "my", "our", "your"}
# Leading words that rarely make a brand alone: "Great Eastern", "Hot Wheels", "Wild Republic".
_TWO_WORD_LEADS = {
    "american",
    "big",
    "creative",
    "educational",
    "electronic",
    "great",
    "green",
    "happy",
    "hot",
    "learning",
    "little",
    "pacific",
    "royal",
    "star",
    "super",
    "wild",
}


def _brand_from_name(name: str) -> str:
    """Leading capitalised token(s) of ``name``: ``"Melissa & Doug Wooden..."`` → ``"Melissa & Doug"``.

    Takes the first token (two when the first is short or a common adjective: "DB Longboards",
    "Hot Wheels"), plus "& Next" connectors and company-like suffixes ("Forum Novelties").
    Lower-case or digit-led brands ("amscan", "3Doodler") count. Returns ``""`` when the name
    starts with a generic word ("The", "New", "in") or punctuation.
    """
    tokens = name.split()
    if not tokens or tokens[0].lower() in _NOT_BRANDS | _STOPWORDS or not tokens[0][:1].isalnum():
        return ""
    brand = [tokens[0]]
    i = 1
    lead = tokens[0].lower()
    if (
        (len(tokens[0]) <= 3 or lead in _TWO_WORD_LEADS)
        and len(tokens) > 1
        and tokens[1][:1].isupper()
    ):
        brand.append(tokens[1])  # "DB Longboards", "DC Collectibles", "Hot Wheels"
        i = 2
    while i < len(tokens) and len(brand) < 4:
        token = tokens[i]
        if token.lower() in _NAME_CONNECTORS and i + 1 < len(tokens):
            brand += [token, tokens[i + 1]]
            i += 2
        elif token.lower().strip(",") in _BRAND_SUFFIXES:
            brand.append(token.rstrip(","))
            i += 1
        else:
            break
    return " ".join(brand).rstrip(",:")


def _derive_brand(name: str, specs: Mapping[str, str]) -> str:
    """Derived brand: "Brand" spec, else "Manufacturer" spec, else ``_brand_from_name``.

    A manufacturer written without spaces ("JayFrancoandSons,Inc.") takes the name's spelling when
    the name starts with it ("Jay Franco ..." → "Jay Franco"), else is camel-case split.
    """
    if specs.get("Brand"):
        return specs["Brand"]
    manufacturer = specs.get("Manufacturer", "")
    if manufacturer:
        target = re.sub(r"[^a-z0-9]", "", manufacturer.lower())
        tokens = name.split()
        prefix: list[str] = []
        for token in tokens[:4]:
            candidate = re.sub(r"[^a-z0-9]", "", " ".join([*prefix, token]).lower())
            if candidate and target.startswith(candidate):
                prefix.append(token)
            else:
                break
        if prefix:
            return " ".join(prefix).rstrip(",:")
        return manufacturer if " " in manufacturer else _CAMEL.sub(" ", manufacturer)
    return _brand_from_name(name)


_OUT_OF_STOCK_WORDS = {"outofstock", "soldout", "unavailable", "discontinued", "no", "false", "0"}
_IN_STOCK_WORDS = {"instock", "available", "yes", "true", "limitedavailability", "preorder"}


def derive_stock(product_id: str, in_stock: bool | None = None) -> int:
    """Deterministic stock level for exports without quantities.

    ``sha256(id)`` picks 0–60 units; about 10% of ids are out of stock (0). With ``in_stock=True``
    the level is 1–60, with ``in_stock=False`` it is 0. Same id → same stock, on every machine.
    """
    digest = int.from_bytes(hashlib.sha256(product_id.encode("utf-8")).digest()[:8], "big")
    if in_stock is False:
        return 0
    if in_stock is None and digest % 10 == 0:
        return 0
    return 1 + (digest // 10) % 60


def _stock(record: Mapping[str, Any], mapping: ColumnMapping, product_id: str) -> int:
    """Stock from the stock column (a count or availability words), else ``derive_stock``."""
    value = _text(_cell(record, mapping.stock_column))
    if not value:
        return derive_stock(product_id)
    try:
        return max(0, int(float(value.replace(",", ""))))
    except ValueError:
        pass
    word = re.sub(r"[^a-z]", "", value.lower())
    if word in _OUT_OF_STOCK_WORDS:
        return derive_stock(product_id, in_stock=False)
    if word in _IN_STOCK_WORDS:
        return derive_stock(product_id, in_stock=True)
    return derive_stock(product_id)


def _to_product(record: Mapping[str, Any], mapping: ColumnMapping) -> Product:
    """Normalise one source record.

    Raises:
        ValueError: When the id, name or price is missing or unparseable (the message names the
            column and the value).
    """
    product_id = _text(_cell(record, mapping.id_column))
    if not product_id:
        raise ValueError(f"missing id (column {mapping.id_column!r} is empty or absent)")
    name = _text(_cell(record, mapping.name_column))
    if not name:
        raise ValueError(f"missing name (column {mapping.name_column!r} is empty or absent)")
    raw_price = _cell(record, mapping.price_column)
    if isinstance(raw_price, int | float) and not isinstance(raw_price, bool):
        if raw_price < 0:
            raise ValueError(f"negative price {raw_price!r} in column {mapping.price_column!r}")
        price = round(float(raw_price), 2)
    else:
        try:
            price = parse_price(_text(raw_price), mapping.price_parser)
        except ValueError as exc:
            raise ValueError(f"{exc} in column {mapping.price_column!r}") from None
    specs = _specs(record, mapping)
    brand = _text(_cell(record, mapping.brand_column))
    if not brand and mapping.derive_brand:
        brand = _derive_brand(name, specs)
    currency = _text(_cell(record, mapping.currency_column)).upper() or mapping.currency
    return Product(
        id=product_id,
        name=name,
        brand=brand,
        category=_category(record, mapping),
        price=price,
        currency=currency,
        description=_description(record, mapping),
        specs=specs,
        stock=_stock(record, mapping, product_id),
        url=_text(_cell(record, mapping.url_column)),
        image=_image(record, mapping),
    )


# --------------------------------------------------------------------------------------------------
# Readers: (line_number, record or error) for CSV, JSON list and JSON lines
# --------------------------------------------------------------------------------------------------

Record = tuple[int, dict[str, Any] | None, str]
"""(line number where the record starts, the record or None, why it is None)."""


def _read_csv(path: Path, mapping: ColumnMapping) -> Iterator[Record]:
    """Yield CSV records with the file line each starts on (quoted fields may span lines)."""
    with path.open(encoding=mapping.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=mapping.delimiter)
        try:
            header = [_collapse(h) for h in next(reader)]
        except StopIteration:
            return
        previous_end = reader.line_num
        for row in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                yield (
                    start,
                    None,
                    f"expected {len(header)} fields, found {len(row)} (check quoting and the "
                    f"delimiter {mapping.delimiter!r})",
                )
                continue
            yield start, dict(zip(header, row, strict=True)), ""


def _read_json_list(path: Path, mapping: ColumnMapping) -> Iterator[Record]:
    """Yield the objects of a top-level JSON list with the line each starts on."""
    text = path.read_text(encoding=mapping.encoding)
    decoder = json.JSONDecoder()
    pos = len(text) - len(text.lstrip())
    if not text[pos : pos + 1] == "[":
        raise ValueError(
            f"Catalog file {str(path)!r} is not a JSON list; export a list of product objects "
            "or JSON lines (one object per line, file_format='jsonl')."
        )
    pos += 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return
        line = text.count("\n", 0, pos) + 1
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            # A broken element makes the rest of the list unreadable: report it and stop.
            yield line, None, f"invalid JSON ({exc.msg}); the rest of the file was not read"
            return
        if isinstance(obj, dict):
            yield line, obj, ""
        else:
            yield line, None, f"expected a JSON object, found {type(obj).__name__}"


def _read_json_lines(path: Path, mapping: ColumnMapping) -> Iterator[Record]:
    """Yield one object per non-blank line."""
    with path.open(encoding=mapping.encoding) as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield line_number, None, f"invalid JSON ({exc.msg})"
                continue
            if isinstance(obj, dict):
                yield line_number, obj, ""
            else:
                yield line_number, None, f"expected a JSON object, found {type(obj).__name__}"


def _detect_format(path: Path, mapping: ColumnMapping) -> str:
    """``mapping.file_format``, or guess from the extension (and first character for .json)."""
    if mapping.file_format != "auto":
        return mapping.file_format
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix == ".json":
        with path.open(encoding=mapping.encoding) as handle:
            head = handle.read(4096).lstrip()
        return "json" if head.startswith("[") else "jsonl"
    return "csv"


def load_catalog(
    path: str | Path, mapping: ColumnMapping = AMAZON_2020, limit: int | None = None
) -> CatalogLoadResult:
    """Load and normalise a catalog export.

    Malformed rows (no id or name, unparseable price, wrong field count) and duplicate ids (the
    first occurrence is kept) are logged as warnings with their line number, reported in
    ``errors`` and skipped; the rest of the file loads.

    Args:
        path: CSV, JSON list or JSON-lines file.
        mapping: How the export's columns map to ``Product`` fields.
        limit: Stop after this many products (for tests and previews); ``None`` loads all.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If ``limit`` is negative or the file is JSON but not a list/JSON lines.
    """
    path = Path(path)
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be None or >= 0. Currently, limit is {limit}.")
    if not path.is_file():
        raise FileNotFoundError(
            f"Catalog file {str(path)!r} does not exist; pass the path of the store's export."
        )
    fmt = _detect_format(path, mapping)
    readers = {"csv": _read_csv, "json": _read_json_list, "jsonl": _read_json_lines}
    result = CatalogLoadResult(products=[])
    first_line: dict[str, int] = {}
    for line_number, record, problem in readers[fmt](path, mapping):
        if limit is not None and len(result.products) >= limit:
            break
        result.rows_read += 1
        if record is None:
            _report(result, path, line_number, problem)
            continue
        try:
            product = _to_product(record, mapping)
        except ValueError as exc:
            _report(result, path, line_number, str(exc))
            continue
        if product.id in first_line:
            _report(
                result,
                path,
                line_number,
                f"duplicate id {product.id!r} (first seen on line {first_line[product.id]}); "
                "kept the first",
            )
            continue
        first_line[product.id] = line_number
        result.products.append(product)
    logger.info(
        "Loaded %d products from %s (mapping %s, %s): %d rows read, %d skipped",
        len(result.products),
        path,
        mapping.preset,
        fmt,
        result.rows_read,
        len(result.errors),
    )
    return result


def _report(result: CatalogLoadResult, path: Path, line_number: int, reason: str) -> None:
    """Record and log a skipped row."""
    result.errors.append(RowError(line_number=line_number, reason=reason))
    logger.warning("%s line %d skipped: %s", path, line_number, reason)


# --------------------------------------------------------------------------------------------------
# The normalised catalog file
# --------------------------------------------------------------------------------------------------


def write_catalog_jsonl(products: Iterable[Product], path: str | Path) -> int:
    """Write one product per line (UTF-8 JSON lines); creates parent folders.

    Returns:
        The number of products written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for product in products:
            handle.write(json.dumps(product.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)  # readers never see a half-written catalog
    return count


def read_catalog_jsonl(path: str | Path) -> list[Product]:
    """Read a catalog written by ``write_catalog_jsonl``.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If a line is not a valid product (the message names the line).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"Catalog file {str(path)!r} does not exist; build it with "
            "`python -m training.prepare_store`."
        )
    products: list[Product] = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                products.append(Product.from_dict(json.loads(line)))
            except (json.JSONDecodeError, ValueError) as exc:
                raise ValueError(
                    f"{path} line {line_number} is not a valid product: {exc}. "
                    "Rebuild the file with `python -m training.prepare_store`."
                ) from exc
    return products
