"""Tests for knowledge/asked_field.py: which field a question asks for, by its nearest wordings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge.answer_checks import field_gap
from knowledge.asked_field import FIELD_QUESTIONS_FILE, AskedFieldModel, mask_name
from knowledge.embedder import HashingEmbedder, SentenceTransformerEmbedder

# Examples as training writes them ({name} → "item"), a few per kind.
QUESTIONS = {
    "price": ["How much is the item?", "What does the item cost?", "price of item"],
    "brand": ["Who makes the item?", "What brand is the item?", "Which company makes the item?"],
    "category": ["What category is the item in?", "Where would I find the item in the store?"],
    "stock": ["Is the item in stock?", "Do you have the item available?"],
}


@pytest.mark.parametrize(
    ("question", "titles", "masked"),
    [
        (
            "what's the damage on the Learning Journey ABC Melody Maker",
            ["Learning Journey ABC Melody Maker - Musical Toy", "Melody Bells"],
            "what's the damage on the item",
        ),
        # The title sharing most words is masked, not the first one.
        (
            "who makes the Hot Wheels 9-Car Gift Pack?",
            ["Hot Sauce Kit", "Hot Wheels 9-Car Gift Pack (Styles May Vary)"],
            "who makes the item",
        ),
        # A run of stopwords alone is kept; no title, nothing masked.
        ("is the price of the Guillow kit fair?", ["The Guillow Kit"], "is the price of the item fair?"),
        ("how much is it?", [], "how much is it?"),
    ],
)  # fmt: skip
def test_mask_name_replaces_the_product_the_question_names(
    question: str, titles: list[str], masked: str
) -> None:
    assert mask_name(question, titles).rstrip("?") == masked.rstrip("?")


def test_the_nearest_kind_wins_and_a_close_call_is_unsure() -> None:
    model = AskedFieldModel(QUESTIONS, HashingEmbedder(), margin=0.0)
    assert model.kind("How much is the Guillow kit?", ["Guillow Kit"]) == "price"
    assert model.kind("Who makes the Guillow kit?", ["Guillow Kit"]) == "brand"
    scores = model.scores("Who makes the Guillow kit?", ["Guillow Kit"])
    assert set(scores) == set(QUESTIONS)
    gap = scores["brand"] - max(v for k, v in scores.items() if k != "brand")
    assert AskedFieldModel(QUESTIONS, HashingEmbedder(), margin=gap + 0.01).kind(
        "Who makes the Guillow kit?", ["Guillow Kit"]
    ) == ""  # fmt: skip


def test_arguments_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 2 kinds"):
        AskedFieldModel({"price": ["How much?"], "brand": []}, HashingEmbedder())
    with pytest.raises(ValueError, match="margin"):
        AskedFieldModel(QUESTIONS, HashingEmbedder(), margin=-0.1)
    assert AskedFieldModel.load(tmp_path / FIELD_QUESTIONS_FILE, HashingEmbedder()) is None
    (tmp_path / FIELD_QUESTIONS_FILE).write_text(json.dumps({"questions": QUESTIONS}))
    loaded = AskedFieldModel.load(tmp_path / FIELD_QUESTIONS_FILE, HashingEmbedder())
    assert loaded is not None and loaded.kinds == list(QUESTIONS)


class _BrokenEmbedder(HashingEmbedder):
    def embed(self, texts, batch_size=64):  # type: ignore[no-untyped-def]
        if len(texts) == 1:
            raise RuntimeError("embedder down")
        return super().embed(texts, batch_size)


def test_a_failing_guess_is_unsure_not_an_error() -> None:
    guess = AskedFieldModel(QUESTIONS, _BrokenEmbedder()).guesser("How much is it?")
    assert guess() == ""


@pytest.mark.parametrize(
    ("guessed", "raw", "gap"),
    [
        ("category", "The [[name]] costs [[Price]] [S1].", "answer gives price where category was asked"),
        ("category", "The [[name]] is listed under [[Category]] [S1].", ""),
        ("price", "The [[name]] is listed under [[Category]] [S1].", "answer gives category where price was asked"),
        ("brand", "The [[name]] is made by [[Brand]] [S1].", ""),
        ("spec", "The [[name]] costs [[Price]] [S1].", "answer gives price where spec was asked"),
        ("spec", "It weighs [[Item Weight]] [S1].", ""),
        ("stock", "It is by [[Brand]] [S1].", "answer gives brand where stock was asked"),
        # Unsure: the word rule alone (no category or brand for a question asking no field).
        ("", "The [[name]] is listed under [[Category]] [S1].", "answer gives category where no field was asked"),
        ("", "The [[name]] costs [[Price]] [S1].", ""),
    ],
)  # fmt: skip
def test_field_gap_takes_the_guess_when_no_wording_is_known(
    guessed: str, raw: str, gap: str
) -> None:
    question = "what shelf would the Guillow kit sit on, in your shop?"  # no known wording
    assert field_gap(question, raw, (), lambda: guessed) == gap


def test_field_gap_asks_for_no_guess_when_a_wording_is_known() -> None:
    def no_guess() -> str:
        raise AssertionError("guessed although the question says what it asks for")

    gap = field_gap("how much is the Guillow kit?", "It is in [[Category]] [S1].", (), no_guess)
    assert gap == "answer gives category where price was asked"


def test_the_real_embedder_reads_shoppers_words_the_rules_do_not_know() -> None:
    """The MiniLM model serving uses, on wordings that name no known field word."""
    model = AskedFieldModel(QUESTIONS, SentenceTransformerEmbedder())
    titles = ["LEGO Duplo Town Bus"]
    assert model.kind("how many bucks for the LEGO Duplo Town Bus?", titles) == "price"
    assert model.kind("is the LEGO Duplo Town Bus sold out?", titles) == "stock"
    vectors = model._vectors
    assert vectors is not None and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
