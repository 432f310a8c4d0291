"""JSON-lines files of records (one ``to_dict()`` object per line), written atomically.

The normalised catalog (``knowledge.catalog.jsonl``) and FAQ (``knowledge.faq``) files both use
these; each caller names what a line holds so a bad line's error says which file to rebuild.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar

__all__ = ["read_jsonl_records", "write_jsonl_records"]

T = TypeVar("T")


class _Record(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


def write_jsonl_records(records: Iterable[_Record], path: str | Path) -> int:
    """Write one record per line (UTF-8 JSON lines); creates parent folders.

    The file is written beside the target and renamed into place, so readers never see a
    half-written file.

    Returns:
        The number of records written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)
    return count


def read_jsonl_records(path: Path, parse: Callable[[dict[str, Any]], T], what: str) -> list[T]:
    """Parse every non-blank line of ``path`` with ``parse``.

    Raises:
        ValueError: If a line is not JSON or ``parse`` rejects it; the message names the file,
            the line, ``what`` it should hold and how to rebuild the file.
    """
    records: list[T] = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                records.append(parse(json.loads(line)))
            except (json.JSONDecodeError, ValueError) as exc:
                raise ValueError(
                    f"{path} line {line_number} is not a valid {what}: {exc}. "
                    "Rebuild the file with `python -m training.prepare_store`."
                ) from exc
    return records
