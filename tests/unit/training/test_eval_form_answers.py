"""The form-answer scorer: the real domain's slot mappings and the real validation action, with a
stand-in for the NLU model (each test says what the model parsed)."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain

from training.eval_form_answers import (
    FIRST_ITEM_ID,
    FormAnswerScorer,
    as_gold,
    context_items,
    context_plan,
    stop_intents,
    summarize,
)
from training.shopper_eval import FormAnswer

ROOT = Path(__file__).resolve().parents[3]
ITEMS = "bot listed: 1. Blue Ceramic Teapot; 2. Bamboo Cutting Board; 3. Cotton Tea Towel Set"


class ParsedAs:
    """A stand-in for the Rasa agent: every message parses as ``intent`` with ``entities``."""

    def __init__(self, intent: str, entities: list[dict[str, Any]] | None = None) -> None:
        self.intent = intent
        self.entities = entities or []
        self.domain = DOMAIN

    async def parse_message(self, text: str) -> dict[str, Any]:
        return {
            "text": text,
            "intent": {"name": self.intent, "confidence": 0.9},
            "entities": self.entities,
        }


with warnings.catch_warnings():  # Rasa warns on every domain load ("Slot auto-fill ...")
    warnings.simplefilter("ignore", UserWarning)
    DOMAIN = Domain.load(str(ROOT / "bot" / "domain"))


def score(answer: FormAnswer, intent: str, entities: list[dict[str, Any]] | None = None) -> Any:
    scorer = FormAnswerScorer(ParsedAs(intent, entities), stop_intents())  # type: ignore[arg-type]
    return asyncio.run(scorer.score(answer))


def test_rules_that_stop_the_form_are_read_from_the_rules() -> None:
    assert {"deny", "contact_human_agent", "human_handoff"} <= stop_intents()
    assert "affirm" not in stop_intents()


def test_context_gives_the_listed_items_and_the_plan() -> None:
    assert context_items(ITEMS) == [
        "Blue Ceramic Teapot",
        "Bamboo Cutting Board",
        "Cotton Tea Towel Set",
    ]
    assert context_plan("plan address: bot asked whether to change the address") == "address"
    assert context_plan(None) == "cancel"


def test_gold_format_of_kept_values() -> None:
    confirm = FormAnswer("order_form.order_confirmed", "ok", "yes", "plan return: asked")
    assert as_gold(confirm, "return:104233") == "yes"
    assert as_gold(confirm, "cancel:104233") == "no"  # a yes to another plan is not this yes
    assert as_gold(confirm, None) == "no"
    items = FormAnswer("order_form.return_item", "x", "1,3", ITEMS)
    assert as_gold(items, f"{FIRST_ITEM_ID + 2},{FIRST_ITEM_ID}") == "1,3"


def test_an_email_typed_as_text_is_validated_and_lower_cased() -> None:
    answer = FormAnswer("order_form.email", "Kim.Lu@Example.COM", "kim.lu@example.com")
    outcome = score(answer, "inform")
    assert (outcome.how, outcome.got) == ("validated", "kim.lu@example.com")
    assert outcome.right


def test_a_deny_at_the_confirmation_stops_the_form_and_counts_as_no() -> None:
    answer = FormAnswer("order_form.order_confirmed", "nope", "no", "plan cancel: asked")
    outcome = score(answer, "deny")
    assert (outcome.how, outcome.got) == ("stopped", "no")


def test_an_affirm_at_the_confirmation_confirms_the_plan() -> None:
    answer = FormAnswer("order_form.order_confirmed", "sounds good", "yes", "plan address: asked")
    outcome = score(answer, "affirm")
    assert (outcome.how, outcome.got) == ("validated", "yes")


def test_an_out_of_scope_parse_no_reader_understands_fills_nothing() -> None:
    answer = FormAnswer("order_form.item_condition", "it's a gift for my aunt", "unopened")
    outcome = score(answer, "out_of_scope")
    assert (outcome.how, outcome.got) == ("not_extracted", None)
    assert not outcome.right


def test_an_out_of_scope_parse_the_form_reads_is_kept() -> None:
    answer = FormAnswer("order_form.item_condition", "never took it out", "unopened")
    outcome = score(answer, "out_of_scope")
    assert (outcome.how, outcome.got) == ("validated", "unopened")


def test_a_no_the_form_cannot_read_goes_to_the_stop_rule() -> None:
    answer = FormAnswer("order_form.order_number", "no forget it", None)
    assert score(answer, "deny").how == "stopped"


def test_an_item_picked_by_name_maps_back_to_its_list_number() -> None:
    answer = FormAnswer("order_form.return_item", "the teapot", "1", ITEMS)
    assert score(answer, "inform").got == "1"


def test_summary_counts_per_step_and_lists_errors() -> None:
    right = FormAnswer("order_form.email", "a@b.co", "a@b.co")
    wrong = FormAnswer("order_form.email", "nope", None)
    from training.eval_form_answers import Outcome

    numbers = summarize(
        [Outcome(right, "inform", "a@b.co", "validated"), Outcome(wrong, "x", "y", "validated")]
    )
    step = numbers["steps"]["order_form.email"]
    assert (step["answers"], step["right"], step["accuracy"]) == (2, 1, 0.5)
    assert step["valid_answers_kept"] == 1.0 and step["invalid_answers_refused"] == 0.0
    assert [e["text"] for e in numbers["errors"]] == ["nope"]


@pytest.mark.parametrize("slot", ["order_number", "email", "new_address", "item_condition"])
def test_a_question_eaten_as_text_is_not_kept(slot: str) -> None:
    answer = FormAnswer(f"order_form.{slot}", "what time do you close?", None)
    assert score(answer, "inform").got is None
