"""The shoppers' messages of the load benchmarks, by kind of turn, each checked against the NLU.

Used by the "Throughput" section (``training/bench/throughput.py``, Locust) and the per-turn
profile (``docs/benchmarks/2026-12-04/profile/profile_turns.py``). Every message is chosen *before*
the load and kept only when the served model gives it the kind's intent, so a kind's numbers are
that kind of turn and nothing else:

- greetings and thanks: short everyday phrasings;
- product questions and FAQ questions: :func:`training.bench.widget.bench_questions` (catalog
  products in a few phrasings; the store FAQ's own questions), the FAQ ones kept when they parse
  as an intent whose rule answers from the FAQ (``action_answer_policy``);
- product searches: the catalog's own category names in a few phrasings;
- order tracking with identity (ask, order number, email) and a cancellation that the shopper
  declines at the confirmation (ask, number, email, "no, keep it"): orders read from the servers'
  copy of the store, never written (a declined cancellation changes nothing).
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from training.bench.widget import bench_questions
from training.bench.widget_client import post_json

SEED = 17
GREETINGS = (
    "hello",
    "hi there",
    "good morning",
    "hey",
    "hi",
    "hello!",
    "hey there",
    "good evening",
)
THANKS = ("thanks", "thank you", "thanks a lot", "thank you so much", "many thanks", "thanks!")
TRACK_ASKS = (
    "where is my order",
    "track my order",
    "where is my package",
    "I want to track my order",
)
CANCEL_ASKS = ("cancel my order", "I want to cancel my order", "please cancel my order")
DECLINE = "no, keep it"
SEARCH_TEMPLATES = ("do you sell {}?", "do you have {}?", "I'm looking for {}")
TRACKABLE = ("shipped", "delivered", "processing")
CANCELLABLE = ("pending", "processing")

Parse = Callable[[str], str]  # message → the served model's intent


def served_intent(base_url: str, token: str, text: str) -> str:
    """The intent the running Rasa server gives ``text`` (``/model/parse``); empty on an error."""
    reply = post_json(f"{base_url}/model/parse?token={token}", {"text": text}, timeout=120)
    return str(reply.body["intent"]["name"]) if reply.status == 200 else ""


@dataclass
class Kind:
    """One kind of turn: its conversations (each a list of messages)."""

    name: str
    title: str
    conversations: list[list[str]]
    open_first: bool = True  # the profile opens each conversation with a greeting, unprofiled
    expected: str = ""  # what the turn should answer with, for the report

    @property
    def messages(self) -> int:
        return sum(len(c) for c in self.conversations)


def keep(
    parse: Parse, candidates: Sequence[str], intents: set[str], n: int
) -> tuple[list[str], int]:
    """``n`` messages: the distinct candidates the NLU gives one of ``intents``, in order, repeated
    when fewer than ``n`` do; also how many distinct messages that is."""
    kept: list[str] = []
    for text in dict.fromkeys(candidates):
        if len(kept) == n:
            break
        if parse(text) in intents:
            kept.append(text)
    if not kept:
        raise SystemExit(f"None of {len(candidates)} candidates parses as {sorted(intents)}.")
    return [kept[i % len(kept)] for i in range(n)], len(kept)


def policy_intents(root: Path) -> set[str]:
    """Intents whose rule answers from the FAQ (``action_answer_policy``), read from the rules."""
    rules = yaml.safe_load((root / "bot" / "data" / "rules" / "policies.yml").read_text())["rules"]
    intents = set()
    for rule in rules:
        steps = rule["steps"]
        if any(s.get("action") == "action_answer_policy" for s in steps):
            intents |= {s["intent"] for s in steps if "intent" in s}
    return intents


def orders(store_db: Path, n: int, statuses: Sequence[str] = TRACKABLE) -> list[tuple[str, str]]:
    """``n`` (order number, email) pairs of orders in one of ``statuses``, from a store copy."""
    if not store_db.exists():
        raise SystemExit(f"No SQLite store copy at {store_db}.")
    marks = ", ".join("?" for _ in statuses)
    with sqlite3.connect(store_db) as db:
        rows = db.execute(
            "SELECT o.number, c.email FROM orders o JOIN customers c ON c.id = o.customer_id "
            f"WHERE o.status IN ({marks}) ORDER BY o.id",
            tuple(statuses),
        ).fetchall()
    if len(rows) < n:
        raise SystemExit(f"The store copy has {len(rows)} orders in {statuses}, {n} are needed.")
    return [(str(a), str(b)) for a, b in random.Random(SEED).sample(rows, n)]


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _searches(root: Path) -> list[str]:
    categories = sorted(
        {
            json.loads(line)["category"][-1].lower()
            for line in _lines(root / "var/store/catalog.jsonl")
            if json.loads(line).get("category")
        }
    )
    random.Random(SEED).shuffle(categories)
    return [SEARCH_TEMPLATES[i % len(SEARCH_TEMPLATES)].format(c) for i, c in enumerate(categories)]


def _identity_flows(
    parse: Parse, store_db: Path, asks: Sequence[str], intent: str, n: int, statuses: Sequence[str]
) -> list[list[str]]:
    """Conversations of (ask, order number, email): the asks the model reads as ``intent``."""
    kept = [ask for ask in asks if parse(ask) == intent]
    if not kept:
        raise SystemExit(f"None of {list(asks)} parses as {intent} with this model.")
    return [
        [kept[i % len(kept)], number, email]
        for i, (number, email) in enumerate(orders(store_db, n, statuses))
    ]


def build_kinds(
    root: Path, parse: Parse, store_db: Path, per_kind: int, cancellations: bool = False
) -> tuple[list[Kind], dict[str, int]]:
    """Every kind's messages, each checked against the NLU; also how many are distinct.

    Args:
        root: The project root (the prepared store data under ``var/store``, the rules).
        parse: The served model's intent of a message (``/model/parse``).
        store_db: The servers' SQLite copy of the store (orders and their customers' emails).
        per_kind: Messages per single-turn kind; identity flows get a third as many orders.
        cancellations: Also a declined cancellation (ask, number, email, "no, keep it").
    """
    distinct: dict[str, int] = {}

    def pick(name: str, candidates: Sequence[str], intents: set[str]) -> list[list[str]]:
        kept, distinct[name] = keep(parse, candidates, intents, per_kind)
        return [[m] for m in kept]

    questions = bench_questions(root, 6 * per_kind, seed=SEED)
    products, faq = questions[0::2], questions[1::2]
    faq = sorted(set(faq), key=faq.index)
    faq_all = [json.loads(line)["question"] for line in _lines(root / "var/store/faq.jsonl")]
    faq += [q for q in faq_all if q not in faq]
    n_flows = max(1, per_kind // 3)
    tracks = _identity_flows(parse, store_db, TRACK_ASKS, "track_order", n_flows, TRACKABLE)
    greetings = pick("new_conversation", GREETINGS, {"greet"})
    kinds = [
        Kind(
            "new_conversation",
            "greeting that opens a new conversation",
            greetings,
            open_first=False,
            expected="utter_greet, after action_session_start",
        ),
        Kind("greeting", "greeting", greetings, expected="utter_greet"),
        Kind(
            "thanks", "thanks", pick("thanks", THANKS, {"thank"}), expected="utter_you_are_welcome"
        ),
        Kind(
            "product_question",
            "product question (knowledge answer)",
            pick("product_question", products, {"product_question"}),
            expected="action_answer_question",
        ),
        Kind(
            "policy_question",
            "policy question (FAQ answer)",
            pick("policy_question", faq, policy_intents(root)),
            expected="action_answer_policy",
        ),
        Kind(
            "order_tracking",
            "order tracking with identity (3 turns: ask, number, email)",
            tracks,
            expected="order_form ×2, then action_order_request",
        ),
        Kind(
            "product_search",
            "product search",
            pick("product_search", _searches(root), {"product_search"}),
            expected="action_search_products",
        ),
    ]
    distinct["greeting"] = distinct["new_conversation"]
    distinct["order_tracking"] = len(tracks)
    if cancellations:
        flows = _identity_flows(parse, store_db, CANCEL_ASKS, "cancel_order", n_flows, CANCELLABLE)
        kinds.append(
            Kind(
                "cancellation",
                'cancellation declined at the confirmation (4 turns: ask, number, email, "no")',
                [[*flow, DECLINE] for flow in flows],
                expected="order_form ×2, the confirmation, then the order kept",
            )
        )
        distinct["cancellation"] = len(flows)
    return kinds, distinct
