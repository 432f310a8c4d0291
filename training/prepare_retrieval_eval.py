"""Build the project's retrieval test set from the store's catalog and FAQ.

Writes ``docs.csv`` (``id,text,doc_id,title,kind``: the exact passages ``shopbot index`` builds),
``queries.csv`` (``id,text,group``) and ``qrels.csv`` (``query_id,doc_id,relevance``) into
``--out`` (default ``var/eval/retrieval``). Three query groups, all generated deterministically
(seeded per item, so adding a product does not change the other queries):

- ``title_paraphrase``: a shopper naming a product *without* its title: brand, model codes and
  marketing filler dropped, cut to the head noun plus its one or two most distinctive attributes
  (highest idf among the catalog's titles), synonyms swapped in, words reordered, wrapped in a
  shopper template ("do you have a bamboo longboard, the crossbow one?"). A query never contains
  the title verbatim.
- ``attribute``: price / brand / stock / weight / size / age questions about a product named the
  same way ("how much is the jigsaw puzzle with leopards?").
- ``faq_paraphrase``: each FAQ question rewritten by question-stem templates and synonym swaps
  ("Can I cancel my order?" → "is it possible to call off my purchase?"). FAQ entries whose
  question and answer are near-duplicates of the source are judged relevant too (grade 1; the
  source is grade 2): the demo FAQ repeats some entries almost word for word.

Run: ``shopbot prepare-retrieval-eval`` then
``shopbot eval-retrieval --docs var/eval/retrieval/docs.csv --queries var/eval/retrieval/queries.csv
--qrels var/eval/retrieval/qrels.csv``.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from knowledge.bm25 import STOPWORDS, tokenize
from knowledge.passages import ChunkConfig, FaqLike, ProductLike, build_passages
from training.cli_args import parse_args

logger = logging.getLogger(__name__)

GROUP_TITLE = "title_paraphrase"
GROUP_ATTRIBUTE = "attribute"
GROUP_FAQ = "faq_paraphrase"


@dataclass
class PrepareRetrievalEvalArgs:
    """Arguments of ``shopbot prepare-retrieval-eval``."""

    catalog: str = field(
        default="var/store/catalog.jsonl",
        metadata={
            "help": "Catalog: normalised JSON lines, or a raw export with --catalog-mapping."
        },
    )
    catalog_mapping: str | None = field(
        default=None,
        metadata={"help": "Column-mapping preset/file when --catalog is a raw export."},
    )
    faq: str = field(
        default="var/store/faq.jsonl",
        metadata={"help": "FAQ: faq.jsonl, or a raw CSV/JSON FAQ source."},
    )
    out: str = field(default="var/eval/retrieval", metadata={"help": "Output folder."})
    seed: int = field(default=13, metadata={"help": "Seed of the paraphrase choices."})
    attribute_share: float = field(
        default=0.4, metadata={"help": "Fraction of products that also get an attribute question."}
    )
    faq_paraphrases: int = field(default=2, metadata={"help": "Paraphrases per FAQ entry."})

    def __post_init__(self) -> None:
        if not 0.0 <= self.attribute_share <= 1.0:
            raise ValueError(
                "--attribute-share must be between 0 and 1. Currently, attribute_share is "
                f"{self.attribute_share}"
            )
        if self.faq_paraphrases < 0:
            raise ValueError(
                f"--faq-paraphrases must be >= 0. Currently, faq_paraphrases is {self.faq_paraphrases}"
            )


# ------------------------------------------------------------------------------ product names

# Words that describe the listing, not the thing: a shopper leaves them out.
_FILLER = {
    "complete", "new", "official", "original", "authentic", "genuine", "premium", "deluxe",
    "edition", "version", "series", "collection", "bundle", "assortment", "assorted", "brand",
    "toy", "toys", "product", "item", "great", "perfect", "best", "gift", "gifts", "ideal",
    "unique", "classic", "quality", "high", "exclusive", "licensed", "inch", "inches", "pcs",
    "pieces", "piece", "count", "ct", "pack", "pk", "size", "and", "with", "for", "the", "of",
    "a", "an", "in", "on", "by", "to", "from", "&", "+", "x", "kids", "adults", "boys", "girls",
    "ages", "age", "old", "year", "years", "up", "multicolor", "multi", "color", "colors", "pc",
    "lb", "lbs", "oz", "ounce", "ounces", "ft", "cm", "mm", "mph", "ghz", "mah", "scale", "one",
    "at", "or", "is", "it", "you", "your", "my", "our", "all", "style", "styles", "may",
    "vary", "includes", "included", "including", "made", "usa",
}  # fmt: skip
# Shopper words for catalog words (both directions where it reads naturally).
_SYNONYMS = {
    "puzzle": "jigsaw", "jigsaw": "puzzle", "plush": "stuffed animal", "figure": "figurine",
    "costume": "outfit", "car": "vehicle", "vehicle": "car", "truck": "lorry",
    "children": "kids", "child": "kid", "headband": "hair band", "sunglasses": "shades",
    "pillow": "cushion", "cushion": "pillow", "cape": "cloak", "blocks": "bricks",
    "bricks": "blocks", "stickers": "decals", "markers": "felt pens", "glue": "adhesive",
    "necklace": "pendant", "bracelet": "bangle", "large": "big", "big": "large", "small": "little",
    "mini": "tiny", "baby": "infant", "infant": "baby", "women's": "ladies", "womens": "ladies",
    "men's": "mens", "adult": "grown-up", "wooden": "wood", "game": "board game",
    "backpack": "rucksack", "bag": "tote", "bottle": "flask", "hat": "cap", "doll": "dolly",
    "kit": "set", "set": "kit", "statue": "sculpture", "ornament": "decoration",
    "playset": "play set", "dress": "gown", "rc": "remote control", "mug": "cup",
    "book": "storybook", "balloons": "balloon pack", "cards": "card deck", "shirt": "tee",
    "t-shirt": "tee", "sneakers": "trainers", "shoes": "footwear", "jacket": "coat",
    "lamp": "light", "bike": "bicycle", "scooter": "kick scooter", "model": "replica",
}  # fmt: skip
_MODEL_CODE = re.compile(
    r"^(?=.*\d)(?=.*[a-z])[a-z0-9\-/.#]{3,}$|^\d{5,}$|^0\d{3,}$|^#\d+$", re.IGNORECASE
)
_NUMBER = re.compile(r"^[\d.,/x\-]+$")
_BRACKETS = re.compile(r"\([^)]*\)?|\[[^\]]*\]?")
_SEGMENT_SPLIT = re.compile(r"\s+[-–—|]\s+|,\s*|\s*\|\s*|:\s+|;\s*")
_WORD = re.compile(r"[^\W_][\w'’.\-/&]*")

_TITLE_TEMPLATES: tuple[tuple[str, bool], ...] = (
    ("do you have {p}?", True), ("i'm looking for {p}", True), ("looking for {p}", True),
    ("{p}", True), ("any {p} in stock?", False), ("need {p} for my nephew", True),
    ("can you show me {p}", True), ("where can i find {p}?", True), ("do you sell {p}?", True),
    ("i want to buy {p}", True), ("show me {p} please", False), ("got {p}?", True),
    ("searching for {p}", True), ("is there {p} in your shop?", True), ("{p} please", False),
)  # fmt: skip
_ARTICLES = ("a ", "the ", "a ", "")


def _words(text: str) -> list[str]:
    return [w.strip(".'’-/").lower() for w in _WORD.findall(text) if w.strip(".'’-/")]


def _brand_words(product: ProductLike) -> set[str]:
    return set(_words(product.brand))


def title_terms(product: ProductLike) -> tuple[list[str], list[str]]:
    """Return ``(main, extra)`` content words of a title, without brand, codes or filler.

    ``main`` comes from the title's first segment (before commas, dashes, brackets); ``extra`` from
    the rest, as attribute candidates.
    """
    brand = _brand_words(product)
    segments = [s for s in _SEGMENT_SPLIT.split(_BRACKETS.sub(" ", product.name)) if s.strip()]

    def content(segment: str) -> list[str]:
        out = []
        for word in _words(segment):
            if (
                word in brand
                or word in _FILLER
                or word in STOPWORDS
                or _MODEL_CODE.match(word)
                or _NUMBER.match(word)
                or len(word) < 2
            ):
                continue
            out.append(word)
        return out

    main: list[str] = []
    extra: list[str] = []
    for segment in segments:
        words = content(segment)
        if not main and len(words) >= 1:
            main = words
        else:
            extra += words
    return main, [w for w in extra if w not in main]


def title_idf(products: Sequence[ProductLike]) -> dict[str, float]:
    """Return the idf of every title word over the catalog's titles."""
    df = Counter(w for p in products for w in set(_words(p.name)))
    n = max(len(products), 1)
    return {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}


