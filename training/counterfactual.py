"""Counterfactual copies of grounded fine-tuning examples.

A small generator fine-tuned on the catalog sees each product's facts a few times and can lower its
loss by memorising them ("the Rayne longboard costs $249.95") instead of reading its sources. On a
product it never saw, a memorising model invents a price. A counterfactual copy asks the same
question about the same passages with the product renamed (its title words swapped for words
from other titles) and new numbers (prices, stock counts), changed consistently in the question,
the sources and the answer. No memorised fact is right for the copy: the only way to answer it is
to copy from the sources, which is what the generator must do on products it has never seen.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace

from knowledge.catalog.price import parse_price
from knowledge.prompt import format_price
from knowledge.references import REFERENCE_RE
from knowledge.types import Passage
from training.generator_data.records import QAExample

PRODUCT_FACT_KINDS = frozenset({"price", "brand", "category", "spec", "stock", "describe"})
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z']{2,}")
_MONEY_RE = re.compile(r"\$\d[\d,]*\.\d{2}")
_AVAILABLE_RE = re.compile(r"\((\d+) available\)")
_KEEP = {
    "the", "and", "for", "with", "from", "set", "kit", "pack", "game", "toy", "toys", "inch",
    "inches", "piece", "pieces", "brand", "price", "category", "availability", "stock", "specs",
}  # fmt: skip


def title_word_pool(passages: Sequence[Passage]) -> list[str]:
    """Distinct words of product titles (the names counterfactual products are made of)."""
    words = {
        w
        for p in passages
        if p.kind == "product"
        for w in _WORD_RE.findall(p.title)
        if w.lower() not in _KEEP
    }
    return sorted(words)


def _match_case(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word.lower()


class Substitution:
    """One consistent renaming: title words → other words, prices and stock counts → new ones."""

    def __init__(self, title: str, texts: Sequence[str], rng: random.Random, pool: Sequence[str]):
        names = [w for w in dict.fromkeys(_WORD_RE.findall(title)) if w.lower() not in _KEEP]
        # One draw per name word; a word that drew itself keeps its name.
        drawn = ((w.lower(), rng.choice(pool)) for w in names)
        self.words = {k: v for k, v in drawn if k != v.lower()}
        joined = "\n".join(texts)
        self.money: dict[str, str] = {}
        for amount in dict.fromkeys(_MONEY_RE.findall(joined)):
            value = parse_price(amount) * rng.uniform(0.3, 3.0)
            self.money[amount] = format_price(max(0.5, value))
        self.counts = {n: str(rng.randint(1, 80)) for n in _AVAILABLE_RE.findall(joined)}
        self._word_re = (
            re.compile(r"\b(" + "|".join(map(re.escape, self.words)) + r")\b", re.IGNORECASE)
            if self.words
            else None
        )

    def __bool__(self) -> bool:
        return bool(self.words or self.money or self.counts)

    def new_price(self, price: float) -> float | None:
        """The substituted value of a metadata price (None when unchanged)."""
        new = self.money.get(format_price(price))
        return parse_price(new) if new else None

    def __call__(self, text: str) -> str:
        if self._word_re is not None:
            text = self._word_re.sub(
                lambda m: _match_case(m.group(0), self.words[m.group(0).lower()]), text
            )
        if self.money:
            text = _MONEY_RE.sub(lambda m: self.money.get(m.group(0), m.group(0)), text)
        if self.counts:
            text = _AVAILABLE_RE.sub(
                lambda m: f"({self.counts.get(m.group(1), m.group(1))} available)", text
            )
        return text


def counterfactual_copies(
    examples: Sequence[QAExample],
    passages: dict[str, Passage],
    rng: random.Random,
    fraction: float,
) -> tuple[list[QAExample], dict[str, Passage]]:
    """Return counterfactual copies of a ``fraction`` of the product-fact examples.

    Args:
        examples: Fine-tuning examples (only product facts are copied; FAQ answers, refusals and
            injection examples are not).
        passages: Every passage by id (not modified).
        rng: Seeded random generator.
        fraction: Share of product-fact examples that get one copy.

    Returns:
        The new examples, and their renamed passages by (new) id. The answered document's
        passages get new ids and a new ``doc_id``; the other passages in the prompt are shared.
    """
    pool = title_word_pool(list(passages.values()))
    new_examples: list[QAExample] = []
    new_passages: dict[str, Passage] = {}
    for n, ex in enumerate(examples):
        if ex.kind not in PRODUCT_FACT_KINDS or not ex.doc_id or rng.random() >= fraction:
            continue
        target = [passages[pid] for pid in ex.passage_ids if passages[pid].doc_id == ex.doc_id]
        if not target or target[0].kind != "product":
            continue
        sub = Substitution(target[0].title, [p.text for p in target], rng, pool)
        if not sub:
            continue
        doc_id = f"{ex.doc_id}~cf{n}"
        ids: list[str] = []
        for pid in ex.passage_ids:
            passage = passages[pid]
            if passage.doc_id != ex.doc_id:
                ids.append(pid)
                continue
            metadata = dict(passage.metadata)
            if isinstance(metadata.get("price"), (int, float)):
                new_price = sub.new_price(float(metadata["price"]))
                if new_price is not None:
                    metadata["price"] = new_price
            new_id = f"{pid}~cf{n}"
            new_passages[new_id] = replace(
                passage,
                id=new_id,
                doc_id=doc_id,
                text=sub(passage.text),
                title=sub(passage.title),
                metadata=metadata,
            )
            ids.append(new_id)
        new_examples.append(
            replace(
                ex,
                id=f"{ex.id}~cf",
                question=sub(ex.question),
                answer=_outside_references(sub, ex.answer),
                expected=sub(ex.expected),
                passage_ids=ids,
                doc_id=doc_id,
            )
        )
    return new_examples, new_passages


def _outside_references(sub: Substitution, answer: str) -> str:
    """``answer`` renamed except inside its references (``[[name]]`` stays a field name)."""
    out: list[str] = []
    end = 0
    for match in REFERENCE_RE.finditer(answer):
        out += [sub(answer[end : match.start()]), match.group(0)]
        end = match.end()
    return "".join(out) + sub(answer[end:])
