"""FAQ ingestion: the CSV and JSON forms, ids, skipped rows, the JSONL file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from knowledge.faq import (
    FaqEntry,
    load_faq,
    load_faq_csv,
    load_faq_json,
    read_faq_jsonl,
    write_faq_jsonl,
)
from tests.unit.knowledge.catalog.sources import FAQ_CSV


def test_demo_csv_loads_with_faq_ids() -> None:
    entries = load_faq_csv(FAQ_CSV)
    assert len(entries) == 79
    assert [e.id for e in entries[:3]] == ["faq-0", "faq-1", "faq-2"]
    assert entries[0] == FaqEntry(
        id="faq-0",
        question="How can I create an account?",
        answer=entries[0].answer,
    )
    assert entries[0].answer.startswith("To create an account")
    assert len({e.id for e in entries}) == 79


def test_json_form_matches_the_csv(tmp_path: Path) -> None:
    csv_entries = load_faq_csv(FAQ_CSV)
    source = tmp_path / "faq.json"
    source.write_text(
        json.dumps(
            {"questions": [{"question": e.question, "answer": e.answer} for e in csv_entries]}
        ),
        encoding="utf-8",
    )
    assert load_faq_json(source) == csv_entries
    assert load_faq(source) == csv_entries


def test_rows_without_an_answer_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = tmp_path / "faq.csv"
    source.write_text(
        'id,question,answer\n0,Do you ship abroad?,"Yes, to 40 countries."\n1,Empty one?,\n'
        "2,Gift wrap?,Yes.\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="knowledge.faq"):
        entries = load_faq(source)
    assert [e.id for e in entries] == ["faq-0", "faq-2"]
    assert "line 3 skipped" in caplog.text


def test_duplicate_ids_and_bad_shapes_are_errors(tmp_path: Path) -> None:
    dup = tmp_path / "dup.csv"
    dup.write_text("id,question,answer\n1,A?,a\n1,B?,b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="faq-1"):
        load_faq_csv(dup)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"faqs": []}', encoding="utf-8")
    with pytest.raises(ValueError, match="questions"):
        load_faq_json(wrong)
    no_answer_column = tmp_path / "cols.csv"
    no_answer_column.write_text("q,a\nx,y\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'question' and 'answer'"):
        load_faq_csv(no_answer_column)
    with pytest.raises(ValueError, match="unsupported extension"):
        load_faq(tmp_path / "faq.txt")


def test_jsonl_round_trip(tmp_path: Path) -> None:
    entries = load_faq_csv(FAQ_CSV)
    path = tmp_path / "store" / "faq.jsonl"
    assert write_faq_jsonl(entries, path) == 79
    assert read_faq_jsonl(path) == entries
    assert load_faq(path) == entries
    path.write_text('{"id": "faq-0", "question": "Q?"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 1"):
        read_faq_jsonl(path)
