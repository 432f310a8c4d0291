"""FAQ ingestion: the store's questions and answers → ``FaqEntry``s, stored as JSON lines.

Two source forms load: a CSV with ``id,question,answer`` columns (``data/demo/faq/ecommerce_faq.csv``)
and the JSON form ``{"questions": [{"question": ..., "answer": ...}, ...]}``. Ids are ``faq-<n>``
(the CSV's numeric id, or the 0-based position in the JSON list). The normalised file is
``var/store/faq.jsonl``.

An entry may also carry the ways shoppers ask it (``also_asked``): a JSON item's ``also_asked``
list, or a CSV ``id,phrasing`` beside the FAQ named ``<faq name>_phrasings.csv``
(``data/demo/faq/ecommerce_faq_phrasings.csv``), one row per phrasing. Retrieval ranks an entry by
the closest of its question and these phrasings (``knowledge.faq_rank``); they are never shown.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.jsonl import read_jsonl_records, write_jsonl_records

logger = logging.getLogger(__name__)

PHRASINGS_SUFFIX = "_phrasings.csv"  # ecommerce_faq.csv → ecommerce_faq_phrasings.csv

__all__ = [
    "PHRASINGS_SUFFIX",
    "FaqEntry",
    "add_phrasings",
    "load_faq",
    "load_faq_csv",
    "load_faq_json",
    "read_faq_jsonl",
    "write_faq_jsonl",
]


@dataclass(frozen=True)
class FaqEntry:
    """One question and its answer (the shared contract, see docs/CONVENTIONS.md).

    Args:
        id: ``"faq-0"``, ``"faq-1"``, ... (what citations name).
        question: The question as the store wrote it.
        answer: The store's answer.
        also_asked: Other ways shoppers ask the question (for ranking; never shown).
    """

    id: str
    question: str
    answer: str
    also_asked: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (``also_asked`` only when there are phrasings)."""
        out: dict[str, Any] = {"id": self.id, "question": self.question, "answer": self.answer}
        if self.also_asked:
            out["also_asked"] = list(self.also_asked)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaqEntry:
        """Build an entry from ``to_dict()`` output.

        Raises:
            ValueError: If ``id``, ``question`` or ``answer`` is missing or empty.
        """
        values = {key: str(data.get(key) or "").strip() for key in ("id", "question", "answer")}
        empty = [key for key, value in values.items() if not value]
        if empty:
            raise ValueError(
                f"FAQ entry {dict(data)!r} has empty or missing field(s) {empty}; every entry "
                "needs an id, a question and an answer."
            )
        asked = data.get("also_asked") or []
        if isinstance(asked, str) or not isinstance(asked, list | tuple):
            raise ValueError(
                f"FAQ entry {values['id']!r}: also_asked must be a list of questions; got "
                f"{type(asked).__name__}."
            )
        also_asked = tuple(dict.fromkeys(text for a in asked if (text := str(a).strip())))
        return cls(**values, also_asked=also_asked)


def _faq_id(raw: str) -> str:
    """``"3"`` → ``"faq-3"``; ids already prefixed stay as they are."""
    raw = raw.strip()
    return raw if raw.startswith("faq-") else f"faq-{raw}"


def _check_unique(entries: list[FaqEntry], source: Path) -> None:
    """Raise on duplicate ids: citations must point at exactly one entry."""
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise ValueError(
                f"FAQ file {str(source)!r} has the id {entry.id!r} twice; give every row its own id."
            )
        seen.add(entry.id)


def _add_entry(
    entries: list[FaqEntry],
    raw_id: str,
    question: Any,
    answer: Any,
    where: str,
    also_asked: Any = None,
) -> None:
    """Append the entry a source row describes, or log why the row at ``where`` is skipped."""
    try:
        entries.append(
            FaqEntry.from_dict(
                {
                    "id": _faq_id(raw_id),
                    "question": question,
                    "answer": answer,
                    "also_asked": also_asked,
                }
            )
        )
    except ValueError as exc:
        logger.warning("%s skipped: %s", where, exc)


def _loaded(entries: list[FaqEntry], path: Path) -> list[FaqEntry]:
    """Check the ids are unique, add the phrasings file beside ``path`` when there is one, log
    the count and return the entries."""
    _check_unique(entries, path)
    phrasings = path.with_name(path.stem + PHRASINGS_SUFFIX)
    if phrasings.is_file():
        entries = add_phrasings(entries, phrasings)
    logger.info(
        "Loaded %d FAQ entries from %s (%d with shoppers' phrasings)",
        len(entries),
        path,
        sum(bool(e.also_asked) for e in entries),
    )
    return entries


