"""Product search in chat: "waterproof jackets under $100" → filtered product cards."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from knowledge.answer_checks import relevance
from knowledge.product_match import (
    Order,
    asked_if_sold,
    content_terms,
    parse_order,
    select_matching,
)
from knowledge.prompt import format_price
from knowledge.types import Filters, Hit, Retriever

logger = logging.getLogger(__name__)

__all__ = ["AVAILABILITY_NOT_LISTED", "ProductCard", "render_product_list", "search_products"]

MATCH_POOL = 200
"""Products retrieved when a request is answered by catalog fields (an order by price, or
similarity finding nothing) rather than by similarity alone."""

AVAILABILITY_NOT_LISTED = (
    "Our catalog doesn't list stock for these, so I can't promise they're available right now; "
    "a human agent can check for you."
)


@dataclass(frozen=True)
class ProductCard:
    """A product as the chat widget shows it (one card)."""

    id: str
    name: str
    price: float | None
    currency: str
    url: str
    image: str
    in_stock: bool | None
    brand: str = ""
    score: float = 0.0
    named: bool | None = None
    """Asked whether the store sells a thing ("do you sell drones?"): whether this product's own
    catalog fields name it (False: only the closest the catalog has); None when not asked."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (for ``json_message``)."""
        return {
            "id": self.id,
            "name": self.name,
            "price": self.price,
            "currency": self.currency,
            "url": self.url,
            "image": self.image,
            "in_stock": self.in_stock,
            "brand": self.brand,
        }


def search_products(
    query: str,
    retriever: Retriever,
    limit: int = 5,
    min_score: float = 0.4,
    parse: Callable[[str], tuple[str, Filters]] | None = None,
) -> list[ProductCard]:
    """Product search in chat: "waterproof jackets under $100" → filtered product cards.

    Price and stock constraints are parsed out of the text (``knowledge.retriever.parse_filters``),
    the rest is the retrieval query over product passages only; results are deduplicated by
    product and those below ``min_score`` relevance are dropped.

    Args:
        query: The shopper's message.
        retriever: The retriever (filters are applied at retrieval time).
        limit: Maximum number of products.
        min_score: Minimum relevance (see :func:`relevance`); below it a product is not shown
            (MiniLM cosine: product-name queries score 0.5+, unrelated products 0.2-0.4).
        parse: Filter parser; ``knowledge.retriever.parse_filters`` when None.
    """
    if limit <= 0:
        raise ValueError(f"limit must be greater than 0. Currently, limit is {limit}.")
    if parse is None:
        from knowledge.retriever import parse_filters

        parse = parse_filters
    unordered, order = parse_order(query)
    clean, filters = parse(unordered)
    filters = replace(filters, kind="product")
    text = clean or unordered or query
    thing = asked_if_sold(unordered) if order is None else None
    if order is not None:
        cards = _by_price(retriever, text, filters, limit, order)
    elif thing is not None:
        cards = _sold(retriever, text, content_terms(thing), filters, limit, min_score)
    else:
        cards = _cards(retriever.search(text, top_k=limit * 4, filters=filters), limit, min_score)
        if not cards:
            # Similarity found nothing relevant: products whose own title, brand or category
            # carry every content word of the request ("do you sell drones?") still count.
            hits = retriever.search(text, top_k=MATCH_POOL, filters=filters)
            cards = _cards(select_matching(hits, content_terms(text), share=1.0), limit, 0.0)
    if not cards and filters.in_stock:
        # "in stock" found nothing: where the catalog does not say (no stock column), show the
        # matches with unknown availability (never the ones known to be out of stock); the
        # reply then says availability is not listed rather than claiming anything.
        hits = retriever.search(
            clean or query, top_k=limit * 4, filters=replace(filters, in_stock=None)
        )
        cards = [c for c in _cards(hits, limit * 4, min_score) if c.in_stock is None][:limit]
    logger.info("Product search %r (%s) → %d products", clean, filters, len(cards))
    return cards


