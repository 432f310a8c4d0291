"""Call the action server over kept-alive connections instead of a new one per action.

Rasa 3.6's ``EndpointConfig.request`` opens a new ``aiohttp.ClientSession`` — with its own
connector, so a new TCP connection — for every custom action it runs, and closes it after the
reply. Under the Throughput mix that was ~10% of the Rasa server's event loop: connecting
(``_create_connection``) and closing cost as much as serialising the tracker, and the action
server set up and tore down a Sanic connection per call as well
(docs/benchmarks/2026-12-07/action-connections/).

:class:`PooledEndpointConfig` is the same endpoint (URL, token, headers, basic auth, Rasa's
``request`` with its headers, parameters, TLS and errors) whose ``session()`` lends one client
session per event loop instead of building one; Rasa's ``async with self.session()`` then leaves
it open. :func:`install` makes ``AvailableEndpoints.read_endpoints`` return the action endpoint as
one, so the agent, its reloads (``PUT /model``) and every ``RemoteAction`` use it.

The keep-alive race: a client that reuses a connection the server has just closed as idle gets a
``ServerDisconnectedError`` for a call that never reached the server. The action server (Sanic)
closes idle connections after ``KEEP_ALIVE_TIMEOUT`` (5 s); this client stops reusing a
connection after :data:`KEEPALIVE_S` idle seconds (aiohttp checks the age when it takes a
connection from the pool), well before the server would close it. A connection the server closed
for another reason (a restart) is seen closed by the client and not reused.

The number of connections is not limited (``limit=0``), as with a session per call: a call never
waits for another shopper's call to free a connection.

The call's body (the whole tracker) is written by ujson (:func:`dumps`), 2.3 times as fast as
``json.dumps`` on a 21 KB tracker (0.41 → 0.18 ms); a value only ``json`` writes (an integer past
64 bits, NaN, a lone surrogate) is written by ``json``, as Rasa would.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from types import TracebackType
from typing import Any

import aiohttp
import ujson
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

KEEPALIVE_S = 2.0  # below Sanic's KEEP_ALIVE_TIMEOUT (5 s) on the action server

# Every pooled endpoint, by id: Rasa's EndpointConfig compares by value and so cannot be hashed.
_pooled: weakref.WeakValueDictionary[int, PooledEndpointConfig] = weakref.WeakValueDictionary()


def dumps(value: Any) -> str:
    """The JSON text of an action call: ujson's, or ``json``'s for what ujson refuses."""
    try:
        return ujson.dumps(value, escape_forward_slashes=False)
    except (OverflowError, TypeError, ValueError):  # TypeError: json raises it again, as in Rasa
        return json.dumps(value)


class _Lent:
    """``async with`` over a shared session that leaves it open (Rasa's ``request`` closes the
    session it gets on leaving the block)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None


class PooledEndpointConfig(EndpointConfig):
    """An ``EndpointConfig`` whose requests share one client session (and its kept-alive
    connections) per event loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        _pooled[id(self)] = self

    @classmethod
    def of(cls, endpoint: EndpointConfig) -> PooledEndpointConfig:
        """The same endpoint, pooled."""
        return cls(
            endpoint.url,
            endpoint.params,
            endpoint.headers,
            endpoint.basic_auth,
            endpoint.token,
            endpoint.token_name,
            endpoint.cafile,
            **({"type": endpoint.type} if endpoint.type else {}),
            **endpoint.kwargs,
        )

    def session(self) -> Any:  # Rasa's request only uses it in ``async with``
        return _Lent(self._shared())

    def _shared(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.closed or self._loop is not loop:
            auth = None
            if self.basic_auth:
                auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
            self._client = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_S),
                json_serialize=dumps,
            )
            self._loop = loop
        return self._client

    async def close(self) -> None:
        """Close the shared session and its connections (on this loop)."""
        client, self._client = self._client, None
        if client is not None and not client.closed and self._loop is asyncio.get_running_loop():
            await client.close()


async def close_all() -> None:
    """Close every pooled endpoint's session (the Rasa server's ``after_server_stop``)."""
    for endpoint in list(_pooled.values()):
        await endpoint.close()


def install(connections: str | None = None) -> None:
    """Make ``AvailableEndpoints.read_endpoints`` return a pooled action endpoint (idempotent).
    ``connections`` defaults to the settings' ``action_connections``
    (``SHOPBOT_ACTION_CONNECTIONS``); ``per-call`` leaves Rasa's endpoint."""
    from rasa.core.utils import AvailableEndpoints

    from core.settings import Settings

    if (connections or Settings().action_connections) != "pooled":
        return
    read = AvailableEndpoints.__dict__["read_endpoints"].__func__
    if getattr(read, "shopbot_pooled_actions", False):
        return

    def read_endpoints(cls: type[AvailableEndpoints], endpoint_file: str) -> AvailableEndpoints:
        endpoints = read(cls, endpoint_file)
        if endpoints.action is not None and endpoints.action.url:
            endpoints.action = PooledEndpointConfig.of(endpoints.action)
        return endpoints

    read_endpoints.shopbot_pooled_actions = True  # type: ignore[attr-defined]
    AvailableEndpoints.read_endpoints = classmethod(read_endpoints)  # type: ignore[method-assign,assignment]
    logger.info("Action server calls: kept-alive connections (idle at most %.0f s)", KEEPALIVE_S)
