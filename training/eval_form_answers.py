"""Form answers in shoppers' own words: the slot value the running system keeps at each step.

    from training.eval_form_answers import score_form_answers
    numbers = score_form_answers(Path("models/rasa/shopbot-tiny.tar.gz"))
    numbers["steps"]["order_form.email"]["accuracy"]

For every answer of the frozen set (``form_answers.yml``) the message goes through the same code
as in a conversation, in this process:

1. the Rasa model parses it (``Agent.parse_message``);
2. a tracker with ``order_form`` active, asking the answer's slot (and the slots earlier steps
   filled: a verified order, the request's plan), receives the message, and Rasa's own
   ``ActionExtractSlots`` applies the domain's slot mappings;
3. the action server's ``validate_order_form`` (``actions.forms.ValidateOrderForm``, with its
   ``extract_<slot>`` methods) runs on that tracker, as the action server would receive it, with
   a store double (:class:`EvalStore`) that owns every order and lists the items the answer's
   context names;
4. as in Rasa's ``FormAction.validate``, when nothing was extracted and the action set no slot,
   the form is rejected: nothing is kept (``stopped`` when a rule of the form answers the intent,
   ``deny`` or a human; ``not_extracted`` otherwise).

The kept value is compared with the gold one: ``order_confirmed`` counts as ``yes`` only when
the form recorded a confirmation of the plan for the order; ``return_item`` maps the item ids
back to the list numbers of the context.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import yaml
from tqdm import tqdm

from actions.store.types import Actor, Ownership, ReturnableItem, ReturnQuote, StoreUnavailable
from training.shopper_eval import FormAnswer, load_shopper_eval

if TYPE_CHECKING:
    from rasa.core.agent import Agent
    from rasa.shared.core.domain import Domain

    from actions.store.service import StoreBackend

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = ROOT / "bot" / "data" / "rules"
FORM = "order_form"
ORDER = "104233"
EMAIL = "shopper@example.com"
CUSTOMER = 7
FIRST_ITEM_ID = 901
"""Item ids start here, so a list number is never mistaken for an item id."""

# The request behind each plan (what the shopper asked before the form reached this step).
REQUEST_OF_PLAN = {
    "cancel": "cancel_order",
    "address": "change_shipping_address",
    "return": "get_refund",
}
_PLAN_IN_CONTEXT = re.compile(r"\bplan (cancel|address|return)\b")
_ITEM_IN_CONTEXT = re.compile(r"(\d+)\.\s*([^;]+)")


class EvalStore:
    """A store double: every order number and email pair is owned; the return quote lists
    ``items`` (ids from :data:`FIRST_ITEM_ID`). Anything else is unavailable."""

    def __init__(self, items: Iterable[str] = ()) -> None:
        self.items = tuple(
            ReturnableItem(FIRST_ITEM_ID + n, name, 1, Decimal("10.00"))
            for n, name in enumerate(items)
        )

    def now(self) -> dt.datetime:
        """A fixed clock."""
        return dt.datetime(2026, 12, 4, 12, 0)

    def verify_owner(self, order_number: str, email: str, actor: Actor) -> Ownership:
        """Every pair is owned by :data:`CUSTOMER`."""
        return Ownership(order_number, CUSTOMER)

    def verify_customer_order(self, order_number: str, customer_id: int, actor: Actor) -> Ownership:
        """Every order is the signed-in customer's."""
        return Ownership(order_number, customer_id, method="token")

    def locked_until(self, actor: Actor) -> dt.datetime | None:
        """Nobody is locked out."""
        return None

    def quote_return(self, owner: Ownership) -> ReturnQuote:
        """The items of the answer's context, all returnable."""
        return ReturnQuote(owner.order_number, "USD", dt.date(2026, 12, 30), self.items, (), "card")

    def __getattr__(self, name: str) -> Any:
        raise StoreUnavailable(f"EvalStore has no {name}")


@dataclass(frozen=True)
class Outcome:
    """What the system kept for one answer."""

    answer: FormAnswer
    intent: str
    got: str | None
    how: str
    """``validated``, ``stopped`` (a rule ended the form) or ``not_extracted`` (nothing filled)."""

    @property
    def right(self) -> bool:
        """Whether the kept value is the gold one."""
        return self.got == self.answer.expected


def context_items(context: str | None) -> list[str]:
    """The item names of ``"bot listed: 1. Shark Plush; 2. Lovey Lamb"``, in list order."""
    return [name.strip() for _, name in _ITEM_IN_CONTEXT.findall(context or "")]


