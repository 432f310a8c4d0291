"""The NLU data types every step passes along: an utterance with its intent, entity spans and group."""

from __future__ import annotations

from dataclasses import dataclass

#: The Rasa intent of out-of-scope messages; its CSV label is ``training.labelled_csv.OOS_LABEL``.
OOS_INTENT = "out_of_scope"


@dataclass(frozen=True)
class EntitySpan:
    """One entity annotation: ``text[start:end] == value``."""

    start: int
    end: int
    entity: str
    value: str


@dataclass(frozen=True)
class NluExample:
    """One training utterance with its intent, entity spans and paraphrase group.

    Attributes:
        text: The plain utterance (no annotation markup).
        intent: The Rasa intent name (``out_of_scope`` for out-of-scope messages).
        entities: Entity spans over ``text``, sorted by start.
        group: Paraphrase group id (``"<intent>/<n>"``); empty until groups are assigned.
        source: ``"bitext"``, ``"handwritten"`` or ``"catalog"``.
    """

    text: str
    intent: str
    entities: tuple[EntitySpan, ...] = ()
    group: str = ""
    source: str = ""
