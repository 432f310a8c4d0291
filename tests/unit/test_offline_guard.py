"""The offline guard (tests/offline_guard.py) refuses the network and lets loopback through."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.request import urlopen

import pytest

from tests.offline_guard import NetworkAccessError, OfflineGuard, is_loopback_host

# TEST-NET-1 (RFC 5737): reserved for documentation, routed nowhere.
OFFLINE_IP = "192.0.2.1"


def _spies() -> tuple[dict[str, Callable[..., Any]], list[str]]:
    calls: list[str] = []

    def spy(name: str) -> Callable[..., Any]:
        def record(*args: Any, **kwargs: Any) -> None:
            calls.append(name)

        return record

    names = ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "connect", "connect_ex", "sendto")
    return {name: spy(name) for name in names}, calls


@pytest.mark.parametrize(
    "host",
    [None, "", "localhost", "LOCALHOST.", "127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1",
     "0.0.0.0", "::", b"127.0.0.1"],
)  # fmt: skip
def test_loopback_hosts_are_local(host: object) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host", [OFFLINE_IP, "example.com", "huggingface.co", "10.0.0.1", "2001:db8::1", "128.0.0.1", 7]
)
def test_other_hosts_are_not_local(host: object) -> None:
    assert not is_loopback_host(host)


def test_the_guard_is_installed_in_every_test(offline_guard: OfflineGuard) -> None:
    assert socket.getaddrinfo == offline_guard.getaddrinfo


def test_connect_to_a_public_address_is_refused(offline_guard: OfflineGuard) -> None:
    with pytest.raises(NetworkAccessError, match=r"192\.0\.2\.1.*offline"):
        socket.create_connection((OFFLINE_IP, 80), timeout=0.5)
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(NetworkAccessError),
    ):
        sock.connect_ex((OFFLINE_IP, 443))
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
        pytest.raises(NetworkAccessError),
    ):
        sock.sendto(b"x", (OFFLINE_IP, 53))
    assert len(offline_guard.take_blocked()) == 3  # taken, so this test itself passes


def test_resolving_a_public_name_is_refused(offline_guard: OfflineGuard) -> None:
    with pytest.raises(NetworkAccessError, match=r"example\.com"):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(NetworkAccessError):
        socket.gethostbyname("example.com")
    with pytest.raises(NetworkAccessError):
        urlopen("http://example.com/", timeout=0.5)
    assert len(offline_guard.take_blocked()) == 3


def test_asyncio_connections_are_refused(offline_guard: OfflineGuard) -> None:
    """asyncio's own event loop connects through the socket module, so the guard refuses it.

    uvloop (which Sanic installs as the event loop policy once a Rasa server class is imported)
    connects in C and is out of the guard's reach, like subprocesses; this test therefore uses the
    standard loop explicitly, whatever policy an earlier test left behind.
    """
    loop = asyncio.DefaultEventLoopPolicy().new_event_loop()
    try:
        with pytest.raises(NetworkAccessError):
            loop.run_until_complete(
                asyncio.wait_for(asyncio.open_connection(OFFLINE_IP, 80), timeout=2)
            )
    finally:
        loop.close()
    offline_guard.take_blocked()


def test_a_refused_call_never_reaches_the_socket_module() -> None:
    """No packet leaves: the guard raises before the real function is called."""
    real, calls = _spies()
    guard = OfflineGuard(real=real)
    with pytest.MonkeyPatch.context() as monkeypatch:
        guard.install(monkeypatch)
        with pytest.raises(NetworkAccessError):
            socket.getaddrinfo("example.com", 80)
        with pytest.raises(NetworkAccessError):
            socket.gethostbyname_ex("example.com")
        with (
            socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock,
            pytest.raises(NetworkAccessError),
        ):
            sock.connect(("2001:db8::1", 80, 0, 0))
        with pytest.raises(NetworkAccessError):
            socket.create_connection((OFFLINE_IP, 80))
        assert calls == []
        socket.getaddrinfo("localhost", 80)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.connect(("127.0.0.1", 9))
        assert calls == ["getaddrinfo", "connect"]
    assert len(guard.blocked) == 4


def test_a_swallowed_refusal_is_still_recorded(offline_guard: OfflineGuard) -> None:
    with contextlib.suppress(Exception):  # what a careless client does
        socket.create_connection((OFFLINE_IP, 80), timeout=0.5)
    assert offline_guard.take_blocked()  # the autouse check would fail the test on this


def test_loopback_tcp_and_unix_sockets_work(tmp_path: Any) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        accepted: list[bytes] = []

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                accepted.append(conn.recv(4))

        thread = threading.Thread(target=serve)
        thread.start()
        with socket.create_connection(("localhost", port), timeout=5) as client:
            client.sendall(b"ping")
        thread.join(timeout=5)
    assert accepted == [b"ping"]

    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
