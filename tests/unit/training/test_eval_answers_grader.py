"""The eval-answers grader on its own: what counts as a correct reply to each kind of question.

Replies are written the way the pipeline renders them (a sentence, ``[1]`` markers, a
``Sources:`` line); questions and facts are the demo catalog's and FAQ's.
"""

from __future__ import annotations

import pytest

from knowledge.types import Answer
from training.eval_answers import fact_correct, summarise
from training.generator_data.records import EvalQuestion

SOURCES = "\n\nSources: [1] Guillow Airplane Design Studio with Travel Case Building Kit"
UNKNOWN = (
    "I don't have that information in our catalog. Would you like me to connect you with a human "
    "agent?"
)


def q(kind: str, expected: str) -> EvalQuestion:
    return EvalQuestion("ev-1", kind, "a question", "doc", expected, "seen")


def reply(text: str, outcome: str = "generated") -> Answer:
    return Answer(text + ("" if outcome == "unknown" else SOURCES), [], outcome)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "correct"),
    [
        ("The Guillow Airplane Design Studio costs $28.91 [1].", True),
        ("Guillow Airplane Design Studio\nPrice: $28.91 [1]", True),
        ("It's US$ 28.910 [1].", True),
        ("It costs $28.19 [1].", False),  # digits swapped
        ("It was $35.00, now $28.91 [1].", False),  # two prices: which one?
        ("The Guillow kit has 28.91 pieces [1].", False),  # the number, but not as a price
        ("Shipping is free from $35.00 [1].", False),
    ],
)
def test_price(text: str, correct: bool) -> None:
    assert fact_correct(q("price", "$28.91"), reply(text)) is correct


@pytest.mark.parametrize(
    ("expected", "text", "correct"),
    [
        ("in stock", "The Guillow kit is in stock [1].", True),
        ("in stock", "The Guillow kit is out of stock [1].", False),
        ("out of stock", "Sorry, the Guillow kit is out of stock [1].", True),
        ("out of stock", "It is in stock [1].", False),
        (
            "in stock",
            "Our catalog doesn't say whether the Guillow kit is in stock right now [1].",
            False,
        ),
    ],
)
def test_stock(expected: str, text: str, correct: bool) -> None:
    assert fact_correct(q("stock", expected), reply(text)) is correct


@pytest.mark.parametrize(
    ("kind", "expected", "text", "correct"),
    [
        ("brand", "Guillow", "The Guillow Airplane Design Studio is made by Guillow [1].", True),
        ("brand", "LEGO", "It is made by Guillow [1].", False),
        ("category", "Airplane & Jet Kits", "It is listed under Airplane & Jet Kits [1].", True),
        ("spec", "8", "It costs $28.91 [1].", False),  # "8" is not a word of "28.91"
        ("spec", "13.4 ounces", "Item Weight: 13.4 ounces [1]", True),
        ("spec", "13.4 ounces", "Item Weight: 113.4 ounces [1]", False),
        ("spec", "", "Anything [1]", False),
    ],
)
def test_attributes_are_whole_words(kind: str, expected: str, text: str, correct: bool) -> None:
    assert fact_correct(q(kind, expected), reply(text)) is correct


def test_faq_needs_most_of_the_key_sentence() -> None:
    key = "Our return policy allows you to return products within 30 days of purchase"
    question = q("faq", key)
    assert fact_correct(question, reply(key + " for a full refund [1]."))
    paraphrase = "You can return products within 30 days of purchase under our policy [1]."
    assert fact_correct(question, reply(paraphrase))
    assert not fact_correct(question, reply("Returns are accepted within 14 days [1]."))


def test_unknown_questions_need_the_honest_fallback_and_answerable_ones_do_not_get_it() -> None:
    assert fact_correct(q("unknown", ""), reply(UNKNOWN, "unknown"))
    assert not fact_correct(q("unknown", ""), reply("The weather is sunny [1]."))
    assert not fact_correct(q("price", "$28.91"), reply(UNKNOWN + " $28.91", "unknown"))
    assert not fact_correct(q("brand", "Guillow"), reply("Guillow? " + UNKNOWN, "unknown"))


def _record(kind: str, outcome: str, correct: bool = True) -> dict[str, object]:
    return {
        "type": kind, "split": "seen", "outcome": outcome, "correct": correct, "doc_id": "d1",
        "unsupported": [], "citation_correct": True, "retrieved": True, "completion": "",
        "verifier_rejected": False, "latency_ms": {"total": 10.0},
    }  # fmt: skip


def test_outcome_shares_over_all_questions_and_over_the_answerable_ones() -> None:
    # Two price questions (one generated, one the passage) and two not-in-store questions,
    # answered honestly: half the questions are generated, and half the answerable ones.
    records = [
        _record("price", "generated"),
        _record("price", "passage"),
        _record("unknown", "unknown"),
        _record("unknown", "unknown"),
    ]
    metrics = summarise(records)
    assert metrics["outcomes"] == {"generated": 0.25, "passage": 0.25, "unknown": 0.5}
    assert metrics["outcomes_answerable"] == {"generated": 0.5, "passage": 0.5, "unknown": 0.0}
    assert metrics["accuracy_by_type"]["unknown"] == 1.0
