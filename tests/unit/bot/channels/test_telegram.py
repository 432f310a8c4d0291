"""The Telegram channel with offline Bot API doubles: dedup, commands, limits, failures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.inbound import InboundError
from bot.channels.telegram import (
    FAILURE_REPLY,
    HELP,
    LINK_FAILED,
    LINKED,
    TelegramInput,
    bot_id_of,
    build_application,
    secret_ok,
)
from bot.channels.telegram_limits import SLOW_DOWN
from bot.channels.telegram_output import TelegramOutputChannel
from bot.channels.telegram_stream import Piece, parse_push
from bot.storage.migrate import upgrade_to_head
from tests.unit.bot.channels.telegram_doubles import OfflineRequest, ScriptedRequest
from training.bench.telegram_fake import TOKEN, callback_update, text_update

SECRET = "unit-telegram-secret-0123456789"


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade_to_head(url)
    return url


@pytest.fixture()
def scripted() -> ScriptedRequest:
    return ScriptedRequest()


@pytest.fixture()
def channel(db_url: str, scripted: ScriptedRequest) -> Iterator[TelegramInput]:
    application = build_application(
        TOKEN, rate_limiter=False, requests=(scripted, OfflineRequest())
    )
    yield TelegramInput(TOKEN, SECRET, db_url, rate_limit="3 per minute", application=application)


def run(channel: TelegramInput, *updates: dict[str, Any]) -> list[bool]:
    """Accept ``updates`` like the webhook, let the queue drain, stop the application."""

    async def go() -> list[bool]:
        accepted = [await channel.accept(json.dumps(u).encode()) for u in updates]
        await asyncio.sleep(0.2)
        await channel.stop()
        return accepted

    return asyncio.run(go())


class Assistant:
    """Plays Rasa: records each message and replies "echo: <text>"."""

    def __init__(self, fail: bool = False) -> None:
        self.messages: list[UserMessage] = []
        self.fail = fail

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        await asyncio.sleep(0.01)  # long enough for the typing action to go out
        if self.fail:
            raise RuntimeError("the assistant broke")
        assert message.output_channel is not None
        await message.output_channel.send_response(
            message.sender_id, {"text": f"echo: {message.text}"}
        )


def connect(channel: TelegramInput, assistant: Assistant) -> None:
    channel.blueprint(assistant)


def test_constructing_the_channel_calls_nothing(db_url: str) -> None:
    application = build_application(TOKEN, requests=(OfflineRequest(), OfflineRequest()))
    TelegramInput(TOKEN, SECRET, db_url, application=application)  # OfflineRequest would raise


def test_settings_are_checked_with_the_fix_named(db_url: str) -> None:
    with pytest.raises(ValueError, match="SHOPBOT_TELEGRAM_SECRET"):
        TelegramInput(TOKEN, "short", db_url)
    with pytest.raises(ValueError, match="SHOPBOT_TELEGRAM_TOKEN"):
        bot_id_of("not-a-token")
    with pytest.raises(ValueError, match="needs 'token'"):
        TelegramInput.from_credentials({"secret": SECRET, "app_db_url": db_url})


def test_the_secret_check() -> None:
    assert secret_ok(SECRET, SECRET)
    assert not secret_ok(SECRET + "x", SECRET)
    assert not secret_ok(None, SECRET)
    assert not secret_ok("", "")


def test_a_redelivered_update_is_handled_once(
    channel: TelegramInput, scripted: ScriptedRequest
) -> None:
    assistant = Assistant()
    connect(channel, assistant)
    update = text_update(42, "hello")
    assert run(channel, update, update) == [True, False]
    assert [m.text for m in assistant.messages] == ["hello"]
    assert [p["text"] for p in scripted.of("sendMessage")] == ["echo: hello"]
    assert scripted.of("sendChatAction")[0]["action"] == "typing"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"update_id": "1"}',
        # Hostile: json.loads raised ValueError and RecursionError here (a 503, retried forever).
        b'{"update_id": ' + b"1" * 5000 + b"}",
        b'{"update_id": 1, "message": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        # Valid JSON that python-telegram-bot cannot read as an update (was a 503 too).
        b'{"update_id": 7, "message": "x"}',
        b'{"update_id": 8, "message": {"chat": 5}}',
        b'{"update_id": 9, "callback_query": {}}',
    ],
    ids=lambda body: repr(body[:40]),
)
def test_malformed_bodies_are_refused(channel: TelegramInput, body: bytes) -> None:
    with pytest.raises(InboundError) as info:
        asyncio.run(channel.accept(body))
    assert info.value.status == 400


def test_an_unreadable_update_does_not_take_its_update_id(
    channel: TelegramInput, scripted: ScriptedRequest
) -> None:
    """Refused before it is recorded: the same update_id, well formed, is still handled."""
    assistant = Assistant()
    connect(channel, assistant)
    with pytest.raises(InboundError):
        asyncio.run(channel.accept(b'{"update_id": 44, "message": {"chat": 5}}'))
    assert run(channel, text_update(44, "hello")) == [True]


def test_commands(channel: TelegramInput, scripted: ScriptedRequest) -> None:
    assistant = Assistant()
    connect(channel, assistant)
    run(channel, text_update(43, "/help"), text_update(43, "/human"))
    sent = [p["text"] for p in scripted.of("sendMessage")]
    assert HELP.split("\n")[0].replace("'", "'") in sent[0]
    assert [m.text for m in assistant.messages] == ["/human_handoff"]


def test_deep_link_links_the_customer_once(
    channel: TelegramInput, scripted: ScriptedRequest
) -> None:
    assistant = Assistant()
    connect(channel, assistant)
    code = channel.links.create_code("signed.customer.token")
    run(channel, text_update(44, f"/start {code}"), text_update(44, "my orders"))
    sent = [p["text"] for p in scripted.of("sendMessage")]
    assert sent[0] == LINKED
    assert [m.text for m in assistant.messages] == ["/greet", "my orders"]
    assert assistant.messages[1].metadata["customer_token"] == "signed.customer.token"
    assert not channel.links.redeem(code, 45)  # one time only


def test_an_unknown_code_says_so(channel: TelegramInput, scripted: ScriptedRequest) -> None:
    connect(channel, Assistant())
    run(channel, text_update(46, "/start nope"))
    assert scripted.of("sendMessage")[0]["text"] == LINK_FAILED


def test_a_flood_gets_one_friendly_note(channel: TelegramInput, scripted: ScriptedRequest) -> None:
    assistant = Assistant()
    connect(channel, assistant)
    run(channel, *[text_update(47, f"hi {i}") for i in range(8)])
    assert len(assistant.messages) == 3
    assert [p["text"] for p in scripted.of("sendMessage")].count(SLOW_DOWN) == 1


def test_a_failure_is_apologised_for(channel: TelegramInput, scripted: ScriptedRequest) -> None:
    connect(channel, Assistant(fail=True))
    run(channel, text_update(48, "hello"))
    assert [p["text"] for p in scripted.of("sendMessage")] == [FAILURE_REPLY]


def test_buttons_are_answered_and_only_payloads_reach_rasa(
    channel: TelegramInput, scripted: ScriptedRequest
) -> None:
    assistant = Assistant()
    connect(channel, assistant)
    run(
        channel,
        callback_update(49, "/affirm"),
        callback_update(49, "t:Talk to a human"),
        callback_update(49, "not a payload {"),
    )
    assert len(scripted.of("answerCallbackQuery")) == 3
    assert [m.text for m in assistant.messages] == ["/affirm", "Talk to a human"]


def test_streamed_answers_are_drafts_in_private_chats_and_edits_in_groups(
    channel: TelegramInput, scripted: ScriptedRequest
) -> None:
    group = "telegram:-100300:7"

    async def go() -> None:
        await channel.ensure_started()
        out = TelegramOutputChannel(channel.bot, streams=channel.streams)
        channel.streams.push("telegram:42", "s1", [Piece(1, " world"), Piece(0, "Hello")])
        await asyncio.sleep(0.05)
        await out.send_response(
            "telegram:42", {"text": "Hello world.", "custom": {"stream_id": "s1"}}
        )
        channel.streams.push(group, "s2", [Piece(0, "Part")])
        await asyncio.sleep(0.05)
        await out.send_response(group, {"text": "Part & the rest.", "custom": {"stream_id": "s2"}})
        await channel.stop()

    asyncio.run(go())
    assert [p["text"] for p in scripted.of("sendMessageDraft")] == ["Hello world"]
    assert [p["text"] for p in scripted.of("sendMessage")] == ["Hello world.", "Part"]
    edits = scripted.of("editMessageText")
    assert [(p["text"], p["parse_mode"]) for p in edits] == [("Part &amp; the rest.", "HTML")]


def test_pushes_are_validated() -> None:
    with pytest.raises(InboundError, match="Telegram conversation"):
        parse_push(b'{"conversation": "abc", "stream_id": "s", "tokens": []}')
    conversation, stream_id, pieces = parse_push(
        b'{"conversation": "telegram:5", "stream_id": "s", "tokens": [{"index": 0, "text": "a"}]}'
    )
    assert (conversation, stream_id, pieces) == ("telegram:5", "s", [Piece(0, "a")])
