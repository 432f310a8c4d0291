"""The Telegram channel against a fake Bot API on loopback and the real Rasa and action servers.

``training.bench.telegram_fake.FakeTelegram`` plays Telegram (python-telegram-bot reaches it by
``base_url``) and records every Bot API call; the tests deliver updates to the Rasa server's
webhook as Telegram would (with the secret header) or let ``shopbot telegram --polling``'s relay
fetch them with ``getUpdates``. One pair of servers serves the whole module; every test uses its
own chat ids, so the tests do not depend on each other.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import pytest

from bot.channels.inbound import NEUTRAL_SLASH
from bot.channels.telegram_limits import SLOW_DOWN
from bot.channels.telegram_policy import ONLY_TEXT
from tests.e2e.harness import ShopBotServers
from training.bench.telegram_fake import (
    BOT_USERNAME,
    TOKEN,
    FakeTelegram,
    callback_update,
    deliver,
    message_update,
    text_update,
)

pytestmark = pytest.mark.e2e

SECRET = "e2e-telegram-secret-0123456789abcdef"
CUSTOMER_TOKEN_SECRET = "e2e-customer-token-secret-of-32-bytes+"
ANSWER_TIMEOUT_S = 90.0
GROUP = -1001234567890


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as api:
        yield api


@pytest.fixture(scope="module")
def tg_servers(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_rasa_model: Path,
    project_root: Path,
    fake: FakeTelegram,
) -> Iterator[ShopBotServers]:
    tmp_path = tmp_path_factory.mktemp("telegram-e2e")
    running = ShopBotServers.with_store_copy(
        project_root,
        tmp_path,
        tiny_rasa_model,
        telegram_token=TOKEN,
        telegram_secret=SECRET,
        telegram_api_url=fake.url,
        customer_token_secret=CUSTOMER_TOKEN_SECRET,
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def shipped_order(tg_servers: ShopBotServers) -> tuple[str, str, int]:
    """(number, email, customer id) of a shipped order in the servers' copy of the demo store.

    Read from the store rather than written here: the seeded orders change whenever the store's
    policy or catalog changes what the seeding draws."""
    from sqlalchemy import text

    from bot.storage.engine import make_engine

    settings = tg_servers.settings
    store = make_engine(settings.resolve_db_url(settings.store_db_url))
    try:
        with store.connect() as connection:
            number, email, customer = connection.execute(
                text(
                    "SELECT o.number, c.email, c.id FROM orders o "
                    "JOIN customers c ON c.id = o.customer_id "
                    "WHERE o.status = 'shipped' ORDER BY o.id LIMIT 1"
                )
            ).one()
    finally:
        store.dispose()
    return str(number), str(email), int(customer)


def webhook(servers: ShopBotServers) -> str:
    return f"{servers.base_url}/webhooks/telegram/webhook"


def send(servers: ShopBotServers, update: dict[str, Any], secret: str | None = SECRET) -> int:
    status, _ = deliver(webhook(servers), update, secret)
    return status


def replies(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [c.text for c in fake.calls_of("sendMessage", "sendPhoto", chat_id=chat_id)]


def wait_replies(fake: FakeTelegram, chat_id: int, count: int, what: str) -> list[str]:
    fake.wait_for(
        lambda f: len(replies(f, chat_id)) >= count, ANSWER_TIMEOUT_S, f"{what} in chat {chat_id}"
    )
    return replies(fake, chat_id)


def settle(seconds: float = 1.5) -> None:
    """Give the server time to (not) answer."""
    time.sleep(seconds)


def test_order_tracking_with_identity_and_a_product_search(
    tg_servers: ShopBotServers, fake: FakeTelegram, shipped_order: tuple[str, str, int]
) -> None:
    number, email, _ = shipped_order
    chat = 5001
    assert send(tg_servers, text_update(chat, "where is my order")) == 200
    asked = wait_replies(fake, chat, 1, "the order number question")
    assert "order number" in asked[-1].lower()
    assert fake.calls_of("sendChatAction", chat_id=chat)[0].params["action"] == "typing"
    send(tg_servers, text_update(chat, number))
    asked = wait_replies(fake, chat, 2, "the email question")
    assert "email" in asked[-1].lower()
    send(tg_servers, text_update(chat, email))
    done = wait_replies(fake, chat, 3, "the order status")
    assert number in done[-1], done

    before = len(replies(fake, chat))
    send(tg_servers, text_update(chat, "do you sell jet kits?"))
    fake.wait_for(
        lambda f: len(replies(f, chat)) > before + 1, ANSWER_TIMEOUT_S, "the product cards"
    )
    settle()
    photos = fake.calls_of("sendPhoto", chat_id=chat)
    assert photos, [c.params for c in fake.sent(chat)]
    assert photos[0].params["photo"].startswith("https://")
    assert photos[0].params["parse_mode"] == "HTML"
    assert "<b>" in photos[0].text


def test_quick_replies_are_an_inline_keyboard_and_a_press_is_answered(
    tg_servers: ShopBotServers, fake: FakeTelegram
) -> None:
    chat = 5002
    send(tg_servers, text_update(chat, "I forgot my password"))
    fake.wait_for(
        lambda f: any(c.buttons for c in f.calls_of("sendMessage", chat_id=chat)),
        ANSWER_TIMEOUT_S,
        "a reply with an inline keyboard",
    )
    keyed = next(c for c in fake.calls_of("sendMessage", chat_id=chat) if c.buttons)
    button = keyed.buttons[0]
    assert button["text"] and button["callback_data"].startswith("/")
    count = len(replies(fake, chat))
    press = callback_update(chat, button["callback_data"])
    send(tg_servers, press)
    fake.wait_for(
        lambda f: any(
            c.params.get("callback_query_id") == press["callback_query"]["id"]
            for c in f.calls_of("answerCallbackQuery")
        ),
        ANSWER_TIMEOUT_S,
        "the query's answer",
    )
    wait_replies(fake, chat, count + 1, "the reply to the button")


def test_human_hands_off_the_bot_goes_silent_and_the_agent_reaches_the_chat(
    tg_servers: ShopBotServers, fake: FakeTelegram
) -> None:
    chat = 5010
    send(tg_servers, text_update(chat, "/human"))
    assert "human agent" in wait_replies(fake, chat, 1, "the handoff reply")[0]
    send(tg_servers, text_update(chat, "hello? anyone there"))
    settle(4)
    assert len(replies(fake, chat)) == 1  # paused: the bot says nothing
    event = {
        "event": "bot",
        "text": "Hi, I'm Ana <from support> & I'll help.",
        "metadata": {"shopbot": {"kind": "agent", "agent": "Ana", "agent_id": 1}},
    }
    url = (
        f"{tg_servers.base_url}/conversations/telegram:{chat}/tracker/events"
        f"?output_channel=latest&execute_side_effects=true&token={tg_servers.settings.api_token}"
    )
    request = Request(url, json.dumps([event]).encode(), {"Content-Type": "application/json"})
    with urlopen(request, timeout=60) as reply:
        assert reply.status == 200
    agent = wait_replies(fake, chat, 2, "the agent's message")[1]
    assert agent == "<b>Ana</b>: Hi, I'm Ana &lt;from support&gt; &amp; I'll help."


def test_old_keyboards_are_answered_expired_and_not_acted_on(
    tg_servers: ShopBotServers, fake: FakeTelegram
) -> None:
    chat = 5003
    send(tg_servers, callback_update(chat, "/restart", message_date=int(time.time()) - 3 * 86400))
    fake.wait_for(
        lambda f: any(c.params.get("text") for c in f.calls_of("answerCallbackQuery")),
        30,
        "the expired button's answer",
    )
    settle()
    assert replies(fake, chat) == []


def test_edited_sticker_voice_and_typed_commands(
    tg_servers: ShopBotServers, fake: FakeTelegram
) -> None:
    chat = 5004
    send(tg_servers, message_update(chat, sticker={"file_id": "s", "file_unique_id": "s",
         "type": "regular", "width": 512, "height": 512, "is_animated": False,
         "is_video": False}))  # fmt: skip
    assert wait_replies(fake, chat, 1, "the sticker's reply") == [ONLY_TEXT]
    send(tg_servers, message_update(chat, voice={"file_id": "v", "file_unique_id": "v",
         "duration": 3}))  # fmt: skip
    assert wait_replies(fake, chat, 2, "the voice note's reply")[1] == ONLY_TEXT
    edited = message_update(chat, edited=True, text="where is my order")
    send(tg_servers, edited)
    answer = fake.calls_of("sendMessage", chat_id=chat)
    wait_replies(fake, chat, 3, "the edited message's answer")
    answer = fake.calls_of("sendMessage", chat_id=chat)[2]
    assert answer.params["reply_parameters"]["message_id"] == edited["edited_message"]["message_id"]
    send(tg_servers, text_update(chat, '/inform{"email": "x@example.com"}'))
    wait_replies(fake, chat, 4, "the typed command's answer")

    def typed() -> list[str]:
        events = tg_servers.stored_events(f"telegram:{chat}")
        return [e["text"] for e in events if e.get("event") == "user"]

    # The tracker is saved once the turn is over, after its replies went out.
    fake.wait_for(lambda _: len(typed()) == 2, 30, "the stored turn")
    assert typed()[-1] == NEUTRAL_SLASH + 'inform{"email": "x@example.com"}'
    assert typed()[0] == "where is my order"


def test_groups_answer_only_when_addressed_with_a_conversation_per_member(
    tg_servers: ShopBotServers, fake: FakeTelegram
) -> None:
    send(tg_servers, text_update(GROUP, "where is my order", user_id=6001))
    settle(3)
    assert replies(fake, GROUP) == []
    send(tg_servers, text_update(GROUP, f"@{BOT_USERNAME} where is my order", user_id=6002))
    asked = wait_replies(fake, GROUP, 1, "the answer to the mention")
    assert "order number" in asked[0].lower()

    def typed() -> list[str]:
        events = tg_servers.stored_events(f"telegram:{GROUP}:6002")
        return [e["text"] for e in events if e.get("event") == "user"]

    fake.wait_for(lambda _: typed() == ["where is my order"], 30, "the member's stored turn")
    assert tg_servers.stored_events(f"telegram:{GROUP}:6001") == []


def test_wrong_or_missing_secret_is_refused_and_nothing_processed(
    tg_servers: ShopBotServers, fake: FakeTelegram
) -> None:
    chat = 5005
    assert send(tg_servers, text_update(chat, "hello"), secret="wrong-secret") == 403
    assert send(tg_servers, text_update(chat, "hello"), secret=None) == 403
    settle()
    assert fake.calls_of(chat_id=chat) == []
    assert tg_servers.stored_events(f"telegram:{chat}") == []


def test_the_same_update_twice_is_answered_once(
    tg_servers: ShopBotServers, fake: FakeTelegram
) -> None:
    chat = 5006
    update = text_update(chat, "where is my order")
    assert deliver(webhook(tg_servers), update, SECRET) == (200, {"ok": True, "duplicate": False})
    assert deliver(webhook(tg_servers), update, SECRET) == (200, {"ok": True, "duplicate": True})
    wait_replies(fake, chat, 1, "the answer")
    settle(3)
    assert len(replies(fake, chat)) == 1


def test_a_flood_is_rate_limited_politely_and_the_server_stays_fine(
    tg_servers: ShopBotServers, fake: FakeTelegram
) -> None:
    chat = 5007
    started = time.monotonic()
    statuses = [send(tg_servers, text_update(chat, f"hello {i}")) for i in range(50)]
    acknowledged_in = time.monotonic() - started
    assert statuses == [200] * 50
    fake.wait_for(lambda f: SLOW_DOWN in replies(f, chat), ANSWER_TIMEOUT_S, "the slow-down note")
    assert replies(fake, chat).count(SLOW_DOWN) == 1
    other = 5008
    send(tg_servers, text_update(other, "where is my order"))
    assert "order number" in wait_replies(fake, other, 1, "another shopper's answer")[0].lower()
    assert acknowledged_in < 30, acknowledged_in


def test_polling_mode_relays_updates_from_get_updates(
    tg_servers: ShopBotServers, fake: FakeTelegram
) -> None:
    from bot.channels.telegram_cli import relay_updates

    chat = 5009
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    relay = threading.Thread(
        target=lambda: loop.run_until_complete(relay_updates(tg_servers.settings, stop)),
        daemon=True,
    )
    relay.start()
    try:
        fake.queue_update(text_update(chat, "where is my order"))
        asked = wait_replies(fake, chat, 1, "the polled update's answer")
        assert "order number" in asked[0].lower()
        assert fake.calls_of("deleteWebhook")
        assert fake.calls_of("getUpdates")
    finally:
        loop.call_soon_threadsafe(stop.set)
        relay.join(40)


def test_a_deep_link_links_the_store_customer_so_no_email_is_asked(
    tg_servers: ShopBotServers, fake: FakeTelegram, shipped_order: tuple[str, str, int]
) -> None:
    from actions.store.tokens import sign_customer_token
    from bot.channels.telegram import LINKED
    from bot.storage.engine import make_engine
    from bot.storage.telegram import TelegramLinks

    number, _, customer = shipped_order
    settings = tg_servers.settings
    token = sign_customer_token(customer, CUSTOMER_TOKEN_SECRET)
    app_db = make_engine(settings.resolve_db_url(settings.app_db_url))
    code = TelegramLinks(app_db).create_code(token)  # what `shopbot telegram --link-code` does
    app_db.dispose()
    chat = 5011
    send(tg_servers, text_update(chat, f"/start {code}"))
    assert wait_replies(fake, chat, 2, "the link note and the greeting")[0] == LINKED
    send(tg_servers, text_update(chat, "where is my order"))
    assert "order number" in wait_replies(fake, chat, 3, "the order question")[-1].lower()
    send(tg_servers, text_update(chat, number))
    done = wait_replies(fake, chat, 4, "the order status")[-1]
    assert f"Order #{number}" in done and "email" not in done.lower(), done
