"""The question and answer phrasing tables of the generator's training data, read from YAML.

The tables (question templates per fact type, FAQ paraphrase parts, prompt injections, off-topic
questions) are data: they live in ``qa_phrasings.yml`` beside this module and are read once, on
first use, by :func:`load_phrasings`.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.asked_field import NAME_MASK

PHRASINGS_FILE = Path(__file__).with_name("qa_phrasings.yml")


@dataclass(frozen=True)
class QuestionTemplates:
    """The phrasings of one product fact type (``{name}``/``{spec}`` slots).

    Attributes:
        train: Phrasings used in fine-tuning.
        held_out: Phrasings never used in fine-tuning; eval-answers asks half of its questions
            with them.
    """

    train: tuple[str, ...]
    held_out: tuple[str, ...]


@dataclass(frozen=True)
class Phrasings:
    """Every phrasing table of ``qa_phrasings.yml`` (see the comments there).

    Attributes:
        templates: Question templates per fact type (price, brand, category, spec, stock,
            describe), in file order.
        follow_ups: Follow-up questions per fact type ("How much is it?").
        spec_aliases: Spec key → how shoppers name it.
        absent_attributes: Attributes no source states ("not in the sources" examples).
        off_topic_questions: Questions no store source answers.
        faq_prefixes: Greetings put before a paraphrased FAQ question ("" = none).
        faq_suffixes: Closings put after it.
        faq_rewrites: ``(from, to)`` rewrites of an FAQ question's wording.
        held_out_faq_prefixes: Greetings used only in evaluation questions.
        held_out_faq_rewrites: Rewrites used only in evaluation questions.
        question_injections: Prompt injections in the question, seen in training.
        passage_injections: Prompt injections planted in a passage, seen in training.
        eval_question_injections: Injections in the question, kept for evaluation only.
        eval_passage_injections: Injections planted in a passage, kept for evaluation only.
        bitext_placeholders: Bitext ``{{Placeholder}}`` name → neutral wording.
    """

    templates: dict[str, QuestionTemplates]
    follow_ups: dict[str, tuple[str, ...]]
    spec_aliases: dict[str, tuple[str, ...]]
    absent_attributes: tuple[str, ...]
    off_topic_questions: tuple[str, ...]
    faq_prefixes: tuple[str, ...]
    faq_suffixes: tuple[str, ...]
    faq_rewrites: tuple[tuple[str, str], ...]
    held_out_faq_prefixes: tuple[str, ...]
    held_out_faq_rewrites: tuple[tuple[str, str], ...]
    question_injections: tuple[str, ...]
    passage_injections: tuple[str, ...]
    eval_question_injections: tuple[str, ...]
    eval_passage_injections: tuple[str, ...]
    bitext_placeholders: dict[str, str]


def _strings(value: Any, where: str, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(
            f"{where} in {str(path)!r} must be a non-empty list of quoted strings. Currently, it "
            f"is {value!r}; fix the file."
        )
    return tuple(value)


def _pairs(value: Any, where: str, path: Path) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(s, str) for s in pair)
        for pair in value
    ):
        raise ValueError(
            f"{where} in {str(path)!r} must be a list of [from, to] string pairs. Currently, it "
            f"is {value!r}; fix the file."
        )
    return tuple((pair[0], pair[1]) for pair in value)


def _mapping(value: Any, where: str, path: Path) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise ValueError(
            f"{where} in {str(path)!r} must be a non-empty mapping. Currently, it is {value!r}; "
            f"fix the file."
        )
    return {str(key): item for key, item in value.items()}


@functools.lru_cache(maxsize=4)
def load_phrasings(path: Path = PHRASINGS_FILE) -> Phrasings:
    """Read and check the phrasing tables (cached: each file is read once per process).

    Args:
        path: The YAML file (default: ``training/generator_data/qa_phrasings.yml``).

    Returns:
        The tables, in file order.

    Raises:
        ValueError: If a table is missing or has the wrong shape (the message names it).
    """
    import yaml  # local import: only the data preparation needs it

    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    data = _mapping(data, "the top level", path)
    templates: dict[str, QuestionTemplates] = {}
    for kind, item in _mapping(data.get("templates"), "templates", path).items():
        item = _mapping(item, f"templates.{kind}", path)
        templates[kind] = QuestionTemplates(
            train=_strings(item.get("train"), f"templates.{kind}.train", path),
            held_out=_strings(item.get("held_out"), f"templates.{kind}.held_out", path),
        )
    placeholders = _mapping(data.get("bitext_placeholders"), "bitext_placeholders", path)
    if not all(isinstance(v, str) for v in placeholders.values()):
        raise ValueError(
            f"bitext_placeholders in {str(path)!r} must map names to quoted strings. Currently, "
            f"it is {placeholders!r}; fix the file."
        )

    def strings(name: str) -> tuple[str, ...]:
        return _strings(data.get(name), name, path)

    def pairs(name: str) -> tuple[tuple[str, str], ...]:
        return _pairs(data.get(name), name, path)

    def string_lists(name: str) -> dict[str, tuple[str, ...]]:
        table = _mapping(data.get(name), name, path)
        return {key: _strings(items, f"{name}.{key}", path) for key, items in table.items()}

    return Phrasings(
        templates=templates,
        follow_ups=string_lists("follow_ups"),
        spec_aliases=string_lists("spec_aliases"),
        absent_attributes=strings("absent_attributes"),
        off_topic_questions=strings("off_topic_questions"),
        faq_prefixes=strings("faq_prefixes"),
        faq_suffixes=strings("faq_suffixes"),
        faq_rewrites=pairs("faq_rewrites"),
        held_out_faq_prefixes=strings("held_out_faq_prefixes"),
        held_out_faq_rewrites=pairs("held_out_faq_rewrites"),
        question_injections=strings("question_injections"),
        passage_injections=strings("passage_injections"),
        eval_question_injections=strings("eval_question_injections"),
        eval_passage_injections=strings("eval_passage_injections"),
        bitext_placeholders={key: str(value) for key, value in placeholders.items()},
    )


def field_questions(phrasings: Phrasings) -> dict[str, list[str]]:
    """Each kind's training question templates as plain questions ("How much is the item?"), the
    examples of the asked-field model serving loads (``knowledge.asked_field``): ``{name}`` is
    "item" (``NAME_MASK``, as serving masks a question's product name), ``{spec}`` the shoppers'
    spec names in turn."""
    aliases = itertools.cycle(
        [alias for names in phrasings.spec_aliases.values() for alias in names]
    )
    return {
        kind: [template.format(name=NAME_MASK, spec=next(aliases)) for template in templates.train]
        for kind, templates in phrasings.templates.items()
    }
