"""The column-mapping presets on real exports, and mapping files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.catalog.load import load_catalog
from knowledge.catalog.mappings import ADIDAS_US, AMAZON_2020, MYNTRA, ColumnMapping, get_mapping
from knowledge.catalog.model import Product
from tests.unit.knowledge.catalog.sources import ADIDAS_CSV, MYNTRA_CSV, write_text


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


def test_mapping_file_json_and_yaml(tmp_path: Path) -> None:
    source = write_text(
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
    json_file = write_text(tmp_path / "mapping.json", json.dumps(spec))
    yaml_file = write_text(
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
    assert shorts.stock is None and shorts.in_stock is True  # "InStock": no count is made up


@pytest.mark.skipif(not MYNTRA_CSV.is_file(), reason="shared myntra catalog not present")
def test_myntra_preset_keeps_inr() -> None:
    result = load_catalog(MYNTRA_CSV, MYNTRA, limit=5)
    assert len(result.products) == 5 and not result.errors
    bag = result.products[0]
    assert (bag.id, bag.brand, bag.price, bag.currency) == ("10017413", "DKNY", 11745.0, "INR")
    assert bag.category == ("Unisex",)
    assert bag.specs["Color"] == "Black"
