"""Checks that every fact in a generated answer is supported by the passages it was generated from.

Facts extracted from the answer:

- prices and amounts (``$28.91``, ``28.91 dollars``, ``USD 28.91``): the same value must appear as a
  money amount in a source (``$28.91`` == ``28.91 dollars`` == ``USD 28.910``; ``1,000`` ==
  ``1000``); a bare number is no evidence of a price (``$12`` is not ``(12 available)``);
- percentages (``100%``, ``20 percent``): the same number followed by ``%``/``percent`` in a source;
- numbers with a unit (``30 days``, ``10.7 pounds``): the number followed by the same unit;
- any other number, and codes mixing letters and digits (SKUs, model numbers): present in a source;
- product names (runs of capitalised words): their words must occur in the sources;
- citation tags (``[S1]`` — the source's position in the prompt — or ``[P:18018b6b]``,
  ``[FAQ:faq-3]``): must name a document that was in the prompt, and when an answer cites, its
  facts must come from the cited documents;
- policy terms (``full refund``, ``free shipping``, ``warranty``...): present in a source;
- promises (``discount``, ``coupon``, ``for free``, ``compensation``...): present in a store-policy
  (FAQ) source. A product description is no authority for a promise, and sentences that try to
  instruct the assistant are removed from every source before it counts as evidence.

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

from knowledge.prompt import CITATION_TAG_RE, evidence_text, normalize_tag, tag_index
from knowledge.types import Passage

logger = logging.getLogger(__name__)

_NUM = r"\d[\d,]*(?:\.\d+)?|\.\d+"
_MONEY_RE = re.compile(
    rf"(?:US\s?\$|\$|USD\s?|€|£|EUR\s?|GBP\s?)\s?(?P<a>{_NUM})"
    rf"|(?P<b>{_NUM})\s?(?:dollars?|usd|bucks|euros?|eur|pounds sterling)\b",
    re.IGNORECASE,
)
_PERCENT_RE = re.compile(rf"(?P<n>{_NUM})\s?(?:%|per\s?cent\b)", re.IGNORECASE)
_UNITS = {
    "day": "day",
    "days": "day",
    "business day": "day",
    "business days": "day",
    "hour": "hour",
    "hours": "hour",
    "hr": "hour",
    "hrs": "hour",
    "week": "week",
    "weeks": "week",
    "month": "month",
    "months": "month",
    "year": "year",
    "years": "year",
    "minute": "minute",
    "minutes": "minute",
    "pound": "pound",
    "pounds": "pound",
    "lb": "pound",
    "lbs": "pound",
    "ounce": "ounce",
    "ounces": "ounce",
    "oz": "ounce",
    "inch": "inch",
    "inches": "inch",
    "cm": "cm",
    "mm": "mm",
    "kg": "kg",
    "ml": "ml",
    "piece": "piece",
    "pieces": "piece",
    "pc": "piece",
    "pcs": "piece",
    "pack": "pack",
    "packs": "pack",
    "items": "item",
    "item": "item",
    "times": "times",
}
_UNIT_ALT = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_UNIT_RE = re.compile(rf"(?P<n>{_NUM})\s?-?\s?(?P<u>{_UNIT_ALT})\b", re.IGNORECASE)
_CODE_RE = re.compile(
    r"\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9-]{2,}\b"
)
_PLAIN_NUM_RE = re.compile(rf"(?<![\w])(?P<n>{_NUM})(?![\w])")
_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "hundred": 100,
}
_NUMBER_WORD_RE = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)

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


def _to_number(raw: str) -> float | None:
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        return None


def _words_to_digits(text: str) -> str:
    return _NUMBER_WORD_RE.sub(lambda m: str(_NUMBER_WORDS[m.group(1).lower()]), text)


def _same(a: float, b: float) -> bool:
    return abs(a - b) < 0.005


@dataclass
class _Evidence:
    """Numbers, units, codes and words found in the sources, indexed for lookups."""

    text: str
    policy_text: str
    numbers: list[float]
    amounts: list[float]
    percents: list[float]
    units: list[tuple[float, str]]
    words: set[str]

    @classmethod
    def from_passages(cls, passages: Sequence[Passage]) -> _Evidence:
        texts = [_words_to_digits(CITATION_TAG_RE.sub(" ", evidence_text(p))) for p in passages]
        policy = [t for p, t in zip(passages, texts, strict=True) if p.kind == "faq"]
        text = "\n".join(texts)
        # Numbers may be glued to a following unit ("12.8ounces") or sit in dimensions
        # ("10.3x3.4x0.8inches"), but digits inside codes ("B07KMVJJK7") are no evidence of a number.
        numbers = [
            n
            for m in re.finditer(rf"(?<![A-WYZa-wyz0-9.,])({_NUM})", text)
            if (n := _to_number(m.group(1).rstrip(",."))) is not None
        ]
        # A price must be a money amount of the sources: "$1" is not supported by "(1 available)".
        amounts = [
            n
            for m in _MONEY_RE.finditer(text)
            if (n := _to_number((m["a"] or m["b"]).rstrip(",."))) is not None
        ]
        percents = [n for m in _PERCENT_RE.finditer(text) if (n := _to_number(m["n"])) is not None]
        units = [
            (n, _UNITS[m["u"].lower()])
            for m in _UNIT_RE.finditer(text)
            if (n := _to_number(m["n"])) is not None
        ]
        words = {w.lower().strip(".-'") for w in _WORD_RE.findall(text)}
        return cls(text, "\n".join(policy), numbers, amounts, percents, units, words)

    def has_number(self, value: float) -> bool:
        return any(_same(value, n) for n in self.numbers)

    def has_amount(self, value: float) -> bool:
        return any(_same(value, n) for n in self.amounts)

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
        body = _words_to_digits(CITATION_TAG_RE.sub(" ", answer))

        consumed: list[tuple[int, int]] = []

        def claim(span: tuple[int, int]) -> None:
            consumed.append(span)

        def is_consumed(start: int, end: int) -> bool:
            return any(s <= start and end <= e for s, e in consumed)

        for m in _MONEY_RE.finditer(body):
            raw = m["a"] or m["b"]
            value = _to_number(raw)
            facts.append(f"price {m.group(0).strip()}")
            if value is None or not evidence.has_amount(value):
                unsupported.append(f"price {m.group(0).strip()}")
            claim(m.span())
        for m in _PERCENT_RE.finditer(body):
            value = _to_number(m["n"])
            facts.append(f"percentage {m.group(0).strip()}")
            if value is None or not any(_same(value, p) for p in evidence.percents):
                unsupported.append(f"percentage {m.group(0).strip()}")
            claim(m.span())
        for m in _UNIT_RE.finditer(body):
            if is_consumed(*m.span()):
                continue
            value = _to_number(m["n"])
            unit = _UNITS[m["u"].lower()]
            facts.append(f"quantity {m.group(0).strip()}")
            if value is None or not any(_same(value, n) and unit == u for n, u in evidence.units):
                # "13.4 ounces" in the answer is fine when the source glues it ("13.4ounces").
                glued = re.search(
                    rf"(?<![\d.]){re.escape(m['n'])}\s?-?\s?{re.escape(m['u'])}",
                    evidence.text,
                    re.I,
                )
                if not glued:
                    unsupported.append(f"quantity {m.group(0).strip()}")
            claim(m.span())
        for m in _CODE_RE.finditer(body):
            if is_consumed(*m.span()):
                continue
            code = m.group(0)
            facts.append(f"code {code}")
            if code.lower() not in evidence.text.lower():
                unsupported.append(f"code {code}")
            claim(m.span())
        for m in _PLAIN_NUM_RE.finditer(body):
            if is_consumed(*m.span()):
                continue
            value = _to_number(m["n"])
            facts.append(f"number {m['n']}")
            if value is None or not evidence.has_number(value):
                unsupported.append(f"number {m['n']}")

        for pattern in _POLICY_RES:
            for m in pattern.finditer(body):
                facts.append(f"policy '{m.group(0)}'")
                if not pattern.search(evidence.text):
                    unsupported.append(f"policy term '{m.group(0)}'")
        for pattern in _PROMISE_RES:
            for m in pattern.finditer(body):
                facts.append(f"promise '{m.group(0)}'")
                if not pattern.search(evidence.policy_text):
                    unsupported.append(f"promise '{m.group(0)}' (not in store policy)")

        for name in self._names(body):
            facts.append(f"name '{name}'")
            words = [w for w in _WORD_RE.findall(name) if w.lower() not in _GENERIC_CAPS]
            if not words:
                continue
            found = sum(evidence.has_word(w) for w in words)
            if found / len(words) < self.name_match:
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