def _synonym(word: str, rng: random.Random, p: float) -> str:
    if word in _SYNONYMS and rng.random() < p:
        return _SYNONYMS[word]
    return word


def shopper_name(product: ProductLike, idf: dict[str, float], rng: random.Random) -> str:
    """Return how a shopper might name ``product``: head noun + 1-2 attributes, reworded.

    The head is the last content word of the title's first segment ("puzzle"); the attributes are
    its most distinctive word (highest idf: "cinderella") and, for two, the word right before the
    head ("jigsaw"). Synonyms and word order vary with ``rng``. Deterministic for a given state.
    """
    main, extra = title_terms(product)
    if not main:
        main = [w for w in _words(product.name) if w not in _FILLER][-2:] or ["item"]
        extra = []
    head = main[-1]
    modifier = main[-2] if len(main) >= 2 else None
    candidates = [w for w in dict.fromkeys(main[:-1] + extra) if w != head]
    if not candidates:
        # Nothing but the head noun is left ("Schylling Veterinarian Kit" → "kit" once the brand
        # and filler are gone... or "Scrabble Junior Game"): a shopper would add the brand.
        candidates = [w for w in _words(product.brand) if w not in _FILLER and w != head]
    ranked = sorted(candidates, key=lambda w: (-idf.get(w, 0.0), w))
    n_attrs = rng.choice((1, 2, 2))
    chosen = ranked[:1]
    if n_attrs == 2 and ranked:
        second = modifier if modifier and modifier != ranked[0] else None
        chosen += [second] if second else ranked[1:2]
    # Keep title order (a modifier stays next to its head), then maybe shuffle.
    order = {w: i for i, w in enumerate(main[:-1] + extra)}
    attrs = sorted(chosen, key=lambda w: order.get(w, 0))
    everything = not extra and len(attrs) == len(main) - 1
    head = _synonym(head, rng, 1.0 if everything else 0.6)
    attrs = [_synonym(w, rng, 0.3) for w in attrs]
    # A synonym can repeat another word ("jigsaw puzzle" → "jigsaw jigsaw"): keep one of each.
    attrs = [w for w in dict.fromkeys(attrs) if w not in head.split()]
    style = rng.random()
    if not attrs:
        return head
    if style < 0.55:
        return " ".join([*attrs, head])
    if style < 0.8:
        if len(attrs) > 1:
            return (
                f"{head} with {' and '.join(attrs)}"
                if rng.random() < 0.5
                else f"{attrs[1]} {head} {attrs[0]}"
            )
        return f"{head} {attrs[0]}" if everything else f"{attrs[0]} {head}"
    return f"{head}, the {' '.join(attrs)} one"


