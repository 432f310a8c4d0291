"""Loading an export: malformed rows are reported by file line and skipped."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from knowledge.catalog.load import load_catalog
from knowledge.catalog.mappings import AMAZON_2020, ColumnMapping
from knowledge.catalog.model import RowError
from tests.unit.knowledge.catalog.sources import AMAZON_CSV, AMAZON_HEADER, write_text


def test_amazon_real_file_reports_unparseable_prices_with_file_lines() -> None:
    result = load_catalog(AMAZON_CSV, AMAZON_2020)
    assert [e.line_number for e in result.errors] == [227, 288, 292, 838]
    assert all("'Total price:'" in e.reason and "Selling Price" in e.reason for e in result.errors)
    lines = AMAZON_CSV.read_text(encoding="utf-8").split("\n")
    assert all(",Total price:" in lines[e.line_number - 1] for e in result.errors)


def test_malformed_rows_are_reported_by_line_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = write_text(
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
    with caplog.at_level(logging.WARNING, logger="knowledge.catalog.load"):
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
    source = write_text(tmp_path / "bad.csv", "id,name,price\n1,Mug,3\n2,Cup\n3,Plate,4\n")
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
    as_list = write_text(
        tmp_path / "c.json", "[\n" + ",\n".join(json.dumps(p) for p in products) + "\n]\n"
    )
    as_lines = write_text(tmp_path / "c.jsonl", "\n".join(json.dumps(p) for p in products) + "\n")
    for path, bad_line in ((as_list, 3), (as_lines, 2)):
        result = load_catalog(path, mapping)
        assert [p.id for p in result.products] == ["p1", "p3"]
        assert [e.line_number for e in result.errors] == [bad_line]
        assert result.products[0].category == ("Kitchen", "Cups")
        assert result.products[1].category == ("Kitchen", "Plates")
        assert result.products[1].price == 4.0
