"""Checks that every fact in a generated answer is supported by the passages it was generated from.

The evidence is the cited passages (all the prompt's passages when the answer cites none), as the
generator saw them, with instruction-like sentences removed. What is checked in the answer:

- every number, in any spelling, read by :mod:`knowledge.numbers` — the same reader reads the
  sources, so a value is supported when a source states the same canonical value in any spelling
  ("thirty days" == "30 days" == "30-day", "$1,000" == "1000 dollars", "twenty-five percent" ==
  "25%", "March 14, 2026" == "2026-03-14" == "3/14/2026"):

  - digits and number words, 13-19 and compounds included ("twenty-five", "one hundred and
    five", "two thousand", "a dozen"), fractions ("1/2", "½", "three quarters", "one and a half"):
    the same value written anywhere in a source (a bare number claims no more than that);
  - prices: the same amount *and currency* as a money amount of a source (``$12`` is not
    "(12 available)", ``C$28.91`` is not ``$28.91``; ``$`` and "dollars" are US dollars; ``€``,
    ``£``, ``¥``, ``₹``/"Rs.", ``C$``/CAD, ``A$``/AUD... as :mod:`knowledge.numbers` lists);
  - percentages: the same percentage; numbers with a unit: the same number of the same unit,
    spelled any way ("10 lbs" == "10 pounds"; "13.4 pounds" is not "13.4 ounces", "30 business
    days" is not "30 days"; no conversions), "an hour" is 1 hour;
  - ranges and dimensions ("10-15 days", "between 10 and 15 days", "$10-15", "3 x 5 inches"):
    every endpoint, with the range's unit or currency;
  - ordinals ("3rd", "twenty-first"): the same ordinal, or that day of a date;
  - dates: a date of a source agreeing on every part the answer names ("March 14" is supported
    by "2026-03-14"; "March 14, 2025" is not); times of day ("9am" == "09:00"): the same time;

- codes mixing letters and digits (SKUs, model numbers: ``GW-142``, ``3D``), and any other token
  with a digit that no reading above accounts for: the whole token, verbatim, in a source;
- product and brand names (runs of capitalised words; a single one not starting a sentence):
  ``name_match`` of their words in the sources (close spellings allowed); month names and
  currency words inside a date or a price are checked as that date or price;
- citation tags (``[S1]`` — the source's position in the prompt — or ``[P:18018b6b]``,
  ``[FAQ:faq-3]``): must name a document that was in the prompt;
- policy terms (:data:`POLICY_TERMS`: "full refund", "free shipping", "warranty"...) and
  availability ("in stock", "out of stock", "sold out"...): in a source;
- promises (:data:`PROMISE_TERMS`: "discount", "coupon", "for free", "100%", "compensation"...): in
  a store-policy (FAQ) source — a product description is no authority for a promise. Both lists are
  matched with number words read as digits ("one hundred percent" is "100 percent");
- generated text only: degenerate repetition (a ``max_repeat_ngram``-word sequence said twice).

Not checked: weekday names other than as capitalised names, vague quantities ("a few", "several",
"once"), lower-case product names, and claims without a number, name, code or listed term.

Anything not found is reported in ``Verification.unsupported``; the answer pipeline then never
shows the generated text. That is the guarantee: no unsupported price or number reaches a shopper.
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from knowledge.numbers import QuantityIndex, Reading, read
from knowledge.prompt import CITATION_TAG_RE, evidence_text, normalize_tag, tag_index
from knowledge.types import Passage

logger = logging.getLogger(__name__)

_CODE_RE = re.compile(r"\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9-]+\b")
_DIGITS_RE = re.compile(r"\d+")
_TOKEN_RE = re.compile(r"\S*\d\S*")
_LABELS = {
    "money": "price",
    "percent": "percentage",
    "unit": "quantity",
    "number": "number",
    "fraction": "fraction",
    "ordinal": "ordinal",
    "date": "date",
    "time": "time",
}

# Policy terms: must occur in some source.
POLICY_TERMS: tuple[str, ...] = (
    r"full refund",
    r"refunds?",
    r"free shipping",
    r"free returns?",
    r"exchanges?",
    r"warrant(?:y|ies)",
    r"guarantee[ds]?",
    r"price match(?:ing)?",
    r"price adjustments?",
    r"store credit",
    r"gift cards?",
    r"money[- ]back",
    r"express shipping",
    r"expedited shipping",
    r"international shipping",
    r"cash on delivery",
    r"loyalty program",
    r"restocking fee",
    # Availability: a catalog without stock data says nothing, so "in stock" needs a source too.
    r"in[- ]stock",
    r"out of stock",
    r"sold out",
    r"back[- ]?order(?:ed|s)?",
    r"pre-?orders?",
)
# Promises: must occur in a store-policy (FAQ) source; product text is no authority for them.
PROMISE_TERMS: tuple[str, ...] = (
    r"discount(?:s|ed)?",
    r"coupons?",
    r"promo(?:tional)? codes?",
    r"vouchers?",
    r"% off|percent off",
    r"for free",
    r"free of charge",
    r"at no (?:extra )?(?:cost|charge)",
    r"no charge",
    r"free (?:gift|item|product|upgrade|replacement|order)s?",
    r"complimentary",
    r"compensat(?:e|ion)",
    r"reimburse(?:d|ment)?",
    r"cash ?back",
    r"waive[ds]?",
    r"on the house",
    r"100 ?%|100 percent",
)
_POLICY_RES = [re.compile(rf"\b{t}", re.IGNORECASE) for t in POLICY_TERMS]
_PROMISE_RES = [re.compile(rf"(?:\b|(?<=\d)){t}", re.IGNORECASE) for t in PROMISE_TERMS]

# Capitalised words that start sentences or are generic, so they never form a "product name".
_GENERIC_CAPS = {
    "the",
    "a",
    "an",
    "yes",
    "no",
    "sorry",
    "i",
    "we",
    "our",
    "you",
    "your",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "would",
    "please",
    "unfortunately",
    "here",
    "there",
    "price",
    "brand",
    "category",
    "in",
    "stock",
    "sources",
    "source",
    "if",
    "for",
    "to",
    "and",
    "of",
    "with",
    "by",
    "on",
    "at",
}
_CURRENCY_CODES = {"USD", "EUR", "GBP", "US"}
_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'&+.-]*")


@dataclass
class Verification:
    """The verifier's verdict on one answer.

    Args:
        supported: True when every extracted fact is supported by the sources.
        unsupported: Human-readable descriptions of the facts that are not (``"price $19.99"``).
        cited: Ids (``doc_id``) of the prompt's documents the answer cites, in citation order.
        facts: Every fact that was checked (for logs and the console).
    """

    supported: bool
    unsupported: list[str] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)


def _inside(span: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    return any(s <= span[0] and span[1] <= e for s, e in spans)


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with ``spans`` replaced by spaces (positions kept)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


@functools.lru_cache(maxsize=4096)
def _read_source(text: str) -> Reading:
    """The numbers of one passage's text, cached: popular passages recur across questions."""
    return read(text)


