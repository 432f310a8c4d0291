"""FAQ blanks ("[phone number]") are filled from the store's settings or never shown."""

from __future__ import annotations

import csv
from pathlib import Path

from knowledge.placeholders import PlaceholderFilter, fill_placeholders
from knowledge.types import Hit, Passage
from tests.unit.knowledge.answer_doubles import FakeRetriever

FAQ = Path(__file__).resolve().parents[3] / "data" / "demo" / "faq" / "ecommerce_faq.csv"


def contact_answer() -> str:
    with FAQ.open(encoding="utf-8") as rows:
        return next(
            r["answer"]
            for r in csv.DictReader(rows)
            if r["question"] == "How can I contact customer support?"
        )


def hit(i: int, text: str) -> Hit:
    passage = Passage(id=f"faq:faq-{i}#0", doc_id=f"faq-{i}", kind="faq", text=text, title="Q")
    return Hit(passage=passage, score=1.0 / (i + 1), scores={"dense": 0.7})


def test_the_demo_faq_blanks_are_filled_from_settings() -> None:
    text = contact_answer()
    assert "[phone number]" in text and "[email address]" in text and "[working hours]" in text
    values = {"phone": "+1 713 555 0100", "email": "help@shop.example", "hours": "Mon–Fri 9–17"}
    filled = fill_placeholders(text, values)
    assert filled is not None and "[" not in filled
    assert "by phone at +1 713 555 0100 or by email at help@shop.example" in filled
    assert "available Mon–Fri 9–17" in filled


def test_a_blank_without_a_setting_withholds_the_text() -> None:
    assert fill_placeholders(contact_answer(), {"phone": "+1 713 555 0100"}) is None
    assert fill_placeholders("Ask about your [order number].", {"phone": "1"}) is None
    assert fill_placeholders("No blanks [1] [S2] here.", {}) == "No blanks [1] [S2] here."


def test_the_filter_drops_unfillable_hits_and_refills_from_below() -> None:
    hits = [hit(0, contact_answer()), hit(1, "Returns within 30 days."), hit(2, "Track it.")]
    retriever = PlaceholderFilter(FakeRetriever(hits), {"email": "help@shop.example"})
    got = retriever.search("contact", top_k=2)
    assert [h.passage.doc_id for h in got] == ["faq-1", "faq-2"]
    full = PlaceholderFilter(
        FakeRetriever(hits), {"phone": "555 0100", "email": "a@b.example", "hours": "9-5"}
    )
    first = full.search("contact", top_k=1)[0].passage.text
    assert "555 0100" in first and "[" not in first
