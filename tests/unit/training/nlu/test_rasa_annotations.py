"""Tests for training/nlu/rasa_annotations.py: the ``[text](entity)`` codec, read back by Rasa."""

from __future__ import annotations

import random

import pytest

from tests.unit.training.nlu.nlu_helpers import rasa_read
from training.nlu.examples import EntitySpan, NluExample
from training.nlu.placeholders import fill_placeholders
from training.nlu.rasa_annotations import parse_rasa_annotation, to_rasa_annotation
from training.nlu.writers import render_rasa_nlu


def test_brackets_in_text_do_not_break_rasa_annotation() -> None:
    text, spans = parse_rasa_annotation("is the [Lego Set](product) ok? {x} [y]")
    assert text == "is the Lego Set ok? (x) (y)"
    assert spans == (EntitySpan(7, 15, "product", "Lego Set"),)
    # Literal markup in source text must not turn into a phantom entity.
    plain, order_spans = fill_placeholders(
        "see [this](link) {a} for {{Order Number}}", random.Random(3)
    )
    assert plain.startswith("see (this)(link) (a) for ")
    examples = [
        NluExample(text, "product_question", spans),
        NluExample(plain, "track_order", order_spans),
    ]
    read = rasa_read(render_rasa_nlu(examples))
    assert sorted(read) == sorted(
        (e.text, e.intent, sorted((s.start, s.end, s.entity, s.value) for s in e.entities))
        for e in examples
    )
    assert [entity for _, _, ents in read for *_, entity, _ in ents].count("link") == 0


def test_annotation_round_trips_through_rasa_reader() -> None:
    rng = random.Random(0)
    raws = [
        "I paid {{Currency Symbol}}{{Refund Amount}}, for order {{Order Number}}",
        "invoice{{Invoice Number}} from {{Person Name}}?",
        "  rebating   {{Refund Amount}} dollars  ",
        "deliver to {{Delivery City}} in {{Delivery Country}}",
    ]
    examples = [
        NluExample(text, "get_refund", spans)
        for text, spans in (fill_placeholders(raw, rng) for raw in raws)
    ]
    read = rasa_read(render_rasa_nlu(examples))
    assert sorted(read) == sorted(
        (e.text, e.intent, sorted((s.start, s.end, s.entity, s.value) for s in e.entities))
        for e in examples
    )
    for example in examples:
        line = to_rasa_annotation(example.text, example.entities)
        assert parse_rasa_annotation(line) == (example.text, example.entities)


def test_to_rasa_annotation_rejects_bad_spans() -> None:
    with pytest.raises(ValueError, match="entities="):
        to_rasa_annotation("order 123456", [EntitySpan(6, 12, "order_number", "654321")])
