"""Find personal data in text and replace it with tokens: ``[email]``, ``[phone]``, ``[card]``,
``[address]``, ``[name]`` and, on request, ``[order]``.

No named-entity model is available offline, so detection is by rules, each checked on a labelled
set (``shopbot eval-masking``; ``docs/decisions/015-privacy-exports-retention.md``):

- emails: ``local@domain.tld`` (plus-addressing, dots, subdomains), also written with
  ``[at]``/``(at)`` and ``[dot]``/``(dot)``;
- card numbers: 13–19 digits, plain or grouped the way cards are printed (4-4-4-4[-3], 4-6-5,
  4-6-4), that pass the Luhn check;
- phone numbers: what libphonenumber accepts as a valid number for the store's regions (its
  customers' countries, plus US and GB), and phone-shaped numbers it does not know (fictional
  ``555`` numbers, ``+`` international forms, ``0``-trunk national forms, numbers after "call"
  or "phone"), and any store customer's number however it is spaced;
- postal addresses: the store's customers' addresses (matched on normalised words, so ``4821 Oak
  Street`` finds ``4821 Oak St``), street-address patterns (house number, street name, suffix,
  unit, city, state and ZIP), ``ST 12345`` state-and-ZIP pairs, UK postcodes and PO boxes;
- names: the store's customers' full names, names given after "my name is", and, in one
  customer's conversation, that customer's first and last names alone;
- order numbers (only with ``mask_orders``): six-digit numbers.

Ordinary shopper text (prices, sizes, dates, quantities, model numbers, order numbers) is left
as it is; the labelled set's negatives measure how often that fails.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers
from phonenumbers import Leniency

from bot.privacy.directory import DirectorySource, Person, StoreDirectory

KINDS = ("email", "card", "phone", "address", "name", "order")
PRIORITY = {kind: i for i, kind in enumerate(KINDS)}  # an overlap keeps the earlier kind
DEFAULT_REGIONS = ("US", "GB")
MIN_PHONE_DIGITS = 7


def token(kind: str) -> str:
    """The mask of one kind: ``[email]``."""
    return f"[{kind}]"


@dataclass(frozen=True, order=True)
class Span:
    """Personal data found at ``text[start:end]``."""

    start: int
    end: int
    kind: str


# -- emails ------------------------------------------------------------------------------------

_AT = r"(?:@|\s?[\[(]\s?at\s?[\])]\s?)"
_DOT = r"(?:\.|\s?[\[(]\s?dot\s?[\])]\s?)"
EMAIL = re.compile(
    rf"(?<![\w.+%-])[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*\s?{_AT}\s?"
    rf"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?{_DOT})+[A-Za-z]{{2,24}}(?![A-Za-z0-9-])",
    re.IGNORECASE,
)

# -- card numbers ------------------------------------------------------------------------------

DIGIT_GROUPS = re.compile(r"(?<![\d.,])\d+(?:[ -]\d+)*(?![\d]|[.,]\d)")
CARD_GROUPINGS = ((4, 6, 5), (4, 6, 4))
CARD_FIRST_DIGITS = "23456"  # Mastercard 2/5, Amex, Diners and JCB 3, Visa 4, Discover 6


def luhn_ok(digits: str) -> bool:
    """Whether ``digits`` passes the Luhn check (card numbers do)."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_grouping(sizes: Sequence[int]) -> bool:
    """Whether digit groups of these sizes are written the way card numbers are printed."""
    if len(sizes) == 1:
        return 13 <= sizes[0] <= 19
    if tuple(sizes) in CARD_GROUPINGS:
        return True
    # 4-4-4-4, 4-4-4-4-3, 4-4-4-1 (13 digits): fours, then one shorter last group
    return len(sizes) >= 3 and all(s == 4 for s in sizes[:-1]) and 1 <= sizes[-1] <= 4


