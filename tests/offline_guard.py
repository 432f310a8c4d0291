"""The offline guard: any test that reaches past loopback fails loudly.

The test suite must pass on a machine with no network (CI here has none) and must never talk to a
real service by accident. python-telegram-bot guards its suite with an ``OfflineRequest`` that
refuses every HTTP request; ShopBot talks to the network through several clients (urllib, requests,
aiohttp, httpx, SQLAlchemy drivers, Hugging Face), so the guard sits one layer lower, on the Python
socket module:

- ``socket.getaddrinfo`` / ``gethostbyname`` / ``gethostbyname_ex`` refuse any host that is not
  ``localhost`` or a loopback/wildcard IP literal, so no DNS query leaves the machine;
- ``socket.socket.connect`` / ``connect_ex`` / ``sendto`` on an IPv4/IPv6 socket refuse any address
  outside 127.0.0.0/8 and ::1 (``socket.create_connection``, ``ssl`` sockets and asyncio's
  ``sock_connect`` all end up there). Unix sockets and other families pass.

A refused call raises :class:`NetworkAccessError` (a ``RuntimeError``, not an ``OSError``, so the
retry/fallback code of a client that catches ``OSError`` does not swallow it) *before* the real
call, and is recorded so that ``tests/conftest.py`` fails the test even when some library catches
the error. Out of scope: subprocesses (servers started by the e2e harness are separate processes)
and C clients that open their own sockets (libpq behind psycopg2).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

__all__ = ["NetworkAccessError", "OfflineGuard", "is_loopback_host"]

# Socket families whose addresses the guard checks; AF_UNIX, AF_NETLINK... never leave the machine.
_INET_FAMILIES = frozenset({socket.AF_INET, socket.AF_INET6})


class NetworkAccessError(RuntimeError):
    """A test tried to reach an address outside loopback."""


def is_loopback_host(host: object) -> bool:
    """Whether resolving or connecting to ``host`` stays on this machine without a DNS query.

    ``None`` and ``""`` (a passive lookup for a server socket), ``localhost``, and IP literals in
    127.0.0.0/8, ::1 (also IPv4-mapped) or the wildcard 0.0.0.0 / :: (a bind address; connecting to
    it reaches the local host on Linux) are local. Any other name is not: resolving it is a DNS query.
    """
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", errors="replace")
    if not isinstance(host, str):
        return False
    name = host.strip().lower().rstrip(".")
    if name in ("", "localhost"):
        return True
    try:
        ip = ipaddress.ip_address(name.split("%", 1)[0])  # drop an IPv6 scope id ("::1%lo")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


@dataclass
class OfflineGuard:
    """Wraps the socket module's resolver and connect calls so that only loopback gets through.

    Args:
        real: The functions to guard, by name (``getaddrinfo``, ``connect``...); defaults to the
            socket module's own. Tests pass spies to prove a refused call never reaches them.

    Attributes:
        blocked: One line per refused call since the last :meth:`take_blocked`.
    """

    real: dict[str, Callable[..., Any]] = field(default_factory=dict, repr=False)
    blocked: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        defaults: dict[str, Callable[..., Any]] = {
            "getaddrinfo": socket.getaddrinfo,
            "gethostbyname": socket.gethostbyname,
            "gethostbyname_ex": socket.gethostbyname_ex,
            "connect": socket.socket.connect,
            "connect_ex": socket.socket.connect_ex,
            "sendto": socket.socket.sendto,
        }
        self.real = {**defaults, **self.real}

    def take_blocked(self) -> list[str]:
        """Return the refused calls recorded so far and forget them."""
        taken, self.blocked = self.blocked, []
        return taken

    def _refuse(self, call: str, target: object) -> NetworkAccessError:
        message = (
            f"{call}({target!r}) was blocked: the test suite is offline and may reach only "
            "loopback (127.0.0.0/8, ::1, 'localhost') or unix sockets. Use a test double or a "
            "server on 127.0.0.1 (see tests/e2e/harness.py)."
        )
        self.blocked.append(message)
        return NetworkAccessError(message)

    def _check_host(self, call: str, host: object) -> None:
        if not is_loopback_host(host):
            raise self._refuse(call, host)

    def _check_address(self, call: str, sock: socket.socket, address: object) -> None:
        if sock.family not in _INET_FAMILIES:
            return
        host = address[0] if isinstance(address, tuple) and address else address
        if not is_loopback_host(host):
            raise self._refuse(call, address)

    # The guarded functions. Each checks first, so a refused call never reaches the real one.

    def getaddrinfo(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        """``socket.getaddrinfo`` for loopback hosts only."""
        self._check_host("socket.getaddrinfo", host)
        return self.real["getaddrinfo"](host, *args, **kwargs)

    def gethostbyname(self, host: Any) -> Any:
        """``socket.gethostbyname`` for loopback hosts only."""
        self._check_host("socket.gethostbyname", host)
        return self.real["gethostbyname"](host)

    def gethostbyname_ex(self, host: Any) -> Any:
        """``socket.gethostbyname_ex`` for loopback hosts only."""
        self._check_host("socket.gethostbyname_ex", host)
        return self.real["gethostbyname_ex"](host)

    def socket_methods(self) -> dict[str, Callable[..., Any]]:
        """Replacements for the ``socket.socket`` methods (plain functions taking the socket)."""
        guard = self

        def connect(sock: socket.socket, address: Any) -> Any:
            guard._check_address("socket.connect", sock, address)
            return guard.real["connect"](sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> Any:
            guard._check_address("socket.connect_ex", sock, address)
            return guard.real["connect_ex"](sock, address)

        def sendto(sock: socket.socket, data: Any, *args: Any) -> Any:
            # sendto(data, address) or sendto(data, flags, address)
            guard._check_address("socket.sendto", sock, args[-1] if args else None)
            return guard.real["sendto"](sock, data, *args)

        return {"connect": connect, "connect_ex": connect_ex, "sendto": sendto}

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Patch the socket module; ``monkeypatch.undo()`` restores it."""
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)
        monkeypatch.setattr(socket, "gethostbyname", self.gethostbyname)
        monkeypatch.setattr(socket, "gethostbyname_ex", self.gethostbyname_ex)
        for name, method in self.socket_methods().items():
            monkeypatch.setattr(socket.socket, name, method)