def context_plan(context: str | None) -> str:
    """The plan the confirmation is about (``"plan cancel: ..."``); ``cancel`` when unnamed."""
    found = _PLAN_IN_CONTEXT.search(context or "")
    return found.group(1) if found else "cancel"


def stop_intents(rules_dir: Path = RULES_DIR, form: str = FORM) -> frozenset[str]:
    """Intents a rule answers with ``action_deactivate_loop`` while ``form`` is active."""
    stops: set[str] = set()
    for path in sorted(rules_dir.glob("*.yml")):
        for rule in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("rules") or []:
            condition = rule.get("condition") or []
            steps = rule.get("steps") or []
            if (
                {"active_loop": form} in condition
                and len(steps) > 1
                and "intent" in steps[0]
                and steps[1].get("action") == "action_deactivate_loop"
            ):
                stops.add(steps[0]["intent"])
    return frozenset(stops)


def slots_before(answer: FormAnswer) -> dict[str, Any]:
    """The slots set when the form asks the answer's slot (earlier steps answered)."""
    verified = {
        "order_number": ORDER,
        "email": EMAIL,
        "verified_order": ORDER,
        "verified_customer": str(CUSTOMER),
    }
    if answer.slot == "order_number":
        return {"order_request": "cancel_order"}
    if answer.slot == "email":
        return {"order_request": "cancel_order", "order_number": ORDER}
    if answer.slot in ("return_item", "item_condition"):
        extra = {"return_item": str(FIRST_ITEM_ID)} if answer.slot == "item_condition" else {}
        return {**verified, "order_request": "get_refund", "order_plan": "return", **extra}
    if answer.slot == "new_address":
        return {**verified, "order_request": "change_shipping_address", "order_plan": "address"}
    plan = context_plan(answer.context)
    extra = {
        "address": {"new_address": "12 Oak St, Apt 4, Austin, TX 78701, US"},
        "return": {"return_item": str(FIRST_ITEM_ID), "item_condition": "unopened"},
    }.get(plan, {})
    return {**verified, "order_request": REQUEST_OF_PLAN[plan], "order_plan": plan, **extra}


def as_gold(answer: FormAnswer, value: Any) -> str | None:
    """The kept slot value in the gold format of the answer's step."""
    if answer.slot == "order_confirmed":
        plan = context_plan(answer.context)
        return "yes" if value == f"{plan}:{ORDER}" else "no"
    if value is None:
        return None
    if answer.slot == "return_item":
        ids = [int(part) for part in str(value).split(",") if part.strip().isdigit()]
        return ",".join(str(n) for n in sorted(i - FIRST_ITEM_ID + 1 for i in ids))
    return str(value)


