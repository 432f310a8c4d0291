"""Questions about what the assistant can do ("what can you do?"), read from their words.

The intent classifier has no intent for them: the demo model reads "what can you do?" as
``place_order`` (0.83) and "how can you help me?" as a product question, and the knowledge
actions then answered "I don't have that information in our catalog". Teaching ``bot_challenge``
22 such questions tied on the development sets and routed fewer FAQ questions to the FAQ
(`docs/benchmarks/2026-12-07/capability-questions/`), so a knowledge action that gets one answers
it with the assistant's own description (``utter_iamabot``) instead. Only the whole message counts:
"what can you do about my late parcel" is a request, not this question.

Pure functions, no Rasa imports.
"""

from __future__ import annotations

import re

__all__ = ["asks_what_bot_does"]

_YOU = r"(?:you|u|ya|this (?:bot|chat|assistant|thing)|the (?:bot|assistant))"
_CAPABILITY = re.compile(
    r"^\W*(?:(?:hi|hello|hey|so|ok|okay|um|erm|help|sorry)\W+)*"
    r"(?:"
    rf"(?:so\s+)?what(?:\s+else)?\s+can\s+{_YOU}(?:\s+actually|\s+even)?\s+"
    r"(?:do|help(?:\s+me)?\s+with|help\s+with|help\s+me\s+do)(?:\s+for\s+me)?"
    rf"|how\s+(?:can|could|do)\s+{_YOU}\s+help(?:\s+me)?"
    rf"|what\s+(?:do|does)\s+{_YOU}\s+do"
    rf"|what\s+(?:are|is)\s+{_YOU}\s+(?:for|able\s+to\s+do|capable\s+of|good\s+for)"
    r"|what\s+can\s+i\s+(?:ask|ask\s+you|ask\s+about|use\s+(?:you|this)\s+for|do\s+here)"
    rf"|what\s+(?:kind|kinds|sort|sorts|type|types)\s+of\s+(?:things|stuff|questions)\s+can\s+"
    rf"{_YOU}\s+(?:help\s+(?:me\s+)?with|answer|do)"
    rf"|tell\s+me\s+what\s+{_YOU}\s+can\s+do"
    r"|how\s+does\s+this\s+(?:chat|bot|work)(?:\s+work)?"
    r")"
    r"(?:\s+(?:here|exactly|then|again))?\W*$",
    re.IGNORECASE,
)


def asks_what_bot_does(text: str) -> bool:
    """Whether the whole message asks what the assistant can do."""
    return bool(_CAPABILITY.match(text.strip()))
