"""The Rasa HTTP API client: the exact request, and errors that never show the token."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from bot.console.rasa_api import RasaHttpApi, RasaUnavailable
from core.settings import Settings

TOKEN = "secret-api-token-123"


def client(handler: Any) -> RasaHttpApi:
    return RasaHttpApi("http://127.0.0.1:5005", TOKEN, transport=httpx.MockTransport(handler))


def test_append_events_posts_the_events_to_the_tracker() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"sender_id": "x"})

    events = [{"event": "bot", "text": "Hi", "metadata": {"shopbot": {"kind": "agent"}}}]
    asyncio.run(client(handler).append_events("web/ab c?", events))
    (request,) = seen
    assert request.method == "POST"
    assert request.url.raw_path.decode().startswith(
        "/conversations/web%2Fab%20c%3F/tracker/events?"
    )
    assert dict(request.url.params) == {
        "output_channel": "latest",
        "execute_side_effects": "true",
        "token": TOKEN,
    }
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == events


@pytest.mark.parametrize("status", [400, 401, 404, 500])
def test_an_error_answer_raises(status: int) -> None:
    api = client(lambda request: httpx.Response(status, text="nope"))
    with pytest.raises(RasaUnavailable, match=f"answered {status}") as caught:
        asyncio.run(api.append_events("c1", [{"event": "resume"}]))
    assert TOKEN not in str(caught.value)


def test_unreachable_or_slow_rasa_raises_without_the_token() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    with pytest.raises(RasaUnavailable, match="Is the Rasa server running") as caught:
        asyncio.run(client(refuse).append_events("c1", []))
    assert TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(RasaUnavailable, match="ReadTimeout"):
        asyncio.run(client(slow).append_events("c1", []))


def test_from_settings(tmp_path: Any) -> None:
    settings = Settings(root=tmp_path, host="0.0.0.0", rasa_port=6111, api_token="tok")
    api = RasaHttpApi.from_settings(settings)
    assert api.base_url == "http://127.0.0.1:6111" and api.timeout_s == 10.0
    with pytest.raises(ValueError, match="token must not be empty"):
        RasaHttpApi("http://127.0.0.1:1", "")
