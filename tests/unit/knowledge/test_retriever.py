"""Retrievers: filters, fusion, the top_k guarantee under filters, parse_filters, and MiniLM."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.catalog.model import Product
from knowledge.embedder import HashingEmbedder
from knowledge.faq import FaqEntry
from knowledge.index import KnowledgeIndex
from knowledge.passages import build_passages
from knowledge.retriever import (
    BM25Retriever,
    DenseRetriever,
    HybridRetriever,
    RetrieverConfig,
    open_retriever,
    parse_filters,
)
from knowledge.types import Filters, Retriever

CATALOG = [
    ("Teddy Bear Plush Toy, 12 inch", ("Toys & Games", "Stuffed Animals"), 15.99, 4,
     "A soft and cuddly brown bear for toddlers and babies."),
    ("Wooden Jigsaw Puzzle 500 Pieces - Mountain Lake", ("Toys & Games", "Puzzles"), 22.50, 0,
     "A landscape puzzle with thick wooden pieces for adults."),
    ("Remote Control Monster Truck 1:16 Scale", ("Toys & Games", "Vehicles", "RC Cars"), 45.00, 10,
     "Off-road truck with a rechargeable battery and 2.4GHz controller."),
    ("Stainless Steel Water Bottle 750ml", ("Sports & Outdoors", "Hydration"), 18.00, 7,
     "Vacuum insulated bottle keeps drinks cold for 24 hours on any hike."),
    ("Bamboo Longboard Complete 41 inch", ("Sports & Outdoors", "Skateboarding"), 237.68, 1,
     "Flexible bamboo and fiberglass deck for cruising and carving."),
    ("LED Desk Lamp with USB Charging Port", ("Home & Kitchen", "Lighting"), 34.99, 12,
     "Dimmable reading light with five colour temperatures."),
    ("Kids Art Easel with Chalkboard", ("Toys & Games", "Arts & Crafts"), 59.00, 3,
     "Double-sided easel with a whiteboard, chalkboard and paper roll."),
    ("Princess Dress Up Costume for Girls", ("Clothing", "Costumes"), 27.00, 0,
     "Sparkly gown with tiara and wand for pretend play."),
    ("Ceramic Coffee Mug Set of 4", ("Home & Kitchen", "Dining"), 24.00, 9,
     "Dishwasher-safe mugs holding 350 ml each."),
    ("Yoga Mat Non Slip 6mm", ("Sports & Outdoors", "Fitness"), 29.95, 15,
     "Cushioned exercise mat with a carrying strap."),
    ("Family Strategy Board Game", ("Toys & Games", "Games"), 39.99, 2,
     "Build settlements and trade resources, for 3 to 4 players."),
    ("Waterproof Camping Tent for 4 People", ("Sports & Outdoors", "Camping"), 129.00, 5,
     "Dome tent with rainfly, sets up in five minutes."),
]  # fmt: skip
FAQS = [
    FaqEntry(
        "faq-0", "What is your return policy?", "Return items within 30 days for a full refund."
    ),
    FaqEntry("faq-1", "How long does shipping take?", "Standard shipping takes 3-5 business days."),
    FaqEntry(
        "faq-2", "What payment methods do you accept?", "Credit cards, debit cards and PayPal."
    ),
]


def products() -> list[Product]:
    return [
        Product(
            id=f"sku{i}",
            name=name,
            brand="Acme",
            category=category,
            price=price,
            currency="USD",
            description=description,
            specs={},
            stock=stock,
            url=f"https://shop.example/{i}",
            image="",
        )
        for i, (name, category, price, stock, description) in enumerate(CATALOG)
    ]


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex.build(build_passages(products(), FAQS), HashingEmbedder(128), None)


@pytest.fixture()
def hybrid(index: KnowledgeIndex) -> HybridRetriever:
    return HybridRetriever(index)


def test_retrievers_implement_the_protocol(index: KnowledgeIndex) -> None:
    retrievers: list[Retriever] = [
        DenseRetriever(index),
        BM25Retriever(index),
        HybridRetriever(index),
    ]
    for retriever in retrievers:
        hits = retriever.search("teddy bear", top_k=3)
        assert hits and hits[0].passage.doc_id == "sku0"
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hybrid_hits_carry_both_scores(hybrid: HybridRetriever) -> None:
    hit = hybrid.search("bamboo longboard", 1)[0]
    assert set(hit.scores) >= {"dense", "bm25", "weighted"}
    rrf_hit = HybridRetriever(hybrid.index, fusion="rrf").search("bamboo longboard", 1)[0]
    assert set(rrf_hit.scores) >= {"dense", "bm25", "rrf"}
    assert hit.passage.doc_id == "sku4"


def test_faq_question_finds_the_faq(hybrid: HybridRetriever) -> None:
    assert hybrid.search("how long does delivery shipping take", 1)[0].passage.doc_id == "faq-1"


@pytest.mark.parametrize(
    "filters,check",
    [
        (Filters(max_price=30), lambda p: p.metadata["price"] <= 30),
        (Filters(min_price=25, max_price=60), lambda p: 25 <= p.metadata["price"] <= 60),
        (Filters(category="toys"), lambda p: "Toys & Games" in p.metadata["category"]),
        (
            Filters(category="sports & outdoors > camp"),
            lambda p: "Camping" in p.metadata["category"],
        ),
        (Filters(in_stock=True), lambda p: p.metadata["in_stock"]),
        (Filters(in_stock=False), lambda p: not p.metadata["in_stock"]),
        (Filters(kind="faq"), lambda p: p.kind == "faq"),
        (Filters(kind="product", max_price=20, in_stock=True), lambda p: p.metadata["price"] <= 20),
    ],
)
def test_filters_hold_for_every_hit(
    hybrid: HybridRetriever, filters: Filters, check: object
) -> None:
    hits = hybrid.search("a gift for my family", 5, filters)
    assert hits
    assert all(check(h.passage) for h in hits)  # type: ignore[operator]


def test_filtered_query_still_returns_top_k(index: KnowledgeIndex) -> None:
    # Sports & Outdoors has 4 products = 8 passages; an unrelated query must still fill top_k.
    for config in (RetrieverConfig(), RetrieverConfig(exact_scan_max=0, fetch_k=2)):
        for retriever in (HybridRetriever(index, config), DenseRetriever(index, config)):
            hits = retriever.search("zzz qqq", 6, Filters(category="sports"))
            assert len(hits) == 6
            assert all("Sports & Outdoors" in h.passage.metadata["category"] for h in hits)
    assert HybridRetriever(index).search("bear", 5, Filters(category="garden")) == []


def test_max_per_doc_diversifies(index: KnowledgeIndex) -> None:
    hits = HybridRetriever(index, RetrieverConfig(max_per_doc=1)).search("teddy bear plush", 5)
    assert len({h.passage.doc_id for h in hits}) == len(hits) == 5


def test_weighted_fusion_extremes_follow_one_side(index: KnowledgeIndex) -> None:
    query = "cold drinks bottle"
    dense_only = HybridRetriever(index, fusion="weighted", alpha=1.0).search(query, 3)
    bm25_only = HybridRetriever(index, fusion="weighted", alpha=0.0).search(query, 3)
    assert [h.passage.id for h in dense_only] == [
        h.passage.id for h in DenseRetriever(index).search(query, 3)
    ]
    assert bm25_only[0].passage.id == BM25Retriever(index).search(query, 1)[0].passage.id


def test_faq_passages_have_their_own_fusion_weight(index: KnowledgeIndex) -> None:
    # Products fused on BM25 alone, FAQ entries on the dense side alone: within each kind the
    # hits must follow that side's scores.
    config = RetrieverConfig(fusion="weighted", alpha=0.0, faq_alpha=1.0)
    hits = HybridRetriever(index, config).search("how long does shipping take for a bottle", 12)
    faq = [h.scores["dense"] for h in hits if h.passage.kind == "faq"]
    products = [h.scores["bm25"] for h in hits if h.passage.kind == "product"]
    assert len(faq) >= 2 and len(products) >= 2
    assert faq == sorted(faq, reverse=True)
    assert products == sorted(products, reverse=True)
    # None: one weight for every passage, as before.
    uniform = HybridRetriever(index, RetrieverConfig(alpha=0.0, faq_alpha=None)).search(
        "how long does shipping take for a bottle", 12
    )
    assert [h.scores["bm25"] for h in uniform] == sorted(
        (h.scores["bm25"] for h in uniform), reverse=True
    )


def test_invalid_arguments_are_explained(hybrid: HybridRetriever, index: KnowledgeIndex) -> None:
    with pytest.raises(
        ValueError, match=re.escape("top_k must be greater than 0. Currently, top_k is 0")
    ):
        hybrid.search("bear", 0)
    with pytest.raises(ValueError, match="min_price is 50 and max_price is 10"):
        hybrid.search("bear", 3, Filters(min_price=50, max_price=10))
    with pytest.raises(ValueError, match="fusion is 'max'"):
        HybridRetriever(index, fusion="max")
    with pytest.raises(ValueError, match=re.escape("alpha is 1.5")):
        RetrieverConfig(alpha=1.5)
    with pytest.raises(ValueError, match=re.escape("faq_alpha is -0.1")):
        RetrieverConfig(faq_alpha=-0.1)


@pytest.mark.parametrize(
    "text,clean,filters",
    [
        ("teddy bear under $20", "teddy bear", Filters(max_price=20)),
        ("lego sets below 50 dollars", "lego sets", Filters(max_price=50)),
        ("puzzles between $20 and $40", "puzzles", Filters(min_price=20, max_price=40)),
        (
            "between 10 and 20 dollars, a board game",
            "a board game",
            Filters(min_price=10, max_price=20),
        ),
        ("tents over $200", "tents", Filters(min_price=200)),
        ("headphones in stock", "headphones", Filters(in_stock=True)),
        (
            "a gift for under 30 bucks that is in stock",
            "a gift",
            Filters(max_price=30, in_stock=True),
        ),
        ("$20-$40 board games", "board games", Filters(min_price=20, max_price=40)),
        ("coffee mugs $15 or less", "coffee mugs", Filters(max_price=15)),
        ("skateboard $100+", "skateboard", Filters(min_price=100)),
        ("laptop stand under $1,200.50?", "laptop stand?", Filters(max_price=1200.5)),
        ("yoga mat priced under 30", "yoga mat", Filters(max_price=30)),
        ("toys for kids under 5", "toys for kids under 5", Filters()),
        ("puzzle over 1000 pieces", "puzzle over 1000 pieces", Filters()),
        ("scooter for ages over 8 years", "scooter for ages over 8 years", Filters()),
        ("what is your return policy?", "what is your return policy?", Filters()),
    ],
)
def test_parse_filters(text: str, clean: str, filters: Filters) -> None:
    assert parse_filters(text) == (clean, filters)


# ----------------------------------------------------------------------------- the real model


@pytest.fixture(scope="module")
def minilm_index() -> Iterator[KnowledgeIndex]:
    from knowledge.embedder import SentenceTransformerEmbedder

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    embedder = SentenceTransformerEmbedder(device="cpu")
    yield KnowledgeIndex.build(build_passages(products(), FAQS), embedder, None)


@pytest.mark.slow
@pytest.mark.parametrize(
    "query,doc_id",
    [
        ("a cuddly stuffed animal for my toddler", "sku0"),
        ("something to keep my drinks cold on a hike", "sku3"),
        ("skate deck made of bamboo", "sku4"),
        ("rc car that can go off road", "sku2"),
        ("can I send an item back and get my money back?", "faq-0"),
    ],
)
def test_hybrid_finds_products_by_paraphrase(
    minilm_index: KnowledgeIndex, query: str, doc_id: str
) -> None:
    hits = HybridRetriever(minilm_index).search(query, 3)
    assert hits[0].passage.doc_id == doc_id, [h.passage.title for h in hits]


def test_open_retriever_loads_a_saved_index(tmp_path: Path) -> None:
    embedder = HashingEmbedder(128)
    KnowledgeIndex.build(build_passages(products(), FAQS), embedder, tmp_path)
    retriever = open_retriever(tmp_path, embedder)
    assert retriever.search("teddy bear", 1)[0].passage.doc_id == "sku0"


@pytest.mark.parametrize(
    "query,doc_id",
    [
        ("longboard made from bamboo", "sku4"),
        ("plush teddy for a toddler", "sku0"),
        ("a puzzle with a lake, wooden", "sku1"),
        ("strategy game for the family", "sku10"),
    ],
)
def test_hybrid_finds_products_by_a_reworded_name(
    hybrid: HybridRetriever, query: str, doc_id: str
) -> None:
    # The hashing double only sees shared words and word pieces: reordered, shortened names.
    assert hybrid.search(query, 3)[0].passage.doc_id == doc_id