def _sold(
    retriever: Retriever,
    text: str,
    terms: list[str],
    filters: Filters,
    limit: int,
    min_score: float,
) -> list[ProductCard]:
    """ "Do you sell drones?": the products whose catalog fields name every word of the thing
    (yes), else the closest by similarity, marked as not named (no, but these are close)."""
    hits = retriever.search(text, top_k=MATCH_POOL, filters=filters)
    named = _cards(select_matching(hits, terms, share=1.0), limit, 0.0)
    if named:
        return [replace(card, named=True) for card in named]
    return [replace(card, named=False) for card in _cards(hits, limit, min_score)]


def _by_price(
    retriever: Retriever, text: str, filters: Filters, limit: int, order: Order
) -> list[ProductCard]:
    """ "The cheapest puzzle": every retrieved product that is one (by its catalog fields), by
    price; with no content words ("your cheapest item"), every retrieved product."""
    hits = retriever.search(text, top_k=MATCH_POOL, filters=filters)
    terms = content_terms(text)
    if terms:
        hits = select_matching(hits, terms)
    priced = [c for c in _cards(hits, MATCH_POOL, 0.0) if c.price is not None]
    priced.sort(key=lambda c: c.price or 0.0, reverse=order == "price_desc")
    return priced[:limit]


def _cards(hits: Sequence[Hit], limit: int, min_score: float) -> list[ProductCard]:
    cards: list[ProductCard] = []
    seen: set[str] = set()
    for hit in hits:
        passage = hit.passage
        if passage.kind != "product" or passage.doc_id in seen or relevance(hit) < min_score:
            continue
        seen.add(passage.doc_id)
        meta = passage.metadata
        price = meta.get("price")
        cards.append(
            ProductCard(
                id=passage.doc_id,
                name=passage.title,
                price=float(price) if isinstance(price, (int, float)) else None,
                currency=str(meta.get("currency") or "USD"),
                url=str(meta.get("url") or ""),
                image=str(meta.get("image") or ""),
                in_stock=meta.get("in_stock") if isinstance(meta.get("in_stock"), bool) else None,
                brand=str(meta.get("brand") or ""),
                score=relevance(hit),
            )
        )
        if len(cards) == limit:
            break
    return cards


def render_product_list(cards: Sequence[ProductCard], query: str = "") -> str:
    """The chat text for a product list (the widget renders the cards from ``json_message``).

    ``query``: the shopper's request. Asked for products by price, the list says in which order;
    asked for products in stock, cards whose availability the catalog does not list get a line
    saying so (nothing about stock is promised).
    """
    from knowledge.retriever import parse_filters

    unordered, order = parse_order(query)
    asked_in_stock = parse_filters(query)[1].in_stock is True
    thing = asked_if_sold(unordered) if order is None else None
    if not cards:
        nothing = (
            f"Sorry, I couldn't find {thing} in our catalog."
            if thing
            else "Sorry, I couldn't find products matching that."
        )
        return (
            f"{nothing} Could you describe it differently, "
            "or would you like me to connect you with a human agent?"
        )
    if thing and cards[0].named is False:
        head = f"I couldn't find {thing} in our catalog. The closest things we have"
    elif thing and cards[0].named:
        head = "Yes, here is what we have" if len(cards) > 1 else "Yes, here is one"
    else:
        head = "Here is what I found" if len(cards) > 1 else "Here is one match"
    if order is not None and len(cards) > 1:
        head += ", lowest price first" if order == "price_asc" else ", highest price first"
    lines = [head + ":"]
    for i, card in enumerate(cards, 1):
        price = (
            format_price(card.price, card.currency)
            if card.price is not None
            else "price on request"
        )
        stock = (
            "" if card.in_stock is None else (" (in stock)" if card.in_stock else " (out of stock)")
        )
        lines.append(f"{i}. {card.name} — {price}{stock}")
    if asked_in_stock and any(card.in_stock is None for card in cards):
        lines.append(AVAILABILITY_NOT_LISTED)
    return "\n".join(lines)
