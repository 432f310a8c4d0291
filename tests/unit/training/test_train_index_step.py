"""``shopbot train``'s index step rebuilds an index embedded otherwise than configured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.train import _variant_changed


def write_manifest(directory: Path, **fields: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps({"embedder": "all-MiniLM-L6-v2", **fields}))
    return directory


@pytest.mark.parametrize(
    ("fields", "changed"),
    [
        ({"embedder_variant": "onnx-int8", "embedder_max_seq_length": 128}, False),
        ({"embedder_variant": "torch", "embedder_max_seq_length": 128}, True),
        ({"embedder_variant": "onnx-int8", "embedder_max_seq_length": 256}, True),
        ({}, True),  # written before manifests named the variant: torch, 256 tokens
    ],
)
def test_rebuild_when_variant_or_length_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: dict[str, object], changed: bool
) -> None:
    monkeypatch.setenv("SHOPBOT_EMBEDDER_VARIANT", "onnx-int8")
    monkeypatch.setenv("SHOPBOT_EMBEDDER_MAX_SEQ_LENGTH", "128")
    assert _variant_changed(write_manifest(tmp_path / "index", **fields)) is changed


def test_no_index_yet_is_no_change(tmp_path: Path) -> None:
    assert _variant_changed(tmp_path / "missing") is False
