"""A TCP proxy on loopback that plays a flaky network between the browser and the Rasa server.

The widget on the demo page talks to the real Rasa server through it. A test can black-hole what
the server sends on the connections open now (the bytes are lost in flight), cut every open
connection, or refuse new ones for a while — and then check that the widget lost and doubled
nothing.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Pipe:
    client: socket.socket
    upstream: socket.socket
    drop_downstream: bool = False
    closed: threading.Event = field(default_factory=threading.Event)

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class CuttableProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target_host:target_port``.

    Args:
        target_host: Where the real server listens (loopback).
        target_port: Its port.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.refusing = False
        self._pipes: set[_Pipe] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, name="proxy", daemon=True)

    @property
    def url(self) -> str:
        """The proxy's base URL (what the widget is told the server is)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CuttableProxy:
        """Start accepting connections."""
        self._thread.start()
        return self

    def blackhole(self) -> int:
        """Drop everything the server sends on the connections open now; return how many."""
        with self._lock:
            for pipe in self._pipes:
                pipe.drop_downstream = True
            return len(self._pipes)

    def cut(self) -> int:
        """Close every open connection (both sides); return how many were closed."""
        with self._lock:
            pipes = list(self._pipes)
            self._pipes.clear()
        for pipe in pipes:
            pipe.close()
        return len(pipes)

    def close(self) -> None:
        """Stop the proxy and close every connection."""
        with contextlib.suppress(OSError):
            self.listener.close()
        self.cut()

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if self.refusing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            pipe = _Pipe(client, upstream)
            with self._lock:
                self._pipes.add(pipe)
            for source, sink, downstream in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(
                    target=self._copy, args=(pipe, source, sink, downstream), daemon=True
                ).start()

    def _copy(
        self, pipe: _Pipe, source: socket.socket, sink: socket.socket, downstream: bool
    ) -> None:
        try:
            while not pipe.closed.is_set():
                data = source.recv(65536)
                if not data:
                    break
                if downstream and pipe.drop_downstream:
                    continue  # lost in flight
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._pipes.discard(pipe)
            pipe.close()