def _cards(text: str) -> Iterable[Span]:
    for run in DIGIT_GROUPS.finditer(text):
        groups = [
            (m.start() + run.start(), m.end() + run.start())
            for m in re.finditer(r"\d+", run.group())
        ]
        found = False
        for i in range(len(groups)):  # the longest card-shaped, Luhn-valid stretch of groups
            for j in range(len(groups), i, -1):
                sizes = [b - a for a, b in groups[i:j]]
                digits = "".join(text[a:b] for a, b in groups[i:j])
                if (
                    13 <= len(digits) <= 19
                    and digits[0] in CARD_FIRST_DIGITS
                    and _card_grouping(sizes)
                    and luhn_ok(digits)
                ):
                    yield Span(groups[i][0], groups[j - 1][1], "card")
                    found = True
                    break
            if found:
                break


# -- phone numbers -----------------------------------------------------------------------------

_SEP = r"[ .\-\u00a0]"
PHONE_SHAPES = (
    # NANP: (212) 555-0123, 212-555-0123, 212.555.0123, +1 212 555 0123, 1-800-555-0199
    re.compile(
        rf"(?<![\w+])(?:\+?1{_SEP}?)?(?:\(\d{{3}}\){_SEP}?|\d{{3}}{_SEP})\d{{3}}{_SEP}\d{{4}}(?!\w)"
    ),
    # international: +44 20 7946 0958, +33 (0)1 42 68 53 00, +442079460958; 0049 30 901820
    re.compile(rf"(?<![\w+])\+\d{{1,3}}(?:{_SEP}?\(0\))?(?:{_SEP}?\(?\d{{1,5}}\)?){{2,6}}(?![\w])"),
    re.compile(rf"(?<![\w+])00\d{{1,3}}(?:{_SEP}?\(0\))?(?:{_SEP}\(?\d{{1,5}}\)?){{2,6}}(?![\w])"),
    # trunk-0 national forms: 020 7946 0958, 07700 900123, (020) 7946-0958
    re.compile(
        rf"(?<![\w+])(?:\(0\d{{1,4}}\)|0\d{{1,4}}){_SEP}\d{{3,4}}(?:{_SEP}?\d{{3,4}})?(?!\w)"
    ),
)
PHONE_CONTEXT = re.compile(
    r"\b(?:phone|tel|telephone|mobile|cell|cellphone|call(?:\s+me)?(?:\s+(?:on|at))?|text\s+me"
    r"|whatsapp|reach\s+me(?:\s+(?:on|at))?|my\s+number|contact\s+number)"
    r"(?:\s+(?:number|no|nr))?\b[\s:#.]*(?:is\s+)?"
    rf"(\+?\d[\d()]*(?:{_SEP}?[\d()]+)+)",
    re.IGNORECASE,
)


DATE_LIKE = re.compile(
    r"(?:19|20)\d\d[-/.](?:0?[1-9]|1[0-2])[-/.](?:[0-2]?\d|3[01])"
    r"|(?:[0-2]?\d|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.](?:19|20)\d\d"
)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _written_as_phone(raw: str) -> bool:
    """Whether a number libphonenumber accepts is also written like a phone number: with ``+``
    or ``00``, or in three or more groups of two or more digits split one way (model and part
    numbers are mostly one run of digits, or split once by a dot)."""
    if raw.startswith("+") or (raw.startswith("00") and re.search(r"\D", raw)):
        return True
    if DATE_LIKE.search(raw):  # "2026-11-28 10" is a date and a quantity, not 202-611-2810
        return False
    groups = re.findall(r"\d+", raw)
    separators = set(re.findall(r"[^\d()]+", raw.strip("()")))
    return (
        len(groups) >= 3
        and all(len(g) >= 2 for g in groups)
        and len(separators) <= 2
        and ("." not in "".join(separators) or separators == {"."})
    )


