"""Catalog-generated NLU examples: product templates filled with shopper-style product mentions,
category keywords and prices; the ``product`` lookup table.

Each template is its own paraphrase group (``"<intent>/t<index>"``), so the grouped split holds out
whole templates.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence

from training.nlu.examples import NluExample
from training.nlu.placeholders import PRICES
from training.nlu.rasa_annotations import build_annotated, sanitize_text

_TEMPLATE_SLOT_RE = re.compile(r"\{(product2?|category|amount2?)\}")
_MENTION_CUT_RE = re.compile(r"\s[-–—|:;/]\s|:\s|[,(\[{;|]|\s(?:with|for|by|in|featuring)\s", re.I)
_MENTION_DROP_RE = re.compile(r"[\"“”®™©\[\]{}()]")
_MENTION_TRAILING_WORDS = frozenset(
    {"and", "with", "for", "of", "by", "the", "a", "an", "in", "to", "&", "-", "–", "or", "on"}
)
_GENERIC_CATEGORIES = frozenset(
    {
        "accessories", "kids & baby", "girls", "boys", "men", "women", "baby", "unisex",
        "novelty", "toys & games", "hobbies", "clothing, shoes & jewelry", "home & kitchen",
        "sports & outdoors", "baby products", "more", "collectibles", "kids", "toys",
        "games & accessories", "clothing", "shoes", "jewelry",
    }
)  # fmt: skip


def _mention_words(name: str) -> list[str]:
    """The words of a catalog title up to its first separator, without quotes or lone symbols."""
    segments = _MENTION_CUT_RE.split(name)
    head = segments[0]
    for segment in segments[1:]:  # a lone word ("Candylocks, 3-pack") takes the next segment too
        if len(head.split()) >= 2:
            break
        head = f"{head} {segment}"
    words = sanitize_text(_MENTION_DROP_RE.sub(" ", head)).split()
    return [w for w in words if any(ch.isalnum() for ch in w)]


def _trim_mention(words: list[str]) -> str:
    words = list(words)
    while len(words) > 1 and words[-1].lower() in _MENTION_TRAILING_WORDS:
        words.pop()
    return re.sub(r"^\W+|\W+$", "", " ".join(words))


def product_lookup(product_names: Iterable[str]) -> list[str]:
    """Lookup-table entries for the ``product`` entity: each title's first three words.

    Args:
        product_names: Catalog product names.

    Returns:
        Sorted distinct entries, as written and lower-cased (Rasa lookups are case-sensitive
        by default).
    """
    entries: set[str] = set()
    for name in product_names:
        mention = _trim_mention(_mention_words(name)[:3])
        if len(mention) > 2:
            entries.update((mention, mention.lower()))
    return sorted(entries)


def short_product_mention(name: str, rng: random.Random) -> str:
    """Shorten a catalog title to what a shopper would type: its first 3–6 words.

    The title is cut at separators (" - ", commas, brackets, "with"/"for"), quotes and
    trademark signs are dropped, and trailing joining words are trimmed.

    Args:
        name: A catalog product name.
        rng: The random source (chooses the length and, sometimes, lower case).

    Returns:
        A short mention such as ``"Snap Circuits Mini Kits"``.
    """
    mention = _trim_mention(_mention_words(name)[: rng.randint(3, 6)]) or sanitize_text(name)
    return mention.lower() if rng.random() < 0.3 else mention


def category_keywords(category_paths: Iterable[Sequence[str]]) -> list[str]:
    """Turn catalog category paths into shopper keywords ("board games", "plush toys").

    Each path node is split at "&" and commas, lower-cased; generic nodes ("accessories",
    "girls", "toys & games") and phrases over three words are dropped.

    Args:
        category_paths: Category paths, root first.

    Returns:
        The distinct keywords, sorted.
    """
    keywords: set[str] = set()
    for path in category_paths:
        for node in path:
            node_lower = node.strip().lower()
            if not node_lower or node_lower in _GENERIC_CATEGORIES:
                continue
            for part in re.split(r"\s*&\s*|\s*,\s*|\s+and\s+", node_lower):
                part = sanitize_text(part).strip(" .'-")
                if part and part not in _GENERIC_CATEGORIES and len(part.split()) <= 3:
                    keywords.add(part)
    return sorted(keywords)


_AMOUNT_FORMS = ("$V", "$V", "$V", "$V", "V dollars", "V dollars", "V bucks", "€V", "$V.99")


def _amount_phrase(value: int, form: str) -> str:
    """Render a price in a shopper's style: ``$25``, ``25 dollars``, ``25 bucks``, ``€25``..."""
    return form.replace("V", str(value - 1 if form.endswith(".99") else value))


def generate_product_examples(
    product_names: Sequence[str],
    category_paths: Sequence[Sequence[str]],
    templates: Mapping[str, Sequence[str]],
    n_per_intent: int,
    seed: int,
) -> list[NluExample]:
    """Fill product templates with catalog names, category keywords and prices.

    Templates are used round-robin so each appears about equally often; a template without
    slots is used once. Each template is its own paraphrase group (``"<intent>/t<index>"``).

    Args:
        product_names: Catalog product names (a list works; so does ``CatalogTerms.names``).
        category_paths: Category paths for the search keywords.
        templates: Templates per intent, with ``{product}``, ``{product2}``, ``{category}``,
            ``{amount}``, ``{amount2}`` slots.
        n_per_intent: Examples to generate per intent (before dedup).
        seed: Seed of the random source.

    Returns:
        The examples (``source="catalog"``), products annotated as ``product`` and prices as
        ``amount``.

    Raises:
        ValueError: If a template needs products or categories and none were given.
    """
    keywords = category_keywords(category_paths)
    examples: list[NluExample] = []
    for intent in sorted(templates):
        rng = random.Random(f"{seed}:catalog:{intent}")
        intent_templates = list(templates[intent])
        for index in range(n_per_intent):
            t_index = index % len(intent_templates)
            template = intent_templates[t_index]
            slots = _TEMPLATE_SLOT_RE.findall(template)
            if not slots and index >= len(intent_templates):
                continue
            if any(s.startswith("product") for s in slots) and not product_names:
                raise ValueError(
                    f"product_names is empty but template={template!r} needs {{product}}; pass "
                    f"the catalog's product names (load_catalog_terms)."
                )
            if "category" in slots and not keywords:
                raise ValueError(
                    f"category_paths gave no keywords but template={template!r} needs "
                    f"{{category}}; pass the catalog's category paths (load_catalog_terms)."
                )
            first = rng.choice(product_names) if product_names else ""
            second = (
                rng.choice([n for n in product_names if n != first] or [first]) if first else ""
            )
            form = rng.choice(_AMOUNT_FORMS)  # one style per utterance: "$20 and $40"
            value = rng.choice(PRICES[:-1])
            value2 = rng.choice([p for p in PRICES if p > value])
            values = {
                "product": (short_product_mention(first, rng) if first else "", "product"),
                "product2": (short_product_mention(second, rng) if second else "", "product"),
                "category": (rng.choice(keywords) if keywords else "", None),
                "amount": (_amount_phrase(value, form), "amount"),
                "amount2": (_amount_phrase(value2, form), "amount"),
            }
            pieces: list[tuple[str, str | None]] = []
            position = 0
            for match in _TEMPLATE_SLOT_RE.finditer(template):
                pieces.append((template[position : match.start()], None))
                pieces.append(values[match.group(1)])
                position = match.end()
            pieces.append((template[position:], None))
            text, spans = build_annotated(pieces)
            examples.append(NluExample(text, intent, spans, f"{intent}/t{t_index:02d}", "catalog"))
    return examples