def title_query(product: ProductLike, idf: dict[str, float], rng: random.Random) -> str:
    """A shopper's request naming ``product`` by a paraphrase of its title."""
    template, article = rng.choice(_TITLE_TEMPLATES)
    name = shopper_name(product, idf, rng)
    if article:
        name = rng.choice(_ARTICLES) + name
    return template.format(p=name.strip())


def attribute_query(product: ProductLike, idf: dict[str, float], rng: random.Random) -> str:
    """A question about one attribute (price, brand, stock, weight, size, age) of ``product``."""
    name = "the " + shopper_name(product, idf, rng)
    templates = [
        "how much is {p}?", "what does {p} cost?", "price of {p}?", "how expensive is {p}?",
        "who makes {p}?", "what brand is {p}?", "is {p} in stock?", "do you have {p} available?",
        "can i still order {p}?",
    ]  # fmt: skip
    specs = {k.lower(): v for k, v in product.specs.items()}
    if any("weight" in k for k in specs):
        templates += ["how heavy is {p}?", "what does {p} weigh?"]
    if any("dimension" in k for k in specs):
        templates += ["how big is {p}?", "what are the dimensions of {p}?"]
    if any("age" in k for k in specs):
        templates += ["what age is {p} for?", "is {p} ok for a 5 year old?"]
    return rng.choice(templates).format(p=name)