def _phone_shaped(candidate: str) -> bool:
    count = len(_digits(candidate))
    if candidate.startswith(("+", "00")):
        return 8 <= count <= 15
    if candidate.startswith(("0", "(0")):
        return 10 <= count <= 11
    return 10 <= count <= 11


# -- postal addresses --------------------------------------------------------------------------

US_STATES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "PR"
)  # fmt: skip
STREET_SUFFIXES = (
    "street", "st", "avenue", "ave", "av", "road", "rd", "boulevard", "blvd", "lane", "ln", "drive",
    "dr", "court", "ct", "place", "pl", "terrace", "ter", "way", "parkway", "pkwy", "highway",
    "hwy", "circle", "cir", "square", "sq", "trail", "trl", "crescent", "cres", "alley", "aly",
    "plaza", "plz"
)  # fmt: skip
# Words right after a number that make it a quantity, not a house number ("2 way radio" is fine
# anyway: a street needs a name; these keep "500 gb drive" and "3 door court" out).
NOT_STREET_NAMES = frozenset(
    (
        "inch", "inches", "in", "ft", "feet", "foot", "gb", "tb", "mb", "kb", "lb", "lbs", "pound",
        "pounds", "oz", "ounce", "ounces", "kg", "g", "cm", "mm", "m", "volt", "volts", "v", "watt",
        "watts", "w", "amp", "amps", "a", "hp", "btu", "cu", "cubic", "ton", "quart", "quarts", "qt",
        "gallon", "gallons", "gal", "liter", "liters", "l", "cup", "cups", "piece", "pieces", "pcs",
        "pc", "pack", "packs", "year", "years", "yr", "month", "months", "day", "days", "hour", "hours",
        "hr", "min", "minute", "minutes", "sec", "second", "seconds", "speed", "speeds", "slice",
        "slices", "door", "doors", "burner", "burners", "x", "by", "times", "of", "the", "a", "an",
        "and", "or", "to", "for", "with", "per", "star", "stars", "item", "items", "percent", "degree",
        "degrees", "rpm", "psi", "bar", "setting", "settings", "layer", "layers", "ply"
    )
)  # fmt: skip
_NAME_WORD = r"(?:[A-Za-z][A-Za-z'-]*|\d+(?:st|nd|rd|th))"
_SUFFIX = "|".join(STREET_SUFFIXES)
_UNIT = r"(?:,?\s*(?:apt|apartment|unit|suite|ste|fl|floor|#)\.?\s*#?[A-Za-z0-9-]{1,6}\b)"
_STATE = "|".join(US_STATES)
_CITY_STATE_ZIP = (
    rf"(?:,?\s*(?:[A-Za-z][A-Za-z.'-]*\s?){{1,3}}?,?\s*(?:{_STATE})\s+\d{{5}}(?:-\d{{4}})?\b)"
    rf"|(?:,?\s*(?:{_STATE})\s+\d{{5}}(?:-\d{{4}})?\b)"
)
_COUNTRY = r"(?:,?\s*(?:US|USA|U\.S\.A?\.?|United States)\b)"
ADDRESS_TAIL = re.compile(
    rf"{_UNIT}?(?:{_CITY_STATE_ZIP}|,\s*(?:[A-Za-z][A-Za-z.'-]*\s?){{1,3}}(?=[,.;!?)]|$))?"
    rf"{_COUNTRY}?",
    re.IGNORECASE,
)
STREET = re.compile(
    rf"(?<![\w$.,/-])(?P<number>\d{{1,6}}[A-Za-z]?(?:-\d{{1,4}})?)\s+"
    rf"(?:(?:[NSEW]|north|south|east|west)\.?\s+)?"
    rf"(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}}?)\s+(?:{_SUFFIX})\b\.?",
    re.IGNORECASE,
)
STATE_ZIP = re.compile(rf"\b(?:{_STATE})\s+\d{{5}}(?:-\d{{4}})?\b")
UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}\b")
PO_BOX = re.compile(r"\bP\.?\s?O\.?\s*Box\s+\d+\b", re.IGNORECASE)
ABBREVIATIONS = {
    "street": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "lane": "ln",
    "drive": "dr",
    "court": "ct",
    "place": "pl",
    "terrace": "ter",
    "parkway": "pkwy",
    "highway": "hwy",
    "circle": "cir",
    "square": "sq",
    "apartment": "apt",
    "suite": "ste",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}

