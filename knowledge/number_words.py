"""Numbers written in words: the vocabulary ("twenty", "third", "dozen", "half") and the parser
of one phrase ("one hundred and five", "two thousand and five", "twenty-first").

Used by :mod:`knowledge.numbers`, which finds such phrases in a text.
"""

from __future__ import annotations

SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]  # fmt: skip
TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
CARDINALS = {w: i for i, w in enumerate(SMALL)} | {w: 10 * i for i, w in enumerate(TENS, 2)}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fifth": 5, "eighth": 8, "ninth": 9,
             "twelfth": 12}  # fmt: skip
ORDINALS |= {w + "th": v for w, v in CARDINALS.items() if v in (4, 6, 7, 10, 11) or 13 <= v < 20}
ORDINALS |= {w[:-1] + "ieth": v for w, v in CARDINALS.items() if v >= 20}
SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
MULTIPLIERS = {"hundred": 100, "dozen": 12} | SCALES
DENOMINATORS = {"half": 2, "third": 3, "quarter": 4, "fourth": 4} | {
    w: v for w, v in ORDINALS.items() if 5 <= v <= 10
}
PLURAL_DENOMINATORS = {("halves" if w == "half" else w + "s"): v for w, v in DENOMINATORS.items()}
TIMES = {"twice": 2, "thrice": 3}  # "twice" is 2 times ("once" is mostly "as soon as")
PRONOUN_ONE = {"no", "any", "every", "each", "this", "that", "which", "the", "another", "some"}


def below_hundred(run: list[str], k: int) -> tuple[int, int, bool] | None:
    """``(value, next index, ordinal)`` of a number under 100 at ``run[k]``."""
    if k >= len(run):
        return None
    word = run[k]
    if word in CARDINALS and CARDINALS[word] >= 20 and k + 1 < len(run):
        unit = run[k + 1]
        if 0 < CARDINALS.get(unit, 0) < 10:
            return CARDINALS[word] + CARDINALS[unit], k + 2, False
        if 0 < ORDINALS.get(unit, 0) < 10:
            return CARDINALS[word] + ORDINALS[unit], k + 2, True
    if word in CARDINALS:
        return CARDINALS[word], k + 1, False
    if word in ORDINALS:
        return ORDINALS[word], k + 1, True
    return None


def below_thousand(run: list[str], k: int, article: bool) -> tuple[int, int, bool] | None:
    """``(value, next index, ordinal)`` of a number under 1000 ("one hundred and five")."""
    n = len(run)
    lead: int | None = None
    if (
        article
        and k + 1 < n
        and run[k] in ("a", "an")
        and run[k + 1] in (*MULTIPLIERS, "hundredth")
    ):
        lead, k = 1, k + 1
    elif (part := below_hundred(run, k)) is not None:
        lead, k, ordinal = part
        if ordinal:
            return lead, k, True
    if k < n and run[k] in ("hundred", "hundredth") and (lead is None or lead < 100):
        value = (1 if lead is None else lead) * 100
        if run[k] == "hundredth":
            return value, k + 1, True
        after_and = k + 2 if k + 1 < n and run[k + 1] == "and" else k + 1
        if (rest := below_hundred(run, after_and)) is not None:
            return value + rest[0], rest[1], rest[2]
        return value, k + 1, False
    return None if lead is None else (lead, k, False)


def cardinal(run: list[str], i: int) -> tuple[int, int, bool] | None:
    """The longest number word phrase at ``run[i]``: ``(value, next index, ordinal)``."""
    total, k, end, last_scale = 0, i, i, 0
    while k < len(run):
        group = below_thousand(run, k, article=k == i)
        if group is None and k == i and run[k] in MULTIPLIERS:  # "thousand", "dozen" alone
            group = (1, k, False)
        if group is None:
            break
        value, j, ordinal = group
        if ordinal:
            return total + value, j, True
        scale = run[j] if j < len(run) else ""
        factor = SCALES.get(scale.removesuffix("th"), 12 if scale == "dozen" else 0)
        if last_scale and factor >= last_scale:
            break  # "one thousand and two thousand": two numbers
        if not factor:
            return total + value, j, False
        total, last_scale, end = total + value * factor, factor, j + 1
        if scale.endswith("th"):
            return total, end, True
        k = end + 1 if run[end : end + 1] == ["and"] else end  # "two thousand and five"
    return (total, end, False) if last_scale else None
