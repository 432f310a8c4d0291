"""The correction store: propose, list, review once; entity spans checked against the text."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.console.agents import AgentStore
from bot.storage.corrections import CorrectionError, CorrectionStore, check_entities
from tests.unit.bot.console.helpers import FakeClock, cheap_passwords


@pytest.fixture()
def store(app_engine: Engine) -> tuple[CorrectionStore, int, int]:
    agents = AgentStore(app_engine, cheap_passwords())
    agent = agents.add("bob@example.com", "Bob", "agent", "a long passphrase here")
    admin = agents.add("ada@example.com", "Ada", "admin", "another long passphrase")
    return CorrectionStore(app_engine, FakeClock(tick_s=1)), agent.id, admin.id


def test_propose_list_and_review_once(store: tuple[CorrectionStore, int, int]) -> None:
    corrections, agent, admin = store
    first = corrections.propose(
        "c1",
        4,
        "intent",
        "where is order 482913",
        agent,
        original_intent="greet",
        intent="track_order",
        entities=[{"entity": "order_number", "start": 15, "end": 21}],
    )
    second = corrections.propose(
        "c1", 5, "answer", "Hi!", agent, answer=" It ships in 2 days. ", is_fact=True
    )
    assert first.entities == [{"entity": "order_number", "value": "482913", "start": 15, "end": 21}]
    assert first.status == "proposed" and first.agent_name == "Bob"
    assert second.answer == "It ships in 2 days." and second.is_fact and second.intent is None
    assert [c.id for c in corrections.list("proposed")] == [second.id, first.id]
    assert [c.id for c in corrections.for_conversation("c1")] == [first.id, second.id]

    decided, now = corrections.review(first.id, True, admin)
    assert decided and now is not None and now.status == "accepted"
    assert now.reviewer_name == "Ada" and now.reviewed_at is not None
    again, same = corrections.review(first.id, False, admin)  # already decided: no change
    assert not again and same is not None and same.status == "accepted"
    assert corrections.review(9999, True, admin) == (False, None)
    assert [c.id for c in corrections.accepted()] == [first.id]
    assert [c.id for c in corrections.list("proposed")] == [second.id]
    assert len(corrections.list()) == 2


def test_propose_refuses_incomplete_corrections(store: tuple[CorrectionStore, int, int]) -> None:
    corrections, agent, _ = store
    with pytest.raises(CorrectionError, match="needs the right intent"):
        corrections.propose("c1", 1, "intent", "hi", agent)
    with pytest.raises(CorrectionError, match="needs the right answer"):
        corrections.propose("c1", 1, "answer", "hi", agent, answer="  ")
    with pytest.raises(CorrectionError, match="kind must be"):
        corrections.propose("c1", 1, "other", "hi", agent)


@pytest.mark.parametrize(
    ("entities", "message"),
    [
        ("x", "must be a list"),
        ([1], "must be an object"),
        ([{"start": 0, "end": 2}], "entity must be an entity name"),
        ([{"entity": "colour", "start": 0, "end": 2}], "one of the domain's entities"),
        ([{"entity": "product", "start": 0, "end": 99}], "0 <= start < end <= 12"),
        ([{"entity": "product", "start": 3, "end": 3}], "start < end"),
        ([{"entity": "product", "start": "0", "end": 2}], "whole-number offsets"),
        ([{"entity": "product", "start": 3, "end": 4}], "only spaces"),
        (
            [
                {"entity": "product", "start": 0, "end": 5},
                {"entity": "product", "start": 4, "end": 8},
            ],
            "may not overlap",
        ),
    ],
)
def test_entity_spans_must_fit_the_text(entities: object, message: str) -> None:
    with pytest.raises(CorrectionError, match=message):
        check_entities("red mug blue", entities, known={"product"})


def test_entity_values_default_to_their_words() -> None:
    spans = check_entities(
        "red mug blue",
        [
            {"entity": "product", "start": 8, "end": 12, "value": "B0BLUE"},
            {"entity": "product", "start": 0, "end": 7},
        ],
    )
    assert spans == [
        {"entity": "product", "value": "red mug", "start": 0, "end": 7},
        {"entity": "product", "value": "B0BLUE", "start": 8, "end": 12},
    ]
