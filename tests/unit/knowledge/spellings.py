"""The many ways a text may write one value, for the number-reader and verifier property tests
(not collected: no test_ prefix). Written independently of ``knowledge.numbers``: these spell,
the reader parses, and the tests check that the two agree."""

from __future__ import annotations

from fractions import Fraction

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen"]  # fmt: skip
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
SCALES = [(10**9, "billion"), (10**6, "million"), (10**3, "thousand")]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip
_IRREGULAR_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                       "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}  # fmt: skip


def words(n: int, *, hyphen: bool = True, british: bool = False) -> str:
    """``n`` in English words: 25 → "twenty-five" ("twenty five" without ``hyphen``);
    105 → "one hundred five" ("one hundred and five" when ``british``)."""
    if n < 20:
        return ONES[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return TENS[tens] + (("-" if hyphen else " ") + ONES[unit] if unit else "")
    joiner = " and " if british else " "
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = f"{ONES[hundreds]} hundred"
        return head + (joiner + words(rest, hyphen=hyphen, british=british) if rest else "")
    for scale, name in SCALES:
        if n >= scale:
            count, rest = divmod(n, scale)
            head = f"{words(count, hyphen=hyphen, british=british)} {name}"
            if not rest:
                return head
            sep = joiner if rest < 100 else " "
            return head + sep + words(rest, hyphen=hyphen, british=british)
    raise AssertionError("unreachable")


def ordinal_words(n: int, *, hyphen: bool = True) -> str:
    """21 → "twenty-first", 12 → "twelfth", 40 → "fortieth", 100 → "one hundredth"."""
    spelled = words(n, hyphen=hyphen)
    head, _, last = spelled.rpartition("-" if hyphen and "-" in spelled else " ")
    sep = ("-" if hyphen and "-" in spelled else " ") if head else ""
    if last in _IRREGULAR_ORDINALS:
        last = _IRREGULAR_ORDINALS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head}{sep}{last}"


def ordinal_digits(n: int) -> str:
    """21 → "21st", 12 → "12th", 103 → "103rd"."""
    if 11 <= n % 100 <= 13:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def integer(n: int, style: int) -> str:
    """One of the spellings of a whole number: digits, "1,000", words with or without hyphens
    and "and"."""
    styles = [
        str(n),
        f"{n:,}",
        words(n),
        words(n, hyphen=False),
        words(n, british=True),
    ]
    return styles[style % len(styles)]


INTEGER_STYLES = 5


