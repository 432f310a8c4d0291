"""The normalised catalog file (JSON lines)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.catalog.jsonl import read_catalog_jsonl, write_catalog_jsonl
from knowledge.catalog.model import Product
from tests.unit.knowledge.catalog.sources import write_text


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
    path = write_text(tmp_path / "c.jsonl", '{"id": "x"}\n')
    with pytest.raises(ValueError, match="line 1"):
        read_catalog_jsonl(path)
    with pytest.raises(FileNotFoundError, match="prepare_store"):
        read_catalog_jsonl(tmp_path / "missing.jsonl")
