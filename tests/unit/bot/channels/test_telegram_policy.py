"""What the Telegram channel decides for each kind of update (pure, offline)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from telegram import Update

from bot.channels.inbound import NEUTRAL_SLASH
from bot.channels.telegram_policy import ONLY_TEXT, Kind, chat_of, classify, sender_id
from tests.unit.bot.channels.telegram_doubles import OfflineRequest
from training.bench.telegram_fake import (
    BOT_ID,
    BOT_USERNAME,
    callback_update,
    message_update,
    text_update,
)

GROUP = -100200300


def decide(data: dict[str, Any], max_chars: int = 2000) -> Any:
    from telegram import Bot

    bot = Bot("1:offline", request=OfflineRequest(), get_updates_request=OfflineRequest())
    return classify(Update.de_json(data, bot), BOT_USERNAME, BOT_ID, max_chars)


def test_private_text_is_one_conversation_per_chat() -> None:
    decision = decide(text_update(42, "  where is   my order "))
    assert decision.kind is Kind.TEXT
    assert decision.text == "where is my order"
    assert decision.sender_id == "telegram:42" and decision.private
    assert decision.reply_to is None


@pytest.mark.parametrize(
    ("text", "command", "argument"),
    [("/start", "start", ""), ("/start AbC_12-x", "start", "AbC_12-x"), ("/HELP", "help", ""),
     (f"/human@{BOT_USERNAME}", "human", ""), ("/reset", "reset", "")],
)  # fmt: skip
def test_our_commands(text: str, command: str, argument: str) -> None:
    decision = decide(text_update(42, text))
    assert (decision.kind, decision.command, decision.text) == (Kind.COMMAND, command, argument)


@pytest.mark.parametrize("text", ["/restart", '/inform{"email": "a@b.c"}', "/track_order"])
def test_other_slash_text_is_typed_text_never_an_intent(text: str) -> None:
    decision = decide(text_update(42, text))
    assert decision.kind is Kind.TEXT
    assert decision.text == NEUTRAL_SLASH + text[1:]


def test_a_command_for_another_bot_is_ignored() -> None:
    assert decide(text_update(GROUP, "/help@other_bot", user_id=7)).kind is Kind.IGNORE


def test_groups_need_a_mention_or_a_reply_and_have_a_conversation_per_member() -> None:
    assert decide(text_update(GROUP, "where is my order", user_id=7)).kind is Kind.IGNORE
    mentioned = decide(text_update(GROUP, f"@{BOT_USERNAME} where is my order", user_id=7))
    assert mentioned.kind is Kind.TEXT and mentioned.text == "where is my order"
    assert mentioned.sender_id == f"telegram:{GROUP}:7" and not mentioned.private
    assert mentioned.reply_to is not None
    reply = text_update(GROUP, "and the refund?", user_id=7)
    reply["message"]["reply_to_message"] = {
        "message_id": 1, "date": 0, "chat": {"id": GROUP, "type": "supergroup"},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Shop"}, "text": "Hi",
    }  # fmt: skip
    assert decide(reply).kind is Kind.TEXT
    assert decide(text_update(GROUP, "/help", user_id=7)).kind is Kind.COMMAND


def test_edited_messages_are_answered_as_new_threaded_to_the_edit() -> None:
    update = message_update(42, edited=True, text="where is my order")
    decision = decide(update)
    assert decision.kind is Kind.TEXT and decision.edited
    assert decision.reply_to == update["edited_message"]["message_id"]
    assert decide(message_update(42, edited=True, text="/reset")).kind is Kind.IGNORE


@pytest.mark.parametrize(
    "content",
    [
        {"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1,
                     "height": 1, "is_animated": False, "is_video": False}},
        {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 2}},
        {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]},
        {"document": {"file_id": "d", "file_unique_id": "d"}},
        {"location": {"latitude": 1.0, "longitude": 2.0}},
        {"poll": {"id": "1", "question": "?", "options": [], "total_voter_count": 0,
                  "is_closed": False, "is_anonymous": True, "type": "regular",
                  "allows_multiple_answers": False, "allows_revoting": False,
                  "members_only": False}},
    ],
)  # fmt: skip
def test_media_get_a_polite_reply(content: dict[str, Any]) -> None:
    decision = decide(message_update(42, **content))
    assert decision.kind is Kind.REPLY and decision.text == ONLY_TEXT


def test_service_updates_are_ignored() -> None:
    joined = message_update(GROUP, new_chat_members=[{"id": 9, "is_bot": False, "first_name": "N"}])
    assert decide(joined).kind is Kind.IGNORE
    post = {"update_id": 1, "channel_post": {"message_id": 1, "date": 0, "text": "news",
            "chat": {"id": -100999, "type": "channel", "title": "News"}}}  # fmt: skip
    assert decide(post).kind is Kind.IGNORE
    from_bot = text_update(42, "hello")
    from_bot["message"]["from"]["is_bot"] = True
    assert decide(from_bot).kind is Kind.IGNORE


def test_buttons_and_old_buttons() -> None:
    pressed = decide(callback_update(42, "/affirm"))
    assert (pressed.kind, pressed.text, pressed.sender_id) == (
        Kind.BUTTON,
        "/affirm",
        "telegram:42",
    )
    old = int((dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)).timestamp())
    assert decide(callback_update(42, "/affirm", message_date=old)).kind is Kind.EXPIRED_BUTTON


def test_too_long_and_empty_messages_get_a_reply() -> None:
    decision = decide(text_update(42, "x" * 50), max_chars=10)
    assert decision.kind is Kind.REPLY and "50 characters; at most 10" in decision.text
    assert decide(text_update(42, "\u200b")).kind is Kind.REPLY


def test_conversation_ids_round_trip() -> None:
    assert chat_of(sender_id(42, 7, group=False)) == 42
    assert chat_of(sender_id(GROUP, 7, group=True)) == GROUP
    assert chat_of("0123456789abcdef0123456789abcdef") is None
    assert chat_of("telegram:x") is None
