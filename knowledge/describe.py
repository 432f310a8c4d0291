"""Product descriptions written from a product's attributes, and verified against them.

A description is generated with the answer generator's own prompt format: the product's
*attribute passage* (name, brand, category, price, specs — no availability and no description)
is the only source, and the question is the fixed task prefix :data:`DESCRIBE_INSTRUCTION`::

    <|sources|>
    <|source|>[S1] Guillow Airplane Design Studio with Travel Case Building Kit
    Brand: Guillow
    Category: Hobbies > Model Kits
    Price: $28.91
    Specs: Item Weight: 13.4 ounces
    <|question|>
    Write a product description from these attributes.
    <|answer|>

The generator's fine-tuning data teaches the task (``training/generator_data``: the ``describe``
kind). Every draft goes through the same :class:`~knowledge.verifier.Verifier` as shoppers'
answers, against the attribute passage alone and with ``generated=True``: every number, price,
name, brand, code and spec value it states must be in the attributes, and degenerate repetition is
refused. A draft that fails is never marked accepted (see :class:`Describer` for what happens to
it). :func:`template_description` is the fixed-template baseline, also used as the optional
fallback.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge.catalog.model import Product
from knowledge.passages import product_passages
from knowledge.prompt import (
    CITATION_TAG_RE,
    BuiltPrompt,
    PromptBudget,
    build_prompt,
    clean_completion,
    format_price,
    sanitize,
)
from knowledge.references import PromptSources, ReferenceError
from knowledge.types import Generator, Passage
from knowledge.verifier import Verifier

logger = logging.getLogger(__name__)

DESCRIBE_INSTRUCTION = "Write a product description from these attributes."
"""The task prefix: the ``<|question|>`` of every description prompt (training and serving)."""

#: Spec keys that are catalog identifiers or shipping terms, not what a description states
#: (lower-cased): the template leaves them out and description metrics do not count them.
NON_DESCRIPTIVE_SPECS = frozenset(
    {
        "asin",
        "item model number",
        "upc",
        "isbn-10",
        "isbn-13",
        "ean",
        "domestic shipping",
        "international shipping",
    }
)

_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")

#: What a row's ``status`` may be.
STATUSES = ("accepted", "rejected", "template")
FALLBACKS = ("none", "template")


#: The most tokens a draft may take (the model's context permitting): a lead sentence and one
#: sentence per spec, each value a short reference (``knowledge.references``).
DESCRIBE_MAX_NEW_TOKENS = 128


def attribute_passage(product: Product) -> Passage:
    """The product's attributes as one passage: the header passage without availability and
    without identifiers (:data:`NON_DESCRIPTIVE_SPECS`).

    Stock changes daily and has no place in a description; the description itself is what is
    being written, so it is left out too; an ASIN or a model number is no description, and would
    take the prompt room the descriptive specs need.
    """
    specs = {
        key: value
        for key, value in product.specs.items()
        if key.strip().lower() not in NON_DESCRIPTIVE_SPECS
    }
    bare = dataclasses.replace(product, stock=None, availability=None, description="", specs=specs)
    header = product_passages(bare)[0]
    return dataclasses.replace(
        header,
        id=f"p:{product.id}#attributes",
        metadata={**header.metadata, "section": "attributes"},
    )


def describe_prompt(
    product: Product,
    budget: PromptBudget | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> BuiltPrompt:
    """The description prompt of ``product``: its attribute passage as the only source, which
    may take the whole prompt (:func:`describe_budget`)."""
    return build_prompt(
        DESCRIBE_INSTRUCTION,
        [attribute_passage(product)],
        budget=describe_budget(budget or PromptBudget()),
        count_tokens=count_tokens,
    )


def describe_budget(budget: PromptBudget) -> PromptBudget:
    """``budget`` for a description prompt: there is one source and no history, so the source
    gets all the room an answer prompt shares between its sources (a long title would otherwise
    push the price and the specs out of it)."""
    return dataclasses.replace(budget, max_top_source_tokens=budget.max_prompt_tokens)


def _category_leaf(product: Product) -> str:
    return sanitize(product.category[-1]) if product.category else ""


def template_description(product: Product, max_specs: int = 4) -> str:
    """The fixed-template baseline: ``The {name} by {brand} is a {category leaf} priced at
    {price}. {spec}: {value}; ...`` — every value copied from the attributes.

    Args:
        product: The product.
        max_specs: Most specs listed (the header passage shows at most 8).

    Returns:
        One or two sentences.
    """
    name = sanitize(product.name)
    parts = [f"The {name}"]
    if product.brand:
        parts.append(f"by {sanitize(product.brand)}")
    leaf = _category_leaf(product)
    parts.append(f"is a {leaf}" if leaf else "is")
    parts.append(f"priced at {format_price(product.price, product.currency)}.")
    text = " ".join(parts)
    items = [f"{key}: {value}" for key, value in attribute_specs(product).items()][:max_specs]
    if items:
        text += " " + "; ".join(items) + "."
    return text


def attribute_specs(product: Product) -> dict[str, str]:
    """The specs a description may state, as the attribute passage shows them (at most 8, long
    values cut with "…"), identifiers and shipping terms (:data:`NON_DESCRIPTIVE_SPECS`) left out."""
    out: dict[str, str] = {}
    for line in attribute_passage(product).text.split("\n"):
        if not line.startswith("Specs: "):
            continue
        for item in line.removeprefix("Specs: ").split("; "):
            key, _, value = item.partition(": ")
            if value and key.strip().lower() not in NON_DESCRIPTIVE_SPECS:
                out[key.strip()] = value.strip()
    return out


def clean_description(text: str) -> str:
    """A draft without citation tags and with single spaces (what the store imports)."""
    text = CITATION_TAG_RE.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class DescriptionResult:
    """One product's description row (the JSONL/CSV line ``shopbot describe`` writes).

    Args:
        product_id: The catalog id.
        name: The product's name (for the reviewer).
        status: ``accepted`` (the generator's draft passed verification), ``rejected`` (it did
            not; ``description`` is empty) or ``template`` (it did not, and the template baseline
            was written instead, as ``--fallback template`` asks).
        description: The text to import (empty when rejected).
        source: ``generator``, ``template`` or ``""`` (nothing to import); ``edited`` in the
            agent console's export, for a text an admin changed (it passed the same check).
        draft: The generator's draft as written (cleaned), accepted or not.
        unsupported: The draft's facts the attributes do not support.
        generator: The generator's name.
    """

    product_id: str
    name: str
    status: str
    description: str
    source: str
    draft: str = ""
    unsupported: list[str] = field(default_factory=list)
    generator: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (field order as declared)."""
        return dataclasses.asdict(self)