@dataclass
class _Evidence:
    """Quantities, codes and words found in the sources, indexed for lookups."""

    text: str
    digits: str  # the text with number words in digits (for the policy and promise lists)
    policy_digits: str  # the same, of the store-policy (FAQ) sources only
    quantities: QuantityIndex
    words: set[str]

    @classmethod
    def from_passages(cls, passages: Sequence[Passage]) -> _Evidence:
        texts = [CITATION_TAG_RE.sub(" ", evidence_text(p)) for p in passages]
        text = "\n".join(texts)
        readings = [_read_source(t) for t in texts]
        quantities = QuantityIndex(m for r in readings for m in r.mentions)
        words = {w.lower().strip(".-'") for w in _WORD_RE.findall(text)}
        digits = [r.digits for r in readings]
        policy_digits = [d for p, d in zip(passages, digits, strict=True) if p.kind == "faq"]
        return cls(text, "\n".join(digits), "\n".join(policy_digits), quantities, words)

    def has_word(self, word: str) -> bool:
        word = word.lower().strip(".-'")
        if not word or word in self.words:
            return True
        return bool(difflib.get_close_matches(word, self.words, n=1, cutoff=0.85))


def _repeated_ngram(text: str, n: int) -> str:
    """The first word n-gram occurring twice in ``text`` ("" when none, or ``n`` is 0)."""
    if n <= 0:
        return ""
    words = re.findall(r"\$?[a-z0-9]+(?:[.,]\d+)*", text.lower())
    seen: set[tuple[str, ...]] = set()
    for i in range(len(words) - n + 1):
        gram = tuple(words[i : i + n])
        if gram in seen:
            return " ".join(gram)
        seen.add(gram)
    return ""


@functools.lru_cache(maxsize=256)
def _evidence(passages: tuple[Passage, ...]) -> _Evidence:
    """Evidence of a set of passages, cached: streaming verifies each sentence against the same
    passages, and popular passages recur across questions."""
    return _Evidence.from_passages(passages)


