"""Metrics of generated product descriptions: ROUGE-L, distinct-n and attribute coverage.

- :func:`rouge_l` — ROUGE-L F1 (Lin 2004): the longest common subsequence of lower-cased word
  tokens, as precision over the candidate and recall over the reference (β = 1);
- :func:`distinct_n` — distinct-n (Li et al. 2016): unique n-grams over all n-grams of a set of
  texts, corpus-level (a system that writes the same sentence for every product scores low);
- :func:`product_attributes` / :func:`attribute_coverage` — the share of a product's attributes
  (name, brand, category leaf, price, each spec value shown in its attribute passage except
  identifiers and shipping terms, ``knowledge.describe.NON_DESCRIPTIVE_SPECS``) that a description mentions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from knowledge.catalog.model import Product
from knowledge.describe import attribute_specs
from knowledge.prompt import format_price, sanitize, short_name

_TOKEN_RE = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits; ``$28.91`` → ``28``, ``91``)."""
    return _TOKEN_RE.findall(text.lower())


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token sequences (O(len(a)·len(b)) time,
    O(len(b)) memory)."""
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 of ``candidate`` against ``reference`` (0.0 when either has no tokens)."""
    cand, ref = tokens(candidate), tokens(reference)
    lcs = lcs_length(cand, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(cand), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def distinct_n(texts: Sequence[str], n: int = 2) -> float:
    """Unique n-grams / all n-grams over ``texts`` (n-grams do not cross texts; 0.0 when none)."""
    if n <= 0:
        raise ValueError(f"n must be greater than 0. Currently, n is {n}.")
    grams: list[tuple[str, ...]] = []
    for text in texts:
        words = tokens(text)
        grams += [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def product_attributes(product: Product) -> dict[str, str]:
    """The attributes a description of ``product`` can mention: label → value as the attribute
    passage shows it (``name`` is the first words of the title that shoppers use)."""
    out: dict[str, str] = {"name": short_name(sanitize(product.name), max_words=3)}
    if product.brand:
        out["brand"] = sanitize(product.brand)
    if product.category:
        out["category"] = sanitize(product.category[-1])
    out["price"] = format_price(product.price, product.currency)
    for key, value in attribute_specs(product).items():
        out[f"spec:{key}"] = value.rstrip("…").strip()
    return out


def mentions(text: str, value: str) -> bool:
    """Whether ``text`` states ``value``: its tokens appear in order as a contiguous run."""
    want, got = tokens(value), tokens(text)
    if not want:
        return False
    n = len(want)
    return any(got[i : i + n] == want for i in range(len(got) - n + 1))


def attribute_coverage(text: str, attributes: dict[str, str]) -> float:
    """Share of ``attributes`` whose value ``text`` mentions (0.0 for no attributes)."""
    if not attributes:
        return 0.0
    return sum(mentions(text, v) for v in attributes.values()) / len(attributes)
