"""Rendering Rasa messages for Telegram: splitting, escaping, keyboards, cards, citations."""

from __future__ import annotations

import re

import pytest

from bot.channels.telegram_format import (
    MAX_CALLBACK_BYTES,
    MAX_MESSAGE_CHARS,
    TITLE_PREFIX,
    callback_data,
    render,
    split_text,
    utf16_len,
)


def _sentences(count: int) -> str:
    return " ".join(f"Sentence number {i} says something about the order." for i in range(count))


def test_a_10000_character_answer_splits_on_sentence_boundaries() -> None:
    text = _sentences(200)
    assert len(text) > 10_000
    pieces = split_text(text)
    assert len(pieces) == 3
    assert all(utf16_len(p) <= MAX_MESSAGE_CHARS for p in pieces)
    assert all(p.endswith("order.") for p in pieces)
    assert " ".join(pieces) == text


def test_split_prefers_paragraphs_and_counts_utf16_units() -> None:
    text = ("😀" * 30 + "\n\n") * 4  # each emoji is 2 UTF-16 units
    pieces = split_text(text, limit=130)
    assert all(utf16_len(p) <= 130 for p in pieces)
    assert pieces[0] == "😀" * 30 + "\n\n" + "😀" * 30 or pieces[0] == "😀" * 30
    assert "".join(pieces).replace("\n", "") == "😀" * 120


def test_split_without_any_boundary_cuts_hard_and_loses_nothing() -> None:
    text = "x" * 9000
    pieces = split_text(text)
    assert [len(p) for p in pieces] == [4096, 4096, 808]


def test_split_refuses_a_tiny_limit() -> None:
    with pytest.raises(ValueError, match=r"limit must be at least 16\. Currently, limit is 3"):
        split_text("hello", limit=3)


def test_text_is_escaped_for_html_and_long_text_is_sent_in_pieces() -> None:
    long = "<b>not bold</b> & <a href='x'>no link</a>. " * 300
    out = render({"text": long})
    assert len(out) == 4
    assert all("<b>" not in o.text and "<a " not in o.text for o in out)
    assert out[0].text.startswith("&lt;b&gt;not bold&lt;/b&gt; &amp; &lt;a href='x'&gt;")


def test_buttons_become_an_inline_keyboard_on_the_last_piece() -> None:
    out = render(
        {
            "text": "Anything else?",
            "buttons": [
                {"title": "Talk to a human", "payload": "/human_handoff"},
                {"title": "Store page", "payload": "https://shop.example.com/help"},
            ],
        }
    )
    assert len(out) == 1
    assert out[0].keyboard is not None
    rows = out[0].keyboard.inline_keyboard
    assert rows[0][0].callback_data == "/human_handoff"
    assert rows[1][0].url == "https://shop.example.com/help"


def test_a_payload_too_long_for_callback_data_sends_the_title_instead() -> None:
    payload = '/inform{"return_item": "' + "9" * 80 + '"}'
    data = callback_data("Item 2", payload)
    assert data == TITLE_PREFIX + "Item 2"
    assert len(callback_data("é" * 100, payload).encode()) <= MAX_CALLBACK_BYTES  # type: ignore[union-attr]


def test_products_are_photo_cards_with_an_image_and_text_cards_without() -> None:
    out = render(
        {
            "text": "Here is what I found:\n1. Kite — $10.00\n2. Jet <kit> — $5.00",
            "custom": {
                "products": [
                    {"name": "Kite", "price": 10, "currency": "USD", "in_stock": True,
                     "image": "https://img.example.com/k.jpg", "url": "https://shop.example.com/k"},
                    {"name": "Jet <kit>", "price": 5.5, "in_stock": False, "image": ""},
                ]
            },
        }
    )  # fmt: skip
    assert [o.photo for o in out] == ["", "https://img.example.com/k.jpg", ""]
    assert out[0].text == "Here is what I found:"
    assert out[1].text == (
        '<b><a href="https://shop.example.com/k">Kite</a></b>\n10.00 USD\nIn stock'
    )
    assert out[2].text == "<b>Jet &lt;kit&gt;</b>\n5.50 USD\nOut of stock"


def test_citations_are_links_after_the_display_text() -> None:
    out = render(
        {
            "text": "Returns are free within 30 days [1].\n\nSources: [1] Returns policy",
            "custom": {
                "display_text": "Returns are free within 30 days [1].",
                "citations": [
                    {"n": 1, "title": "Returns & refunds", "url": "https://shop.example.com/r?a=1&b=2"},
                    {"n": 2, "title": "No link", "url": "javascript:alert(1)"},
                ],
            },
        }
    )  # fmt: skip
    assert len(out) == 1
    assert out[0].text == (
        "Returns are free within 30 days [1].\n\nSources: [1] "
        '<a href="https://shop.example.com/r?a=1&amp;b=2">Returns &amp; refunds</a> · [2] No link'
    )


def test_agent_messages_name_the_agent() -> None:
    out = render({"text": "Hi <there>", "shopbot": {"kind": "agent", "agent": "Ana & Co"}})
    assert [o.text for o in out] == ["<b>Ana &amp; Co</b>: Hi &lt;there&gt;"]
    notice = render({"text": "An agent joined.", "shopbot": {"kind": "handoff"}})
    assert [o.text for o in notice] == ["An agent joined."]


def test_nothing_to_show_sends_nothing() -> None:
    assert render({"text": "   "}) == []
    assert render({"custom": {"handoff": {"state": "waiting"}}}) == []


def test_rendered_html_has_only_our_tags() -> None:
    hostile = "</b><i>x</i><script>alert(1)</script>&amp;"
    out = render({"text": hostile, "custom": {"products": [{"name": hostile}]}})
    for o in out:
        tags = re.findall(r"<(/?\w+)", o.text)
        assert set(tags) <= {"b", "/b", "a", "/a"}, o.text
