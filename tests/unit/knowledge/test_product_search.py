"""Product search in chat: filtered, deduplicated product cards and their text."""

from __future__ import annotations

import pytest

from knowledge.product_search import ProductCard, render_product_list, search_products
from knowledge.types import Filters, Hit, Passage
from tests.unit.knowledge.answer_doubles import FakeRetriever


def _card_hit(i: int, price: float, dense: float = 0.6, kind: str = "product") -> Hit:
    passage = Passage(
        id=f"p:{i:032x}#0",
        doc_id=f"{i:032x}",
        kind=kind,  # type: ignore[arg-type]
        text=f"Jacket {i}",
        title=f"Waterproof Jacket {i}",
        metadata={"price": price, "currency": "USD", "in_stock": True, "url": f"https://s/{i}"},
    )
    return Hit(passage=passage, score=0.03, scores={"dense": dense})


def test_search_products_filters_dedupes_and_drops_irrelevant() -> None:
    hits = [
        _card_hit(1, 59.0),
        _card_hit(1, 59.0),
        _card_hit(2, 89.5),
        _card_hit(3, 20.0, dense=0.1),
    ]
    retriever = FakeRetriever(hits)

    def parse(query: str) -> tuple[str, Filters]:
        assert query == "waterproof jackets under $100"
        return "waterproof jackets", Filters(max_price=100.0)

    cards = search_products("waterproof jackets under $100", retriever, limit=5, parse=parse)
    assert [c.name for c in cards] == ["Waterproof Jacket 1", "Waterproof Jacket 2"]
    query, top_k, filters = retriever.calls[0]
    assert query == "waterproof jackets"
    assert filters == Filters(max_price=100.0, kind="product")
    assert top_k >= 5
    text = render_product_list(cards)
    assert "1. Waterproof Jacket 1 — $59.00 (in stock)" in text
    assert cards[0].to_dict()["url"] == "https://s/1"


def test_empty_product_list_text_offers_help() -> None:
    assert "human agent" in render_product_list([])
    card = ProductCard("x", "Kite", None, "USD", "", "", None)
    assert "price on request" in render_product_list([card])


def test_invalid_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        search_products("x", FakeRetriever([]), limit=0)
