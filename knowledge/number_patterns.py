"""The spellings numbers are written with: units (:data:`UNITS`), currencies, percent and time
suffixes, fractions, dates. Patterns only; :mod:`knowledge.numbers` reads texts with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from knowledge.number_words import ORDINALS

# Units: canonical name → spellings. Spellings of one letter (and ``"``) count only glued to the
# number ("7.2V", "500g", '9.75"'); "in" only as "in." or glued ("12in": "3 in stock" is no inch).
UNITS: dict[str, tuple[str, ...]] = {
    "business day": ("business days", "business day", "working days", "working day"),
    "day": ("days", "day"),
    "week": ("weeks", "week", "wks", "wk"),
    "month": ("months", "month", "mos", "mo"),
    "year": ("years", "year", "yrs", "yr"),
    "hour": ("hours", "hour", "hrs", "hr"),
    "minute": ("minutes", "minute", "mins", "min"),
    "second": ("seconds", "second", "secs", "sec"),
    "pound": ("pounds", "pound", "lbs", "lb"),
    "fl oz": ("fluid ounces", "fluid ounce", "fl. oz.", "fl. oz", "fl oz"),
    "ounce": ("ounces", "ounce", "oz"),
    "inch": ("inches", "inch", "in.", '"', "″", "in"),
    "foot": ("feet", "foot", "ft"),
    "yard": ("yards", "yard", "yds", "yd"),
    "mm": ("millimeters", "millimeter", "millimetres", "millimetre", "mm"),
    "cm": ("centimeters", "centimeter", "centimetres", "centimetre", "cm"),
    "meter": ("meters", "meter", "metres", "metre"),
    "km": ("kilometers", "kilometer", "kilometres", "kilometre", "km"),
    "mg": ("milligrams", "milligram", "mg"),
    "kg": ("kilograms", "kilogram", "kgs", "kg"),
    "gram": ("grams", "gram", "g"),
    "ml": ("milliliters", "milliliter", "millilitres", "millilitre", "ml"),
    "liter": ("liters", "liter", "litres", "litre", "L"),
    "gallon": ("gallons", "gallon", "gal"),
    "volt": ("volts", "volt", "V"),
    "watt": ("watts", "watt", "W"),
    "mAh": ("mah",),
    "GB": ("gigabytes", "gigabyte", "gb"),
    "°F": ("degrees fahrenheit", "°f"),
    "°C": ("degrees celsius", "°c"),
    "degree": ("degrees", "degree", "°"),
    "mph": ("mph",),
    "piece": ("pieces", "piece", "pcs", "pc"),
    "pack": ("packs", "pack", "pk"),
    "count": ("count", "ct"),
    "item": ("items", "item"),
    "set": ("sets", "set"),
    "pair": ("pairs", "pair"),
    "player": ("players", "player"),
    "page": ("pages", "page"),
    "sheet": ("sheets", "sheet"),
    "times": ("times", "time"),
}
UNIT_OF = {s.lower(): u for u, spellings in UNITS.items() for s in spellings}
GLUED_ONLY = {'"', "″", "in", "V", "W", "g", "L"}  # case-sensitive, glued to the number
ARTICLE_UNITS = {"hour", "day", "week", "month", "year", "minute"}  # "an hour" is 1 hour


def alternation(spellings: Iterable[str]) -> str:
    return "|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True))


SPACED_UNITS = [s for s in UNIT_OF if s not in {g.lower() for g in GLUED_ONLY} | {"in."}]
UNIT_RE = re.compile(rf"(?:\s?-?\s?)(?P<u>{alternation(SPACED_UNITS)})(?![A-Za-z])", re.IGNORECASE)
GLUED_UNIT_RE = re.compile(  # case-sensitive: '9"x7"', "7.2V", "12in", "12 in."
    rf"(?P<u>{alternation(GLUED_ONLY)})(?![a-wyz0-9])|\s?(?P<dot>in)\.(?!\w)"
)
UNIT_END_RE = re.compile(
    rf"\d\s?(?:[ap]\.?m\.?|{alternation(SPACED_UNITS)}|{alternation(GLUED_ONLY)})-\Z", re.I
)
FRACTION_UNIT_RE = re.compile(
    rf"\s(?:of\s)?an?\s(?P<u>{alternation(SPACED_UNITS)})(?![A-Za-z])", re.IGNORECASE
)

# Currencies: spelling → ISO code. Codes are upper case (so "try 5" is no Turkish lira).
CURRENCY_BEFORE = {
    "$": "USD", "US$": "USD", "U.S.$": "USD", "C$": "CAD", "CA$": "CAD", "A$": "AUD",
    "AU$": "AUD", "NZ$": "NZD", "HK$": "HKD", "S$": "SGD", "R$": "BRL", "MX$": "MXN",
    "€": "EUR", "£": "GBP", "¥": "JPY", "JP¥": "JPY", "CN¥": "CNY", "RMB": "CNY", "₹": "INR",
    "Rs.": "INR", "Rs": "INR", "₩": "KRW", "₽": "RUB", "₺": "TRY", "₱": "PHP",
}  # fmt: skip
CODES = ["USD", "CAD", "AUD", "NZD", "HKD", "SGD", "BRL", "MXN", "EUR", "GBP", "JPY", "CNY",
          "INR", "KRW", "RUB", "TRY", "PHP", "CHF", "SEK", "NOK", "DKK", "PLN", "ZAR"]  # fmt: skip
CURRENCY_BEFORE |= {c: c for c in CODES}
CURRENCY_AFTER = {
    "dollars": "USD", "dollar": "USD", "bucks": "USD", "us dollars": "USD", "us dollar": "USD",
    "canadian dollars": "CAD", "canadian dollar": "CAD", "australian dollars": "AUD",
    "australian dollar": "AUD", "euros": "EUR", "euro": "EUR", "pounds sterling": "GBP",
    "british pounds": "GBP", "yen": "JPY", "yuan": "CNY", "renminbi": "CNY", "rupees": "INR",
    "rupee": "INR", "swiss francs": "CHF", "cents": "cents", "cent": "cents", "¢": "cents",
}  # fmt: skip
BEFORE_RE = re.compile(rf"(?<![A-Za-z])(?:{alternation(CURRENCY_BEFORE)})\s?\Z")
AFTER_RE = re.compile(
    rf"\s?(?:(?P<code>(?-i:{alternation([*CODES, '€', '$', '£', '¥', '₹'])})|usd|eur|gbp)(?![A-Za-z])"
    rf"|(?P<word>{alternation(CURRENCY_AFTER)})(?![A-Za-z]))",
    re.IGNORECASE,
)
PERCENT_RE = re.compile(r"\s?(?:%|per\s?cent\b|pct\b)", re.IGNORECASE)
AMPM_RE = re.compile(r"\s?(?:(?P<a>[ap])m\b|(?P<b>[ap])\.m\.?)", re.IGNORECASE)
ORDINAL_SUFFIX_RE = re.compile(r"(?:st|nd|rd|th)\b", re.IGNORECASE)
SCALE_AFTER_RE = re.compile(r"\s(?P<s>hundred|thousand|million|billion|trillion|dozen)\b", re.I)

NUMBER_RE = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+")
VULGAR = "½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅐⅛⅜⅝⅞⅑⅒"
FRACTION_RE = re.compile(  # "51⁄2" (U+2044) is how Unicode normalisation writes "5½"
    rf"(?<![\d/.,])(?:(?P<whole>\d+)\s?)?(?P<vulgar>[{VULGAR}])"
    r"|(?<![\d/.,])(?P<fw>\d*)(?P<fn>\d)\u2044(?P<fd>\d{1,2})(?!\d)"
    r"|(?<![\d/.,])(?:(?P<mixed>\d+)\s)?(?P<num>\d+)/(?P<den>\d+)(?![\d/])"
)
TIME_RE = re.compile(
    r"(?<![\d:.])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::[0-5]\d)?(?![\d:])"
    r"(?:\s?(?:(?P<a>[AaPp])[Mm]\b|(?P<b>[AaPp])\.[Mm]\.?))?"
)
MONTHS = {
    m: i
    for i, names in enumerate(
        ("January Jan", "February Feb", "March Mar", "April Apr", "May", "June Jun", "July Jul",
         "August Aug", "September Sept Sep", "October Oct", "November Nov", "December Dec"), 1
    )
    for m in names.split()
}  # fmt: skip
ORDINAL_DAY = alternation(w for w, v in ORDINALS.items() if v <= 20) + "|thirtieth"
DAY = (
    rf"(?P<day>(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
    rf"|(?:(?:twenty|thirty)[-\s])?(?:{ORDINAL_DAY}))(?![\w])"
)
MONTH = rf"(?P<mon>{alternation(MONTHS)})\b\.?"
YEAR = r"(?P<year>\d{4})(?!\d)"
DATE_RES = [
    re.compile(r"(?<![\d/.-])(?P<year>\d{4})(?P<s>[-/])(?P<mon>\d{1,2})(?P=s)(?P<day>\d{1,2})(?![\d/-])"),
    re.compile(r"(?<![\d/.-])(?P<a>\d{1,2})(?P<s>[/-])(?P<b>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})(?![\d/-])"),
    re.compile(r"(?<![\d/.-])(?P<a>\d{1,2})(?P<s>\.)(?P<b>\d{1,2})\.(?P<y>\d{4})(?![\d.])"),
    re.compile(rf"\b{MONTH}\s{DAY}(?:,?\s{YEAR})?"),
    re.compile(rf"\b(?:the\s)?{DAY}(?:\sof)?\s{MONTH}(?:,?\s{YEAR})?"),
    re.compile(rf"\b{MONTH},?\s{YEAR}"),
]  # fmt: skip
