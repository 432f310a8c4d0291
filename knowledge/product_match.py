"""What a product search asks beyond similarity: an order ("the cheapest puzzle"), the words a
product must carry in its own catalog fields ("do you sell drones?") and whether the store sells
a thing at all ("do you sell jetpacks?": yes with the products, or no).

Dense retrieval ranks by meaning but does not know what a puzzle is: an unrelated toy can score
as high as a jigsaw. When the shopper asks for an order by price, asks whether the store sells a
thing, or when similarity alone finds nothing relevant, products are matched on their catalog
fields — title, brand and category path — against the content words of the request, then sorted
or listed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Literal

from knowledge.types import Hit, Passage

__all__ = ["Order", "asked_if_sold", "content_terms", "parse_order", "select_matching"]

Order = Literal["price_asc", "price_desc"]

_ORDER_RES: tuple[tuple[re.Pattern[str], Order], ...] = (
    (
        re.compile(
            r"\b(?:cheapest|least expensive|lowest[- ]price[ds]?|most affordable|"
            r"(?:sorted|sort|ordered) by (?:lowest )?price|price(?:s)? low to high)\b",
            re.IGNORECASE,
        ),
        "price_asc",
    ),
    (
        re.compile(
            r"\b(?:most expensive|priciest|highest[- ]price[ds]?|price(?:s)? high to low)\b",
            re.IGNORECASE,
        ),
        "price_desc",
    ),
)

_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "what",
        "whats",
        "what's",
        "which",
        "who",
        "is",
        "are",
        "was",
        "be",
        "do",
        "does",
        "did",
        "you",
        "your",
        "yours",
        "we",
        "our",
        "us",
        "i",
        "me",
        "my",
        "mine",
        "have",
        "has",
        "had",
        "sell",
        "sells",
        "selling",
        "stock",
        "stocked",
        "carry",
        "carries",
        "any",
        "some",
        "one",
        "ones",
        "show",
        "find",
        "list",
        "give",
        "get",
        "buy",
        "want",
        "need",
        "looking",
        "look",
        "for",
        "to",
        "of",
        "in",
        "on",
        "at",
        "with",
        "and",
        "or",
        "that",
        "this",
        "these",
        "those",
        "there",
        "here",
        "it",
        "its",
        "please",
        "can",
        "could",
        "would",
        "will",
        "shall",
        "store",
        "shop",
        "item",
        "items",
        "product",
        "products",
        "thing",
        "things",
        "kind",
        "kinds",
        "sort",
        "type",
        "types",
        "price",
        "prices",
        "priced",
        "cost",
        "costs",
        "option",
        "options",
        "available",
        "right",
        "now",
        "currently",
        "best",
        "good",
        "nice",
        "top",
        "anything",
        "something",
        "stuff",
    ]
)
_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

_SOLD_RE = re.compile(
    r"^\W*(?:(?:hi|hello|hey|so|ok|okay|quick question)\W+)*"
    r"(?:(?:do|does|d'you)\s+(?:you|u|ya|y'all|this (?:store|shop)|your (?:store|shop))"
    r"(?:\s+(?:guys|all|even|also|still|currently|actually))*"
    r"\s+(?:sell|have|carry|stock|got)"
    r"|have (?:you|u) got|you (?:guys )?(?:have|got|sell)|got"
    r"|(?:is|are) there)"
    r"\s+(?:any\s+|some\s+)?(?P<thing>[^?.!,;:]+?)\s*"
    r"(?:(?:at all|here|for sale|in stock|available|right now|online|"
    r"in (?:your |the )?(?:store|shop|catalog(?:ue)?))\s*)*[?.!]*\s*$",
    re.IGNORECASE,
)
_DESCRIPTIVE = frozenset(
    [
        "for",
        "to",
        "that",
        "which",
        "who",
        "with",
        "without",
        "like",
        "in",
        "about",
        "it",
        "them",
        "this",
        "these",
        "those",
        "one",
        "ones",
    ]
)
_SERVICE_ARTICLES = frozenset(["a", "an", "the", "your", "ur"])
"""A thing asked after in the singular ("do you have a rewards scheme", "is there a student
discount", "a mobile app") is a service or a policy for the FAQ; products are asked after in the
plural or as a kind ("do you sell board games", "any lego")."""
_SERVICE_TERMS = frozenset(
    [
        "discount",
        "promotion",
        "promo",
        "coupon",
        "voucher",
        "code",
        "sale",
        "deal",
        "offer",
        "reward",
        "point",
        "shipping",
        "delivery",
        "fee",
        "charge",
        "refund",
        "return",
        "job",
        "vacancy",
        "location",
        "branch",
    ]
)
"""Words that make "are there any discounts?" a question about the store, not its catalog."""
SOLD_TERMS = 2
"""Most content words a thing asked after ("do you sell X?") may have to be checked by name; a
longer request ("do you have something warm for a toddler") is a description, for similarity."""


def asked_if_sold(query: str) -> str | None:
    """``"do you sell jetpacks?"`` → ``"jetpacks"``: the thing a shopper asks whether the store
    sells, as they wrote it; None for anything else, for services ("do you do gift wrap", "do
    you offer price matching", "a rewards scheme") and for descriptions rather than names (a
    purpose, a pronoun, or more than :data:`SOLD_TERMS` content words)."""
    match = _SOLD_RE.match(query.strip())
    if match is None:
        return None
    thing = " ".join(match.group("thing").split())
    words = _WORD_RE.findall(thing.lower())
    if not words or words[0] in _SERVICE_ARTICLES or _DESCRIPTIVE.intersection(words):
        return None
    if len(thing) > 60:
        return None
    terms = content_terms(thing)
    if _SERVICE_TERMS.intersection(terms):
        return None
    return thing if 0 < len(terms) <= SOLD_TERMS else None


def parse_order(query: str) -> tuple[str, Order | None]:
    """``"what's the cheapest puzzle?"`` → ``("what's the puzzle?", "price_asc")``."""
    for pattern, order in _ORDER_RES:
        if pattern.search(query):
            return re.sub(r"\s+", " ", pattern.sub(" ", query)).strip(), order
    return query, None


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _terms(text: str) -> set[str]:
    return {_stem(w) for w in _WORD_RE.findall(text.lower())}


def content_terms(query: str) -> list[str]:
    """The words a matching product must carry: the request without function words, stemmed."""
    seen: list[str] = []
    for word in _WORD_RE.findall(query.lower()):
        term = _stem(word)
        if word not in _STOPWORDS and term not in _STOPWORDS and term not in seen:
            seen.append(term)
    return seen


def _fields(passage: Passage) -> str:
    meta = passage.metadata
    category = meta.get("category") or []
    parts: Iterable[str] = [passage.title, str(meta.get("brand") or "")]
    if isinstance(category, list):
        parts = [*parts, *(str(c) for c in category)]
    return " ".join(parts)


def select_matching(hits: Sequence[Hit], terms: list[str], share: float | None = None) -> list[Hit]:
    """The product hits whose title, brand or category carry the request's most specific term
    (the one fewest of the retrieved products carry: "lego" rather than "set") and at least
    ``share`` of all its terms (rounded up; default: all of one or two terms, half of more), in
    retrieval order."""
    if share is None:
        share = 1.0 if len(terms) <= 2 else 0.5
    fields = {h.passage.doc_id: _terms(_fields(h.passage)) for h in hits}
    present = [t for t in terms if any(t in have for have in fields.values())]
    if not present:
        return []
    specific = min(present, key=lambda t: sum(t in have for have in fields.values()))
    needed = max(1, math.ceil(share * len(terms)))
    return [
        h
        for h in hits
        if h.passage.kind == "product"
        and specific in fields[h.passage.doc_id]
        and sum(t in fields[h.passage.doc_id] for t in terms) >= needed
    ]