# -- names -------------------------------------------------------------------------------------

_FULL_NAME = r"(?-i:[A-Z][a-z]+(?:[' -][A-Z][a-z]+)*\s+[A-Z][a-z]+(?:[' -][A-Z][a-z]+)*)\b"
NAME_INTRO = re.compile(
    r"\b(?:(?P<given>my\s+name\s+is|my\s+name's|name\s*:)"
    rf"|(?:this\s+is|i\s+am|i'm|im)\s+(?={_FULL_NAME}))\s*",
    re.IGNORECASE,
)
NAME_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
NOT_NAMES = frozenset(
    (
        "and", "but", "or", "so", "i", "i'm", "im", "my", "me", "is", "was", "are", "the", "a", "an",
        "to", "for", "from", "with", "about", "order", "orders", "account", "email", "phone", "number",
        "please", "thanks", "thank", "you", "hi", "hello", "hey", "here", "there", "not", "just",
        "also", "still", "and,", "at", "on", "in", "of", "it", "its", "looking", "trying", "calling",
        "writing", "wondering", "having", "asking"
    )
)  # fmt: skip

# -- order numbers -----------------------------------------------------------------------------

ORDER_NUMBER = re.compile(r"(?<![\w$.,/-])#?\d{6}(?![\w]|[.,/]\d)")

WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")


def normalise_words(text: str) -> list[tuple[str, int, int]]:
    """The words of ``text``, lower-cased with street abbreviations applied, and where each is."""
    out = []
    for match in WORD.finditer(text):
        word = match.group().lower()
        out.append((ABBREVIATIONS.get(word, word), match.start(), match.end()))
    return out


class PhraseIndex:
    """Word sequences (normalised) to find in text, each with the kind of data it is."""

    def __init__(self) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}

    def add(self, phrase: str, kind: str) -> None:
        """Look for ``phrase`` (ignored when it has no words)."""
        words = tuple(w for w, _, _ in normalise_words(phrase))
        if words:
            entries = self._by_first.setdefault(words[0], [])
            if (words, kind) not in entries:
                entries.append((words, kind))
                entries.sort(key=lambda entry: -len(entry[0]))  # longest first

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def find(self, text: str) -> Iterable[Span]:
        """Where the phrases occur in ``text`` (longest match at each word)."""
        words = normalise_words(text)
        i = 0
        while i < len(words):
            for phrase, kind in self._by_first.get(words[i][0], ()):
                n = len(phrase)
                if tuple(w for w, _, _ in words[i : i + n]) == phrase:
                    yield Span(words[i][1], words[i + n - 1][2], kind)
                    i += n - 1
                    break
            i += 1


def person_phrases(person: Person, index: PhraseIndex, with_parts: bool = False) -> None:
    """Add a customer's name (``with_parts``: also first and last name alone) and addresses."""
    name_words = [w for w in person.name.split() if w]
    if len(name_words) >= 2:
        index.add(" ".join(name_words), "name")
        index.add(f"{name_words[-1]}, {' '.join(name_words[:-1])}", "name")
    if with_parts:
        for part in name_words:
            if len(part) >= 2:
                index.add(part, "name")
    for address in person.addresses:
        if address.line1:
            index.add(address.line1, "address")
            if address.line2:
                index.add(f"{address.line1} {address.line2}", "address")


