"""Up-to-date checks for built artifacts: a hash of every input, stored beside the output.

``make demo`` and ``make test`` rebuild a model or an index only when its inputs changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)


def hash_inputs(paths: Iterable[Path], extra: object = None) -> str:
    """Return a sha256 over the contents (and relative names) of files and folders.

    Args:
        paths: Files or folders (folders are walked recursively, in sorted order).
        extra: Anything JSON-serialisable that also determines the output (preset, arguments).
    """
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.name).encode())
            digest.update(file.read_bytes() if file.exists() else b"<missing>")
    digest.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return digest.hexdigest()


class Stamp:
    """A small file remembering the input hash an artifact was built from."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def matches(self, inputs_hash: str, *outputs: Path) -> bool:
        """True when the stamp holds ``inputs_hash`` and every output exists."""
        if not self.path.exists() or not all(out.exists() for out in outputs):
            return False
        return self.path.read_text(encoding="utf-8").strip() == inputs_hash

    def write(self, inputs_hash: str) -> None:
        """Record ``inputs_hash`` as built."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(inputs_hash + "\n", encoding="utf-8")


def sha256_chunks(chunks: Iterable[str | bytes]) -> str:
    """Return the sha256 of the concatenated ``chunks`` (strings are encoded as UTF-8).

    The fingerprint of an ordered record stream (passage hashes, labelled rows): the caller
    writes each record with its own separator, so the result matches a hand-rolled
    ``digest.update`` loop over the same chunks.
    """
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
    return digest.hexdigest()


def sha256_files(files: Iterable[Path], root: Path) -> str:
    """Return a sha256 over each file's path relative to ``root`` and its contents, in order.

    Files are streamed in 1 MiB blocks, so model weights of any size hash in constant memory.

    Args:
        files: The files, in the order to hash them (sort them for a stable result).
        root: The folder every file lies under; only the relative path enters the hash, so a
            copied folder hashes the same.

    Raises:
        ValueError: When a file is not under ``root``.
    """
    digest = hashlib.sha256()
    for path in files:
        try:
            name = path.relative_to(root)
        except ValueError:
            raise ValueError(
                f"files must lie under root. Currently, {str(path)!r} is not under "
                f"{str(root)!r}; pass the folder that holds every file as root."
            ) from None
        digest.update(str(name).encode())
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
