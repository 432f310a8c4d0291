"""Every spelling of a number in a text, read as one canonical value.

:func:`mentions` (or :func:`read`, which also gives the text with its number words in digits)
finds the numbers of a text and what they count, whatever the spelling:

- digits ``28.91``, ``1,000``, ``2 million``; number words ``thirteen``, ``twenty-five``,
  ``one hundred and five``, ``two thousand``, ``a dozen``, ``twice`` (2 times);
- ordinals ``3rd``, ``21st``, ``third``, ``twenty-first``;
- fractions ``1/2``, ``½``, ``1 1/2``, ``1½``, ``half``, ``a quarter``, ``three quarters``,
  ``one third``, ``one and a half`` (kind ``fraction``; compared by value with plain numbers);
- money, the amount and its currency: ``$28.91`` == ``28.91 dollars`` == ``USD 28.91`` ==
  ``US$28.91``; ``C$5``/``CAD 5``/``5 Canadian dollars``, ``A$``/``AUD``, ``€``/``euros``,
  ``£``/``GBP``, ``¥``/``yen`` (JPY), ``yuan``/``RMB``/``CNY``, ``₹``/``Rs.``/``rupees`` (INR),
  ``99 cents`` (USD 0.99). A bare ``$`` and ``dollars`` are US dollars;
- percentages ``25%``, ``25 percent``, ``twenty-five per cent``;
- a number with a unit, the unit normalised (:data:`UNITS`): ``30 days`` == ``thirty days`` ==
  ``30-day``; ``10 lbs`` == ``10 pounds``; ``13.4ounces``, ``9.75"`` (inches), ``7.2V``;
  ``an hour`` and ``a day`` are 1 of the unit; ``half a day`` is 1/2 day;
- ranges and dimensions share the unit of their last endpoint: ``10-15 days``, ``10 to 15 days``,
  ``between 10 and 15 days``, ``$10-15``, ``3.5 x 6.2 x 13 inches`` (one quantity per endpoint);
- dates, ISO-normalised: ``2026-03-14`` == ``March 14, 2026`` == ``14 March 2026`` ==
  ``3/14/2026`` (month first unless the first number is over 12; ``14.03.2026`` is day first) ==
  ``the fourteenth of March 2026``; partial dates ``March 14`` (``--03-14``), ``March 2026``;
- times of day: ``9am`` == ``9:00 a.m.`` == ``09:00``; ``5 pm`` == ``17:00``.

Digits glued to letters that are no unit (``B07KMVJJK7``, ``GW-142``, ``3D``) are no number: they
are part of a code, which the verifier checks as a whole. :class:`QuantityIndex` decides whether
a quantity is supported by the mentions of some evidence text. The vocabulary and the parser of
number words are in :mod:`knowledge.number_words`; units, currencies and date patterns in
:mod:`knowledge.number_patterns`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from knowledge.number_patterns import (
    AFTER_RE,
    AMPM_RE,
    ARTICLE_UNITS,
    BEFORE_RE,
    CURRENCY_AFTER,
    CURRENCY_BEFORE,
    DATE_RES,
    FRACTION_RE,
    FRACTION_UNIT_RE,
    GLUED_UNIT_RE,
    MONTHS,
    NUMBER_RE,
    ORDINAL_SUFFIX_RE,
    PERCENT_RE,
    SCALE_AFTER_RE,
    TIME_RE,
    UNIT_END_RE,
    UNIT_OF,
    UNIT_RE,
    UNITS,
    VULGAR,
)
from knowledge.number_words import (
    CARDINALS,
    DENOMINATORS,
    MULTIPLIERS,
    ORDINALS,
    PLURAL_DENOMINATORS,
    PRONOUN_ONE,
    TIMES,
    cardinal,
)

__all__ = [
    "UNITS",
    "Mention",
    "Quantity",
    "QuantityIndex",
    "Reading",
    "digits_text",
    "mentions",
    "parse_number_words",
    "read",
]

_CONNECTOR_RE = re.compile(  # "Name 4 — $5": a spaced em dash separates, it joins no range
    r"(?:\s*(?P<range>-|–|to|through|thru|and)\s*|(?P<dash>—)|\s*(?P<dim>[xX×*]|by)\s*)\Z"
)
_WORD_RE = re.compile(r"[A-Za-z]+")
_JOIN_RE = re.compile(r"\s+|\s*-\s*")
_VOCABULARY = {*CARDINALS, *ORDINALS, *MULTIPLIERS, *TIMES, "half", "quarter"} | {
    u + s for u in ARTICLE_UNITS for s in ("", "s")
}


@dataclass(frozen=True)
class Quantity:
    """One canonical value.

    Args:
        kind: ``number``, ``fraction``, ``ordinal``, ``money``, ``percent``, ``unit``, ``time``
            (``value`` = minutes after midnight) or ``date``.
        value: The exact value (``Fraction``; ``28.910`` and ``28.91`` are equal).
        unit: The ISO currency of money, the canonical unit of a unit (see :data:`UNITS`).
        date: ``(year, month, day)`` of a date, ``None`` where the text leaves it out.
    """

    kind: str
    value: Fraction = Fraction(0)
    unit: str = ""
    date: tuple[int | None, int | None, int | None] = (None, None, None)

    def __str__(self) -> str:
        if self.kind == "date":
            y, m, d = self.date
            return "-".join(f"{p:02d}" if p is not None else "-" for p in (y, m, d)).rstrip("-")
        number = (
            str(self.value.numerator) if self.value.denominator == 1 else str(float(self.value))
        )
        if self.kind == "time":
            return f"{int(self.value) // 60:02d}:{int(self.value) % 60:02d}"
        return {"money": f"{self.unit} {number}", "percent": f"{number}%", "unit": f"{number} {self.unit}",
                "ordinal": f"#{number}"}.get(self.kind, number)  # fmt: skip


@dataclass(frozen=True)
class Mention:
    """A number as a text writes it: ``text`` at ``start:end``, its ``quantities`` (two or more for
    a range or dimensions), and ``written``: the numbers it writes (``99`` of "99 cents", the
    digits of a date), the evidence a bare number may use."""

    text: str
    start: int
    end: int
    quantities: tuple[Quantity, ...]
    written: tuple[Fraction, ...]

    @property
    def kind(self) -> str:
        return self.quantities[0].kind


@dataclass
class _Atom:
    start: int
    end: int
    value: Fraction
    form: str  # number | fraction | ordinal | times | article
    time: int | None = None  # minutes after midnight of "9am"
    prefix: int = -1  # start of a currency before the number
    suffix: int = -1  # end of a percent/currency/unit after it
    kind: str = "number"
    unit: str = ""


def parse_number_words(text: str) -> Fraction | None:
    """The value of a text that is one number in words ("twenty-five", "one hundred and five",
    "three quarters", "twenty-first"); None when it is not (exactly) one number."""
    atoms = _word_atoms(text, [])
    if len(atoms) == 1 and atoms[0].start == 0 and atoms[0].end == len(text.strip()):
        return atoms[0].value
    return None


def _word_atoms(text: str, taken: list[tuple[int, int]]) -> list[_Atom]:
    """Numbers written in words (and "a"/"an" before a unit of time), in runs of words joined by
    spaces or hyphens, skipping the ``taken`` spans."""
    runs: list[tuple[list[re.Match[str]], bool]] = []  # (tokens, has a number word)
    previous: re.Match[str] | None = None
    blocked, k = sorted(taken), 0
    for token in _WORD_RE.finditer(text):
        while k < len(blocked) and blocked[k][1] <= token.start():
            k += 1
        if k < len(blocked) and blocked[k][0] < token.end():
            continue  # inside a date, a time or a number in digits
        vocabulary = token.group(0).lower() in _VOCABULARY
        if previous is not None and _JOIN_RE.fullmatch(text, previous.end(), token.start()):
            runs[-1][0].append(token)
            runs[-1] = (runs[-1][0], runs[-1][1] or vocabulary)
        else:
            runs.append(([token], vocabulary))
        previous = token
    return [atom for run, numeric in runs if numeric for atom in _run_atoms(text, run)]


def _run_atoms(text: str, tokens: list[re.Match[str]]) -> list[_Atom]:
    run = [t.group(0).lower() for t in tokens]
    atoms: list[_Atom] = []
    i = 0
    while i < len(run):
        word, nxt = run[i], run[i + 1] if i + 1 < len(run) else ""
        parsed = cardinal(run, i)
        value: Fraction | None = None
        form, j = "number", i + 1
        if parsed is not None:
            value, j, form = Fraction(parsed[0]), parsed[1], "ordinal" if parsed[2] else "number"
            if form == "number" and j < len(run):
                count, following = parsed[0], run[j]
                if (count == 1 and following in DENOMINATORS) or (
                    count > 1 and following in PLURAL_DENOMINATORS
                ):
                    den = DENOMINATORS.get(following) or PLURAL_DENOMINATORS[following]
                    value, j, form = Fraction(count, den), j + 1, "fraction"
                elif run[j : j + 3] in (["and", "a", "half"], ["and", "a", "quarter"]):
                    value = value + Fraction(1, 2 if run[j + 2] == "half" else 4)
                    j, form = j + 3, "fraction"
            pronoun = (run[i - 1] if i else "") in PRONOUN_ONE or nxt == "another"
            if word == "one" and form == "number" and j == i + 1 and nxt not in UNIT_OF and pronoun:
                value = None  # "no one", "this one": a pronoun ("the one-year" is a number)
        elif word in ("a", "an") and (nxt in ("half", "quarter") or (
            nxt in DENOMINATORS and run[i + 2 : i + 3] == ["of"])):  # fmt: skip
            value, j, form = Fraction(1, DENOMINATORS[nxt]), i + 2, "fraction"
        elif word == "half":
            value, form = Fraction(1, 2), "fraction"
        elif word in ("a", "an") and UNIT_OF.get(nxt) in ARTICLE_UNITS:
            value, form = Fraction(1), "article"
        elif word in TIMES:
            value, form = Fraction(TIMES[word]), "times"
        if value is None:
            i += 1
            continue
        atoms.append(_Atom(tokens[i].start(), tokens[j - 1].end(), value, form))
        i = j
    return atoms


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in taken)


def _date_mentions(text: str, taken: list[tuple[int, int]]) -> list[Mention]:
    found: list[Mention] = []
    for pattern in DATE_RES:
        for m in pattern.finditer(text):
            if _overlaps(m.span(), taken):
                continue
            parts = m.groupdict()
            if parts.get("a"):  # numeric: month first unless the first is over 12, "." day first
                a, b = int(parts["a"]), int(parts["b"])
                day: int | None
                month, day = (b, a) if (parts["s"] == "." and b <= 12) or a > 12 else (a, b)
                year: int | None = int(parts["y"]) + (2000 if len(parts["y"]) == 2 else 0)
            else:
                mon = parts["mon"]
                month = int(mon) if mon.isdigit() else MONTHS[mon]
                day = _day(parts.get("day"))
                year = int(parts["year"]) if parts.get("year") else None
            if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
                continue
            date = (year, month, day)
            written = tuple(Fraction(int(d)) for d in re.findall(r"\d+", m.group(0)))
            found.append(
                Mention(m.group(0), m.start(), m.end(), (Quantity("date", date=date),), written)
            )
            taken.append(m.span())
    return found


def _day(raw: str | None) -> int | None:
    if not raw:
        return None
    digits = re.match(r"\d+", raw)
    if digits:
        return int(digits.group(0))
    value = parse_number_words(raw.lower())
    return int(value) if value is not None else None


def _time_mention(text: str, m: re.Match[str], hour: int, minute: int, meridiem: str) -> Mention:
    if meridiem:
        hour = hour % 12 + (12 if meridiem.lower() == "p" else 0)
    value = Fraction(hour * 60 + minute)
    written = (Fraction(int(m["h"])), Fraction(minute)) if "h" in m.groupdict() else ()
    return Mention(m.group(0), m.start(), m.end(), (Quantity("time", value),), written)


def _digit_atoms(text: str, taken: list[tuple[int, int]]) -> list[_Atom]:
    atoms: list[_Atom] = []
    fractions = "/" in text or "\u2044" in text or any(c in text for c in VULGAR)
    for m in FRACTION_RE.finditer(text) if fractions else ():
        if (
            _overlaps(m.span(), taken)
            or not _left_ok(text, m.start())
            or not _right_ok(text, m.end())
        ):
            continue
        if m["vulgar"]:
            value = Fraction(unicodedata.numeric(m["vulgar"])).limit_denominator(10)
            value += int(m["whole"] or 0)
        elif m["fn"]:
            value = Fraction(int(m["fn"]), int(m["fd"]) or 1) + int(m["fw"] or 0)
        elif int(m["den"]) == 0:
            continue
        else:
            value = Fraction(int(m["num"]), int(m["den"])) + int(m["mixed"] or 0)
        atoms.append(_Atom(m.start(), m.end(), value, "fraction"))
        taken.append(m.span())
    blocked, last = list(taken), 0  # dates, times, fractions; then each number's own end
    for m in NUMBER_RE.finditer(text):
        start, raw = m.start(), m.group(0)
        if raw.startswith(".") and start and text[start - 1].isalnum():
            start, raw = start + 1, raw[1:]  # "instructions.000": a full stop, then 000
        if start < last or _overlaps((start, m.end()), blocked) or not _left_ok(text, start):
            continue
        if start != m.start() and m.end() < len(text) and text[m.end()].isalnum():
            continue  # "U.3270L": a code
        end, value, form = m.end(), Fraction(raw.replace(",", "")), "number"
        if suffix := ORDINAL_SUFFIX_RE.match(text, end):
            end, form = suffix.end(), "ordinal"
        elif scale := SCALE_AFTER_RE.match(text, end):
            end, value = scale.end(), value * MULTIPLIERS[scale["s"].lower()]
        elif not _right_ok(text, end):
            continue
        atoms.append(_Atom(start, end, value, form))
        taken.append((start, end))
        last = end
    return atoms


def _left_ok(text: str, start: int) -> bool:
    """Whether a number may start here (not inside a code: "B07K", "GW-142", "v1.2.3")."""
    before = text[start - 1] if start else " "
    if before.isalnum() or before == "_":
        if (
            before in "xX×"
            and start >= 2
            and (text[start - 2].isdigit() or text[start - 2] in '"″')
        ):
            return True  # dimensions: "2.6x3.6", '9.75"x7.75"'
        return bool(BEFORE_RE.search(text, max(0, start - 6), start))  # "USD28.91"
    if before == "-" and re.search(r"[A-Za-z][\w.]*-\Z", text[max(0, start - 24) : start]):
        return bool(
            UNIT_END_RE.search(text, max(0, start - 24), start)
        )  # "9am-5pm", not "RB16-22W"
    return not (before == "." and start >= 2 and text[start - 2].isdigit())  # "v1.2.3"


def _right_ok(text: str, end: int) -> bool:
    """Whether a number may end here: not glued to letters other than a unit or a currency."""
    after = text[end] if end < len(text) else " "
    if not (after.isalnum() or after == "_"):
        return True
    if after in "xX×" and (end + 1 >= len(text) or not text[end + 1].isalpha()):
        return True
    return any(r.match(text, end) for r in (GLUED_UNIT_RE, UNIT_RE, AMPM_RE, AFTER_RE, PERCENT_RE))


def _qualify(text: str, atom: _Atom) -> None:
    """Read the currency, percent sign or unit around a number."""
    if atom.form in ("ordinal", "times"):
        atom.kind = atom.form if atom.form == "ordinal" else "unit"
        atom.unit = "times" if atom.form == "times" else ""
        return
    if before := BEFORE_RE.search(text, max(0, atom.start - 6), atom.start):
        atom.kind, atom.unit, atom.prefix = (
            "money",
            CURRENCY_BEFORE[before.group(0).strip()],
            before.start(),
        )
        if (after := AFTER_RE.match(text, atom.end)) and after["code"]:
            atom.suffix = after.end()  # "$5 USD"
        return
    if (
        (m := AMPM_RE.match(text, atom.end))
        and atom.form == "number"
        and atom.value in range(1, 13)
    ):
        hour = int(atom.value) % 12 + (12 if (m["a"] or m["b"]).lower() == "p" else 0)
        atom.kind, atom.time, atom.suffix = "time", hour * 60, m.end()
    elif (m := PERCENT_RE.match(text, atom.end)) is not None:
        atom.kind, atom.suffix = "percent", m.end()
    elif (m := AFTER_RE.match(text, atom.end)) is not None:
        code = (m["code"] or "").upper()
        atom.kind, atom.suffix = "money", m.end()
        atom.unit = CURRENCY_BEFORE.get(code, code) if code else CURRENCY_AFTER[m["word"].lower()]
    elif (m := GLUED_UNIT_RE.match(text, atom.end)) is not None and atom.form != "article":
        atom.kind, atom.unit, atom.suffix = "unit", UNIT_OF[(m["u"] or m["dot"]).lower()], m.end()
    elif (m := UNIT_RE.match(text, atom.end)) or (
        atom.form == "fraction" and (m := FRACTION_UNIT_RE.match(text, atom.end))
    ):
        atom.kind, atom.unit, atom.suffix = "unit", UNIT_OF[m["u"].lower()], m.end()
    elif atom.form == "article":
        atom.kind = ""  # "a" not followed by a unit after all
    else:
        atom.kind = "fraction" if atom.form == "fraction" else "number"


def _scan(text: str) -> tuple[list[Mention], list[_Atom]]:
    """Dates and times (read whole), then the numbers in digits and in words, in text order."""
    taken: list[tuple[int, int]] = []
    found = _date_mentions(text, taken)
    for m in TIME_RE.finditer(text):
        if not _overlaps(m.span(), taken):
            found.append(_time_mention(text, m, int(m["h"]), int(m["m"]), m["a"] or m["b"] or ""))
            taken.append(m.span())
    atoms = _digit_atoms(text, taken) + _word_atoms(text, taken)
    return found, sorted(atoms, key=lambda a: a.start)


def _joins(text: str, group: list[_Atom], nxt: _Atom) -> bool:
    """Whether ``nxt`` continues a range ("10-15", "10 to 15", "between 10 and 15") or dimensions
    ("3.5 x 6.2 x 13") of ``group``."""
    last = group[-1]
    gap = text[max(last.end, last.suffix) : nxt.prefix if nxt.prefix >= 0 else nxt.start]
    connector = _CONNECTOR_RE.match(gap)
    if not connector or "ordinal" in (last.kind, nxt.kind) or "times" in (last.form, nxt.form):
        return False
    if connector["dim"]:
        return True
    if len(group) > 1:
        return False  # a range has two ends
    between = re.search(r"\bbetween\s+\S*\Z", text[: group[0].start], re.IGNORECASE)
    return connector["range"] != "and" or between is not None


@dataclass(frozen=True)
class Reading:
    """The numbers of a text (:func:`mentions`) and the text with its number words in digits
    (:func:`digits_text`), from one pass over the text."""

    mentions: tuple[Mention, ...]
    digits: str


def read(text: str) -> Reading:
    """Read the numbers of ``text`` (see the module doc)."""
    found, atoms = _scan(text)
    digits, last = [], 0
    for atom in atoms:
        if atom.form in ("number", "ordinal", "fraction") and text[atom.start].isalpha():
            value = atom.value
            number = value.numerator if value.denominator == 1 else value
            digits += [text[last : atom.start], str(number)]
            last = atom.end
    kept: list[_Atom] = []
    for atom in atoms:
        _qualify(text, atom)
        # "one second", "half an hour": the unit is no number of its own.
        if atom.kind and (not kept or atom.start >= max(kept[-1].end, kept[-1].suffix)):
            kept.append(atom)
    i = 0
    while i < len(kept):
        group = [kept[i]]
        while i + len(group) < len(kept) and _joins(text, group, kept[i + len(group)]):
            group.append(kept[i + len(group)])
        i += len(group)
        found.append(_group_mention(text, group))
    return Reading(tuple(sorted(found, key=lambda m: m.start)), "".join(digits) + text[last:])


def mentions(text: str) -> list[Mention]:
    """Every number in ``text`` with its canonical quantities, in order (see the module doc)."""
    return list(read(text).mentions)


def digits_text(text: str) -> str:
    """``text`` with numbers in words written in digits ("one hundred percent" → "100 percent"),
    so a phrase list ("100 percent") matches every spelling."""
    return read(text).digits


def _group_mention(text: str, group: list[_Atom]) -> Mention:
    """One mention of a number, a range or dimensions; endpoints without a currency, percent sign
    or unit share those of the last endpoint (or the currency of the first)."""
    qualified = [a for a in group if a.kind in ("money", "percent", "unit")]
    model = qualified[-1] if qualified else None
    if model is not None and len(group) > 1 and group[-1].kind not in ("money", "percent", "unit"):
        model = next((a for a in group if a.kind == "money" and a.prefix >= 0), None)
    quantities = []
    for atom in group:
        kind, unit = atom.kind, atom.unit
        if kind in ("number", "fraction") and model is not None:
            kind, unit = model.kind, model.unit
        value = atom.value if atom.time is None else Fraction(atom.time)
        if kind == "money" and unit == "cents":
            value, unit = value / 100, "USD"
        quantities.append(Quantity(kind, value, unit))
    start = min(a.prefix if a.prefix >= 0 else a.start for a in group)
    end = max(max(a.end, a.suffix) for a in group)
    written = tuple(a.value for a in group if a.form != "article")
    return Mention(text[start:end].strip(), start, end, tuple(quantities), written)


class QuantityIndex:
    """The quantities of some evidence, for :meth:`supports` lookups.

    A quantity is supported when the evidence states the same value of the same kind, in any
    spelling: money of the same currency, a percentage, the same unit, an ordinal (or that day
    of a date), the same time of day, a date agreeing on every part the quantity names. A plain
    number or fraction is supported by any number the evidence writes (a bare number claims no
    more than that).
    """

    def __init__(self, found: Iterable[Mention]) -> None:
        self.exact: set[Quantity] = set()
        self.numbers: set[Fraction] = set()
        self.dates: set[tuple[int | None, int | None, int | None]] = set()
        for mention in found:
            self.numbers.update(mention.written)
            for q in mention.quantities:
                if q.kind == "date":
                    self.dates.add(q.date)
                elif q.kind != "time":
                    self.numbers.add(q.value)
                self.exact.add(q)

    def supports(self, q: Quantity) -> bool:
        """Whether the evidence states ``q`` (see the class doc)."""
        if q.kind in ("number", "fraction"):
            return q.value in self.numbers
        if q.kind == "date":
            return any(
                all(a is None or a == b for a, b in zip(q.date, d, strict=True)) for d in self.dates
            )
        if q.kind == "ordinal" and any(d[2] == q.value for d in self.dates):
            return True
        return q in self.exact