class Verifier:
    """Extracts facts from an answer and checks each against the retrieved passages.

    Args:
        name_match: Share of a capitalised name's words that must occur in the sources.
        max_repeat_ngram: An answer repeating any sequence of this many words is rejected as
            degenerate (0 disables the check).
    """

    def __init__(self, name_match: float = 0.8, max_repeat_ngram: int = 4) -> None:
        if not 0.0 < name_match <= 1.0:
            raise ValueError(
                f"name_match must be in (0, 1]. Currently, name_match is {name_match}; use e.g. 0.8."
            )
        self.name_match = name_match
        self.max_repeat_ngram = max_repeat_ngram

    def verify(
        self, answer: str, passages: Sequence[Passage], generated: bool = True
    ) -> Verification:
        """Verify ``answer`` against ``passages`` (the passages that were in the prompt).

        Args:
            answer: The generated answer (raw, with citation tags).
            passages: The passages shown to the generator.
            generated: Also reject degenerate repetition (generated text); False for a rendering
                of the catalog's own words, which may repeat a title.

        Returns:
            The verdict, listing unsupported facts.
        """
        unsupported: list[str] = []
        facts: list[str] = []
        index = tag_index(passages)
        cited: list[str] = []
        for match in CITATION_TAG_RE.finditer(answer):
            tag = re.sub(r"\s+", "", match.group(1))
            facts.append(f"citation [{tag}]")
            group = index.get(normalize_tag(tag))
            if group is None:
                unsupported.append(f"citation [{tag}] (not a retrieved passage)")
            elif group[0].doc_id not in cited:
                cited.append(group[0].doc_id)
        # A fact must come from the documents the answer cites ("$99.95 [S1]" is wrong when $99.95
        # is the price of the product in S2); an answer without citations may use any passage.
        cited_passages = [p for p in passages if p.doc_id in cited]
        evidence = _evidence(tuple(cited_passages or passages))
        body = CITATION_TAG_RE.sub(" ", answer)

        # Every number, in any spelling, read the same way in the answer and in the sources.
        reading = read(body)
        found = reading.mentions
        for mention in found:
            fact = f"{_LABELS[mention.kind]} {mention.text}"
            facts.append(fact)
            if not all(evidence.quantities.supports(q) for q in mention.quantities):
                unsupported.append(fact)
        # Codes (SKUs, model numbers) and any digits no reading above accounts for: verbatim.
        spans = [(m.start, m.end) for m in found]
        for m in _CODE_RE.finditer(body):
            if _inside(m.span(), spans):
                continue
            facts.append(f"code {m.group(0)}")
            if m.group(0).lower() not in evidence.text.lower():
                unsupported.append(f"code {m.group(0)}")
            spans.append(m.span())
        for m in _TOKEN_RE.finditer(body):
            if all(_inside((m.start() + d.start(), m.start() + d.end()), spans)
                   for d in _DIGITS_RE.finditer(m.group(0))):  # fmt: skip
                continue
            token = m.group(0).strip(",.;:!?()\"'")
            facts.append(f"number {token}")
            if token.lower() not in evidence.text.lower():
                unsupported.append(f"number {token}")

        digits = reading.digits  # "one hundred percent" is the promise "100 percent"
        for pattern in _POLICY_RES:
            for m in pattern.finditer(digits):
                facts.append(f"policy '{m.group(0)}'")
                if not pattern.search(evidence.digits):
                    unsupported.append(f"policy term '{m.group(0)}'")
        for pattern in _PROMISE_RES:
            for m in pattern.finditer(digits):
                facts.append(f"promise '{m.group(0)}'")
                if not pattern.search(evidence.policy_digits):
                    unsupported.append(f"promise '{m.group(0)}' (not in store policy)")

        # Names: numbers other than bare ones are checked above ("March" of a date, "C" of "C$5").
        named = _blank(body, [(m.start, m.end) for m in found if m.kind != "number"])
        for name in self._names(named):
            facts.append(f"name '{name}'")
            words = [w for w in _WORD_RE.findall(name) if w.lower() not in _GENERIC_CAPS]
            if not words:
                continue
            known = sum(evidence.has_word(w) for w in words)
            if known / len(words) < self.name_match:
                unsupported.append(f"name '{name}'")

        repeated = _repeated_ngram(body, self.max_repeat_ngram) if generated else ""
        if repeated:
            # Degenerate generation ("the top right corner of the top right corner..."): no fact
            # may be wrong, but it is no answer either.
            unsupported.append(f"repetition '{repeated}'")

        verdict = Verification(
            supported=not unsupported, unsupported=unsupported, cited=cited, facts=facts
        )
        if unsupported:
            logger.info("Verifier rejected answer %r: %s", answer[:200], unsupported)
        return verdict

    @staticmethod
    def _names(text: str) -> list[str]:
        """Return candidate product or brand names: runs of capitalised words (numbers may
        continue a run: "Crossbow 41"). A single capitalised word that starts a sentence is not
        a name; a single one elsewhere is ("The price of the Woodstock")."""
        names: list[str] = []
        run: list[str] = []
        run_starts_sentence = False
        sentence_start = True

        def close() -> None:
            if len(run) >= 2 or (run and not run_starts_sentence):
                names.append(" ".join(run))
            run.clear()

        for token in re.findall(r"\S+", text):
            word = token.strip(",.;:!?()\"'—–-")
            capitalised = bool(word) and (word[0].isupper() or (bool(run) and word[0].isdigit()))
            if capitalised and word.lower() not in _GENERIC_CAPS and word not in _CURRENCY_CODES:
                if not run:
                    run_starts_sentence = sentence_start
                run.append(word)
            else:
                close()
            if token[-1:] in ",.;:!?)":
                close()
            sentence_start = token[-1:] in ".!?"
        close()
        return names
