"""Rendering: a concise, shopper-facing passage (the asked spec first)."""

from __future__ import annotations

from knowledge.render import render_passage
from tests.unit.knowledge.answer_doubles import GUILLOW_CHUNK, RETURNS, guillow_with_specs


def test_render_passage_of_faq_is_the_answer() -> None:
    text = render_passage([RETURNS])
    assert text.startswith("Our return policy allows you")


def test_render_passage_puts_the_asked_spec_first() -> None:
    header = guillow_with_specs(
        "Product Dimensions: 3.5 x 6.2 x 13 inches; Shipping Weight: 14 ounces; "
        "Domestic Shipping: Item can be shipped within U.S.; Item Model Number: 142"
    )
    text = render_passage([header], "What is the model number of the Guillow?")
    assert "Item Model Number: 142" in text
    assert text.index("Item Model Number") < text.index("Product Dimensions")


def test_render_passage_finds_the_specs_behind_a_higher_ranked_description() -> None:
    """Seen in the demo: the description chunk ranked first and the specs were never shown."""
    header = guillow_with_specs(
        "Item Weight: 13.4 ounces; ASIN: B000GW142; Product Dimensions: 3.5 x 6.2 x 13 inches"
    )
    text = render_passage([GUILLOW_CHUNK, header], "How big is the Guillow?")
    assert "Product Dimensions: 3.5 x 6.2 x 13 inches" in text
    assert text.index("Product Dimensions") < text.index("Item Weight")
    assert "Design and build your own balsa gliders." in text