class Masker:
    """Finds and masks personal data (see the module docstring for what it looks for).

    Args:
        directory: The store's customers (names, phones, addresses); empty → patterns only.
        mask_orders: Also mask six-digit order numbers.
        regions: Phone regions for national formats (the customers' countries are added).
    """

    def __init__(
        self,
        directory: StoreDirectory | None = None,
        mask_orders: bool = False,
        regions: Sequence[str] = DEFAULT_REGIONS,
    ) -> None:
        self.directory = directory or StoreDirectory([])
        self.mask_orders = mask_orders
        self.regions = tuple(dict.fromkeys([*regions, *sorted(self.directory.countries)]))
        self._phrases = PhraseIndex()
        self._phones: set[str] = set()
        self._first_names = {
            p.name.split()[0].lower() for p in self.directory.people if p.name.split()
        }
        for person in self.directory.people:
            person_phrases(person, self._phrases)
            if person.phone:
                self._phones.add(_national(_digits(person.phone)))

    def with_orders(self, mask_orders: bool) -> Masker:
        """This masker with ``mask_orders`` set (sharing the directory's indexes)."""
        if mask_orders == self.mask_orders:
            return self
        twin = object.__new__(Masker)
        twin.__dict__.update(self.__dict__)
        twin.mask_orders = mask_orders
        return twin

    # -- finding --------------------------------------------------------------------------------

    def spans(self, text: str, identity: Person | None = None) -> list[Span]:
        """The personal data in ``text``: non-overlapping spans in text order.

        Args:
            text: Any text (a message, an entity value, a slot).
            identity: The conversation's verified customer: their first and last names alone,
                phone and addresses are found too.
        """
        if not text:
            return []
        found: list[Span] = []
        found += (Span(m.start(), m.end(), "email") for m in EMAIL.finditer(text))
        has_digits = sum(ch.isdigit() for ch in text) >= MIN_PHONE_DIGITS
        if has_digits:
            found += _cards(text)
            found += self._phone_spans(text, identity)
        found += self._address_spans(text)
        found += _extended(text, self._phrases.find(text))
        if identity is not None:
            mine = PhraseIndex()
            person_phrases(identity, mine, with_parts=True)
            found += _extended(text, mine.find(text))
        found += _introduced_names(text, self._first_names)
        if self.mask_orders:
            found += (Span(m.start(), m.end(), "order") for m in ORDER_NUMBER.finditer(text))
        return _resolve(found)

    def _phone_spans(self, text: str, identity: Person | None) -> list[Span]:
        spans: list[Span] = []
        for region in self.regions:
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=Leniency.VALID):
                if _written_as_phone(match.raw_string):
                    spans.append(Span(match.start, match.end, "phone"))
        for shape in PHONE_SHAPES:
            spans += (
                Span(m.start(), m.end(), "phone")
                for m in shape.finditer(text)
                if _phone_shaped(m.group())
            )
        for m in PHONE_CONTEXT.finditer(text):
            if MIN_PHONE_DIGITS <= len(_digits(m.group(1))) <= 15:
                spans.append(Span(m.start(1), m.end(1), "phone"))
        known = set(self._phones)
        if identity is not None and identity.phone:
            known.add(_national(_digits(identity.phone)))
        if known:
            for run in re.finditer(r"\+?\d[\d ().\-\u00a0]{5,20}\d", text):
                if _national(_digits(run.group())) in known:
                    spans.append(Span(run.start(), run.end(), "phone"))
        return spans

    def _address_spans(self, text: str) -> list[Span]:
        spans = []
        for m in STREET.finditer(text):
            first = m.group("name").split()[0].lower()
            if first in NOT_STREET_NAMES:
                continue
            spans.append(Span(m.start(), _extend_address(text, m.end()), "address"))
        for pattern in (STATE_ZIP, UK_POSTCODE, PO_BOX):
            spans += (Span(m.start(), m.end(), "address") for m in pattern.finditer(text))
        return spans

    # -- masking --------------------------------------------------------------------------------

    def mask(self, text: str, identity: Person | None = None, extra: Iterable[Span] = ()) -> str:
        """``text`` with each piece of personal data replaced by its token (``[email]``...).

        Args:
            text: The text.
            identity: The conversation's verified customer (see :meth:`spans`).
            extra: Spans found elsewhere (NLU entities of personal kinds) masked as well.
        """
        if not text:
            return text
        spans = _resolve([*self.spans(text, identity), *extra])
        out, at = [], 0
        for span in spans:
            out.append(text[at : span.start])
            out.append(token(span.kind))
            at = span.end
        out.append(text[at:])
        return "".join(out)

    def mask_value(self, value: Any, identity: Person | None = None) -> Any:
        """Every string inside ``value`` (dicts, lists) masked; other values unchanged."""
        if isinstance(value, str):
            return self.mask(value, identity)
        if isinstance(value, dict):
            return {k: self.mask_value(v, identity) for k, v in value.items()}
        if isinstance(value, list):
            return [self.mask_value(v, identity) for v in value]
        return value


