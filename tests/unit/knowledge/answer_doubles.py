"""Passages and test doubles shared by the answer, render and product-search tests (not collected)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from knowledge.passages import product_passage_id
from knowledge.types import Filters, Hit, Passage


def product_passage(
    doc_id: str, title: str, text: str, metadata: dict[str, Any], chunk: int = 0
) -> Passage:
    """A product passage as the index stores it (id ``p:<doc_id>#<chunk>``)."""
    return Passage(
        id=product_passage_id(doc_id, chunk),
        doc_id=doc_id,
        kind="product",
        text=text,
        title=title,
        metadata=metadata,
    )


GUILLOW = product_passage(
    "18018b6b2ab1c6b1e1e5e2a6e1f1b001",
    "Guillow Airplane Design Studio with Travel Case Building Kit",
    (
        "Guillow Airplane Design Studio with Travel Case Building Kit\nBrand: Guillow\n"
        "Category: Toys & Games > Hobbies > Model Kits\nPrice: $28.91\n"
        "Availability: in stock (12 available)\nSpecs: Item Weight: 13.4 ounces"
    ),
    {
        "price": 28.91,
        "currency": "USD",
        "in_stock": True,
        "brand": "Guillow",
        "category": ["Toys & Games", "Hobbies", "Model Kits"],
        "url": "https://shop.example/p/guillow",
        "image": "https://shop.example/img/guillow.jpg",
        "section": "header",
    },
)

GUILLOW_CHUNK = product_passage(
    GUILLOW.doc_id,
    GUILLOW.title,
    "Guillow Airplane Design Studio with Travel Case Building Kit: "
    + "Design and build your own balsa gliders. " * 80,
    {**GUILLOW.metadata, "section": "description"},
    chunk=1,
)

RETURNS = Passage(
    id="faq-3",
    doc_id="faq-3",
    kind="faq",
    text=(
        "What is your return policy?\nOur return policy allows you to return products within 30 "
        "days of purchase for a full refund."
    ),
    title="What is your return policy?",
    metadata={"section": "faq"},
)


class FakeRetriever:
    """Returns fixed hits and records the queries and filters it got."""

    def __init__(self, hits: Sequence[Hit]) -> None:
        self.hits = list(hits)
        self.calls: list[tuple[str, int, Filters | None]] = []

    def search(self, query: str, top_k: int = 5, filters: Filters | None = None) -> list[Hit]:
        self.calls.append((query, top_k, filters))
        return self.hits[:top_k]


class ScriptedGenerator:
    """Returns a fixed completion, streamed word by word."""

    def __init__(self, completion: str, fail: bool = False) -> None:
        self.completion = completion
        self.fail = fail
        self.prompts: list[str] = []

    def generate(self, prompt: str, max_new_tokens: int = 96) -> str:
        return "".join(self.stream(prompt, max_new_tokens))

    def stream(self, prompt: str, max_new_tokens: int = 96) -> Iterator[str]:
        self.prompts.append(prompt)
        if self.fail:
            raise RuntimeError("model exploded")
        words = self.completion.split(" ")
        for word in words:
            yield " " + word


def hit(passage: Passage, dense: float = 0.8) -> Hit:
    return Hit(passage=passage, score=0.03, scores={"dense": dense, "bm25": 5.0, "rrf": 0.03})


def guillow_with_specs(specs: str) -> Passage:
    """The Guillow's header passage with another ``Specs:`` line."""
    return replace(
        GUILLOW, text=GUILLOW.text.replace("Specs: Item Weight: 13.4 ounces", f"Specs: {specs}")
    )
