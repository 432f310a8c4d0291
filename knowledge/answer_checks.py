"""The checks a verified answer must still pass, and the relevance scores the pipeline gates on.

The verifier (``knowledge.verifier``) checks that every fact is in a retrieved passage; these
checks catch the verified answers that still answer nothing: a product answer that names no cited
product or garbles its source line, an FAQ answer that paraphrases policy (:func:`answer_gap`),
and the generator's trained refusals (:func:`is_refusal`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from knowledge.prompt import (
    CITATION_TAG_RE,
    document_body,
    group_by_document,
    sanitize,
    short_name,
    source_body,
)
from knowledge.references import ANSWER_FIELD, NAME_FIELD, REFERENCE_RE, display_name
from knowledge.types import Hit, Passage

__all__ = [
    "FACT_SEPARATOR",
    "FAQ_MAX_NEW_WORDS",
    "FAQ_MIN_SPAN_SHARE",
    "FAQ_MIN_WORDS",
    "answer_gap",
    "asks_availability",
    "availability_unknown_text",
    "fact_gap",
    "field_gap",
    "is_refusal",
    "name_overlap",
    "relevance",
    "source_gap",
]


_REFUSAL_PREFIXES = ("i don't have that information", "i can only share information")
_WORD_RE = re.compile(r"[a-z0-9]+")
_NAME_STOPWORDS = {"the", "a", "an", "and", "for", "with", "of", "by", "in", "to", "&", "-"}
FAQ_MIN_WORDS = 5  # content words an FAQ answer needs ("If a product is listed as 'ing." has 3)
FAQ_MAX_NEW_WORDS = 0.25  # share of an FAQ answer's content words that may not be in the entry
FAQ_MIN_SPAN_SHARE = 0.75  # share of an FAQ answer's word 4-grams that must occur in the entry
FACT_SEPARATOR = " — "  # "<product name> — <Attribute>: <value>", the trained answer shape


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _source_items(group: Sequence[Passage]) -> set[str]:
    """The lines and spec items of one document as the generator saw them, normalised
    (``"Price: $28.91"``, ``"Item Weight: 13.4 ounces"``)."""
    items = set()
    for item in re.split(r"[\n;]", document_body(group)):
        item = _norm(item).removeprefix("specs:").strip()
        if item:
            items.add(item)
    return items


def fact_gap(text: str, sources: Sequence[Passage]) -> str:
    """For an answer of the trained shape ``"[S1] <name> — <Attribute>: <value>."``, why it does not
    restate its cited product ("" when it does, or when the answer has another shape).

    The name must be a run of words of a cited product's title, and ``<Attribute>: <value>`` one
    whole line or spec item of that product's source: "Sunny 38" Large — Brand: Sunny." (words
    skipped from the title, a brand cut short) is not; "Sunny toys 38" Large — Brand: Sunny toys."
    is. Verified facts alone let such garbles through (every word is in the source).
    """
    body = CITATION_TAG_RE.sub(" ", text).strip()
    name, sep, fact = body.partition(FACT_SEPARATOR)
    if not sep:
        return ""
    fact = _norm(fact).rstrip(". ")
    groups = group_by_document(sources)
    named = f" {_norm(name)} "
    if not any(named in f" {_norm(sanitize(g[0].title))} " for g in groups):
        return "answer's product name is not a cited title"
    if not any(fact in _source_items(g) for g in groups):
        return "answer's fact is not a line of its source"
    return ""


def _quote_gap(text: str, sources: Sequence[Passage]) -> str:
    """For a description answer (``"<name>: <a sentence of its description>"``), why the sentence
    is not the source's ("" when it is, or when the answer has another shape): a small model's
    copy can drift into words no description has ("From the strabrobrobro...")."""
    body = CITATION_TAG_RE.sub(" ", text).strip()
    for group in group_by_document(sources):
        name = display_name(group[0].title)
        if body.lower().startswith(name.lower() + ":"):
            quote = body[len(name) + 1 :]
            source = " ".join(source_body(p) for p in group)
            if _span_share(quote, source) < FAQ_MIN_SPAN_SHARE:
                return "answer's description is not its source's"
    return ""


def _span_share(text: str, source: str, n: int = 4) -> float:
    """Share of the word ``n``-grams of ``text`` that occur in ``source`` (1.0 when too short)."""
    words = _WORD_RE.findall(text.lower())
    if len(words) < n:
        return 1.0
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    src_words = _WORD_RE.findall(source.lower())
    src_grams = {tuple(src_words[i : i + n]) for i in range(len(src_words) - n + 1)}
    return sum(g in src_grams for g in grams) / len(grams)


def relevance(hit: Hit) -> float:
    """The relevance score the pipeline gates on: the dense cosine similarity when the retriever
    reports one (comparable across queries, unlike rank-fusion scores), else the hit's score."""
    return float(hit.scores.get("dense", hit.score))