class FormAnswerScorer:
    """Runs answers through the Rasa model, the slot mappings and the validation action."""

    def __init__(self, agent: Agent, stops: frozenset[str]) -> None:
        self.agent = agent
        self.domain: Domain = cast("Domain", agent.domain)
        self.stops = stops

    @classmethod
    def load(cls, model: Path) -> FormAnswerScorer:
        """Load the Rasa model at ``model`` (in this process)."""
        import structlog
        from rasa.core.agent import Agent

        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
        # With no action server, the custom slot mappings (frustration) log a warning per message.
        logging.getLogger("rasa.core.actions.action").setLevel(logging.ERROR)
        return cls(Agent.load(str(model)), stop_intents())

    async def score(self, answer: FormAnswer) -> Outcome:
        """What the system keeps for one answer."""
        from rasa.core.actions.action import ActionExtractSlots
        from rasa.core.channels.channel import CollectingOutputChannel
        from rasa.core.nlg import TemplatedNaturalLanguageGenerator
        from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        parsed = await self.agent.parse_message(answer.text)
        intent = str((parsed.get("intent") or {}).get("name") or "")
        events = [
            *(SlotSet(name, value) for name, value in slots_before(answer).items()),
            ActiveLoop(answer.form),
            SlotSet("requested_slot", answer.slot),
            ActionExecuted("action_listen"),
            UserUttered(answer.text, parsed.get("intent"), parsed.get("entities"), parsed),
        ]
        tracker = DialogueStateTracker.from_events("form-eval", events, slots=self.domain.slots)
        extracted = await ActionExtractSlots(None).run(
            CollectingOutputChannel(),
            TemplatedNaturalLanguageGenerator(self.domain.responses),
            tracker,
            self.domain,
        )
        form_slots = set(self.domain.required_slots_for_form(answer.form))
        for event in extracted:
            tracker.update(event)
        # Rasa's FormAction.validate: the validation action always runs; the form is rejected
        # when nothing was extracted and the action set no slot either (then the rules answer).
        value, validated = await self._validated(answer, tracker)
        if not validated and not any(
            isinstance(e, SlotSet) and e.key in form_slots for e in extracted
        ):
            how = "stopped" if intent in self.stops else "not_extracted"
            return Outcome(answer, intent, as_gold(answer, None), how)
        return Outcome(answer, intent, as_gold(answer, value), "validated")

    async def _validated(self, answer: FormAnswer, tracker: Any) -> tuple[Any, bool]:
        """Run ``validate_order_form`` as the action server would: the slot's final value, and
        whether the action set any slot (which keeps the form from being rejected)."""
        from rasa.shared.core.trackers import EventVerbosity
        from rasa_sdk import Tracker
        from rasa_sdk.executor import CollectingDispatcher

        from actions.forms import ValidateOrderForm
        from actions.store import runtime

        runtime.set_store(cast("StoreBackend", EvalStore(context_items(answer.context))))
        try:
            sdk_tracker = Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))
            events = await ValidateOrderForm().run(
                CollectingDispatcher(), sdk_tracker, self.domain.as_dict()
            )
        finally:
            runtime.set_store(None)
        value = tracker.get_slot(answer.slot)
        slots_set = False
        for event in events:
            if event.get("event") == "slot" and event.get("name") != "requested_slot":
                slots_set = True
                if event.get("name") == answer.slot:
                    value = event.get("value")
        return value, slots_set


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    """Accuracy overall and per step, how each answer ended, and the wrong ones."""
    steps: dict[str, dict[str, Any]] = {}
    for step in sorted({o.answer.step for o in outcomes}):
        mine = [o for o in outcomes if o.answer.step == step]
        right = sum(o.right for o in mine)
        steps[step] = {
            "answers": len(mine),
            "right": right,
            "accuracy": round(right / len(mine), 4),
            "valid_answers_kept": _share(o.right for o in mine if o.answer.expected is not None),
            "invalid_answers_refused": _share(o.right for o in mine if o.answer.expected is None),
        }
    right = sum(o.right for o in outcomes)
    return {
        "answers": len(outcomes),
        "right": right,
        "accuracy": round(right / max(1, len(outcomes)), 4),
        "steps": steps,
        "how": dict(Counter(o.how for o in outcomes)),
        "errors": [
            {
                "step": o.answer.step,
                "text": o.answer.text,
                "expected": o.answer.expected,
                "got": o.got,
                "intent": o.intent,
                "how": o.how,
            }
            for o in outcomes
            if not o.right
        ],
    }


def _share(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return round(sum(values) / len(values), 4) if values else None


def score_form_answers(
    model: Path, answers: tuple[FormAnswer, ...] | None = None
) -> dict[str, Any]:
    """Score every answer of the frozen set (or ``answers``) with the Rasa model at ``model``."""
    scorer = FormAnswerScorer.load(model)
    answers = load_shopper_eval().form_answers if answers is None else answers

    async def run_all() -> list[Outcome]:
        return [await scorer.score(a) for a in tqdm(answers, desc="form answers", unit="answer")]

    numbers = summarize(asyncio.run(run_all()))
    logger.info(
        "Form answers: %d/%d kept the gold value (%.4f)",
        numbers["right"],
        numbers["answers"],
        numbers["accuracy"],
    )
    return {"model": str(model), **numbers}


def report_lines(numbers: dict[str, Any]) -> list[str]:
    """The markdown section of ``shopbot eval-shopper`` for the form answers."""

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.1%}"

    lines = [
        "## Form answers in shoppers' own words",
        "",
        f"Model `{numbers['model']}`: the value `order_form` keeps for each answer (NLU parse → "
        "slot mappings → `validate_order_form`); null answers must be refused. "
        f"Overall {numbers['right']}/{numbers['answers']} ({numbers['accuracy']:.1%}).",
        "",
        "| step | answers | right | accuracy | valid kept | invalid refused |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for step, n in numbers["steps"].items():
        lines.append(
            f"| {step} | {n['answers']} | {n['right']} | {n['accuracy']:.1%} | "
            f"{pct(n['valid_answers_kept'])} | {pct(n['invalid_answers_refused'])} |"
        )
    if numbers["errors"]:
        lines += [
            "",
            "| step | text | expected | got | intent | how |",
            "|---|---|---|---|---|---|",
        ]
        for e in numbers["errors"]:
            text = " ".join(str(e["text"]).split()).replace("|", "\\|")
            lines.append(
                f"| {e['step'].split('.', 1)[1]} | {text} | {e['expected']} | {e['got']} | "
                f"{e['intent']} | {e['how']} |"
            )
    return lines
