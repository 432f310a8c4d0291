"""The records of the generator's training data: fine-tuning examples, held-out evaluation
questions, and the whole dataset in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.types import Passage


@dataclass
class QAExample:
    """One fine-tuning example (the prompt is built from it by ``knowledge.prompt.build_prompt``).

    Args:
        id: Unique example id.
        kind: ``price``, ``brand``, ``category``, ``spec``, ``stock``, ``describe``, ``faq``,
            ``unknown`` or ``injection``.
        question: The shopper's question.
        answer: The target answer (without ``<|end|>``).
        passage_ids: Passages in the prompt, in retrieval order.
        history: Earlier ``[speaker, text]`` turns.
        doc_id: The document the answer relies on ("" for refusals).
        expected: The asked fact as it must appear in the prompt and a correct answer (the
            price as written, e.g. ``$28.91``).
    """

    id: str
    kind: str
    question: str
    answer: str
    passage_ids: list[str]
    history: list[list[str]] = field(default_factory=list)
    doc_id: str = ""
    expected: str = ""


@dataclass
class EvalQuestion:
    """One held-out question for ``eval-answers``.

    Args:
        id: Unique id.
        type: ``price``, ``brand``, ``category``, ``spec``, ``stock``, ``faq`` or ``unknown``.
        question: The question as a shopper would ask it.
        doc_id: The product or FAQ id the answer must cite ("" for ``unknown``).
        expected: The fact a correct answer contains (price ``$28.91``, brand, category leaf, spec
            value, ``in stock``/``out of stock``, or the key FAQ sentence).
        split: ``seen`` (a training phrasing) or ``unseen`` (a held-out phrasing).
        history: Earlier turns, if any.
    """

    id: str
    type: str
    question: str
    doc_id: str
    expected: str
    split: str
    history: list[list[str]] = field(default_factory=list)


@dataclass
class GeneratorDataset:
    """Everything ``prepare_generator`` produces, in memory."""

    pretrain: list[str]
    passages: dict[str, Passage]
    train: list[QAExample]
    valid: list[QAExample]
    eval_questions: list[EvalQuestion]
    injection_eval: list[dict[str, Any]]
    split: dict[str, Any]
    #: Kind → its training questions as plain text, for the asked-field model serving loads
    #: (``knowledge.asked_field``; see ``phrasings.field_questions``).
    field_questions: dict[str, list[str]] = field(default_factory=dict)
