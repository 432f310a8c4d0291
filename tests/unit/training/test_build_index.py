"""``shopbot index``: builds, then updates incrementally; refuses a changed embedder."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from knowledge.catalog.jsonl import write_catalog_jsonl
from knowledge.catalog.model import Product
from knowledge.embedder import HashingEmbedder
from knowledge.faq import FaqEntry, write_faq_jsonl
from training import build_index


def product(i: int, price: float = 10.0) -> Product:
    return Product(
        id=f"sku{i}", name=f"Gadget {i}", brand="Acme", category=("Home",), price=price,
        currency="USD", description=f"Gadget {i} is useful.", specs={}, stock=1, url="", image="",
    )  # fmt: skip


@pytest.fixture()
def files(tmp_path: Path) -> list[str]:
    write_catalog_jsonl([product(i) for i in range(4)], tmp_path / "catalog.jsonl")
    write_faq_jsonl([FaqEntry("faq-0", "Do you ship abroad?", "Yes.")], tmp_path / "faq.jsonl")
    return [
        "--catalog", str(tmp_path / "catalog.jsonl"), "--faq", str(tmp_path / "faq.jsonl"),
        "--out", str(tmp_path / "index"),
    ]  # fmt: skip


def test_build_then_update(
    tmp_path: Path,
    files: list[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    embedder = HashingEmbedder(32)
    monkeypatch.setattr(build_index, "_make_embedder", lambda args: embedder)
    assert build_index.main(files) == 0
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["passage_count"] == 9 and manifest["index_type"] == "flat"
    assert embedder.texts_embedded == 9

    with caplog.at_level(logging.INFO, logger="knowledge"):
        assert build_index.main(files) == 0
    assert "0 new, 0 removed" in caplog.text
    assert embedder.texts_embedded == 9

    write_catalog_jsonl(
        [product(i, price=12.0 if i == 0 else 10.0) for i in range(4)], tmp_path / "catalog.jsonl"
    )
    assert build_index.main(files) == 0
    assert embedder.texts_embedded == 10  # only sku0's header (its chunk text is unchanged)


def test_changed_embedder_needs_rebuild(
    files: list[str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(build_index, "_make_embedder", lambda args: HashingEmbedder(32))
    assert build_index.main(files) == 0
    monkeypatch.setattr(build_index, "_make_embedder", lambda args: HashingEmbedder(16))
    with caplog.at_level(logging.ERROR):
        assert build_index.main(files) == 1
    assert "'hashing-32'" in caplog.text and "'hashing-16'" in caplog.text
    assert "shopbot index --rebuild" in caplog.text
    assert build_index.main([*files, "--rebuild"]) == 0


def test_missing_catalog_is_explained(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert (
            build_index.main(["--catalog", str(tmp_path / "none.jsonl"), "--out", str(tmp_path)])
            == 1
        )
    assert "none.jsonl" in caplog.text and "does not exist" in caplog.text


def test_bad_flag_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_index.main(["--index-type", "annoy"])
    assert "invalid choice: 'annoy'" in capsys.readouterr().err
