"""Shared by the NLU data tests: the real inputs, span and Rasa-reader checks, planted rows."""

from __future__ import annotations

import random
from pathlib import Path

from training.nlu.examples import EntitySpan, NluExample

ROOT = Path(__file__).resolve().parents[4]
BITEXT = ROOT / "data/demo/bitext/v11_instruction_intent.csv"
DEMO_CATALOG = ROOT / "data/demo/catalog/amazon_products_sample1000.csv"
SOURCES = ROOT / "bot/data/nlu"
EXTRA_INTENTS = {
    "greet", "goodbye", "affirm", "deny", "thank", "bot_challenge", "product_question",
    "product_search", "human_handoff", "out_of_scope", "inform",
}  # fmt: skip


def assert_spans(text: str, spans: tuple[EntitySpan, ...]) -> None:
    """Every span covers exactly its value, which is non-empty and unpadded."""
    for span in spans:
        assert text[span.start : span.end] == span.value, (text, span)
        assert span.value == span.value.strip() and span.value


def rasa_read(document: str) -> list[tuple[str, str, list[tuple[int, int, str, str]]]]:
    """What Rasa's own YAML reader makes of ``document``: (text, intent, sorted entity spans)."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    data = RasaYAMLReader().reads(document)
    return [
        (
            m.get("text"),
            m.get("intent"),
            sorted(
                (e["start"], e["end"], e["entity"], e["value"]) for e in m.get("entities") or []
            ),
        )
        for m in data.training_examples
    ]


def planted_rows() -> list[NluExample]:
    """Two planted paraphrases of ``cancel_order`` plus templated rows of three intents."""
    rng = random.Random(5)
    rows = [
        NluExample("i need help cancelling purchase {{Order Number}}", "cancel_order"),
        NluExample("i need help canceling purchase {{Order Number}}", "cancel_order"),
    ]
    verbs = {
        "cancel_order": ["cancel", "call off", "stop", "abort"],
        "track_order": ["track", "follow", "locate", "check on"],
        "get_refund": ["refund", "get money back for", "reimburse", "return"],
    }
    subjects = ["my order", "the parcel", "purchase", "item", "shipment", "package", "the thing"]
    tails = ["now", "please", "asap", "today", "quickly", "for me", "right away", "if possible"]
    for intent, words in verbs.items():
        for verb in words:
            for subject in subjects:
                tail = rng.choice(tails)
                rows.append(NluExample(f"how can i {verb} {subject} {tail}", intent))
    return rows


def many(intent: str, n: int) -> list[NluExample]:
    """``n`` distinct examples of ``intent``, four per group."""
    return [
        NluExample(f"{intent} example {i}", intent, group=f"{intent}/{i // 4:04d}")
        for i in range(n)
    ]
