"""Source references: the generator's copy mechanism.

A small generator re-spells long product names, prices and spec values token by token and garbles
them (the demo generator's own text was 1.2% of its answers: the verifier rejected almost every
other one). So the generator does not write those values: it writes a *reference* to a field of a
source it was shown, and the decoder expands the reference to the source's exact text::

    The [[name]] costs [[Price]] [S1].
    → The Guillow Airplane Design Studio costs $28.91 [S1].

A reference names a field of the source its sentence cites (the citation tag after it), so the
model chooses the source once, as it did when it copied; ``[[S1:Price]]`` names the source itself.
The model still chooses which source answers, which field answers the question, the wording
around it, and when to say it does not know; the values are copied exactly. Fields:

- ``name``: the product's short name (the first words of its title, as shoppers say it);
- ``answer``: an FAQ entry's key sentences (whole sentences, at most 40 words);
- any label of a ``Label: value`` line or spec item the source shows (``Price``, ``Brand``,
  ``Category``, ``Availability``, ``Item Weight``...), matched without regard to case.

Only what the prompt shows can be referenced: a value the prompt budget cut short is not
expandable, so a reference never shows half a value. A reference must name the source its
sentence cites (the next citation tag after it, or the last one before it when none follows),
so one sentence cannot pair one product's name with another's price. Anything else — an unknown
source or field, an unfinished reference — is a :class:`ReferenceError`, and the pipeline shows the
verified passage instead. The expanded text is then verified like any generated text
(``knowledge.verifier``). Shopper and source text can never contain a reference
(``knowledge.prompt.sanitize`` removes the brackets).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from knowledge.prompt import (
    ANSWER,
    CITATION_TAG_RE,
    HISTORY,
    QUESTION,
    SOURCE,
    BuiltPrompt,
    document_body,
    group_by_document,
    normalize_tag,
    sanitize,
    short_name,
    spec_items,
)
from knowledge.types import Passage

REFERENCE_RE = re.compile(r"\[\[\s*(?:(S\s*\d+)\s*:\s*)?([^\[\]\n:]{1,60}?)\s*\]\]", re.IGNORECASE)
OPEN = "[["
NAME_FIELD = "name"
ANSWER_FIELD = "answer"
_SECTION_HEAD_RE = re.compile(r"^\[(S\d+)\]\s*(.*)$")
_ITEM_RE = re.compile(r"^([^:]{1,60}):\s+(.+)$")


class ReferenceError(ValueError):
    """A reference that cannot be expanded (unknown source or field, unfinished, wrong source)."""


def reference(name: str, tag: str = "") -> str:
    """The reference to field ``name`` of the sentence's cited source (``[[Price]]``), or of
    source ``tag`` (``[[S1:Price]]``)."""
    return f"[[{tag}:{name}]]" if tag else f"[[{name}]]"


def has_references(text: str) -> bool:
    """Whether ``text`` contains a reference (or the start of one)."""
    return OPEN in text


def without_article(title: str) -> str:
    """``"The Learning Journey ABC"`` → ``"Learning Journey ABC"`` (answers say "the {name}")."""
    return re.sub(r"^(?:the|a|an)\s+", "", title.strip(), flags=re.IGNORECASE)


def display_name(title: str, max_words: int = 5) -> str:
    """The product name answers use: the first words of the title, without a leading article
    (``"The Learning Journey ABC Puzzle"`` → ``"Learning Journey ABC Puzzle"``)."""
    return short_name(without_article(sanitize(title)), max_words=max_words)


def key_sentences(answer: str, max_words: int = 40) -> str:
    """The part of an FAQ answer that answers restate: whole sentences up to ``max_words`` words
    (the first sentence cut there when it alone is longer), ending in a full stop."""
    out: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", sanitize(answer)):
        words = sentence.split()
        if out and len(" ".join(out).split()) + len(words) > max_words:
            break
        out.append(" ".join(words[:max_words]) if not out else sentence)
        if len(" ".join(out).split()) >= max_words:
            break
    text = " ".join(out).strip()
    return text if text[-1:] in ".!?" else text + "."


def _items(body: str) -> list[tuple[str, str]]:
    """``(label, value)`` of every ``Label: value`` line or spec item of a source body."""
    out = []
    for line in body.split("\n"):
        line = line.strip()
        parts = spec_items(line) if line.startswith("Specs:") else [line]
        for part in parts:
            match = _ITEM_RE.match(part)
            if match:
                out.append((match.group(1).strip(), match.group(2).strip()))
    return out


@dataclass
class _Section:
    title: str
    fields: dict[str, str] = field(default_factory=dict)
    answer: str = ""


class PromptSources:
    """The referenceable fields of one prompt's sources, exactly as the prompt shows them.

    Args:
        prompt: The prompt text (``knowledge.prompt.build_prompt``).
        passages: The passages the prompt holds (``BuiltPrompt.passages``), to tell a section the
            budget cut short (whose last item may be half a value) from a whole one.
    """

    def __init__(self, prompt: str, passages: Sequence[Passage]) -> None:
        self.sections: dict[str, _Section] = {}
        groups = group_by_document(passages)
        head = prompt.split(HISTORY, 1)[0].split(QUESTION, 1)[0]
        # The question as the prompt shows it: the body order depends on it (asked specs first).
        question = prompt.rpartition(QUESTION)[2].partition(ANSWER)[0].strip()
        for position, chunk in enumerate(head.split(SOURCE)[1:], start=1):
            first, _, body = chunk.strip("\n").partition("\n")
            match = _SECTION_HEAD_RE.match(first.strip())
            if not match:
                continue
            group = groups[position - 1] if position <= len(groups) else []
            full = document_body(group, question) if group else body
            cut = " ".join(body.split()) != " ".join(full.split())
            items = _items(body)
            if cut and items and body.rstrip().endswith(items[-1][1]):
                items = items[:-1]  # the budget may have cut its value short
            section = _Section(match.group(2).strip())
            for label, value in items:
                section.fields.setdefault(label.lower(), value)
            is_product = bool(group) and group[0].kind == "product"
            if not is_product and body.strip():
                sentences = key_sentences(full if group else body)
                if " ".join(sentences.split()).rstrip(".") in " ".join(body.split()):
                    section.answer = sentences
            self.sections[normalize_tag(match.group(1))] = section

    @classmethod
    def of(cls, built: BuiltPrompt) -> PromptSources:
        return cls(built.text, built.passages)

    def labels(self) -> set[str]:
        """The field labels (lower case) the sources show, ``name`` and ``answer`` aside."""
        return {label for section in self.sections.values() for label in section.fields}

    def value(self, tag: str, name: str) -> str:
        """The text field ``name`` of source ``tag`` expands to."""
        section = self.sections.get(normalize_tag(tag))
        if section is None:
            raise ReferenceError(f"reference to a source the prompt does not have: {tag.upper()}")
        key = name.strip().lower()
        if key == NAME_FIELD and section.title:
            return display_name(section.title)
        if key == ANSWER_FIELD and section.answer:
            return section.answer
        if key in section.fields:
            return section.fields[key]
        raise ReferenceError(f"reference to a field {tag.upper()} does not show: {name}")

    def expand(self, text: str, partial: bool = False) -> str:
        """``text`` with every reference replaced by the source's exact text.

        A reference without a source (``[[Price]]``) takes the source its sentence cites: the
        next citation tag after it, or the last one before it when none follows.

        Args:
            text: The generator's answer.
            partial: ``text`` is the start of an answer still being generated: expand only up to
                the first reference that is unfinished or whose citation has not come yet.

        Raises:
            ReferenceError: An unknown source or field, an unfinished reference, a reference to
                another source than the one its sentence cites, or one no citation resolves.
        """
        tags = [(m.start(), normalize_tag(m.group(1))) for m in CITATION_TAG_RE.finditer(text)]
        out: list[str] = []
        end = 0
        for match in REFERENCE_RE.finditer(text):
            after = [t for start, t in tags if start >= match.end()]
            if partial and not after:
                return "".join(out) + text[end : match.start()]
            before = [t for start, t in tags if start < match.start()]
            named = normalize_tag(match.group(1)) if match.group(1) else ""
            cited = after[0] if after else (before[-1] if before else named)
            if not cited:
                raise ReferenceError(f"reference without a citation: {match.group(0)}")
            if named and cited != named:
                raise ReferenceError(
                    f"reference to {match.group(1)} in a sentence citing {cited.upper()}"
                )
            out += [text[end : match.start()], self.value(cited, match.group(2))]
            end = match.end()
        rest = text[end:]
        if partial:
            return "".join(out) + _before_unfinished(rest)
        if OPEN in rest or "]]" in rest:
            raise ReferenceError("unfinished reference")
        return "".join(out) + rest


def _before_unfinished(text: str) -> str:
    """``text`` cut before an unfinished reference (``"costs [[Pr"`` → ``"costs "``)."""
    cut = text.find(OPEN)
    if cut >= 0:
        return text[:cut]
    return text[:-1] if text.endswith("[") else text