def asked_like(hit: Hit) -> float:
    """How close the shopper's question is to an FAQ hit's own question or the phrasings the store
    gave it (``knowledge.faq_rank``: cosine similarity; -inf for other hits)."""
    return float(hit.scores.get("question", float("-inf")))


def _name_words(title: str) -> set[str]:
    return {w for w in _WORD_RE.findall(short_name(title).lower()) if w not in _NAME_STOPWORDS}


def name_overlap(question: str, title: str) -> float:
    """Share of the words of a product's short name that the question contains."""
    name_words = _name_words(title)
    if not name_words:
        return 0.0
    asked = set(_WORD_RE.findall(question.lower()))
    return len(name_words & asked) / len(name_words)


#: The fewest short-name words a question must share with a product to move it first.
MIN_NAME_MATCHES = 2


def name_matches(question: str, title: str) -> int:
    """How many words of a product's short name the question contains."""
    return len(_name_words(title) & set(_WORD_RE.findall(question.lower())))


def named_first(question: str, hits: Sequence[Hit]) -> list[Hit]:
    """``hits`` with the product the question names best moved to the front, when retrieval's
    best hit is a product that the question names with fewer words.

    Dense and BM25 scores weigh every word of a long listing title; a shopper names a product by
    the few words that tell it apart from its siblings ("the Melissa & Doug 52", "the world of
    nintendo mario bros u"). Asked "What does the Melissa & Doug 52 cost?", the demo index ranked
    another Melissa & Doug product first. A product whose short name (:func:`name_matches`)
    shares strictly more words with the question than the best hit's, and at least
    :data:`MIN_NAME_MATCHES` (one shared word is chance: "store" in "what are your store opening
    hours?" named the "White Mountain Puzzles General Store"), goes first; ties keep retrieval's
    order, and an FAQ entry ranked first is never displaced by a product.
    """
    if not hits or hits[0].passage.kind != "product":
        return list(hits)
    matches = {
        h.passage.doc_id: name_matches(question, h.passage.title)
        for h in hits
        if h.passage.kind == "product"
    }
    doc_id = max(matches, key=lambda d: matches[d])  # the first of the best, in retrieval order
    best = matches[doc_id]
    if best <= matches[hits[0].passage.doc_id] or best < MIN_NAME_MATCHES:
        return list(hits)
    return [h for h in hits if h.passage.doc_id == doc_id] + [
        h for h in hits if h.passage.doc_id != doc_id
    ]


def answer_gap(text: str, cited: Sequence[str], passages: Sequence[Passage]) -> str:
    """Why a verified answer still does not answer from its sources ("" when it does).

    The verifier checks facts; a small generator can also emit a verified fragment that answers
    nothing (both seen with the demo preset): "La — Item Weight: 1." (every fact is in the
    product's passage, no product named) or "If a product is listed as 'ing." (an FAQ answer with
    no number or name to check). So:

    - an answer citing only products must restate one cited product's name (at least half of the
      words of its short name), as the grounded training answers do;
    - an answer in the trained product shape must restate its product's name and one whole line
      of its source (:func:`fact_gap`);
    - an answer citing only FAQ entries must say something (at least ``FAQ_MIN_WORDS`` content
      words) in the entry's own words (at most ``FAQ_MAX_NEW_WORDS`` of them not in the entry,
      and at least ``FAQ_MIN_SPAN_SHARE`` of its word 4-grams found in the entry: policy is
      quoted, not paraphrased by a small model into "We do not available for a product").

    The pipeline then falls back to the verified passage.
    """
    sources = [p for p in passages if p.doc_id in cited]
    if not sources:
        return ""
    kinds = {p.kind for p in sources}
    if kinds == {"product"}:
        titles = [p.title for p in sources if p.title]
        if titles and max(name_overlap(text, title) for title in titles) < 0.5:
            return "answer names no cited product"
        return fact_gap(text, sources) or _quote_gap(text, sources)
    elif kinds == {"faq"}:
        entry = " ".join(f"{p.title} {source_body(p)}" for p in sources)
        said = CITATION_TAG_RE.sub(" ", text)
        source_words = set(_WORD_RE.findall(entry.lower()))
        words = [
            w for w in _WORD_RE.findall(said.lower()) if len(w) > 2 and w not in _NAME_STOPWORDS
        ]
        if len(words) < FAQ_MIN_WORDS:
            return "answer too short for an FAQ entry"
        new_words = sum(w not in source_words for w in words)
        if new_words / len(words) > FAQ_MAX_NEW_WORDS:
            return "answer strays from the cited FAQ entry"
        if _span_share(said, entry) < FAQ_MIN_SPAN_SHARE:
            return "answer strays from the cited FAQ entry"
    return ""


