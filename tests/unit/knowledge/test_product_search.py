"""Product search in chat: filtered, deduplicated product cards and their text."""

from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge.product_search import (
    AVAILABILITY_NOT_LISTED,
    ProductCard,
    render_product_list,
    search_products,
)
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


class StockFilteringRetriever(FakeRetriever):
    """Applies the ``in_stock`` filter as the real retriever does (unknown never matches)."""

    def search(self, query: str, top_k: int = 5, filters: Filters | None = None) -> list[Hit]:
        self.calls.append((query, top_k, filters))
        wanted = filters.in_stock if filters else None
        return [
            h for h in self.hits if wanted is None or h.passage.metadata.get("in_stock") is wanted
        ][:top_k]


def _unknown_stock_hit(i: int, in_stock: bool | None) -> Hit:
    hit = _card_hit(i, 10.0 + i)
    metadata = {k: v for k, v in hit.passage.metadata.items() if k != "in_stock"}
    if in_stock is not None:
        metadata["in_stock"] = in_stock
    return Hit(replace(hit.passage, metadata=metadata), hit.score, hit.scores)


def test_in_stock_search_over_a_catalog_without_stock_says_it_is_not_listed() -> None:
    retriever = StockFilteringRetriever(
        [_unknown_stock_hit(1, None), _unknown_stock_hit(2, False), _unknown_stock_hit(3, None)]
    )
    cards = search_products("jackets in stock", retriever, limit=5)
    assert [c.name for c in cards] == ["Waterproof Jacket 1", "Waterproof Jacket 3"]
    assert retriever.calls[0][2] == Filters(in_stock=True, kind="product")
    text = render_product_list(cards, "jackets in stock")
    assert "(in stock)" not in text and AVAILABILITY_NOT_LISTED in text
    assert AVAILABILITY_NOT_LISTED not in render_product_list(cards)  # not asked: no note


def test_in_stock_search_shows_only_known_in_stock_when_the_catalog_says() -> None:
    retriever = StockFilteringRetriever([_unknown_stock_hit(1, True), _unknown_stock_hit(2, None)])
    cards = search_products("jackets in stock", retriever, limit=5)
    assert [c.in_stock for c in cards] == [True]
    assert len(retriever.calls) == 1