# ------------------------------------------------------------------------------------ FAQ

_STEM_REWRITES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"^how can i (.+)\?$", ("what's the way to {0}?", "how do i {0}?", "is there a way to {0}?",
                             "i'd like to {0}, how does that work?")),
    (r"^can i (.+)\?$", ("is it possible to {0}?", "am i able to {0}?", "could i {0}?",
                         "is it ok to {0}?", "would it be possible to {0}?")),
    (r"^do you offer (.+)\?$", ("is {0} available?", "do you provide {0}?", "can i get {0}?",
                                "is there {0}?")),
    (r"^do you have (.+)\?$", ("is there {0}?", "have you got {0}?", "do you run {0}?")),
    (r"^what is your (.+) about\?$", ("what's in your {0}?", "what do you send in your {0}?",
                                      "what does your {0} cover?")),
    (r"^what is your (.+) policy\?$", ("how does your {0} policy work?", "tell me about your {0} policy",
                                       "what are the rules for {0}?")),
    (r"^what is your (.+)\?$", ("tell me about your {0}", "what's your {0} like?",
                                "explain your {0}")),
    (r"^what should i do if (.+)\?$", ("{0}, what now?", "what happens if {0}?",
                                       "help, {0}", "{0} - what do i do?")),
    (r"^how long does (.+) take\?$", ("how many days does {0} take?", "how fast is {0}?",
                                      "what's the time frame for {0}?")),
    (r"^are my (.+) secure\?$", ("is my {0} safe with you?", "do you keep my {0} safe?")),
    (r"^what (.+) do you accept\?$", ("which {0} can i use?", "what {0} are ok?")),
)  # fmt: skip
_FAQ_SYNONYMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"\bcreate an account\b", ("sign up", "register", "make an account")),
    (r"\bcreating an account\b", ("signing up", "registering")),
    (r"\bcustomer support\b", ("customer service", "the help desk", "your support team")),
    (r"\bcontact\b", ("get in touch with", "reach")),
    (r"\bcancel\b", ("call off", "cancel")),
    (r"\btrack\b", ("check the status of", "follow")),
    (r"\bpayment methods\b", ("ways to pay", "payment options")),
    (r"\bshipping address\b", ("delivery address",)),
    (r"\bshipping\b", ("delivery", "shipping")),
    (r"\bpackage\b", ("parcel",)),
    (r"\bdamaged\b", ("broken", "damaged")),
    (r"\ba product\b", ("an item", "something")),
    (r"\bproducts\b", ("items",)),
    (r"\bmy order\b", ("my purchase", "what i ordered")),
    (r"\breturn(?= (?:a|an|the|my|it|items?|products?|something)\b)", ("send back", "return")),
    (r"\breceipt\b", ("proof of purchase", "receipt")),
    (r"\bpromo codes\b", ("coupon codes", "discount codes")),
    (r"\bdiscount code\b", ("coupon", "promo code")),
    (r"\bgift wrapping\b", ("gift wrap",)),
    (r"\bwrong item\b", ("the wrong thing", "an item i didn't order")),
    (r"\bexpedited\b", ("express", "faster")),
    (r"\binternational\b", ("overseas", "worldwide")),
    (r"\bby phone\b", ("over the phone", "by calling you")),
    (r"\bchanged my mind\b", ("don't want it anymore", "changed my mind")),
    (r"\bpurchased\b", ("bought",)),
    (r"\bpurchase\b", ("buy",)),
    (r"\brequest\b", ("ask for",)),
    (r"\blisted as\b", ("marked as", "shown as")),
    (r"\bcurrently\b", ("right now", "at the moment")),
    (r"\binstallation services\b", ("installation", "setup help")),
    (r"\bloyalty program\b", ("rewards program", "points scheme")),
    (r"\bpersonal and payment details\b", ("personal data and card details",)),
    (r"\bleave a product review\b", ("write a review", "review an item")),
    (r"\bbulk or wholesale discounts\b", ("discounts for big orders", "wholesale prices")),
)  # fmt: skip


