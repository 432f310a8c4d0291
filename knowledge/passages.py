"""Turn catalog products and FAQ entries into retrievable passages.

A product becomes one *header* passage (name, brand, category path, price, stock, key specs: what
"how much is X" and "is X in stock" need) plus *description chunks* of roughly 80-120 words, each
prefixed with the product name so a chunk still says what it is about when retrieved alone. An FAQ
entry becomes one passage (question + answer). :func:`content_hash` fingerprints a passage so the
index can re-embed only what changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from knowledge.types import Passage

logger = logging.getLogger(__name__)


class ProductLike(Protocol):
    """The fields of ``knowledge.catalog.model.Product`` that passages read (any object with them works)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def brand(self) -> str: ...
    @property
    def category(self) -> tuple[str, ...]: ...
    @property
    def price(self) -> float: ...
    @property
    def currency(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def specs(self) -> Mapping[str, str]: ...
    @property
    def stock(self) -> int | None: ...
    @property
    def in_stock(self) -> bool | None: ...
    @property
    def url(self) -> str: ...
    @property
    def image(self) -> str: ...


class FaqLike(Protocol):
    """The fields of ``knowledge.faq.FaqEntry`` that passages read."""

    @property
    def id(self) -> str: ...
    @property
    def question(self) -> str: ...
    @property
    def answer(self) -> str: ...


@dataclass(frozen=True)
class ChunkConfig:
    """How product descriptions are cut into passages.

    Args:
        target_words: Preferred chunk length in words (the name prefix is not counted).
        min_words: A chunk closes at a sentence boundary once it has at least this many words.
        max_words: Hard upper bound; longer sentences are split on word boundaries.
        max_specs: How many specs go into the header passage.
        max_spec_chars: Spec values longer than this are truncated in the header.
    """

    target_words: int = 100
    min_words: int = 80
    max_words: int = 120
    max_specs: int = 8
    max_spec_chars: int = 80

    def __post_init__(self) -> None:
        if not 0 < self.min_words <= self.target_words <= self.max_words:
            raise ValueError(
                "Chunk sizes must satisfy 0 < min_words <= target_words <= max_words. Currently, "
                f"min_words={self.min_words}, target_words={self.target_words}, "
                f"max_words={self.max_words}"
            )


# Bullets ("|", "•"), line breaks and sentence ends are the natural cut points of catalog text.
_UNIT_SPLIT_RE = re.compile(r"\s*(?:\||•|·|\n+)\s*|(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def product_passage_id(product_id: str, chunk: int) -> str:
    """Return the passage id of chunk ``chunk`` (0 = header) of a product."""
    return f"p:{product_id}#{chunk}"


def format_price(price: float, currency: str = "USD") -> str:
    """Format a price the way passages (and answers citing them) show it: ``$1,299.00``."""
    if currency.upper() == "USD":
        return f"${price:,.2f}"
    return f"{price:,.2f} {currency}"


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def split_units(text: str) -> list[str]:
    """Split description text into sentence/bullet units (never empty strings)."""
    return [_clean(u) for u in _UNIT_SPLIT_RE.split(text) if u and _clean(u)]


def chunk_words(text: str, config: ChunkConfig | None = None) -> list[str]:
    """Cut ``text`` into chunks of about ``config.target_words`` words at sentence boundaries.

    Units (sentences, bullets) are packed greedily; a chunk closes once it has ``min_words`` and the
    next unit would pass ``max_words``. Units longer than ``max_words`` are split into word windows.
    A short trailing remainder is merged into the previous chunk (re-split evenly if that grows it
    past ``max_words``), so no chunk is a stub.

    Args:
        text: Description text.
        config: Chunk sizes (defaults when None).

    Returns:
        Chunks as strings (empty list for blank text).
    """
    config = config or ChunkConfig()
    words_units: list[list[str]] = []
    for unit in split_units(text):
        words = unit.split()
        while len(words) > config.max_words:
            words_units.append(words[: config.target_words])
            words = words[config.target_words :]
        if words:
            words_units.append(words)

    chunks: list[list[str]] = []
    current: list[str] = []
    for words in words_units:
        if current and len(current) + len(words) > config.max_words:
            if len(current) >= config.min_words:
                chunks.append(current)
                current = []
            else:
                # Fill up to the target with the head of this unit rather than leave a short chunk.
                room = config.target_words - len(current)
                current += words[:room]
                chunks.append(current)
                current, words = [], words[room:]
        current = current + words
    if current:
        floor = config.min_words // 2
        if chunks and len(current) < floor:
            merged = chunks.pop() + current
            if len(merged) > config.max_words:
                half = (len(merged) + 1) // 2
                chunks += [merged[:half], merged[half:]]
            else:
                chunks.append(merged)
        else:
            chunks.append(current)
    return [" ".join(c) for c in chunks]


def _metadata(product: ProductLike) -> dict[str, object]:
    return {
        "category": list(product.category),
        "price": float(product.price),
        **({} if product.in_stock is None else {"in_stock": product.in_stock}),
        **({} if product.stock is None else {"stock": int(product.stock)}),
        "brand": product.brand,
        "url": product.url,
        "image": product.image,
        "currency": product.currency,
    }


def availability_text(product: ProductLike) -> str:
    """``in stock (7 available)``, ``in stock``, ``out of stock``, or ``""`` when the store's data
    does not say."""
    if product.in_stock is None:
        return ""
    if not product.in_stock:
        return "out of stock"
    return "in stock" if product.stock is None else f"in stock ({product.stock} available)"


def header_text(product: ProductLike, config: ChunkConfig | None = None) -> str:
    """Return the header passage text: the facts a shopper asks about, one per line."""
    config = config or ChunkConfig()
    lines = [_clean(product.name)]
    if product.brand:
        lines.append(f"Brand: {_clean(product.brand)}")
    if product.category:
        lines.append("Category: " + " > ".join(_clean(c) for c in product.category))
    lines.append(f"Price: {format_price(product.price, product.currency)}")
    availability = availability_text(product)
    if availability:  # unknown availability is left out, never guessed
        lines.append(f"Availability: {availability}")
    specs = []
    for key, value in list(product.specs.items())[: config.max_specs]:
        value = _clean(str(value))
        if len(value) > config.max_spec_chars:
            value = value[: config.max_spec_chars - 1].rstrip() + "…"
        if value:
            specs.append(f"{_clean(key)}: {value}")
    if specs:
        lines.append("Specs: " + "; ".join(specs))
    return "\n".join(lines)


def product_passages(product: ProductLike, config: ChunkConfig | None = None) -> list[Passage]:
    """Return the header passage and the description chunks of one product."""
    config = config or ChunkConfig()
    name = _clean(product.name)
    meta = _metadata(product)
    passages = [
        Passage(
            id=product_passage_id(product.id, 0),
            doc_id=product.id,
            kind="product",
            text=header_text(product, config),
            title=name,
            metadata={**meta, "section": "header", "chunk": 0},
        )
    ]
    for i, chunk in enumerate(chunk_words(product.description, config), start=1):
        passages.append(
            Passage(
                id=product_passage_id(product.id, i),
                doc_id=product.id,
                kind="product",
                text=f"{name}: {chunk}",
                title=name,
                metadata={**meta, "section": "description", "chunk": i},
            )
        )
    return passages


def faq_passage(entry: FaqLike) -> Passage:
    """Return the one passage of an FAQ entry (question and answer together); the ways shoppers
    ask it (``also_asked``, when the entry has them) go in its metadata, for ranking."""
    question = _clean(entry.question)
    metadata: dict[str, Any] = {"section": "faq"}
    also_asked = [_clean(text) for text in getattr(entry, "also_asked", ())]
    if also_asked:
        metadata["also_asked"] = also_asked
    return Passage(
        id=entry.id,
        doc_id=entry.id,
        kind="faq",
        text=f"{question}\n{_clean(entry.answer)}",
        title=question,
        metadata=metadata,
    )


def build_passages(
    products: Iterable[ProductLike],
    faqs: Iterable[FaqLike] = (),
    config: ChunkConfig | None = None,
) -> list[Passage]:
    """Return the passages of a whole store: every product's, then every FAQ entry's.

    Raises:
        ValueError: When two passages share an id (duplicate product or FAQ ids).
    """
    config = config or ChunkConfig()
    passages: list[Passage] = []
    for product in products:
        passages += product_passages(product, config)
    passages += [faq_passage(entry) for entry in faqs]
    seen: set[str] = set()
    for passage in passages:
        if passage.id in seen:
            raise ValueError(
                f"Duplicate passage id {passage.id!r}: product and FAQ ids must be unique. "
                "Fix the duplicate id in the catalog or FAQ file."
            )
        seen.add(passage.id)
    logger.debug("Built %d passages", len(passages))
    return passages


def content_hash(passage: Passage) -> str:
    """Return the sha256 of a passage's id, text, title and metadata (stable across runs)."""
    payload = json.dumps(
        {
            "id": passage.id,
            "doc_id": passage.doc_id,
            "kind": passage.kind,
            "title": passage.title,
            "text": passage.text,
            "metadata": passage.metadata,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def passage_to_dict(passage: Passage) -> dict[str, object]:
    """Return a JSON-ready dict of a passage (the passage store's line format)."""
    return {
        "id": passage.id,
        "doc_id": passage.doc_id,
        "kind": passage.kind,
        "title": passage.title,
        "text": passage.text,
        "metadata": passage.metadata,
    }


def passage_from_dict(data: Mapping[str, object]) -> Passage:
    """Inverse of :func:`passage_to_dict`."""
    kind = str(data["kind"])
    if kind not in ("product", "faq"):
        raise ValueError(f"Passage kind must be 'product' or 'faq'. Currently, kind is {kind!r}")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise ValueError(f"Passage metadata must be an object. Currently, it is {metadata!r}")
    return Passage(
        id=str(data["id"]),
        doc_id=str(data["doc_id"]),
        kind="product" if kind == "product" else "faq",
        text=str(data["text"]),
        title=str(data.get("title", "")),
        metadata=dict(metadata),
    )


def text_passages(
    docs: Sequence[tuple[str, str]], config: ChunkConfig | None = None
) -> list[Passage]:
    """Return passages for plain ``(doc_id, text)`` documents (evaluation sets).

    Short documents become one passage (id = doc id); longer ones are chunked (``"<id>#<n>"``),
    every chunk keeping the document id so results can be grouped per document.
    """
    config = config or ChunkConfig()
    passages: list[Passage] = []
    for doc_id, text in docs:
        chunks = chunk_words(text, config) if len(text.split()) > config.max_words else [text]
        for i, chunk in enumerate(chunks or [""]):
            pid = doc_id if len(chunks) <= 1 else f"{doc_id}#{i}"
            passages.append(
                Passage(id=pid, doc_id=doc_id, kind="faq", text=chunk, title=doc_id, metadata={})
            )
    return passages
