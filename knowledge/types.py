"""Shared types of the knowledge layer: passages, retrieval hits, filters, answers, and role protocols.

Every role (embedder, retriever, generator) is a small ``Protocol`` so tests can inject deterministic
doubles while separate tests exercise the real models.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

PassageKind = Literal["product", "faq"]


@dataclass(frozen=True)
class Passage:
    """A retrievable unit of text with the metadata needed to filter and cite it.

    Args:
        id: Unique passage id, e.g. ``"p:18018b6b...#0"`` or ``"faq-3"``.
        doc_id: The product id or FAQ id the passage came from (what citations name).
        kind: ``"product"`` or ``"faq"``.
        text: The passage text that is embedded, scored and shown to the generator.
        title: Product name or FAQ question (for citations and cards).
        metadata: Filterable fields: ``category`` (list[str]), ``price`` (float), ``in_stock`` (bool),
            ``brand``, ``url``, ``image``, ``currency``.
    """

    id: str
    doc_id: str
    kind: PassageKind
    text: str
    title: str
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Filters:
    """Metadata filters applied at retrieval time. ``None`` means "no constraint"."""

    category: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool | None = None
    kind: PassageKind | None = None


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with its fused score (higher is better) and per-retriever scores."""

    passage: Passage
    score: float
    scores: dict[str, float] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Citation:
    """A source an answer relies on."""

    doc_id: str
    kind: PassageKind
    title: str
    url: str = ""


@dataclass
class Answer:
    """What the answer pipeline returns to the action server.

    Args:
        text: The reply shown to the shopper.
        citations: Sources backing the reply (empty when ``outcome == "unknown"``).
        outcome: ``"generated"`` (verified generation), ``"passage"`` (best passage verbatim after the
            verifier rejected the generation), or ``"unknown"`` (honest fallback offering a human).
        hits: The retrieved passages (ids and scores end up in the tracker for the console).
        unsupported: Facts the verifier could not find in the sources (for logs/console).
        latency_ms: Per-stage latencies, e.g. ``{"retrieve": 12.0, "generate": 300.0}``.
        completion: The generator's own text before its references were expanded (``generated``
            only; see ``knowledge.references``).
    """

    text: str
    citations: list[Citation]
    outcome: Literal["generated", "passage", "unknown"]
    hits: list[Hit] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)
    completion: str = ""


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Return an array of shape (len(texts), dimension), float32, L2-normalised.

        ``batch_size`` None uses the embedder's own default (the fastest measured for it).
        """
        ...


class Retriever(Protocol):
    """Finds the passages most relevant to a query."""

    def search(self, query: str, top_k: int = 5, filters: Filters | None = None) -> list[Hit]:
        """Return up to ``top_k`` hits, best first, satisfying ``filters``."""
        ...


class Generator(Protocol):
    """Produces answer text from a prompt (a local causal LM or an OpenAI-compatible server)."""

    def generate(self, prompt: str, max_new_tokens: int = 96) -> str:
        """Return the completion for ``prompt`` (without the prompt)."""
        ...

    def stream(self, prompt: str, max_new_tokens: int = 96) -> Iterator[str]:
        """Yield the completion piece by piece as it is generated."""
        ...
