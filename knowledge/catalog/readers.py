"""Source readers: ``(line number, record or None, problem)`` for CSV, JSON list and JSON lines.

A record that cannot be read is yielded as ``None`` with the reason, so the loader reports it
with its line number and goes on with the rest of the file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from knowledge.catalog.mappings import ColumnMapping
from knowledge.catalog.text import collapse

__all__ = ["Record", "detect_format", "read_csv", "read_json_lines", "read_json_list"]


Record = tuple[int, dict[str, Any] | None, str]
"""(line number where the record starts, the record or None, why it is None)."""


def read_csv(path: Path, mapping: ColumnMapping) -> Iterator[Record]:
    """Yield CSV records with the file line each starts on (quoted fields may span lines)."""
    with path.open(encoding=mapping.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=mapping.delimiter)
        try:
            header = [collapse(h) for h in next(reader)]
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


def read_json_list(path: Path, mapping: ColumnMapping) -> Iterator[Record]:
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
        yield _object_record(line, obj)


def _object_record(line: int, obj: Any) -> Record:
    """``obj`` as the record of ``line`` when it is a JSON object; otherwise the reason it is not."""
    if isinstance(obj, dict):
        return line, obj, ""
    return line, None, f"expected a JSON object, found {type(obj).__name__}"


def read_json_lines(path: Path, mapping: ColumnMapping) -> Iterator[Record]:
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
            yield _object_record(line_number, obj)


def detect_format(path: Path, mapping: ColumnMapping) -> str:
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