def faq_paraphrase(question: str, rng: random.Random) -> str:
    """Rewrite an FAQ question with stem templates and synonym swaps (quoted terms kept)."""
    text = question.strip().lower().replace("’", "'")
    text = re.sub(r"\s+", " ", text)
    # Each swap leaves a placeholder so a later rule cannot rewrite a replacement again
    # ("my order" → "my purchase" must not become "my buy").
    swapped: list[str] = []
    for pattern, synonyms in _FAQ_SYNONYMS:
        if re.search(pattern, text) and rng.random() < 0.75:
            swapped.append(rng.choice(synonyms))
            text = re.sub(pattern, f"\x00{len(swapped) - 1}\x00", text)
    text = re.sub("\x00(\\d+)\x00", lambda m: swapped[int(m.group(1))], text)
    for pattern, templates in _STEM_REWRITES:
        match = re.match(pattern, text)
        if match:
            return rng.choice(templates).format(match.group(1))
    return text


def faq_duplicates(faqs: Sequence[FaqLike], threshold: float = 0.7) -> dict[str, set[str]]:
    """Return, per FAQ id, the ids of near-duplicate entries (question and answer both similar)."""
    tokens = [(set(tokenize(f.question)), set(tokenize(f.answer))) for f in faqs]

    def jaccard(a: set[str], b: set[str]) -> float:
        return len(a & b) / max(len(a | b), 1)

    dups: dict[str, set[str]] = {f.id: set() for f in faqs}
    for i, fi in enumerate(faqs):
        for j in range(i + 1, len(faqs)):
            q = jaccard(tokens[i][0], tokens[j][0])
            a = jaccard(tokens[i][1], tokens[j][1])
            if q >= threshold and a >= threshold:
                dups[fi.id].add(faqs[j].id)
                dups[faqs[j].id].add(fi.id)
    return dups


# ------------------------------------------------------------------------------------- build


def _rng(seed: int, *parts: str) -> random.Random:
    # String seeds are hashed with sha512 by ``random``: stable across runs and processes.
    return random.Random(f"{seed}:" + ":".join(parts))


def _normalise(text: str) -> str:
    return " ".join(_words(text))


def _non_verbatim(
    product: ProductLike,
    make: Callable[[ProductLike, dict[str, float], random.Random], str],
    idf: dict[str, float],
    seed: int,
    kind: str,
) -> str | None:
    """Return the first of 5 seeded attempts that does not quote the whole title, else None."""
    title = _normalise(product.name)
    for attempt in range(5):
        text = make(product, idf, _rng(seed, kind, product.id, str(attempt)))
        if title not in _normalise(text):
            return text
    return None


