"""Tests for knowledge/faq_suggest.py: the FAQ entries offered when the bot does not know."""

from __future__ import annotations

from knowledge.embedder import HashingEmbedder
from knowledge.faq import FaqEntry
from knowledge.faq_rank import FaqQuestionRanker
from knowledge.faq_suggest import entry_question, suggest
from knowledge.index import KnowledgeIndex
from knowledge.passages import faq_passage
from knowledge.placeholders import PlaceholderFilter
from knowledge.retriever import HybridRetriever
from knowledge.types import Passage

RESTOCK = FaqEntry(
    "faq-43",
    "Will you restock items that are currently out of stock?",
    "We try to restock popular items as soon as possible.",
    ("please restock the yoga mat", "when will the kettle be back in stock"),
)
RESERVE = FaqEntry(
    "faq-40",
    "Can I reserve an item that is out of stock?",
    "We cannot reserve out-of-stock items; sign up for a notification instead.",
    ("hold the yoga mat for me until it is back",),
)
CONTACT = FaqEntry(
    "faq-9",
    "How can I contact customer support?",
    "Call us at [phone number] or email [email address].",
    ("whats the number to ring about the yoga mat",),
)
PRODUCT = Passage(id="p1", doc_id="p1", kind="product", text="Yoga mat - $19.99", title="Yoga mat")


def _chain(values: dict[str, str] | None = None) -> list[object]:
    passages = [faq_passage(RESTOCK), faq_passage(RESERVE), faq_passage(CONTACT), PRODUCT]
    ranker = FaqQuestionRanker(HybridRetriever(KnowledgeIndex.build(passages, HashingEmbedder())))
    return [PlaceholderFilter(ranker, values or {}), ranker]


def test_the_closest_entries_are_offered_closest_first_with_their_questions() -> None:
    chain = _chain()
    found = suggest(chain, "please restock the yoga mat", k=2, min_closeness=0.0)
    assert found[0] == ("faq-43", RESTOCK.question)
    assert len(found) == 2 and found[1][0] != "faq-43"
    assert suggest(chain, "please restock the yoga mat", k=1, min_closeness=0.0) == found[:1]


def test_nothing_below_the_floor_and_nothing_without_a_question() -> None:
    chain = _chain()
    assert suggest(chain, "whats the capital of australia", min_closeness=0.5) == []
    assert suggest(chain, "   ", min_closeness=0.0) == []
    assert suggest(chain, "please restock the yoga mat", k=0, min_closeness=0.0) == []
    assert suggest([object()], "please restock the yoga mat") == []  # no FAQ ranker


def test_an_entry_with_a_blank_the_settings_leave_empty_is_never_offered() -> None:
    question = "whats the number to ring about the yoga mat"
    assert "faq-9" not in [e for e, _ in suggest(_chain(), question, k=3, min_closeness=0.0)]
    filled = _chain({"phone": "+1 555 0100", "email": "help@example.com"})
    assert suggest(filled, question, k=1, min_closeness=0.0) == [("faq-9", CONTACT.question)]


def test_an_entry_question_is_given_only_when_it_can_be_shown() -> None:
    assert entry_question(_chain(), "faq-43") == RESTOCK.question
    assert entry_question(_chain(), "faq-9") is None  # its blanks are not filled
    assert entry_question(_chain({"phone": "1", "email": "e"}), "faq-9") == CONTACT.question
    assert entry_question(_chain(), "faq-999") is None
    assert entry_question(_chain(), "p1") is None  # a product is no FAQ entry
