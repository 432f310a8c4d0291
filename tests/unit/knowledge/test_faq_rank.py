"""Tests for knowledge/faq_rank.py: FAQ hits ordered by their questions' closeness to the query."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from knowledge.embedder import HashingEmbedder
from knowledge.faq import FaqEntry
from knowledge.faq_rank import FaqQuestionRanker
from knowledge.index import KnowledgeIndex
from knowledge.passages import faq_passage
from knowledge.retriever import HybridRetriever
from knowledge.types import Filters, Hit, Passage

RETURNS = FaqEntry(
    id="faq-returns",
    question="How many days do I have to return an item?",
    answer="You can send an item back within 30 days of delivery for a full refund.",
)
SHIPPING = FaqEntry(
    id="faq-shipping",
    question="How long does shipping take?",
    answer="Orders ship within 2 business days; delivery takes 3 to 5 days after that.",
)
PRODUCT = Passage(
    id="p1", doc_id="p1", kind="product", text="Guillow kit — $28.91", title="Guillow"
)


class _Fixed:
    """The inner retriever's double: fixed hits, in a fixed order."""

    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits
        passages = [h.passage for h in hits]
        self.index = SimpleNamespace(passages=passages, embedder=HashingEmbedder())

    def search(self, query: str, top_k: int = 5, filters: Filters | None = None) -> list[Hit]:
        return list(self.hits[:top_k])


def _hits() -> list[Hit]:
    # Fused scores that put the shipping entry first; the product holds position 1.
    return [
        Hit(faq_passage(SHIPPING), 0.62, {"dense": 0.40}),
        Hit(PRODUCT, 0.60, {"dense": 0.35}),
        Hit(faq_passage(RETURNS), 0.58, {"dense": 0.38}),
    ]


def test_faq_hits_follow_their_questions_and_products_keep_their_place() -> None:
    ranker = FaqQuestionRanker(_Fixed(_hits()))
    hits = ranker.search("how many days do i have to return something?")
    assert [h.passage.id for h in hits] == ["faq-returns", "p1", "faq-shipping"]
    # The same hits with the same scores: the relevance gate sees what it saw before.
    assert {h.passage.id: h.scores["dense"] for h in hits} == {
        "faq-shipping": 0.40, "p1": 0.35, "faq-returns": 0.38,
    }  # fmt: skip


def test_nothing_moves_without_weight_or_with_one_faq_hit() -> None:
    assert [h.passage.id for h in FaqQuestionRanker(_Fixed(_hits()), weight=0).search(
        "how many days do i have to return something?"
    )] == ["faq-shipping", "p1", "faq-returns"]  # fmt: skip
    one = [Hit(PRODUCT, 0.9), Hit(faq_passage(SHIPPING), 0.5)]
    assert FaqQuestionRanker(_Fixed(one)).search("how long to return?") == one
    with pytest.raises(ValueError, match="weight"):
        FaqQuestionRanker(_Fixed(one), weight=-1)


def test_over_a_real_index_it_reads_the_entries_questions() -> None:
    """The index and embedder the ranker reads are the real ones' (not only the double's)."""
    passages = [faq_passage(SHIPPING), faq_passage(RETURNS), PRODUCT]
    index = KnowledgeIndex.build(passages, HashingEmbedder())
    ranker = FaqQuestionRanker(HybridRetriever(index))
    hits = ranker.search("how many days have I got to return an item?", 3, Filters(kind="faq"))
    assert hits[0].passage.id == "faq-returns"
    assert set(ranker._ids) == {"faq-returns", "faq-shipping"}


def test_an_entry_is_as_close_as_its_closest_phrasing() -> None:
    """The store's phrasings of an entry count like its question: the closest one ranks it."""
    returns = FaqEntry(
        RETURNS.id, RETURNS.question, RETURNS.answer, ("bought a jacket, can i still swap it",)
    )
    query = "bought a jacket last week can i still swap it"
    hits = [
        Hit(faq_passage(SHIPPING), 0.62, {"dense": 0.40}),
        Hit(faq_passage(returns), 0.58, {"dense": 0.38}),
    ]
    plain = [Hit(faq_passage(SHIPPING), 0.62), Hit(faq_passage(RETURNS), 0.58)]
    assert FaqQuestionRanker(_Fixed(plain)).search(query)[0].passage.id == "faq-shipping"
    ranker = FaqQuestionRanker(_Fixed(hits))
    assert ranker.search(query)[0].passage.id == "faq-returns"
    # Three rows: the shipping question, the returns question and its phrasing.
    assert ranker._matrix is not None and ranker._matrix.shape[0] == 3


