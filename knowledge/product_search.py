"""Product search in chat: "waterproof jackets under $100" → filtered product cards."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from knowledge.answer_checks import relevance
from knowledge.prompt import format_price
from knowledge.types import Filters, Hit, Retriever

logger = logging.getLogger(__name__)

__all__ = ["AVAILABILITY_NOT_LISTED", "ProductCard", "render_product_list", "search_products"]

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
    clean, filters = parse(query)
    filters = replace(filters, kind="product")
    cards = _cards(
        retriever.search(clean or query, top_k=limit * 4, filters=filters), limit, min_score
    )
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


def render_product_list(cards: Sequence[ProductCard], asked_in_stock: bool = False) -> str:
    """The chat text for a product list (the widget renders the cards from ``json_message``).

    ``asked_in_stock``: the shopper asked for products in stock; cards whose availability the
    catalog does not list then get a line saying so (nothing about stock is promised).
    """
    if not cards:
        return (
            "Sorry, I couldn't find products matching that. Could you describe it differently, "
            "or would you like me to connect you with a human agent?"
        )
    lines = ["Here is what I found:" if len(cards) > 1 else "Here is one match:"]
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
