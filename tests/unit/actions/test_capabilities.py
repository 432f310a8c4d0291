"""What-can-you-do questions, read from their words; requests that start the same way are not."""

from __future__ import annotations

import pytest

from actions.capabilities import asks_what_bot_does


@pytest.mark.parametrize(
    "text",
    [
        "what can you do?",
        "What can you help me with?",
        "how can you help me",
        "so what can you actually do",
        "hi, what can you do for me?",
        "what do you do?",
        "what does this bot do",
        "what are you for?",
        "what are you capable of",
        "what can i ask you?",
        "what kind of questions can you answer",
        "tell me what you can do",
        "how does this chat work?",
        "what else can you do",
    ],
)
def test_capability_questions(text: str) -> None:
    assert asks_what_bot_does(text)


@pytest.mark.parametrize(
    "text",
    [
        "what can you do about my late parcel?",  # a request: the NLU and the flows answer it
        "how can you help me get a refund",
        "what do you do with my personal data",
        "what can i do if my item arrived broken",
        "can you help me",
        "what are your opening hours",
    ],
)
def test_requests_that_start_alike_are_not(text: str) -> None:
    assert not asks_what_bot_does(text)