def test_every_faq_hit_carries_its_question_score_for_the_relevance_gate() -> None:
    one = [Hit(PRODUCT, 0.9, {"dense": 0.3}), Hit(faq_passage(RETURNS), 0.5, {"dense": 0.3})]
    hits = FaqQuestionRanker(_Fixed(one)).search("how many days do i have to return an item")
    assert "question" not in hits[0].scores  # products have none
    assert hits[1].scores["dense"] == 0.3 and hits[1].scores["question"] > 0.9
    products = [Hit(PRODUCT, 0.9, {"dense": 0.3})]
    assert FaqQuestionRanker(_Fixed(products)).search("guillow")[0].scores == {"dense": 0.3}


def test_the_query_is_embedded_once_for_the_search_and_the_faq_questions() -> None:
    class Counting(HashingEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.texts: list[str] = []

        def embed(self, texts: Any, batch_size: int | None = None) -> Any:
            self.texts += list(texts)
            return super().embed(texts, batch_size)

    embedder = Counting()
    index = KnowledgeIndex.build([faq_passage(SHIPPING), faq_passage(RETURNS), PRODUCT], embedder)
    ranker = FaqQuestionRanker(HybridRetriever(index))
    ranker.warm_up()
    embedder.texts.clear()
    query = "how many days have I got to return an item?"
    hits = ranker.search(query, 3, Filters(kind="faq"))
    assert hits[0].passage.id == "faq-returns" and "question" in hits[0].scores
    assert embedder.texts == [query]
    # The same hits and scores as the retriever finds embedding the query itself.
    alone = HybridRetriever(index).search(query, 3, Filters(kind="faq"))
    assert {h.passage.id: h.scores["dense"] for h in hits} == {
        h.passage.id: h.scores["dense"] for h in alone
    }


# ------------------------------------------------------------------ the entry asked most like it

EXCHANGE = FaqEntry(
    id="faq-exchange",
    question="Can I exchange an item for a different size?",
    answer="Yes: send it back within 30 days and order the size you need.",
    also_asked=("got the wrong size, how do i swap it",),
)


class _Missing(_Fixed):
    """The inner retriever missed an entry: the index holds it, the hits do not."""

    def __init__(self, hits: list[Hit], also: list[Passage]) -> None:
        super().__init__(hits)
        self.index.passages = [*self.index.passages, *also]


def _missing_exchange() -> _Missing:
    return _Missing(
        [Hit(faq_passage(SHIPPING), 0.62, {"dense": 0.40}), Hit(PRODUCT, 0.60, {"dense": 0.35})],
        [faq_passage(EXCHANGE)],
    )


def test_the_entry_asked_like_the_query_joins_hits_that_missed_it() -> None:
    query = "got the wrong size, how do i swap it"
    hits = FaqQuestionRanker(_missing_exchange(), match_score=0.6).search(query, 3)
    # Appended, then first among the FAQ positions (0 and 2); the product keeps its place.
    assert [h.passage.id for h in hits] == ["faq-exchange", "p1", "faq-shipping"]
    joined = hits[0]
    assert joined.scores["question"] > 0.99 and joined.score == 0.60  # the weakest fused score
    # When the hits are full, it takes the last place (here the product's).
    full = FaqQuestionRanker(_missing_exchange(), match_score=0.6).search(query, 2)
    assert [h.passage.id for h in full] == ["faq-exchange", "faq-shipping"]


def test_no_entry_joins_below_the_match_score_without_one_or_with_product_filters() -> None:
    query = "got the wrong size, how do i swap it"
    never = FaqQuestionRanker(_missing_exchange(), match_score=None).search(query, 3)
    assert [h.passage.id for h in never] == ["faq-shipping", "p1"]
    far = FaqQuestionRanker(_missing_exchange(), match_score=0.6).search("guillow kit price", 3)
    assert "faq-exchange" not in [h.passage.id for h in far]
    for filters in (Filters(kind="product"), Filters(max_price=30.0), Filters(category="toys")):
        hits = FaqQuestionRanker(_missing_exchange(), match_score=0.6).search(query, 3, filters)
        assert "faq-exchange" not in [h.passage.id for h in hits], filters
    faq_only = FaqQuestionRanker(_missing_exchange(), match_score=0.6).search(
        query, 3, Filters(kind="faq")
    )
    assert faq_only[0].passage.id == "faq-exchange"


def test_a_joined_entry_carries_its_dense_relevance_from_the_index() -> None:
    """Over a real index the joined entry's ``dense`` score is its passage vector's cosine with
    the query, what the retriever would have reported."""
    passages = [faq_passage(SHIPPING), faq_passage(EXCHANGE), PRODUCT]
    index = KnowledgeIndex.build(passages, HashingEmbedder())

    class Blind(HybridRetriever):
        def search_many(
            self, queries: Any, top_k: int = 5, filters: Any = None, vectors: Any = None
        ) -> Any:
            found = super().search_many(queries, top_k, filters, vectors)
            return [[h for h in hits if h.passage.id != "faq-exchange"] for hits in found]

    query = "got the wrong size, how do i swap it"
    hits = FaqQuestionRanker(Blind(index), match_score=0.6).search(query, 3)
    joined = next(h for h in hits if h.passage.id == "faq-exchange")
    vector = index.embedder.embed([query])[0]
    row = [p.id for p in index.passages].index("faq-exchange")
    assert joined.scores["dense"] == pytest.approx(float(index.vectors[row] @ vector), abs=1e-5)


def test_a_matcher_encoder_embeds_the_phrasings_and_the_query_for_the_comparison() -> None:
    """With a fine-tuned matcher, questions are compared in its space (here a different
    dimension, so mixing the two spaces would fail), while retrieval keeps the index's."""
    encoder = HashingEmbedder(dimension=64)
    index = KnowledgeIndex.build(
        [faq_passage(SHIPPING), faq_passage(EXCHANGE), PRODUCT], HashingEmbedder()
    )
    ranker = FaqQuestionRanker(HybridRetriever(index), encoder=encoder)
    hits = ranker.search("got the wrong size, how do i swap it", 3, Filters(kind="faq"))
    assert hits[0].passage.id == "faq-exchange" and hits[0].scores["question"] > 0.99
    assert ranker._matrix is not None and ranker._matrix.shape == (3, 64)


def test_the_matcher_embeds_a_question_once_for_the_check_and_the_answer() -> None:
    """An action asks how closely a message is asked like an entry, then answers it with a
    search of the same text: the matcher embeds that text once, and the result is the same."""

    class Counting(HashingEmbedder):
        def __init__(self) -> None:
            super().__init__(dimension=64)
            self.texts: list[str] = []

        def embed(self, texts: Any, batch_size: int | None = None) -> Any:
            self.texts += list(texts)
            return super().embed(texts, batch_size)

    encoder = Counting()
    index = KnowledgeIndex.build(
        [faq_passage(SHIPPING), faq_passage(EXCHANGE), PRODUCT], HashingEmbedder()
    )
    ranker = FaqQuestionRanker(HybridRetriever(index), encoder=encoder)
    ranker.warm_up()
    encoder.texts.clear()
    query = "got the wrong size, how do i swap it"
    found = ranker.asked_most_like(query)
    hits = ranker.search(query, 3, Filters(kind="faq"))
    assert encoder.texts == [query]
    assert found is not None and found[0] == "faq-exchange"
    assert hits[0].scores["question"] == pytest.approx(found[1])
    ranker.search("do you ship abroad", 3, Filters(kind="faq"))
    assert encoder.texts == [query, "do you ship abroad"]  # another question: embedded
