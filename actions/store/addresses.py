"""Reading a postal address the shopper typed into a ``NewAddress`` (US-style, as the demo store).

``"12 Oak St, Apt 4, Austin, TX 78701"`` → line1 ``12 Oak St``, line2 ``Apt 4``, city ``Austin``,
region ``TX``, postal code ``78701``. Anything else gets an error that says what to type.
"""

from __future__ import annotations

import re

from actions.store.types import NewAddress

__all__ = ["AddressError", "parse_address"]

_REGION_ZIP = re.compile(r"^(?P<region>[A-Za-z]{2})\s+(?P<zip>\d{5}(?:-\d{4})?)$")
_COUNTRY = {"US", "USA", "UNITED STATES", "UNITED STATES OF AMERICA"}
# Words before the house number: "please send it to 64 Hill St", "my work: 250 Commerce Pkwy".
_LEAD_IN = re.compile(
    r"^(?:.*?\b(?:to|is|at|address|here|it'?s|its|that'?s)\b\s*:?|[^:\d]*:)\s*(?=\d)", re.IGNORECASE
)
EXAMPLE = "12 Oak St, Apt 4, Austin, TX 78701"
_STREET_TYPES = (
    "st|street|ave|avenue|rd|road|blvd|boulevard|dr|drive|ln|lane|ct|court|way|pl|place|pkwy|"
    "parkway|ter|terrace|cir|circle|hwy|highway|sq|square|trl|trail|close"
)
_NO_COMMAS = re.compile(
    rf"^(?P<street>\d+\w*\s+.+?\b(?:{_STREET_TYPES})\.?)\s+(?P<city>[A-Za-z][A-Za-z .'-]*?)\s+"
    r"(?P<rest>[A-Za-z]{2}\s+\d{5}(?:-\d{4})?)$",
    re.IGNORECASE,
)


class AddressError(ValueError):
    """The text is not an address this store can ship to; the message says what is missing."""


def parse_address(text: object) -> NewAddress:
    """Parse ``street, [unit,] city, STATE ZIP[, US]``.

    Raises:
        AddressError: With a message naming what is missing and an example.
    """
    if not isinstance(text, str) or not text.strip():
        raise AddressError(f'I need the full address, like "{EXAMPLE}".')
    parts = [p.strip() for p in re.split(r"[,\n]", text) if p.strip()]
    if parts and parts[-1].upper().rstrip(".") in _COUNTRY:
        parts = parts[:-1]
    if len(parts) == 1:
        # "77 Pine St Boulder CO 80302": no commas; the street ends at its type (St, Ave...)
        no_commas = _NO_COMMAS.match(parts[0])
        if no_commas:
            parts = [no_commas["street"], no_commas["city"], no_commas["rest"]]
    if len(parts) >= 2 and not _REGION_ZIP.match(parts[-1]):
        # "Austin TX 78701" written without the comma before the state
        city_region = re.match(
            r"^(?P<city>.+?)\s+(?P<rest>[A-Za-z]{2}\s+\d{5}(?:-\d{4})?)$", parts[-1]
        )
        if city_region:
            parts = [*parts[:-1], city_region["city"], city_region["rest"]]
    if len(parts) < 3 or len(parts) > 4:
        raise AddressError(
            f"That doesn't look like a full address. Please write it as street, city, state and "
            f'ZIP code, like "{EXAMPLE}".'
        )
    match = _REGION_ZIP.match(parts[-1])
    if not match:
        raise AddressError(
            f'I couldn\'t find the state and ZIP code in "{parts[-1]}". Please end the address '
            f'with them, like "{EXAMPLE}".'
        )
    line1 = parts[0] if parts[0][:1].isdigit() else _LEAD_IN.sub("", parts[0])
    if not re.search(r"\d", line1) or len(line1) > 200:
        raise AddressError(
            f'"{line1[:60]}" doesn\'t look like a street address (house number and street). '
            f'For example: "{EXAMPLE}".'
        )
    line2 = parts[1] if len(parts) == 4 else None
    city = parts[-2]
    if len(city) > 100 or any(ch.isdigit() for ch in city):
        raise AddressError(
            f'"{city[:60]}" doesn\'t look like a city name. For example: "{EXAMPLE}".'
        )
    return NewAddress(
        line1=line1,
        line2=line2,
        city=city,
        region=match["region"].upper(),
        postal_code=match["zip"],
    )
