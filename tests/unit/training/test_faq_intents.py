"""The FAQ entries' own intents: the majority of what NLU gives each entry's question and
phrasings. The real Rasa model parses them in ``shopbot train --preset tiny`` (make test) and the
HTTP end-to-end test of misread order questions depends on its result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.faq import FaqEntry, write_faq_jsonl
from training import faq_intents

ENTRIES = [
    FaqEntry("faq-2", "How can I track my order?", "Use the link.", ("wheres my parcel",)),
    FaqEntry(
        "faq-50",
        "Can I order a product if it is out of stock?",
        "No.",
        ("sold out, can i buy it", "out of stock, can i order", "can i get it if its sold out"),
    ),
]
READS = {
    "How can I track my order?": "track_order",
    "wheres my parcel": "track_order",
    "Can I order a product if it is out of stock?": "place_order",
    "sold out, can i buy it": "track_order",
    "out of stock, can i order": "place_order",
    "can i get it if its sold out": "place_order",
}


def test_each_entry_gets_the_intent_most_of_its_phrasings_get() -> None:
    parsed: list[list[str]] = []

    def intents_of(texts: list[str]) -> list[str]:
        parsed.append(texts)
        return [READS[t] for t in texts]

    result = faq_intents.entry_intents(ENTRIES, intents_of, progress=False)
    assert result == {
        "faq-2": {"intent": "track_order", "share": 1.0, "texts": 2},
        "faq-50": {"intent": "place_order", "share": 0.75, "texts": 4},
    }
    assert parsed[1][0] == "Can I order a product if it is out of stock?"  # the question too


def test_main_writes_the_file_the_action_server_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faq = tmp_path / "faq.jsonl"
    write_faq_jsonl(ENTRIES, faq)
    model = tmp_path / "shopbot-tiny.tar.gz"
    model.write_bytes(b"model")
    monkeypatch.setattr(
        faq_intents, "rasa_intents_of", lambda path: lambda texts: [READS[t] for t in texts]
    )
    out = tmp_path / "knowledge" / faq_intents.FILE_NAME
    assert faq_intents.main(["--model", str(model), "--faq", str(faq), "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["entries"]["faq-50"]["intent"] == "place_order"
    assert record["model"] == "shopbot-tiny.tar.gz"


def test_a_missing_model_is_refused_with_the_fix(tmp_path: Path) -> None:
    faq = tmp_path / "faq.jsonl"
    write_faq_jsonl(ENTRIES, faq)
    with pytest.raises(SystemExit):
        faq_intents.main(
            [
                "--model",
                str(tmp_path / "none.tar.gz"),
                "--faq",
                str(faq),
                "--out",
                str(tmp_path / "o.json"),
            ]
        )
