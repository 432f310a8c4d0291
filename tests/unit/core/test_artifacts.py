"""The shared sha256 helpers: same digests as the loops they replaced, stable across copies."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from core.artifacts import sha256_chunks, sha256_files
from core.encoder import directory_sha256


def test_sha256_chunks_equals_a_digest_update_loop() -> None:
    rows = [("where is my order", "track"), ("café au lait", "oos")]
    expected = hashlib.sha256()
    for text, label in rows:
        expected.update(f"{text}\t{label}\n".encode())
    assert sha256_chunks(f"{t}\t{label}\n" for t, label in rows) == expected.hexdigest()
    assert sha256_chunks([b"ab", "c"]) == hashlib.sha256(b"abc").hexdigest()
    assert sha256_chunks([]) == hashlib.sha256().hexdigest()


def _classifier_dir(root: Path) -> Path:
    (root / "encoder" / "sub").mkdir(parents=True)
    (root / "encoder" / "config.json").write_text('{"a": 1}')
    (root / "encoder" / "sub" / "weights.bin").write_bytes(bytes(range(256)) * 9000)
    (root / "label_map.json").write_text('["a", "b"]')
    (root / "metrics.json").write_text("{}")  # not a model file: ignored
    return root


def test_sha256_files_streams_relative_names_and_contents(tmp_path: Path) -> None:
    root = _classifier_dir(tmp_path / "clf")
    files = sorted(p for p in root.rglob("*") if p.is_file())
    expected = hashlib.sha256()
    for path in files:
        expected.update(str(path.relative_to(root)).encode())
        expected.update(path.read_bytes())
    assert sha256_files(files, root) == expected.hexdigest()
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    assert sha256_files(sorted(p for p in copy.rglob("*") if p.is_file()), copy) == (
        expected.hexdigest()
    )


def test_sha256_files_rejects_a_file_outside_root(tmp_path: Path) -> None:
    outside = tmp_path / "x.txt"
    outside.write_text("x")
    with pytest.raises(ValueError, match=re.escape("files must lie under root")):
        sha256_files([outside], tmp_path / "clf")


def test_directory_sha256_hashes_only_model_files(tmp_path: Path) -> None:
    root = _classifier_dir(tmp_path / "clf")
    before = directory_sha256(root)
    # The digest the hand-rolled loop in core.encoder produced before it moved here.
    legacy = hashlib.sha256()
    for name in ("encoder/config.json", "encoder/sub/weights.bin", "label_map.json"):
        legacy.update(name.encode())
        legacy.update((root / name).read_bytes())
    assert before == legacy.hexdigest()
    (root / "metrics.json").write_text('{"changed": true}')
    assert directory_sha256(root) == before
    (root / "label_map.json").write_text('["a", "c"]')
    assert directory_sha256(root) != before
