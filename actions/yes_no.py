"""Reading a yes from what a shopper types at a confirmation ("yes, cancel it", "yep go ahead").

A change to an order happens only after an explicit yes. The NLU's ``affirm`` (or the request's
own intent: "cancel it") is the usual yes; this module adds what the intent alone cannot be
trusted with:

- a reply with a no, a doubt or a question in it is never a yes: "no, keep it", "hold on, the zip
  is wrong" or "how much will I get back?" read as the request's intent to a classifier;
- a reply that plainly opens with a yes ("correct, change it", "please do", "yep go ahead") is one
  even when the classifier is unsure, and one that opens with a no ("no, keep it", "actually
  don't") is a no.

Pure functions, no Rasa imports.
"""

from __future__ import annotations

import re

# Any of these anywhere makes the reply not a yes (the form asks again, or the "no" rule stops it).
_DOUBT = re.compile(
    r"\b(no|nope|nah|not|never|wait|hold on|hang on|stop|keep|leave|wrong|but|hmm+|later|"
    r"think|unsure|maybe|instead)\b|n't\b|\bdont\b|\?"
)
# A reply that opens with one of these (then anything without a doubt) is a yes.
_YES_OPENING = re.compile(
    r"^(yes|yess+|yeah|yea|yep|yup|ya|y|sure|ok|okay|k|correct|right|confirm|confirmed|"
    r"please do|please go ahead|do it|do that|go ahead|go for it|absolutely|definitely|"
    r"of course|affirmative|sounds good|perfect|exactly|that'?s right|that is right|"
    r"that'?s correct|that is correct|i confirm|please proceed|proceed|go on|fine|alright|"
    r"all right|that'?s fine|no problem|no worries)\b"
)
# Idioms that contain a no but mean yes; removed before looking for a doubt.
_YES_IDIOMS = re.compile(r"\b(why not|no problem|no worries)\b")
_YES_SYMBOLS = frozenset({"👍", "👌", "✅", "✔", "✔️"})
# A reply that opens with one of these is a no (nothing is changed).
_NO_OPENING = re.compile(
    r"^(?:(?:actually|wait|hmm+|oh|um+|erm)\W*\s*)?"
    r"(no|nope|nah|not now|not yet|not really|don'?t|dont|do not|never ?mind|forget it|"
    r"keep it|leave it|scratch that|i changed my mind|i'?ve changed my mind|i'?d rather not|"
    r"cancel that)\b"
)
_NO_SYMBOLS = frozenset({"👎", "❌"})


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def has_doubt(text: object) -> bool:
    """Whether the reply contains a no, a hesitation or a question (then it is not a yes)."""
    return isinstance(text, str) and bool(_DOUBT.search(_YES_IDIOMS.sub(" ", _normal(text))))


def opens_with_yes(text: object) -> bool:
    """Whether the reply opens with a plain yes ("yes", "yep", "correct", "please do")."""
    if not isinstance(text, str):
        return False
    normal = _normal(text)
    return normal in _YES_SYMBOLS or bool(_YES_OPENING.match(normal))


def opens_with_no(text: object) -> bool:
    """Whether the reply opens with a plain no ("no, keep it", "actually don't", "nah").

    Idioms that mean yes ("no problem, go ahead") are not a no.
    """
    if not isinstance(text, str):
        return False
    normal = _normal(text)
    if normal in _NO_SYMBOLS:
        return True
    return not _YES_OPENING.match(normal) and bool(_NO_OPENING.match(normal))


def is_yes(text: object, intent: str | None, yes_intents: frozenset[str]) -> bool:
    """A yes: no no or doubt in the reply, and a yes intent or a plain yes opening.

    Args:
        text: What the shopper typed (a button payload such as ``/affirm`` included).
        intent: The NLU's intent for the reply.
        yes_intents: The intents that say yes to this question (``affirm``, the request's own).
    """
    if has_doubt(text) or opens_with_no(text):
        return False
    return intent in yes_intents or opens_with_yes(text)
