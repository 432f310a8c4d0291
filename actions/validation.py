"""Format checks for what shoppers type into forms: order numbers and email addresses.

Pure functions (no Rasa imports) so the same rules serve the form validation action, the store
service and the channels.
"""

from __future__ import annotations

import re
from collections.abc import Callable

ORDER_NUMBER_RE = re.compile(r"^\d{6}$")
# Deliberately simple: one "@", a dot in the domain, no spaces. Real validation is the store's
# database lookup; this only catches typos early with a helpful message.
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_EMAIL_IN_TEXT_RE = re.compile(
    r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])"
)
# A run of digits, possibly split by single spaces or hyphens ("104 517", "104-650", "#104 999"),
# not glued to letters or other codes ("INV-2024-004512", "abc104233").
_DIGIT_RUN_RE = re.compile(r"(?<![\w#-])#?\s?\d+(?:[ -]\d+)*(?![\w-])")


def order_numbers_in(text: str) -> list[str]:
    """The distinct 6-digit order numbers a message names, in order of appearance.

    A run of digits split by single spaces or hyphens counts when it has 6 digits in all
    ("104 517", "its 104-650"); otherwise each 6-digit part of it does ("104233 2"). Digits inside
    an email address, longer numbers ("1042335") and shorter ones ("10423") are not order numbers.

    Args:
        text: What the shopper typed.
    """
    found: list[str] = []
    for run in _DIGIT_RUN_RE.findall(_EMAIL_IN_TEXT_RE.sub(" ", text)):
        parts = re.findall(r"\d+", run)
        digits = "".join(parts)
        for digit_run in [digits] if len(digits) == 6 else [p for p in parts if len(p) == 6]:
            candidate = f"{int(digit_run):06d}"  # any script's digits ("１０４２３３") as ASCII
            if candidate not in found:
                found.append(candidate)
    return found


def emails_in(text: str) -> list[str]:
    """The distinct email addresses (lower-cased) a message names, in order of appearance.

    Args:
        text: What the shopper typed.
    """
    found: list[str] = []
    for match in _EMAIL_IN_TEXT_RE.findall(text):
        local, domain = match.rsplit("@", 1)
        address = (local.strip("'.") + "@" + domain).lower()
        if EMAIL_RE.match(address) and address not in found:
            found.append(address)
    return found


def normalize_order_number(value: object) -> str | None:
    """Return the 6-digit order number in ``value``, or None when there is none or several.

    Accepts ``"104233"``, ``"#104233"``, ``"order 104233"``, ``"104 233"`` and ``"its 104-650"``;
    rejects anything with a different number of digits.

    Args:
        value: What the shopper typed (or an extracted entity value).
    """
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    found = order_numbers_in(str(value))
    return found[0] if len(found) == 1 else None


def normalize_email(value: object) -> str | None:
    """Return the lower-cased email address in ``value``, or None when there is none or several.

    Args:
        value: What the shopper typed (or an extracted entity value).
    """
    if not isinstance(value, str):
        return None
    found = emails_in(value)
    return found[0] if len(found) == 1 else None


def value_in_message(
    text: object, slot_value: object, find: Callable[[str], list[str]]
) -> str | None:
    """The one value ``find`` reads in the shopper's whole message, else in the slot's value.

    The NLU fills a slot with one entity, so "either a@x.com or a@x.org" would keep the last
    address; the message decides first: one value is it, several are ambiguous (None). A message
    naming none (a button payload, a value from an earlier turn) leaves the slot's own value,
    unless the NLU read it from inside an email in this message.

    Args:
        text: The latest user message's text.
        slot_value: The value the NLU or the slot mappings put in the slot.
        find: ``order_numbers_in`` or ``emails_in``.
    """
    found = find(text) if isinstance(text, str) else []
    if len(found) > 1:
        return None
    if found:
        return found[0]
    if isinstance(slot_value, int) and not isinstance(slot_value, bool):
        slot_value = str(slot_value)
    if inside_an_email(text, slot_value):
        return None
    candidates = find(slot_value) if isinstance(slot_value, str) else []
    return candidates[0] if len(candidates) == 1 else None


def inside_an_email(text: object, value: object) -> bool:
    """Whether ``value`` occurs in ``text`` only inside email addresses: the digits of
    "100017@example.com" are part of an email, not an order number the NLU may take.

    Args:
        text: The latest user message's text.
        value: The value the NLU put in a slot.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not (isinstance(text, str) and isinstance(value, str) and value and value in text):
        return False
    return value not in _EMAIL_IN_TEXT_RE.sub(" ", text)


def shorten(value: object, limit: int = 40) -> str:
    """Return ``value`` as a single line of at most ``limit`` characters, for echoing back."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