def add_phrasings(entries: list[FaqEntry], path: str | Path) -> list[FaqEntry]:
    """The entries with the phrasings of an ``id,phrasing`` CSV added to their ``also_asked``.

    Rows naming an id the FAQ does not have, or with an empty phrasing, are logged and skipped.

    Raises:
        ValueError: If the ``id``/``phrasing`` columns are missing.
    """
    path = Path(path)
    by_id: dict[str, list[str]] = {entry.id: list(entry.also_asked) for entry in entries}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not {"id", "phrasing"} <= set(reader.fieldnames or []):
            raise ValueError(
                f"FAQ phrasings CSV {str(path)!r} has columns {reader.fieldnames}; it needs "
                "'id' and 'phrasing'."
            )
        for row in reader:
            faq_id, phrasing = _faq_id(row.get("id") or ""), (row.get("phrasing") or "").strip()
            if faq_id not in by_id or not phrasing:
                logger.warning(
                    "%s line %d skipped: %s",
                    path,
                    reader.line_num,
                    "no phrasing" if phrasing == "" else f"the FAQ has no entry {faq_id!r}",
                )
                continue
            by_id[faq_id].append(phrasing)
    return [
        FaqEntry(e.id, e.question, e.answer, tuple(dict.fromkeys(by_id[e.id]))) for e in entries
    ]


def load_faq_csv(path: str | Path) -> list[FaqEntry]:
    """Load a CSV with ``id,question,answer`` columns (``id`` may be omitted: row position is used).

    Rows with an empty question or answer are logged with their line number and skipped.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the ``question``/``answer`` columns are missing or an id repeats.
    """
    path = _existing(path)
    entries: list[FaqEntry] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        if not {"question", "answer"} <= columns:
            raise ValueError(
                f"FAQ CSV {str(path)!r} has columns {sorted(columns)}; it needs 'question' and "
                "'answer' (and optionally 'id')."
            )
        previous_end = reader.line_num
        for position, row in enumerate(reader):
            line = previous_end + 1
            previous_end = reader.line_num
            raw_id = (row.get("id") or "").strip() or str(position)
            _add_entry(entries, raw_id, row["question"], row["answer"], f"{path} line {line}")
    return _loaded(entries, path)


def load_faq_json(path: str | Path) -> list[FaqEntry]:
    """Load ``{"questions": [{"question", "answer"}, ...]}`` (a bare list is accepted too).

    Ids are ``faq-<position>`` unless an item carries its own ``id``. Items with an empty question
    or answer are logged and skipped.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file does not have that shape.
    """
    path = _existing(path)
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    items = data.get("questions") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError(
            f'FAQ JSON {str(path)!r} must be {{"questions": [{{"question": ..., "answer": ...}}]}} '
            f"or a list of such objects; got {type(data).__name__}"
            + (f" with keys {sorted(data)}" if isinstance(data, dict) else "")
            + "."
        )
    entries: list[FaqEntry] = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            logger.warning("%s item %d skipped: not an object", path, position)
            continue
        raw_id = str(item.get("id", position))
        where = f"{path} item {position}"
        question, answer, asked = item.get("question"), item.get("answer"), item.get("also_asked")
        _add_entry(entries, raw_id, question, answer, where, asked)
    return _loaded(entries, path)


def load_faq(path: str | Path) -> list[FaqEntry]:
    """Load a FAQ source by extension: ``.csv``, ``.json`` or ``.jsonl`` (as written here).

    Raises:
        ValueError: On an unsupported extension.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return load_faq_csv(path)
    if suffix == ".json":
        return load_faq_json(path)
    if suffix == ".jsonl":
        return read_faq_jsonl(path)
    raise ValueError(
        f"FAQ path {str(path)!r} has an unsupported extension {suffix!r}; use .csv "
        '(id,question,answer), .json ({"questions": [...]}) or .jsonl.'
    )


def write_faq_jsonl(entries: Iterable[FaqEntry], path: str | Path) -> int:
    """Write one entry per line (UTF-8 JSON lines); creates parent folders.

    Returns:
        The number of entries written.
    """
    return write_jsonl_records(entries, path)


def read_faq_jsonl(path: str | Path) -> list[FaqEntry]:
    """Read a file written by ``write_faq_jsonl``.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If a line is not a valid entry (the message names the line).
    """
    path = _existing(path)
    return read_jsonl_records(path, FaqEntry.from_dict, "FAQ entry")


def _existing(path: str | Path) -> Path:
    """Return ``path`` as a ``Path``, raising a clear error when it does not exist."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"FAQ file {str(path)!r} does not exist; pass the store's FAQ export "
            "(e.g. data/demo/faq/ecommerce_faq.csv)."
        )
    return path
