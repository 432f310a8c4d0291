"""Tests for training/nlu/dedup.py: repeats within an intent, conflicts across intents."""

from __future__ import annotations

from training.nlu.dedup import dedup_examples
from training.nlu.examples import NluExample


def test_dedup_removes_exact_duplicates_within_intent() -> None:
    rows = [
        NluExample("Cancel order {{Order Number}}", "cancel_order"),
        NluExample(
            "cancel  order {{order number}}".replace("order number", "Order Number"), "cancel_order"
        ),
        NluExample("CANCEL ORDER {{Order Number}} ", "cancel_order"),
        NluExample("cancel my order {{Order Number}}", "cancel_order"),
    ]
    kept, stats = dedup_examples(rows)
    assert [e.text for e in kept] == [rows[0].text, rows[3].text]
    assert stats.duplicates_dropped == 2 and stats.conflict_texts == 0


def test_dedup_cross_intent_keeps_majority_and_drops_ties() -> None:
    rows = [
        NluExample("speak to a human", "contact_human_agent"),
        NluExample("Speak to a human", "contact_human_agent"),
        NluExample("speak to a human", "human_handoff"),
        NluExample("is it free", "check_payment_methods"),
        NluExample("is it free", "check_cancellation_fee"),
        NluExample("hello", "greet"),
    ]
    kept, stats = dedup_examples(rows)
    assert [(e.text, e.intent) for e in kept] == [
        ("speak to a human", "contact_human_agent"),
        ("hello", "greet"),
    ]
    assert stats.conflict_texts == 2
    assert stats.conflict_ties == 1
    assert stats.conflict_rows_dropped == 3  # one human_handoff copy + both tied labels
    assert stats.duplicates_dropped == 1
