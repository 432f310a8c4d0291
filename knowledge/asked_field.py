"""Which kind of fact a product question asks for, judged by its nearest training wordings.

The answer checks (:func:`knowledge.answer_checks.field_gap`) know the words that ask for a price,
a brand or a category. Shoppers' own words are often none of them ("what aisle would the X be
shelved in?", "ballpark, what kind of money are we talking for the X?"), and a generated answer
that gave another field than the one asked then went through: on wordings nobody tuned for (the
blind v2 set, 2026-12-06) the demo generator answered "what aisle…" with the price, 8 times.

This model embeds the question, the product's name replaced by "item" (:func:`mask_name`: names
pulled the guess towards the category, "Doll", "Games"), with the retriever's own embedder (no
other model is loaded), and compares it with the generator's training questions, one list per kind
(``price``, ``brand``, ``category``, ``spec``, ``stock``, ``describe``), which training writes next
to the generator
(:data:`FIELD_QUESTIONS_FILE`). It names the kind whose nearest wording is closer than every other
kind's by ``margin`` (cosine), and is unsure ("") otherwise; the margin was chosen on the v2 set
(decision 026). A wrong guess costs a generated answer (the verified passage is shown instead),
never a wrong one.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from knowledge.types import Embedder

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_MARGIN", "FIELD_QUESTIONS_FILE", "AskedFieldModel", "mask_name"]

FIELD_QUESTIONS_FILE = "field_questions.json"
DEFAULT_MARGIN = 0.02
NAME_MASK = "item"  # what the training questions' {name} became (training: field_questions)
_WORD_RE = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset({"the", "a", "an", "of", "for", "and", "with", "by", "in", "to", "on"})


def mask_name(question: str, titles: Iterable[str]) -> str:
    """``question`` with each run of words of the product title it shares most words with
    replaced by "item" ("what's the damage on the Learning Journey ABC Melody Maker" → "what's
    the damage on the item"); stopwords that open a run, or make all of it, are kept."""
    asked = set(_WORD_RE.findall(question.lower()))
    words = max(
        (set(_WORD_RE.findall(title.lower())) for title in titles),
        key=lambda title: len((title - _STOPWORDS) & asked),
        default=set(),
    )
    out: list[str] = []
    run: list[str] = []
    run_words: list[set[str]] = []
    for token in [*question.split(), ""]:
        found = set(_WORD_RE.findall(token.lower()))
        if token and found and found <= words:
            run.append(token)
            run_words.append(found)
            continue
        # Stopwords that open a run stay ("the" Guillow kit → "the item").
        while run and run_words[0] <= _STOPWORDS:
            out.append(run.pop(0))
            run_words.pop(0)
        if run:
            out.append(NAME_MASK)
            run, run_words = [], []
        if token:
            out.append(token)
    return " ".join(out)


class AskedFieldModel:
    """Nearest-wording guess of the kind of fact a question asks for.

    Args:
        questions: Kind → example questions (``{"price": ["How much is the item?", ...]}``).
        embedder: Returns L2-normalised sentence vectors (``knowledge.types.Embedder``).
        margin: How much closer (cosine) the best kind's nearest example must be than every other
            kind's for a guess; below it the model is unsure.
    """

    def __init__(
        self,
        questions: Mapping[str, Sequence[str]],
        embedder: Embedder,
        margin: float = DEFAULT_MARGIN,
    ) -> None:
        kinds = [kind for kind, texts in questions.items() if texts]
        if len(kinds) < 2:
            raise ValueError(f"Need example questions of at least 2 kinds, got {kinds}.")
        if margin < 0:
            raise ValueError(f"margin must be at least 0. Currently, margin is {margin}.")
        self.embedder = embedder
        self.margin = margin
        self.kinds = kinds
        self._texts = [text for kind in kinds for text in questions[kind]]
        self._labels = np.array([kind for kind in kinds for _ in questions[kind]])
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, path: str | Path, embedder: Embedder, margin: float = DEFAULT_MARGIN
    ) -> AskedFieldModel | None:
        """The model of ``path`` (``generator/field_questions.json``), or None when the generator
        came without one (an older checkpoint, an OpenAI-compatible server)."""
        path = Path(path)
        if not path.exists():
            return None
        questions = json.loads(path.read_text(encoding="utf-8"))["questions"]
        return cls(questions, embedder, margin)

    def warm_up(self) -> None:
        """Embed the example questions now rather than on the first guess."""
        with self._lock:
            if self._vectors is None:
                self._vectors = np.asarray(self.embedder.embed(self._texts), dtype=np.float32)
                logger.info(
                    "Asked-field model: %d example questions of %d kinds, margin %.2f",
                    len(self._texts),
                    len(self.kinds),
                    self.margin,
                )

    def scores(self, question: str, titles: Sequence[str] = ()) -> dict[str, float]:
        """Each kind's similarity to ``question`` (the product of ``titles`` it names masked):
        that of its nearest example."""
        self.warm_up()
        assert self._vectors is not None
        text = mask_name(question, titles)
        vector = np.asarray(self.embedder.embed([text]), dtype=np.float32)[0]
        similarities = self._vectors @ vector
        return {kind: float(similarities[self._labels == kind].max()) for kind in self.kinds}

    def kind(self, question: str, titles: Sequence[str] = ()) -> str:
        """The kind ``question`` (about a product of ``titles``) asks for, or "" when no kind is
        ahead by the margin."""
        ranked = sorted(
            self.scores(question, titles).items(), key=lambda item: item[1], reverse=True
        )
        (best, top), (_, second) = ranked[0], ranked[1]
        return best if top - second >= self.margin else ""

    def guesser(self, question: str, titles: Sequence[str] = ()) -> Callable[[], str]:
        """:meth:`kind` of ``question``, computed only when called; "" (unsure) if it fails."""

        def guess() -> str:
            try:
                return self.kind(question, titles)
            except Exception:
                logger.exception("The asked-field model failed on %r", question)
                return ""

        return guess
