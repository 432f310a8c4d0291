"""Reading a yes at a confirmation: plain yeses in many words, and never a yes with a no in it."""

from __future__ import annotations

import pytest

from actions.yes_no import has_doubt, is_yes, opens_with_no, opens_with_yes

CANCEL = frozenset({"affirm", "cancel_order"})


@pytest.mark.parametrize(
    "text",
    [
        "yeah, get it cancelled",
        "Yes please!",
        "sure, why not",
        "ok go for it",
        "that's correct, update it",
        "alright then",
        "right, proceed",
        "👍",
        "go on then",
        "no problem, go ahead",
    ],
)
def test_a_reply_opening_with_yes_is_a_yes_whatever_the_intent(text: str) -> None:
    assert opens_with_yes(text)
    assert is_yes(text, "nlu_fallback", CANCEL)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("no, don't cancel", "cancel_order"),
        ("nope, I'll hang on to it", "cancel_order"),
        ("cancel? no way", "cancel_order"),
        ("yes but not the blue one", "affirm"),
        ("hmm not sure", "affirm"),
        ("wait, what's the fee?", "cancel_order"),
        ("leave it as is", "cancel_order"),
        ("I dont want that", "affirm"),
        ("what would the refund be?", "get_refund"),
        ("maybe later", "affirm"),
    ],
)
def test_a_reply_with_a_no_or_a_question_is_never_a_yes(text: str, intent: str) -> None:
    assert has_doubt(text)
    assert not is_yes(text, intent, frozenset({"affirm", "cancel_order", "get_refund"}))


def test_the_request_repeated_is_a_yes_only_for_that_request() -> None:
    assert is_yes("cancel the order", "cancel_order", CANCEL)
    assert not is_yes("get my money back", "get_refund", CANCEL)  # another plan's request
    assert is_yes("/affirm", "affirm", CANCEL)  # the Yes button


def test_words_that_only_look_like_a_yes_are_not_one() -> None:
    assert not opens_with_yes("please change the zip code")
    assert not opens_with_yes("okra")
    assert not is_yes("please change the zip code", "change_shipping_address", CANCEL)


@pytest.mark.parametrize(
    "text",
    ["nah, I'll hang on to it", "Actually, don't", "no thanks", "hmm no", "forget it", "👎"],
)
def test_a_reply_opening_with_no_is_a_no(text: str) -> None:
    assert opens_with_no(text)
    assert not is_yes(text, "cancel_order", CANCEL)


@pytest.mark.parametrize("text", ["no problem, go ahead", "nothing else", "yes", "notify me"])
def test_words_that_only_look_like_a_no_are_not_one(text: str) -> None:
    assert not opens_with_no(text)