def source_gap(question: str, cited: Sequence[str], passages: Sequence[Passage]) -> str:
    """Why an answer's cited source is not the one to answer ``question`` from ("" when it is).

    A generator that copies through references (``knowledge.references``) always states its
    source's facts exactly, so the fact it can get wrong is *whose* facts: asked about the
    "Minecraft Comic Maker", the demo generator sometimes answered with the price of the
    "DC Comic Originals" beside it. The answer may cite another document than retrieval's best
    only when the question names that document better (:func:`name_overlap`: asked about "the
    Kids Room by Stupell", the generator answered from the second of three products that share
    those words); and a question about availability is answered only from a product whose data
    states it.
    """
    groups = group_by_document(passages)
    chosen = [g for g in groups if g[0].doc_id in cited]
    if not groups or not chosen:
        return ""
    top = groups[0][0]
    if top.doc_id not in cited and max(
        name_overlap(question, g[0].title) for g in chosen
    ) <= name_overlap(question, top.title):
        return "answer cites a source the question names no better than the best one"
    if asks_availability(question) and not any(
        "in_stock" in p.metadata for g in chosen for p in g if p.kind == "product"
    ):
        return "availability asked, and the cited source does not state it"
    return ""


# What a question asks for → the source fields that answer it (labels as sources show them,
# lower case). Only unambiguous wordings: a question matching none is not checked.
_ASKED_FIELDS: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = (
    (
        re.compile(
            r"\b(?:categor(?:y|ies|ize|ise)|department|section|classify|class(?:ed|ified) as"
            r"|what (?:kind|type|sort|genre) of (?:product|item|thing|toy)"
            r"|product (?:group|family)|part of the catalog(?:ue)?|filed|heading|bucket"
            r"|navigation|which (?:menu|tab|virtual shelf)|would it be under"
            r"|where (?:would|do|can|should) i (?:find|look)|listed (?:under|on))\b",
            re.I,
        ),
        frozenset({"category"}),
    ),
    (
        re.compile(
            r"\b(?:brand|manufacturer|manufactures|company|label|made by"
            r"|who (?:makes|made|produces))\b",
            re.I,
        ),
        frozenset({"brand", "manufacturer"}),
    ),
    (
        re.compile(
            r"\b(?:price|prices|priced|cost|costs|how much|charge|pay|expensive|selling for"
            r"|going for|going rate|run me|asking for|quote)\b",
            re.I,
        ),
        frozenset({"price"}),
    ),
    (
        re.compile(r"\b(?:weigh|weighs|weight|how heavy)\b", re.I),
        frozenset({"item weight", "shipping weight", "weight"}),
    ),
)

#: Fields an answer gives only when the question asks for them: a question that asks for no
#: field at all is not answered with a category or a brand.
_ONLY_WHEN_ASKED = frozenset({"category", "brand", "manufacturer"})

#: The fields that answer each kind of question the asked-field model knows
#: (``knowledge.asked_field``); a spec or stock question is answered by none of them.
_KIND_FIELDS = {
    "price": frozenset({"price"}),
    "brand": frozenset({"brand", "manufacturer"}),
    "category": frozenset({"category"}),
}
_NOT_A_SPEC = frozenset().union(*_KIND_FIELDS.values())


