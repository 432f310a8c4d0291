"""Read and validate labelled text CSVs (``text,label[,group]``) for the classifier commands.

Every problem is reported as a :class:`LabelledCsvError` that names the file, the line and the fix,
so ``shopbot train-intent`` / ``train-sentiment`` can print it instead of a stack trace.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from core.artifacts import sha256_chunks

logger = logging.getLogger(__name__)

OOS_LABEL = "oos"
"""The label that marks an out-of-scope example in evaluation CSVs."""


class LabelledCsvError(ValueError):
    """A labelled CSV cannot be used; the message says where and how to fix it."""


@dataclass
class LabelledData:
    """Texts with labels (and optional paraphrase groups) read from one CSV.

    Args:
        texts: The example texts, stripped.
        labels: One label per text.
        groups: One group id per text when the file has a group column, else None.
        path: Where the rows came from (for messages).
    """

    texts: list[str]
    labels: list[str]
    groups: list[str] | None
    path: str

    def __len__(self) -> int:
        return len(self.texts)

    def label_counts(self) -> Counter[str]:
        """Return how many rows each label has."""
        return Counter(self.labels)

    def sha256(self) -> str:
        """Return a hash of the (text, label) rows, saved with models to record their data."""
        return sha256_chunks(
            f"{text}\t{label}\n" for text, label in zip(self.texts, self.labels, strict=True)
        )

    def subset(self, keep: list[int]) -> LabelledData:
        """Return the rows at the given indices."""
        return LabelledData(
            texts=[self.texts[i] for i in keep],
            labels=[self.labels[i] for i in keep],
            groups=None if self.groups is None else [self.groups[i] for i in keep],
            path=self.path,
        )


def read_labelled_csv(
    path: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    group_column: str | None = "group",
    role: str = "CSV",
) -> LabelledData:
    """Read a labelled CSV with a header row.

    Args:
        path: The CSV file (UTF-8, an optional BOM, comma separated, RFC 4180 quoting).
        text_column: Name of the text column.
        label_column: Name of the label column.
        group_column: Name of an optional paraphrase-group column (used when present).
        role: How to call the file in messages (e.g. "TRAIN", "EVAL").

    Returns:
        The rows; rows with an empty text are skipped with a warning.

    Raises:
        LabelledCsvError: The file is missing, empty, malformed or lacks a required column.
    """
    path = Path(path)
    if not path.is_file():
        raise LabelledCsvError(f"{role} file {str(path)!r} does not exist; pass an existing CSV.")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        raw_lines = fh.read().splitlines(keepends=True)
    if not raw_lines or not raw_lines[0].strip():
        raise LabelledCsvError(
            f"{role} file {str(path)!r} is empty; it needs a header row "
            f"'{text_column},{label_column}' and at least one row per label."
        )
    reader = csv.reader(raw_lines, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
        missing = [name for name in (text_column, label_column) if name not in header]
        if missing:
            raise LabelledCsvError(
                f"{role} file {str(path)!r} has no column {', '.join(repr(m) for m in missing)}; "
                f"columns found: {', '.join(repr(h) for h in header)}. Rename the column in the "
                f"header or pass --text-column/--label-column."
            )
        text_i, label_i = header.index(text_column), header.index(label_column)
        group_i = header.index(group_column) if group_column and group_column in header else None
        texts: list[str] = []
        labels: list[str] = []
        groups: list[str] = []
        skipped = 0
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                line_no = reader.line_num
                raise LabelledCsvError(
                    f"{role} file {str(path)!r} line {line_no} has {len(row)} fields but the "
                    f"header has {len(header)} ({','.join(header)}): "
                    f"{_quote_line(raw_lines, line_no)}. Quote texts that contain commas "
                    f'("like, this").'
                )
            text, label = row[text_i].strip(), row[label_i].strip()
            if not text:
                skipped += 1
                continue
            if not label:
                raise LabelledCsvError(
                    f"{role} file {str(path)!r} line {reader.line_num} has an empty "
                    f"{label_column!r}: {_quote_line(raw_lines, reader.line_num)}. "
                    f"Give every row a label."
                )
            texts.append(text)
            labels.append(label)
            if group_i is not None:
                groups.append(row[group_i].strip())
    except csv.Error as exc:
        line_no = reader.line_num
        raise LabelledCsvError(
            f"{role} file {str(path)!r} is not valid CSV at line {line_no}: {exc}: "
            f"{_quote_line(raw_lines, line_no)}. Check the quoting of that line."
        ) from exc
    if skipped:
        logger.warning("%s file %s: skipped %d rows with an empty text", role, path, skipped)
    if not texts:
        raise LabelledCsvError(f"{role} file {str(path)!r} has a header but no rows with text.")
    return LabelledData(texts, labels, groups if group_i is not None else None, str(path))


def require_classes(data: LabelledData, role: str, minimum: int = 2) -> None:
    """Fail unless the rows carry at least ``minimum`` distinct labels.

    Raises:
        LabelledCsvError: With the label found and the fix.
    """
    counts = data.label_counts()
    if len(counts) < minimum:
        found = ", ".join(f"{label!r} ({n} rows)" for label, n in counts.items())
        raise LabelledCsvError(
            f"{role} file {data.path!r} has {len(counts)} distinct label(s): {found}; a classifier "
            f"needs at least {minimum}. Add rows for the other labels."
        )


def reject_label(data: LabelledData, label: str, role: str, fix: str) -> None:
    """Fail when any row carries ``label`` (e.g. ``oos`` in a training file).

    Raises:
        LabelledCsvError: Quoting the first such row and naming the fix.
    """
    rows = [i for i, value in enumerate(data.labels) if value == label]
    if rows:
        first = rows[0]
        raise LabelledCsvError(
            f"{role} file {data.path!r} has {len(rows)} row(s) labelled {label!r} "
            f"(first: {data.texts[first]!r}); {fix}"
        )


def _quote_line(lines: list[str], line_no: int) -> str:
    if 1 <= line_no <= len(lines):
        text = lines[line_no - 1].rstrip("\r\n")
        return repr(text if len(text) <= 200 else text[:200] + "...")
    return "<end of file>"
