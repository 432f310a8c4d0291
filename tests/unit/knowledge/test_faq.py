"""FAQ ingestion: the CSV and JSON forms, ids, skipped rows, the JSONL file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from knowledge.faq import (
    FaqEntry,
    add_phrasings,
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
        also_asked=entries[0].also_asked,
    )
    assert entries[0].answer.startswith("To create an account")
    assert len({e.id for e in entries}) == 79
    # The phrasings file beside it (ecommerce_faq_phrasings.csv) gives every entry 30 phrasings.
    assert {len(e.also_asked) for e in entries} == {30}
    assert all(e.question not in e.also_asked for e in entries)


def test_phrasings_beside_the_faq_are_read_and_bad_rows_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = tmp_path / "shop_faq.csv"
    source.write_text(
        'id,question,answer\n3,What is your return policy?,"30 days, full refund."\n'
        "5,How long does shipping take?,3 to 5 days.\n",
        encoding="utf-8",
    )
    assert [e.also_asked for e in load_faq(source)] == [(), ()]  # no phrasings file: none
    (tmp_path / "shop_faq_phrasings.csv").write_text(
        "id,phrasing\n3,can i send it back after 3 weeks\n3,return window?\n"
        "3,return window?\n9,do you sell gift cards\n5,\n5,when will my parcel come\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="knowledge.faq"):
        entries = load_faq(source)
    assert [e.also_asked for e in entries] == [
        ("can i send it back after 3 weeks", "return window?"),  # the repeat counted once
        ("when will my parcel come",),
    ]
    assert "the FAQ has no entry 'faq-9'" in caplog.text and "no phrasing" in caplog.text
    # JSON items carry their own, and the JSONL file keeps them.
    path = tmp_path / "faq.jsonl"
    write_faq_jsonl(entries, path)
    assert read_faq_jsonl(path) == entries
    assert "also_asked" not in FaqEntry("faq-1", "Q?", "A.").to_dict()
    items = tmp_path / "items.json"
    items.write_text(
        json.dumps([{"question": "Q?", "answer": "A.", "also_asked": ["q", " ", "q2"]}]),
        encoding="utf-8",
    )
    assert load_faq(items)[0].also_asked == ("q", "q2")
    items.write_text(json.dumps([{"question": "Q?", "answer": "A.", "also_asked": "q"}]))
    with caplog.at_level(logging.WARNING, logger="knowledge.faq"):
        assert load_faq(items) == []  # the item is skipped, with the reason logged
    assert "also_asked must be a list" in caplog.text
    wrong = tmp_path / "wrong_phrasings.csv"
    wrong.write_text("faq,text\n3,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'id' and 'phrasing'"):
        add_phrasings(entries, wrong)


def test_json_form_matches_the_csv(tmp_path: Path) -> None:
    csv_entries = load_faq_csv(FAQ_CSV)
    source = tmp_path / "faq.json"
    items = [
        {"question": e.question, "answer": e.answer, "also_asked": list(e.also_asked)}
        for e in csv_entries
    ]
    source.write_text(json.dumps({"questions": items}), encoding="utf-8")
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
