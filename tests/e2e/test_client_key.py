"""Both channels store a keyed hash of the client address in the user event, never the address."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from core.client_key import CLIENT_METADATA_KEY, client_key
from tests.e2e.harness import CLIENT_KEY_SECRET, ShopBotServers, running_servers
from tests.e2e.widget_client import WidgetClient

pytestmark = pytest.mark.e2e

LOOPBACK = "127.0.0.1"


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, tiny_rasa_model: Path, project_root: Path
) -> Iterator[ShopBotServers]:
    tmp_path = tmp_path_factory.mktemp("client-key-e2e")
    with running_servers(project_root, tmp_path, tiny_rasa_model) as running:
        yield running


def user_metadata(servers: ShopBotServers, sender: str) -> list[dict[str, object]]:
    events = servers.stored_events(sender)
    return [e.get("metadata") or {} for e in events if e.get("event") == "user"]


def test_rest_and_widget_store_the_same_client_key_and_not_the_ip(
    servers: ShopBotServers,
) -> None:
    expected = client_key(LOOPBACK, CLIENT_KEY_SECRET)
    # The REST caller's own "client" and a spoofed X-Forwarded-For are not believed.
    reply = servers.post_raw(
        b'{"sender": "client-key-rest", "message": "hello", "metadata": {"client": "forged"}}'
    )
    assert reply.status == 200
    rest = user_metadata(servers, "client-key-rest")
    assert rest and rest[-1][CLIENT_METADATA_KEY] == expected

    widget = WidgetClient(servers.base_url)
    assert widget.start().status == 200
    sender = str(jwt.decode(widget.token or "", options={"verify_signature": False})["sub"])
    sent = widget.request(
        "POST",
        "/messages",
        {"client_id": "client-key-0001", "text": "hello"},
        token=widget.token,
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert sent.status == 202
    deadline = time.monotonic() + 90
    while not user_metadata(servers, sender) and time.monotonic() < deadline:
        time.sleep(0.5)
    stored = user_metadata(servers, sender)
    assert stored and stored[-1][CLIENT_METADATA_KEY] == expected  # the same client in both
    for metadata in rest + stored:
        assert LOOPBACK not in str(metadata) and "203.0.113.7" not in str(metadata)