class Describer:
    """Writes a product's description with the generator and gates it with the verifier.

    Args:
        generator: Any :class:`~knowledge.types.Generator` (the local GPT, a server, a test
            double). Its prompt budget and token counter are used when it has them.
        verifier: The verifier (default settings when None).
        fallback: ``none`` — a draft that fails verification is written with status
            ``rejected`` and no description; ``template`` — the template baseline (itself
            verified) is written instead, with status ``template``.
        max_new_tokens: Draft length limit; when None, :data:`DESCRIBE_MAX_NEW_TOKENS` or the
            room the prompt leaves in the generator's context, whichever is smaller.
        min_words: A draft with fewer words is refused (``"too short"``): a lone ``"."`` states
            no wrong fact, and is no description either.
    """

    def __init__(
        self,
        generator: Generator,
        verifier: Verifier | None = None,
        fallback: str = "none",
        max_new_tokens: int | None = None,
        min_words: int = 5,
    ) -> None:
        if fallback not in FALLBACKS:
            raise ValueError(
                f"fallback must be one of {FALLBACKS}. Currently, fallback is {fallback!r}."
            )
        if max_new_tokens is not None and max_new_tokens <= 0:
            raise ValueError(
                "max_new_tokens must be greater than 0. Currently, max_new_tokens is "
                f"{max_new_tokens}."
            )
        self.generator = generator
        self.verifier = verifier or Verifier()
        self.fallback = fallback
        self.max_new_tokens = max_new_tokens
        self.min_words = min_words

    @property
    def name(self) -> str:
        """The generator's name (``local:generator``, ``openai:<model>``, or its class)."""
        return str(getattr(self.generator, "name", type(self.generator).__name__))

    def prompt(self, product: Product) -> BuiltPrompt:
        """The description prompt with the generator's own budget and tokenizer (if it has them)."""
        budget = getattr(self.generator, "budget", None)
        count = getattr(self.generator, "count_tokens", None)
        return describe_prompt(product, budget if isinstance(budget, PromptBudget) else None, count)

    def _room(self, prompt: str) -> int:
        """:data:`DESCRIBE_MAX_NEW_TOKENS`, or less when the generator's context (if it says)
        leaves less after ``prompt``; never less than its trained answer length."""
        trained = int(getattr(self.generator, "default_max_new_tokens", 96))
        count = getattr(self.generator, "count_tokens", None)
        try:
            context = int(getattr(self.generator, "max_context", 0) or 0)
        except Exception:  # a remote generator does not know its context
            context = 0
        if not context or not callable(count):
            return max(trained, DESCRIBE_MAX_NEW_TOKENS)
        return max(trained, min(DESCRIBE_MAX_NEW_TOKENS, context - int(count(prompt)) - 1))

    def draft(self, product: Product) -> str:
        """The generator's draft for ``product`` with its references expanded, cleaned (not
        verified); a sentence whose reference cannot be expanded is left out."""
        built = self.prompt(product)
        max_new = self.max_new_tokens or self._room(built.text)
        raw = clean_completion(self.generator.generate(built.text, max_new))
        sources = PromptSources.of(built)
        kept: list[str] = []
        for sentence in _SENTENCE_END_RE.split(raw.strip()):
            try:
                kept.append(sources.expand(sentence))
            except ReferenceError as error:
                # A field the attributes do not have, or a reference cut off by the length
                # limit: the sentence states nothing the catalog backs, so it is not written.
                logger.info("Draft for %s: dropped %r (%s)", product.id, sentence, error)
        return clean_description(" ".join(kept))

    def check(self, product: Product, text: str, generated: bool = True) -> list[str]:
        """The facts of ``text`` that ``product``'s attributes do not support (``[]``: none).

        An empty or too short text is refused too (``"empty draft"``, ``"too short (2 words)"``):
        there is nothing to accept.
        ``generated=False`` for the template, the catalog's own words (which may repeat a
        phrase of the title in a spec) — drafts are also refused for degenerate repetition.
        """
        if not text.strip():
            return ["empty draft"]
        passages = [attribute_passage(product)]
        problems = list(self.verifier.verify(text, passages, generated=generated).unsupported)
        words = len(re.findall(r"\w+", text))
        if words < self.min_words:
            problems.append(f"too short ({words} words)")
        return problems

    def describe(self, product: Product) -> DescriptionResult:
        """Draft, verify, and decide the row of one product."""
        draft = self.draft(product)
        unsupported = self.check(product, draft)
        row = DescriptionResult(
            product_id=product.id,
            name=sanitize(product.name),
            status="accepted",
            description=draft,
            source="generator",
            draft=draft,
            unsupported=unsupported,
            generator=self.name,
        )
        if not unsupported:
            return row
        row.status, row.description, row.source = "rejected", "", ""
        if self.fallback == "template":
            baseline = template_description(product)
            problems = self.check(product, baseline, generated=False)
            if problems:  # never happens with the catalog's own values; kept honest anyway
                logger.warning("Template for %s not supported: %s", product.id, problems)
            else:
                row.status, row.description, row.source = "template", baseline, "template"
        return row

    def describe_all(
        self, products: Sequence[Product], progress: bool = True
    ) -> list[DescriptionResult]:
        """:meth:`describe` every product, with a progress bar."""
        from tqdm import tqdm

        return [
            self.describe(p)
            for p in tqdm(products, desc="describe", unit="product", disable=not progress)
        ]
