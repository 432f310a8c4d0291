"""Format checks for what shoppers type into forms: order numbers and email addresses.

Pure functions (no Rasa imports) so the same rules serve the form validation action, the store
service and the channels.
"""

from __future__ import annotations

import re

ORDER_NUMBER_RE = re.compile(r"^\d{6}$")
# Deliberately simple: one "@", a dot in the domain, no spaces. Real validation is the store's
# database lookup; this only catches typos early with a helpful message.
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_ORDER_IN_TEXT_RE = re.compile(r"(?<!\d)#?\s?(\d{6})(?!\d)")
_EMAIL_IN_TEXT_RE = re.compile(
    r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)


def normalize_order_number(value: object) -> str | None:
    """Return the 6-digit order number in ``value``, or None when there is none.

    Accepts ``"104233"``, ``"#104233"``, ``"order 104233"`` and ``"104 233"``; rejects anything with
    a different number of digits.

    Args:
        value: What the shopper typed (or an extracted entity value).
    """
    if not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    compact = re.sub(r"[\s#-]", "", text)
    if ORDER_NUMBER_RE.match(compact):
        return compact
    found = _ORDER_IN_TEXT_RE.findall(text)
    return found[0] if len(found) == 1 else None


def normalize_email(value: object) -> str | None:
    """Return the lower-cased email address in ``value``, or None when there is none.

    Args:
        value: What the shopper typed (or an extracted entity value).
    """
    if not isinstance(value, str):
        return None
    text = value.strip().strip(".,;:!?<>()[]\"'")
    if EMAIL_RE.match(text):
        return text.lower()
    found = _EMAIL_IN_TEXT_RE.findall(value)
    return found[0].lower() if len(found) == 1 else None


def shorten(value: object, limit: int = 40) -> str:
    """Return ``value`` as a single line of at most ``limit`` characters, for echoing back."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
