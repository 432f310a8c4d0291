"""Catalog ingestion: price parsing, the column-mapping presets, malformed rows, the JSONL file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from knowledge.catalog import (
    ADIDAS_US,
    AMAZON_2020,
    MYNTRA,
    ColumnMapping,
    Product,
    RowError,
    derive_stock,
    get_mapping,
    load_catalog,
    parse_price,
    read_catalog_jsonl,
    write_catalog_jsonl,
)

ROOT = Path(__file__).resolve().parents[3]
AMAZON_CSV = ROOT / "data/demo/catalog/amazon_products_sample1000.csv"
SHARED = ROOT.parent / "shared" / "data"
ADIDAS_CSV = SHARED / "product_catalog_adidas_us/adidas_usa.csv"
MYNTRA_CSV = SHARED / "product_catalog_myntra/myntra_products_catalog.csv"

AMAZON_HEADER = (
    "Uniq Id,Product Name,Brand Name,Category,Selling Price,About Product,"
    "Product Specification,Technical Details,Shipping Weight,Model Number,Image,Product Url,Stock"
)


@pytest.fixture(scope="module")
def amazon() -> list[Product]:
    return load_catalog(AMAZON_CSV, AMAZON_2020).products


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$28.91", 28.91),
        ("$1,179.99", 1179.99),
        ("$74.99 - $249.99", 74.99),  # a range: the lower bound
        ("$6.94 $ 6 . 94", 6.94),
        ("$ 19 99 $39.95 #listPriceLegalMessageText { margin-left: 4px }", 19.99),
        ("40", 40.0),
        ("₹ 11745", 11745.0),
    ],
)
def test_parse_price_handles_store_renderings(text: str, expected: float) -> None:
    assert parse_price(text) == pytest.approx(expected)


def test_parse_price_decimal_comma() -> None:
    assert parse_price("1.234,56 €", "decimal_comma") == pytest.approx(1234.56)


@pytest.mark.parametrize("text", ["Total price:", "", "call us"])
def test_parse_price_rejects_text_without_a_price(text: str) -> None:
    with pytest.raises(ValueError):
        parse_price(text)


def test_parse_price_unknown_parser_names_the_choices() -> None:
    with pytest.raises(ValueError, match=r"price_parser='roman'.*auto"):
        parse_price("$1", "roman")


def test_amazon_preset_parses_price_category_specs(amazon: list[Product]) -> None:
    guillow = next(p for p in amazon if p.id == "18018b6bc416dab347b1b7db79994afa")
    assert guillow.price == pytest.approx(28.91)
    assert guillow.currency == "USD"
    assert guillow.category == (
        "Toys & Games",
        "Hobbies",
        "Models & Model Kits",
        "Model Kits",
        "Airplane & Jet Kits",
    )
    # Keys and values the export wrote without spaces come back readable.
    assert guillow.specs["Product Dimensions"] == "3.5 x 6.2 x 13 inches"
    assert guillow.specs["Item Weight"] == "13.4 ounces"
    assert guillow.specs["Manufacturer Recommended Age"] == "8 years and up"
    assert guillow.specs["Item Model Number"] == "142"
    assert guillow.specs["Domestic Shipping"] == "Item can be shipped within U.S."
    assert guillow.brand == "Guillow"  # derived from the name
    assert guillow.image.endswith(".jpg") and "transparent-pixel" not in guillow.image
    assert guillow.url.startswith("https://www.amazon.com/")
    assert "Make sure this fits" not in guillow.description
    assert guillow.description.startswith("Make 8 different Planes")


def test_amazon_preset_never_keeps_placeholder_images_or_boilerplate(
    amazon: list[Product],
) -> None:
    assert len(amazon) == 996
    assert all("transparent-pixel" not in p.image for p in amazon)
    assert all("Make sure this fits" not in p.description for p in amazon)
    assert all("Viewshippingrates" not in v for p in amazon for v in p.specs.values())
    assert all(p.price > 0 for p in amazon)
    assert len({p.id for p in amazon}) == len(amazon)


def test_amazon_real_file_reports_unparseable_prices_with_file_lines() -> None:
    result = load_catalog(AMAZON_CSV, AMAZON_2020)
    assert [e.line_number for e in result.errors] == [227, 288, 292, 838]
    assert all("'Total price:'" in e.reason and "Selling Price" in e.reason for e in result.errors)
    lines = AMAZON_CSV.read_text(encoding="utf-8").split("\n")
    assert all(",Total price:" in lines[e.line_number - 1] for e in result.errors)


def test_derived_stock_is_deterministic_with_about_ten_percent_out(
    amazon: list[Product],
) -> None:
    assert all(0 <= p.stock <= 60 for p in amazon)
    out = sum(1 for p in amazon if p.stock == 0) / len(amazon)
    assert 0.05 < out < 0.15
    assert derive_stock("abc") == derive_stock("abc")
    assert derive_stock("abc", in_stock=False) == 0
    assert derive_stock("abc", in_stock=True) > 0


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_malformed_rows_are_reported_by_line_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = _write(
        tmp_path / "export.csv",
        AMAZON_HEADER
        + "\n"
        # line 2-3: a quoted description spanning two lines
        + 'a1,Melissa & Doug Wooden Puzzle,,Toys & Games | Puzzles,$12.50,"Chunky pieces | '
        'Ages 3+\nSecond line",ItemWeight:1.2pounds|ProductDimensions:2x3x4inches,,,,'
        "https://img/x.jpg|https://img/transparent-pixel.jpg,https://shop/a1,\n"
        # line 4: no name
        + "a2,,,Toys,$5.00,,,,,,,,\n"
        # line 5: unparseable price
        + "a3,Hot Wheels Track,,Toys,call for price,,,,,,,,\n"
        # line 6: duplicate id
        + "a1,Another Name,,Toys,$1.00,,,,,,,,\n"
        # line 7: fine
        + "a4,LEGO City Police Station,,Toys | Building,$99.99,Bricks,,,,,,,7\n",
    )
    with caplog.at_level(logging.WARNING, logger="knowledge.catalog"):
        result = load_catalog(source, AMAZON_2020)
    assert [p.id for p in result.products] == ["a1", "a4"]
    assert [e.line_number for e in result.errors] == [4, 5, 6]
    assert "missing name" in result.errors[0].reason
    assert "'call for price'" in result.errors[1].reason
    assert "duplicate id 'a1'" in result.errors[2].reason and "line 2" in result.errors[2].reason
    assert "line 4 skipped" in caplog.text and "line 6 skipped" in caplog.text
    puzzle, lego = result.products
    assert puzzle.brand == "Melissa & Doug"
    assert puzzle.category == ("Toys & Games", "Puzzles")
    assert puzzle.specs == {"Item Weight": "1.2 pounds", "Product Dimensions": "2 x 3 x 4 inches"}
    assert puzzle.description == "Chunky pieces\nAges 3+ Second line"
    assert puzzle.image == "https://img/x.jpg"
    assert lego.stock == 7 and lego.brand == "LEGO"


def test_wrong_field_count_is_a_row_error(tmp_path: Path) -> None:
    source = _write(tmp_path / "bad.csv", "id,name,price\n1,Mug,3\n2,Cup\n3,Plate,4\n")
    result = load_catalog(source, ColumnMapping(category_columns=(), brand_column=None))
    assert [p.id for p in result.products] == ["1", "3"]
    assert result.errors == [RowError(3, result.errors[0].reason)]
    assert "expected 3 fields, found 2" in result.errors[0].reason


def test_json_list_and_json_lines_report_lines(tmp_path: Path) -> None:
    mapping = ColumnMapping(category_columns=("category",))
    products = [
        {"id": "p1", "name": "Mug", "price": 3.5, "category": ["Kitchen", "Cups"], "stock": 2},
        {"id": "p2", "name": "", "price": 1},
        {"id": "p3", "name": "Plate", "price": "$4.00", "category": "Kitchen|Plates"},
    ]
    as_list = _write(
        tmp_path / "c.json", "[\n" + ",\n".join(json.dumps(p) for p in products) + "\n]\n"
    )
    as_lines = _write(tmp_path / "c.jsonl", "\n".join(json.dumps(p) for p in products) + "\n")
    for path, bad_line in ((as_list, 3), (as_lines, 2)):
        result = load_catalog(path, mapping)
        assert [p.id for p in result.products] == ["p1", "p3"]
        assert [e.line_number for e in result.errors] == [bad_line]
        assert result.products[0].category == ("Kitchen", "Cups")
        assert result.products[1].category == ("Kitchen", "Plates")
        assert result.products[1].price == 4.0


def test_mapping_file_json_and_yaml(tmp_path: Path) -> None:
    source = _write(
        tmp_path / "store.csv",
        "sku;title;cost;dept\nX-1;Desk Lamp;24,99 €;Home/Lighting\nX-2;Chair;;Home\n",
    )
    spec = {
        "id_column": "sku",
        "name_column": "title",
        "price_column": "cost",
        "price_parser": "decimal_comma",
        "currency": "EUR",
        "category_columns": ["dept"],
        "category_separator": "/",
        "brand_column": None,
        "delimiter": ";",
    }
    json_file = _write(tmp_path / "mapping.json", json.dumps(spec))
    yaml_file = _write(
        tmp_path / "mapping.yaml",
        "\n".join(f"{k}: {json.dumps(v) if v is not None else 'null'}" for k, v in spec.items()),
    )
    for mapping_file in (json_file, yaml_file):
        mapping = ColumnMapping.from_file(mapping_file)
        assert mapping == get_mapping(str(mapping_file))
        result = load_catalog(source, mapping)
        assert [(p.id, p.price, p.currency, p.category) for p in result.products] == [
            ("X-1", 24.99, "EUR", ("Home", "Lighting"))
        ]
        assert [e.line_number for e in result.errors] == [3]


def test_mapping_file_can_extend_a_preset_and_rejects_unknown_keys(tmp_path: Path) -> None:
    extended = ColumnMapping.from_dict({"preset": "amazon_2020", "currency": "CAD"})
    assert extended.currency == "CAD" and extended.name_column == "Product Name"
    assert ColumnMapping.from_dict(AMAZON_2020.to_dict()) == AMAZON_2020
    with pytest.raises(ValueError, match="name_colum"):
        ColumnMapping.from_dict({"name_colum": "title"})
    with pytest.raises(ValueError, match="neither a preset"):
        get_mapping("no-such-preset")


@pytest.mark.skipif(not ADIDAS_CSV.is_file(), reason="shared adidas catalog not present")
def test_adidas_preset_loads_rows() -> None:
    result = load_catalog(ADIDAS_CSV, ADIDAS_US, limit=5)
    assert len(result.products) == 5 and not result.errors
    shorts = result.products[0]
    assert (shorts.id, shorts.name, shorts.brand) == ("FJ5089", "Beach Shorts", "adidas")
    assert shorts.price == 40.0 and shorts.currency == "USD"
    assert shorts.category == ("Clothing", "Women")
    assert shorts.specs["Color"] == "Black"
    assert shorts.image.startswith("https://assets.adidas.com/") and "~" not in shorts.image
    assert shorts.stock > 0  # "InStock"


@pytest.mark.skipif(not MYNTRA_CSV.is_file(), reason="shared myntra catalog not present")
def test_myntra_preset_keeps_inr() -> None:
    result = load_catalog(MYNTRA_CSV, MYNTRA, limit=5)
    assert len(result.products) == 5 and not result.errors
    bag = result.products[0]
    assert (bag.id, bag.brand, bag.price, bag.currency) == ("10017413", "DKNY", 11745.0, "INR")
    assert bag.category == ("Unisex",)
    assert bag.specs["Color"] == "Black"


def test_jsonl_round_trip(tmp_path: Path, amazon: list[Product]) -> None:
    path = tmp_path / "out" / "catalog.jsonl"
    assert write_catalog_jsonl(amazon[:50], path) == 50
    again = read_catalog_jsonl(path)
    assert again == amazon[:50]
    assert len({hash(p) for p in again}) == 50  # hashable despite the specs dict
    assert (
        Product.from_dict(json.loads(path.read_text(encoding="utf-8").splitlines()[0])) == amazon[0]
    )


def test_read_catalog_jsonl_names_the_bad_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.jsonl", '{"id": "x"}\n')
    with pytest.raises(ValueError, match="line 1"):
        read_catalog_jsonl(path)
    with pytest.raises(FileNotFoundError, match="prepare_store"):
        read_catalog_jsonl(tmp_path / "missing.jsonl")
