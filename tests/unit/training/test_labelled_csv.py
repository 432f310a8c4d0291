"""Reading and validating labelled CSVs: every bad file gives an error that names the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.labelled_csv import (
    LabelledCsvError,
    read_labelled_csv,
    reject_label,
    require_classes,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nlu"


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_fixture_with_groups() -> None:
    data = read_labelled_csv(FIXTURES / "intent_train.csv")
    assert len(data) > 100
    assert data.groups is not None and len(data.groups) == len(data)
    assert {"track_order", "cancel_order"} <= set(data.labels)
    assert len(data.sha256()) == 64


def test_quoted_commas_newlines_and_bom(tmp_path: Path) -> None:
    path = write(tmp_path, '\ufefftext,label\n"hi, there",greet\n"two\nlines",greet\n , skip\n')
    data = read_labelled_csv(path)
    assert data.texts == ["hi, there", "two\nlines"]
    assert data.groups is None


def test_malformed_row_quotes_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "text,label\nfine,greet\nwhere is my order, please,track_order\n")
    with pytest.raises(LabelledCsvError, match=r"line 3 has 3 fields.*where is my order, please"):
        read_labelled_csv(path, role="TRAIN")


def test_unterminated_quote_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, 'text,label\n"oops,greet\n')
    with pytest.raises(LabelledCsvError, match=r"not valid CSV|fields"):
        read_labelled_csv(path)


def test_unknown_label_column_names_the_columns_found(tmp_path: Path) -> None:
    path = write(tmp_path, "text,intent\nhello,greet\n")
    with pytest.raises(
        LabelledCsvError, match=r"no column 'label'; columns found: 'text', 'intent'"
    ):
        read_labelled_csv(path, role="TRAIN")
    assert read_labelled_csv(path, label_column="intent").labels == ["greet"]


def test_empty_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(LabelledCsvError, match="is empty"):
        read_labelled_csv(write(tmp_path, ""))
    with pytest.raises(LabelledCsvError, match="does not exist"):
        read_labelled_csv(tmp_path / "nope.csv")


def test_single_class_and_rejected_label(tmp_path: Path) -> None:
    data = read_labelled_csv(write(tmp_path, "text,label\nhi,greet\nhello,greet\n"))
    with pytest.raises(LabelledCsvError, match=r"1 distinct label\(s\): 'greet' \(2 rows\)"):
        require_classes(data, "TRAIN")
    data = read_labelled_csv(write(tmp_path, "text,label\nhi,greet\nweather?,oos\n", "b.csv"))
    with pytest.raises(LabelledCsvError, match=r"1 row\(s\) labelled 'oos' \(first: 'weather\?'\)"):
        reject_label(data, "oos", "TRAIN", "move them to EVAL.")