def days(n: int, style: int) -> str:
    """``n`` days: "30 days", "30-day", "thirty days", "thirty-day", "1,000 days"."""
    count = integer(n, style // 2)
    return f"{count}-day" if style % 2 else f"{count} {'day' if n == 1 else 'days'}"


DAYS_STYLES = 2 * INTEGER_STYLES


def percent(n: int, style: int) -> str:
    """``n`` percent: "25%", "25 %", "25 percent", "25 per cent", "twenty-five percent"."""
    forms = ["{d}%", "{d} %", "{d} percent", "{d} per cent", "{w} percent", "{w} per cent"]
    return forms[style % len(forms)].format(d=n, w=words(n))


PERCENT_STYLES = 6


def day_range(low: int, high: int, unit: str, style: int) -> str:
    """A range: "3-5 business days", "3–5", "3 to 5", "between 3 and 5", "from three to five"."""
    forms = [
        "{a}-{b} {u}",
        "{a}–{b} {u}",
        "{a} to {b} {u}",
        "between {a} and {b} {u}",
        "from {wa} to {wb} {u}",
        "{wa}-{wb} {u}",
    ]
    return forms[style % len(forms)].format(a=low, b=high, wa=words(low), wb=words(high), u=unit)


RANGE_STYLES = 6

MONEY_FORMS = {
    "USD": ["${a}", "US${a}", "USD {a}", "{a} USD", "{a} dollars", "{a} US dollars"],
    "EUR": ["€{a}", "€ {a}", "EUR {a}", "{a} EUR", "{a} euros", "{a}€"],
    "GBP": ["£{a}", "GBP {a}", "{a} GBP", "{a} pounds sterling"],
    "JPY": ["¥{a}", "JPY {a}", "{a} JPY", "{a} yen"],
    "INR": ["₹{a}", "Rs. {a}", "Rs {a}", "INR {a}", "{a} rupees"],
    "CAD": ["C${a}", "CA${a}", "CAD {a}", "{a} CAD", "{a} Canadian dollars"],
    "AUD": ["A${a}", "AU${a}", "AUD {a}", "{a} AUD", "{a} Australian dollars"],
}
CURRENCIES = sorted(MONEY_FORMS)


def money(cents: int, currency: str, style: int) -> str:
    """An amount of ``cents`` hundredths in ``currency``: "$1,099.95", "1099.95 dollars",
    "USD 1099.950", "€12", "twelve euros" (words only for whole amounts before a currency word)."""
    whole, frac = divmod(cents, 100)
    amounts = [f"{whole}.{frac:02d}", f"{whole:,}.{frac:02d}", f"{whole}.{frac:02d}0"]
    if frac == 0:
        amounts += [str(whole), f"{whole:,}"]
    form = MONEY_FORMS[currency][style % len(MONEY_FORMS[currency])]
    amount = amounts[(style // 7) % len(amounts)]
    if frac == 0 and form.startswith("{a} ") and form[4:].isalpha() and style % 3 == 0:
        amount = words(whole)  # "twelve euros"
    return form.format(a=amount)


def date(year: int, month: int, day: int, style: int) -> str:
    """A full date: ISO, "March 14, 2026", "14 March 2026", "3/14/2026", "Mar. 14 2026",
    "March 14th, 2026", "the fourteenth of March 2026", "14.03.2026"."""
    name = MONTHS[month - 1]
    forms = [
        f"{year}-{month:02d}-{day:02d}",
        f"{name} {day}, {year}",
        f"{day} {name} {year}",
        f"{month}/{day}/{year}",
        f"{name[:3]}. {day} {year}" if name != "May" else f"May {day} {year}",
        f"{name} {ordinal_digits(day)}, {year}",
        f"the {ordinal_words(day)} of {name} {year}",
        f"{day:02d}.{month:02d}.{year}",
    ]
    return forms[style % len(forms)]


DATE_STYLES = 8


def time_of_day(hour: int, minute: int, style: int) -> str:
    """A time: "9am" (on the hour), "9:30 a.m.", "9:30 AM", "09:30", "21:30", "9:30pm"."""
    twelve = hour % 12 or 12
    meridiem = "am" if hour < 12 else "pm"
    forms = [
        f"{twelve}:{minute:02d} {meridiem[0]}.m.",
        f"{twelve}:{minute:02d} {meridiem.upper()}",
        f"{hour:02d}:{minute:02d}",
        f"{twelve}:{minute:02d}{meridiem}",
    ]
    if minute == 0:
        forms += [f"{twelve}{meridiem}", f"{twelve} {meridiem}"]
    return forms[style % len(forms)]


TIME_STYLES = 6

FRACTIONS: dict[Fraction, tuple[str, ...]] = {
    Fraction(1, 2): ("1/2", "½", "half", "a half", "one half", "0.5"),
    Fraction(1, 4): ("1/4", "¼", "a quarter", "one quarter", "0.25"),
    Fraction(3, 4): ("3/4", "¾", "three quarters", "three fourths", "0.75"),
    Fraction(1, 3): ("1/3", "⅓", "one third", "a third of"),
    Fraction(2, 3): ("2/3", "⅔", "two thirds"),
    Fraction(3, 2): ("1 1/2", "1½", "one and a half", "1.5"),
    Fraction(5, 2): ("2 1/2", "2½", "two and a half", "2.5"),
}
