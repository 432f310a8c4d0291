"""Passages: product header + description chunks, FAQ passages, content hashes."""

from __future__ import annotations

import pytest

from knowledge.catalog.model import Product
from knowledge.faq import FaqEntry
from knowledge.passages import (
    ChunkConfig,
    build_passages,
    chunk_words,
    content_hash,
    faq_passage,
    passage_from_dict,
    passage_to_dict,
    product_passages,
    text_passages,
)


def sentence(i: int, words: int = 12) -> str:
    return " ".join(f"w{i}x{j}" for j in range(words - 1)) + " end."


def make_product(description: str = "A sturdy wooden puzzle.", **changes: object) -> Product:
    fields: dict[str, object] = {
        "id": "p1",
        "name": "Woodland Animals Jigsaw Puzzle",
        "brand": "Acme",
        "category": ("Toys & Games", "Puzzles", "Jigsaw Puzzles"),
        "price": 19.99,
        "currency": "USD",
        "description": description,
        "specs": {"Item Weight": "12 ounces", "Manufacturer Recommended Age": "5 years and up"},
        "stock": 5,
        "url": "https://shop.example/p1",
        "image": "https://shop.example/p1.jpg",
    }
    fields.update(changes)
    return Product(**fields)  # type: ignore[arg-type]


def test_header_passage_holds_the_facts_shoppers_ask_about() -> None:
    header = product_passages(make_product())[0]
    assert header.id == "p:p1#0"
    assert header.doc_id == "p1"
    assert header.kind == "product"
    assert header.title == "Woodland Animals Jigsaw Puzzle"
    for fact in (
        "Woodland Animals Jigsaw Puzzle",
        "Brand: Acme",
        "Category: Toys & Games > Puzzles > Jigsaw Puzzles",
        "Price: $19.99",
        "in stock (5 available)",
        "Item Weight: 12 ounces",
    ):
        assert fact in header.text
    assert header.metadata["category"] == ["Toys & Games", "Puzzles", "Jigsaw Puzzles"]
    assert header.metadata["price"] == 19.99
    assert header.metadata["in_stock"] is True
    for key in ("brand", "url", "image", "currency"):
        assert key in header.metadata


def test_out_of_stock_product_says_so() -> None:
    header = product_passages(make_product(stock=0))[0]
    assert "out of stock" in header.text
    assert header.metadata["in_stock"] is False


def test_long_description_is_chunked_with_the_name_prefixed() -> None:
    description = " ".join(sentence(i) for i in range(30))  # 360 words
    passages = product_passages(make_product(description))
    chunks = passages[1:]
    assert len(chunks) >= 3
    for i, chunk in enumerate(chunks, start=1):
        assert chunk.id == f"p:p1#{i}"
        assert chunk.text.startswith("Woodland Animals Jigsaw Puzzle: ")
        body = chunk.text.split(": ", 1)[1]
        assert 40 <= len(body.split()) <= 120
        assert chunk.metadata["price"] == 19.99
    # Nothing is lost or duplicated.
    rejoined = " ".join(c.text.split(": ", 1)[1] for c in chunks)
    assert rejoined.split() == description.split()


def test_short_or_empty_description() -> None:
    assert len(product_passages(make_product("Just one line."))) == 2
    assert len(product_passages(make_product(""))) == 1


def test_chunk_words_splits_an_overlong_sentence_and_merges_a_stub() -> None:
    config = ChunkConfig()
    text = " ".join(f"w{i}" for i in range(250)) + "."
    chunks = chunk_words(text, config)
    assert all(len(c.split()) <= config.max_words for c in chunks)
    assert sum(len(c.split()) for c in chunks) == 250
    # 100 + 100 + 50 words of bullets: the 50-word tail is long enough to stand alone.
    bullets = "\n".join(" ".join(f"b{b}w{i}" for i in range(10)) for b in range(25))
    sizes = [len(c.split()) for c in chunk_words(bullets, config)]
    assert sum(sizes) == 250 and max(sizes) <= 120 and min(sizes) >= 40


def test_chunk_config_is_validated() -> None:
    with pytest.raises(ValueError, match="min_words=90, target_words=80"):
        ChunkConfig(min_words=90, target_words=80)


def test_faq_passage_has_question_and_answer() -> None:
    passage = faq_passage(FaqEntry("faq-3", "What is your return policy?", "30 days."))
    assert passage.id == passage.doc_id == "faq-3"
    assert passage.kind == "faq"
    assert passage.text == "What is your return policy?\n30 days."
    assert passage.title == "What is your return policy?"


def test_build_passages_rejects_duplicate_ids() -> None:
    with pytest.raises(ValueError, match="Duplicate passage id 'p:p1#0'"):
        build_passages([make_product(), make_product()])


def test_content_hash_is_stable_and_sees_metadata() -> None:
    a = product_passages(make_product())[0]
    b = product_passages(make_product())[0]
    cheaper = product_passages(make_product(price=9.99))[0]
    assert content_hash(a) == content_hash(b)
    assert len(content_hash(a)) == 64
    assert content_hash(a) != content_hash(cheaper)
    same_text = product_passages(make_product(url="https://elsewhere"))[0]
    assert same_text.text == a.text and content_hash(same_text) != content_hash(a)


def test_passage_dict_round_trip() -> None:
    passage = product_passages(make_product())[0]
    back = passage_from_dict(passage_to_dict(passage))
    assert back == passage and back.metadata == passage.metadata
    with pytest.raises(ValueError, match="kind is 'blog'"):
        passage_from_dict({**passage_to_dict(passage), "kind": "blog"})


def test_text_passages_chunk_long_documents_only() -> None:
    long_text = " ".join(sentence(i) for i in range(20))
    passages = text_passages([("d1", "short text"), ("d2", long_text)])
    assert passages[0].id == "d1"
    assert all(p.doc_id == "d2" and p.id.startswith("d2#") for p in passages[1:])
    assert len(passages) > 2