def build_eval_set(
    products: Sequence[ProductLike],
    faqs: Sequence[FaqLike],
    *,
    seed: int = 13,
    attribute_share: float = 0.4,
    faq_paraphrases: int = 2,
) -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, Any]]]:
    """Return ``(docs, queries, qrels)`` rows for the catalog and FAQ."""
    passages = build_passages(products, faqs, ChunkConfig())
    docs = [
        {"id": p.id, "text": p.text, "doc_id": p.doc_id, "title": p.title, "kind": p.kind}
        for p in passages
    ]
    idf = title_idf(products)
    queries: list[dict[str, str]] = []
    qrels: list[dict[str, Any]] = []
    skipped = 0
    for product in tqdm(products, desc="product queries", unit="product"):
        text = _non_verbatim(product, title_query, idf, seed, "title")
        if text is None:
            skipped += 1
            continue
        qid = f"t-{product.id}"
        queries.append({"id": qid, "text": text, "group": GROUP_TITLE})
        qrels.append({"query_id": qid, "doc_id": product.id, "relevance": 1})
        if _rng(seed, "attr-pick", product.id).random() < attribute_share:
            text = _non_verbatim(product, attribute_query, idf, seed, "attr")
            if text is not None:
                qid = f"a-{product.id}"
                queries.append({"id": qid, "text": text, "group": GROUP_ATTRIBUTE})
                qrels.append({"query_id": qid, "doc_id": product.id, "relevance": 1})
    if skipped:
        logger.info(
            "%d products have titles too short to name without quoting them (e.g. one proper "
            "noun); they get no product query",
            skipped,
        )
    duplicates = faq_duplicates(faqs)
    for entry in faqs:
        seen = {entry.question.strip().lower()}
        for n in range(faq_paraphrases):
            text = ""
            for attempt in range(10):
                text = faq_paraphrase(
                    entry.question, _rng(seed, "faq", entry.id, str(n), str(attempt))
                )
                if text not in seen:
                    break
            seen.add(text)
            qid = f"f-{entry.id}-{n}"
            queries.append({"id": qid, "text": text, "group": GROUP_FAQ})
            qrels.append({"query_id": qid, "doc_id": entry.id, "relevance": 2})
            qrels += [
                {"query_id": qid, "doc_id": dup, "relevance": 1}
                for dup in sorted(duplicates[entry.id])
            ]
    return docs, queries, qrels


def _write_csv(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _load_products(args: PrepareRetrievalEvalArgs) -> list[Any]:
    from knowledge.catalog.jsonl import read_catalog_jsonl
    from knowledge.catalog.load import load_catalog
    from knowledge.catalog.mappings import get_mapping

    if args.catalog_mapping:
        return list(load_catalog(args.catalog, get_mapping(args.catalog_mapping)).products)
    return list(read_catalog_jsonl(args.catalog))


def _load_faqs(path: str) -> list[Any]:
    from knowledge.faq import load_faq, read_faq_jsonl

    return list(read_faq_jsonl(path) if path.endswith(".jsonl") else load_faq(path))


def main(argv: Sequence[str] | None = None) -> int:
    """Write docs.csv, queries.csv and qrels.csv; returns 0 on success, 1 on missing input."""
    args = parse_args(PrepareRetrievalEvalArgs, argv, "prepare-retrieval-eval", __doc__)
    logger.info("prepare_retrieval_eval configuration: %s", json.dumps(asdict(args)))
    try:
        products = _load_products(args)
        faqs = _load_faqs(args.faq) if args.faq else []
    except (FileNotFoundError, ValueError) as exc:
        logger.error("%s", exc)
        return 1
    docs, queries, qrels = build_eval_set(
        products,
        faqs,
        seed=args.seed,
        attribute_share=args.attribute_share,
        faq_paraphrases=args.faq_paraphrases,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(out / "docs.csv", docs, ("id", "text", "doc_id", "title", "kind"))
    _write_csv(out / "queries.csv", queries, ("id", "text", "group"))
    _write_csv(out / "qrels.csv", qrels, ("query_id", "doc_id", "relevance"))
    groups = Counter(q["group"] for q in queries)
    logger.info(
        "Wrote %d passages, %d queries (%s), %d qrels to %s",
        len(docs),
        len(queries),
        ", ".join(f"{g}: {n}" for g, n in sorted(groups.items())),
        len(qrels),
        out,
    )
    return 0


if __name__ == "__main__":
    import sys

    from core.logging_setup import configure_logging

    configure_logging()
    sys.exit(main())
