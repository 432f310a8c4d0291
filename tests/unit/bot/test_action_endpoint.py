"""The pooled action endpoint (``bot.action_endpoint``) against a real HTTP server on loopback,
beside Rasa's own ``EndpointConfig`` (a new connection per call)."""

from __future__ import annotations

import asyncio
import json
import socket
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

with warnings.catch_warnings():  # sanic_cors (imported with Rasa's core) uses distutils' versions
    warnings.simplefilter("ignore", DeprecationWarning)
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot import action_endpoint
from bot.action_endpoint import PooledEndpointConfig


class ActionServer:
    """A webhook that records each call's client port (one per TCP connection), query and
    headers, and answers like an action server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.calls: list[dict[str, Any]] = []
        self.runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    async def webhook(self, request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        body = await request.json()
        self.calls.append(
            {"port": peer[1], "query": dict(request.query), "headers": dict(request.headers)}
        )
        if body.get("next_action") == "action_missing":
            return web.json_response({"error": "no such action"}, status=404)
        return web.json_response({"events": [], "responses": [{"text": body["next_action"]}]})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhook", self.webhook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    def ports(self) -> list[int]:
        return [c["port"] for c in self.calls]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_server(scenario: Callable[[ActionServer], Awaitable[None]]) -> ActionServer:
    """Run ``scenario`` against a fresh action server on its own event loop; return the server
    (its recorded calls)."""
    server = ActionServer(_free_port())

    async def main() -> None:
        await server.start()
        try:
            await scenario(server)
        finally:
            await server.stop()

    asyncio.run(main())
    return server


async def _call(endpoint: EndpointConfig, action: str = "action_answer") -> Any:
    return await endpoint.request(json={"next_action": action, "tracker": {}}, method="post")


def test_calls_share_one_kept_alive_connection() -> None:
    async def scenario(server: ActionServer) -> None:
        pooled = PooledEndpointConfig(server.url)
        replies = [await _call(pooled, f"action_{i}") for i in range(3)]
        await pooled.close()
        assert [r["responses"][0]["text"] for r in replies] == ["action_0", "action_1", "action_2"]
        assert len(set(server.ports())) == 1

    with_server(scenario)


def test_rasas_endpoint_opens_a_connection_per_call() -> None:
    """The counterpart: what the pooled endpoint replaces."""

    async def scenario(server: ActionServer) -> None:
        for _ in range(3):
            await _call(EndpointConfig(server.url))
        assert len(set(server.ports())) == 3

    with_server(scenario)


def test_concurrent_calls_each_get_a_connection() -> None:
    async def scenario(server: ActionServer) -> None:
        pooled = PooledEndpointConfig(server.url)
        replies = await asyncio.gather(*(_call(pooled, f"action_{i}") for i in range(12)))
        await pooled.close()
        assert sorted(r["responses"][0]["text"] for r in replies) == sorted(
            f"action_{i}" for i in range(12)
        )

    with_server(scenario)


def test_a_connection_idle_past_the_keepalive_is_not_reused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(action_endpoint, "KEEPALIVE_S", 0.2)

    async def scenario(server: ActionServer) -> None:
        pooled = PooledEndpointConfig(server.url)
        await _call(pooled)
        await _call(pooled)  # at once: the same connection
        await asyncio.sleep(0.6)
        await _call(pooled)  # idle past the keep-alive: a new one
        await pooled.close()
        first, again, later = server.ports()
        assert first == again != later

    with_server(scenario)


def test_a_restarted_action_server_is_called_on_a_new_connection() -> None:
    async def scenario(server: ActionServer) -> None:
        pooled = PooledEndpointConfig(server.url)
        await _call(pooled)
        await server.stop()  # closes its kept-alive connections, as a restart does
        await server.start()
        reply = await _call(pooled, "action_after_restart")
        await pooled.close()
        assert reply["responses"][0]["text"] == "action_after_restart"
        assert len(set(server.ports())) == 2

    with_server(scenario)


def test_the_pooled_endpoint_sends_what_rasas_sends() -> None:
    """Token, parameters and headers as Rasa's endpoint sends them; a 4xx raises Rasa's error."""

    async def scenario(server: ActionServer) -> None:
        config = {"params": {"store": "demo"}, "headers": {"X-Shop": "1"}, "token": "s3cret"}
        rasa = EndpointConfig(server.url, **config)  # type: ignore[arg-type]
        pooled = PooledEndpointConfig.of(rasa)
        await _call(rasa)
        await _call(pooled)
        with pytest.raises(ClientResponseError) as refused:
            await _call(pooled, "action_missing")
        await pooled.close()
        assert refused.value.status == 404
        sent_by_rasa, sent_pooled = server.calls[0], server.calls[1]
        assert sent_pooled["query"] == sent_by_rasa["query"] == {"store": "demo", "token": "s3cret"}
        for header in ("X-Shop", "Content-Type"):
            assert sent_pooled["headers"][header] == sent_by_rasa["headers"][header]
        assert pooled == rasa  # Rasa's equality: the same URL, parameters, headers, auth, token

    with_server(scenario)


def test_close_all_closes_every_pooled_session() -> None:
    async def scenario(server: ActionServer) -> None:
        pooled = PooledEndpointConfig(server.url)
        await _call(pooled)
        client = pooled._client
        assert client is not None and not client.closed
        await action_endpoint.close_all()
        assert client.closed

    with_server(scenario)


@pytest.fixture
def endpoints_file(tmp_path: Path) -> Path:
    path = tmp_path / "endpoints.yml"
    path.write_text(
        "action_endpoint:\n  url: http://127.0.0.1:5055/webhook\n  token: abc\n"
        "lock_store:\n  type: in_memory\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def restore_read_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa's own ``read_endpoints`` put back after the test (install replaces it)."""
    monkeypatch.setattr(
        AvailableEndpoints, "read_endpoints", AvailableEndpoints.__dict__["read_endpoints"]
    )


@pytest.mark.usefixtures("restore_read_endpoints")
def test_install_pools_the_action_endpoint_only(endpoints_file: Path) -> None:
    action_endpoint.install("pooled")
    action_endpoint.install("pooled")  # idempotent: wrapped once
    endpoints = AvailableEndpoints.read_endpoints(str(endpoints_file))
    assert isinstance(endpoints.action, PooledEndpointConfig)
    assert endpoints.action.url == "http://127.0.0.1:5055/webhook"
    assert endpoints.action.token == "abc"
    assert type(endpoints.lock_store) is EndpointConfig
    assert endpoints.lock_store.type == "in_memory"


@pytest.mark.usefixtures("restore_read_endpoints")
def test_per_call_leaves_rasas_endpoint(endpoints_file: Path) -> None:
    action_endpoint.install("per-call")
    endpoints = AvailableEndpoints.read_endpoints(str(endpoints_file))
    assert type(endpoints.action) is EndpointConfig


@pytest.mark.parametrize(
    "value",
    [
        {"tracker": {"events": [{"event": "user", "text": "où est ma commande? 1/2", "t": 0.1}]}},
        {"big": 2**70, "nan": float("nan")},  # only json writes these
        {"lone": "\ud800"},
        [1e-7, 0.30000000000000004, 1e300, None, True],
    ],
    ids=["tracker", "json-only numbers", "lone surrogate", "floats"],
)
def test_the_body_decodes_to_what_json_writes(value: Any) -> None:
    written = action_endpoint.dumps(value)
    assert json.dumps(json.loads(written)) == json.dumps(value)


def test_a_value_json_cannot_write_fails_as_in_rasa() -> None:
    with pytest.raises(TypeError):
        action_endpoint.dumps({"slots": {1, 2}})