def field_gap(
    question: str, raw: str, labels: Iterable[str] = (), guess: Callable[[], str] | None = None
) -> str:
    """Why a generated answer gives another field than the one asked ("" when it does not).

    With references (``knowledge.references``) the values are exact, so what the generator can get
    wrong is *which* field: asked "what category is the Melissa & Doug puzzle in?", the demo
    generator answered with its brand (3 times in the 2026-12-04 evaluation). When the question
    clearly asks for a category, brand, price or weight and the raw answer references product
    fields, one of them must be the asked one; the pipeline then shows the verified passage
    instead. An FAQ entry's sentences (``[[answer]]``) are not checked: "what is your price
    adjustment policy?" is answered by the policy, not by a price.

    ``labels`` are the field labels the prompt's sources show (``PromptSources.labels``): a
    question that names one as a whole word ("the ASIN of the BuitenSpeel Toys GA194") asks for it
    too (the demo generator answered that one with the category). The wordings recognised are
    those of the generator's training questions (every one of them, a unit test checks). A
    question that asks for no field at all is not answered with a category or a brand: the demo
    generator answered a price question in words it had not seen with the product's category.

    When no wording is recognised, ``guess`` (the asked-field model's :meth:`kind
    <knowledge.asked_field.AskedFieldModel.kind>` of the question, called only then) names the
    kind asked: "what aisle would the X be shelved in?" asks for a category, so an answer giving
    the price is not shown; a spec or stock question is not answered with a price, brand or
    category.
    """
    asked = set().union(*(fields for pattern, fields in _ASKED_FIELDS if pattern.search(question)))
    lowered = question.lower()
    asked |= {
        label
        for label in (" ".join(x.lower().split()) for x in labels)
        if len(label) >= 3
        and label not in (NAME_FIELD, ANSWER_FIELD)
        and re.search(rf"(?<!\w){re.escape(label)}(?!\w)", lowered)
    }
    referenced = {
        " ".join(match.group(2).lower().split())
        for match in REFERENCE_RE.finditer(raw)
        if match.group(2).strip().lower() != NAME_FIELD
    }
    if not asked and guess is not None and referenced - {ANSWER_FIELD}:
        kind = guess()
        asked = set(_KIND_FIELDS.get(kind, ()))
        wrong = sorted(referenced & _NOT_A_SPEC) if kind in ("spec", "stock") else []
        if wrong:
            return f"answer gives {', '.join(wrong)} where {kind} was asked"
    if not asked:
        unasked = sorted(referenced & _ONLY_WHEN_ASKED)
        return f"answer gives {', '.join(unasked)} where no field was asked" if unasked else ""
    # A question that names one label exactly ("the shipping weight") asks for that one.
    named = {f for f in asked if " " in f and f in " ".join(question.lower().split())}
    asked = named or asked
    if not referenced or referenced & asked or ANSWER_FIELD in referenced:
        return ""  # an FAQ entry's sentences answer policy questions ("price adjustment policy")
    return (
        f"answer gives {', '.join(sorted(referenced))} where {', '.join(sorted(asked))} was asked"
    )


def is_refusal(text: str) -> bool:
    """Whether a generated answer is the trained "not in the sources" / "off policy" reply."""
    lowered = text.strip().lower()
    return lowered.startswith(_REFUSAL_PREFIXES)


_AVAILABILITY_RE = re.compile(
    # "stock" as a word: a "stocking stuffer" is no availability question.
    r"\b(?:in[- ]stock|out of stock|sold out|stock(?:ed)?\b|availability"
    r"|backorder(?:ed|s)?\b|on hand\b|on the shelf\b|on (?:your|the) shelves\b"
    r"|(?:is|are|have|has)\b[^?.!]{0,80}\bavailable\b(?!\s+(?:in|for|with)\b)"
    # "are there any X left?", "any units left?", "do you still have the X?"
    r"|(?:any|units?|some)\b[^?.!]{0,80}\bleft\b(?!\s+(?:hand|side|handed)\b)"
    r"|(?:do|does) (?:you|the store|your store) still (?:have|sell|carry|stock)\b"
    r"(?!\s+(?:my|our|me|us)\b)"
    # "can I buy the X today?", "can I order one right now?"
    r"|(?:can|could) (?:i|we) (?:buy|order|get|purchase)\b[^?.!]{0,80}\b(?:today|right now|now)\b)",
    re.IGNORECASE,
)


def asks_availability(question: str) -> bool:
    """Whether the shopper asks if something is in stock ("is the X still available?", "any
    left?", "do you still have the X?", "can I buy it today?"), not which variants exist ("is it
    available in red?") or where something is ("the left side")."""
    return bool(_AVAILABILITY_RE.search(question))


def availability_unknown_text(title: str) -> str:
    """The honest reply when the catalog does not say whether ``title`` is in stock."""
    return (
        f"Our catalog doesn't say whether the {short_name(title)} is in stock right now, so I "
        "can't promise it is. Would you like me to connect you with a human agent who can check?"
    )
