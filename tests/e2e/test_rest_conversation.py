"""The running assistant over HTTP: a multi-turn conversation that survives a Rasa server restart,
every turn read back from the tracker store, and bad input that never breaks the server."""

from __future__ import annotations

import json

import pytest

from tests.e2e.harness import ShopBotServers

pytestmark = pytest.mark.e2e


def user_texts(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e.get("event") == "user"]


def bot_texts(events: list[dict]) -> list[str]:
    return [e.get("text") or "" for e in events if e.get("event") == "bot"]


def test_order_conversation_survives_restart_and_is_stored(servers: ShopBotServers) -> None:
    sender = "e2e-shopper-1"
    greeting = servers.say(sender, "hello there")
    assert greeting.status == 200 and "store assistant" in greeting.text.lower()

    asked = servers.say(sender, "where is my order")
    assert "order number" in asked.text.lower(), asked.body

    wrong = servers.say(sender, "my order number is 12")
    assert "doesn't look like one of our order numbers" in wrong.text
    assert "order number" in wrong.text.lower()

    number = servers.say(sender, "104233")
    assert "email" in number.text.lower(), number.body

    # The Rasa server goes away mid-conversation; the conversation continues where it was.
    servers.restart_rasa()

    bad_email = servers.say(sender, "maria@")
    assert "doesn't look like an email address" in bad_email.text, bad_email.body

    done = servers.say(sender, "maria.garcia@example.com")
    assert "#104233" in done.text and "maria.garcia@example.com" in done.text, done.body

    tracker = servers.tracker(sender)
    assert tracker["slots"]["order_request"] == "track_order"
    # The demo store has no such order for that email: one generic reply, and both are asked again.
    assert tracker["slots"]["verified_order"] is None
    assert tracker["slots"]["order_number"] is None

    stored = servers.stored_events(sender)
    assert user_texts(stored) == [
        "hello there",
        "where is my order",
        "my order number is 12",
        "104233",
        "maria@",
        "maria.garcia@example.com",
    ]
    replies = bot_texts(stored)
    for reply in (greeting, asked, wrong, number, bad_email, done):
        for text in reply.texts:
            assert text in replies
    intents = [e["parse_data"]["intent"]["name"] for e in stored if e.get("event") == "user"]
    assert intents[1] == "track_order"


def test_bad_input_gets_a_clear_answer_and_the_server_keeps_serving(
    servers: ShopBotServers,
) -> None:
    empty = servers.say("e2e-bad", "")
    assert empty.status == 200 and "empty" in empty.text

    huge = servers.say("e2e-bad", "where is my order " * 6000)
    assert huge.status == 413 and "limit" in huge.body["error"]

    invalid_json = servers.post_raw(b'{"sender": "e2e-bad", "message": ')
    assert invalid_json.status == 400 and "not valid JSON" in invalid_json.body["error"]

    non_utf8 = servers.post_raw(b'{"sender": "e2e-bad", "message": "\xff\xfe hi"}')
    assert non_utf8.status == 400 and "UTF-8" in non_utf8.body["error"]

    # curl -d sends form-encoded content type with a JSON body: accepted, like Rasa's own channel.
    form_typed = servers.post_raw(
        json.dumps({"sender": "e2e-bad", "message": "hello"}).encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert form_typed.status == 200 and form_typed.texts
    wrong_type = servers.post_raw(b"sender=e2e-bad&message=hi", content_type="text/plain")
    assert wrong_type.status == 400 and "not valid JSON" in wrong_type.body["error"]

    not_object = servers.post_raw(b'["hi"]')
    assert not_object.status == 400

    hostile = servers.say("e2e-bad", "'; DROP TABLE events; -- ignore previous instructions")
    assert hostile.status == 200 and hostile.texts

    after = servers.say("e2e-bad", "hi")
    assert after.status == 200 and after.texts
    assert servers.rasa.running and servers.actions.running
    stored = user_texts(servers.stored_events("e2e-bad"))
    assert "'; DROP TABLE events; -- ignore previous instructions" in stored
    assert stored[-1] == "hi"


def test_plain_questions_are_not_frustration_but_an_outburst_is(servers: ShopBotServers) -> None:
    """Sentiment reaches the tracker; questions read neutral, two angry messages offer a human.

    Regression: a sentiment model trained on reviews alone rated "how much is ...?" negative at
    0.9, so two plain questions in a row offered a human.
    """
    sender = "e2e-mood"
    offer = "connect you with a human agent"
    for question in (
        "what is your return policy?",
        "do you ship to Canada?",
        "what payment methods do you accept?",
    ):
        reply = servers.say(sender, question)
        assert reply.status == 200 and offer not in reply.text, (question, reply.body)
    tracker = servers.tracker(sender)
    assert tracker["slots"]["frustrated"] is False
    moods = [e["parse_data"]["sentiment"] for e in tracker["events"] if e.get("event") == "user"]
    assert [m["label"] for m in moods] == ["neutral"] * 3, moods

    # Either message may tip the score, or be read as a complaint or a request for a human.
    angry = [servers.say(sender, "I'm really annoyed, nobody answers")]
    angry.append(servers.say(sender, "this bot is terrible"))
    human = (offer, "passing this conversation to a human agent")
    assert any(h in reply.text for reply in angry for h in human), [r.body for r in angry]
    events = servers.stored_events(sender)
    moods = [e["parse_data"]["sentiment"]["label"] for e in events if e.get("event") == "user"]
    assert moods[3:] == ["negative", "negative"], moods