def _national(digits: str) -> str:
    """The last ten digits of a number (a NANP number with or without its country code)."""
    return digits[-10:] if len(digits) >= 10 else digits


def _extend_address(text: str, end: int) -> int:
    """Where an address that ends its street part at ``end`` really ends (unit, city, state, ZIP)."""
    tail = ADDRESS_TAIL.match(text, end)
    return tail.end() if tail and tail.end() > end else end


def _extended(text: str, phrases: Iterable[Span]) -> list[Span]:
    """Known names as found; known street addresses with their unit, city, state and ZIP."""
    return [
        Span(p.start, _extend_address(text, p.end), p.kind) if p.kind == "address" else p
        for p in phrases
    ]


def _introduced_names(text: str, first_names: set[str]) -> Iterable[Span]:
    """Names after "my name is" (up to three name words), and a capitalised "I'm First Last" or
    "this is First Last" whose first name is one of the store's customers' first names."""
    for intro in NAME_INTRO.finditer(text):
        at, start, end = intro.end(), None, None
        if intro.group("given") is None:
            first = NAME_WORD.match(text, at)
            if first is None or first.group().lower() not in first_names:
                continue
        for _ in range(3):
            word = NAME_WORD.match(text, at)
            if word is None or word.group().lower() in NOT_NAMES:
                break
            start = word.start() if start is None else start
            end = word.end()
            gap = re.match(r"[ \t]+", text[word.end() :])
            if gap is None:
                break
            at = word.end() + gap.end()
        if start is not None and end is not None:
            yield Span(start, end, "name")


def _resolve(spans: Iterable[Span]) -> list[Span]:
    """Non-overlapping spans: by kind priority (email first), then the longer one."""
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (PRIORITY.get(s.kind, 99), -(s.end - s.start))):
        if span.end <= span.start:
            continue
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen)


class MaskerSource:
    """A masker over the store's current customers (rebuilt when the directory is reloaded).

    Args:
        directories: Where the customers come from (``DirectorySource.from_url``).
    """

    def __init__(self, directories: DirectorySource) -> None:
        self._directories = directories
        self._lock = threading.Lock()
        self._built: tuple[StoreDirectory, Masker] | None = None

    @classmethod
    def fixed(cls, directory: StoreDirectory) -> MaskerSource:
        """Always ``directory`` (tests, the evaluation)."""
        return cls(DirectorySource.fixed(directory))

    def get(self, mask_orders: bool = False) -> Masker:
        """A masker for the current directory."""
        directory = self._directories.get()
        with self._lock:
            if self._built is None or self._built[0] is not directory:
                self._built = (directory, Masker(directory))
            return self._built[1].with_orders(mask_orders)

    def person(self, email: str | None) -> Person | None:
        """The store customer with this email (the conversation's verified customer)."""
        return self._directories.get().person(email)
