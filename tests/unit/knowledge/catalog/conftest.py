"""The demo catalog, loaded once per test module."""

from __future__ import annotations

import pytest

from knowledge.catalog.load import load_catalog
from knowledge.catalog.mappings import AMAZON_2020
from knowledge.catalog.model import Product
from tests.unit.knowledge.catalog.sources import AMAZON_CSV


@pytest.fixture(scope="module")
def amazon() -> list[Product]:
    return load_catalog(AMAZON_CSV, AMAZON_2020).products
