"""The load balancer of the scale-out setup: Debian's HAProxy in front of the Rasa servers and in
front of the action servers (``shopbot run --replicas``, docs/decisions/023-replicas.md).

Messages are spread round robin, with no sticky sessions: any Rasa server may take any turn of
any conversation (the PostgreSQL tracker store and the Redis lock store keep the turns in order).
Two kinds of request are routed by conversation instead, through the ``X-Shopbot-Conversation``
header that ``actions.streaming.TokenPusher`` sends: the action server's token pushes to the
channels' internal stream routes, so all pieces of one answer reach the same Rasa server (a
Telegram draft lives there); the widget's streams still get them on every server through Redis.

HAProxy checks each server's health every second and takes a dead one (connection refused) out of
rotation; a busy one that answers its check late stays in (``timeout check``). A request
that could not be delivered at all (connection refused) is retried on another server. A request
the dead server had already received is not retried (a message must not be handled twice): the
caller gets a 502/503 and retries itself (the widget does, with its deduplicating client id).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from actions.streaming import CONVERSATION_HEADER
from bot.runner import Service

REPLICA_HEADER = "X-Shopbot-Replica"  # which server answered (for the tests and the audit)


def find_haproxy() -> str | None:
    """The ``haproxy`` binary (Debian installs it in /usr/sbin, often not on a user's PATH)."""
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/bin/haproxy") if Path(p).is_file()), None
    )


@dataclass(frozen=True)
class Backend:
    """One pool of servers behind one front port."""

    name: str
    front_port: int
    server_ports: tuple[int, ...]
    health_path: str


LB_HEALTH = "/lb/health"  # 200 while HAProxy runs
LB_METRICS = "/lb/metrics"  # HAProxy's Prometheus exporter, loopback clients only


def _operator_lines() -> list[str]:
    """The balancer's own health and metrics routes (on the first pool's front)."""
    return [
        f"    monitor-uri {LB_HEALTH}",
        "    acl loopback src 127.0.0.0/8 ::1",
        f"    http-request use-service prometheus-exporter if {{ path {LB_METRICS} }} loopback",
        f"    http-request deny deny_status 403 if {{ path {LB_METRICS} }}",
    ]


def _backend_lines(backend: Backend, host: str, operator: bool = False) -> list[str]:
    servers = [
        f"    server {backend.name}{i + 1} {host}:{port} check inter 1s fall 2 rise 2"
        for i, port in enumerate(backend.server_ports)
    ]
    return [
        f"frontend {backend.name}_front",
        f"    bind {host}:{backend.front_port}",
        *(_operator_lines() if operator else []),
        "    acl stream_push path_end /internal/stream",
        f"    use_backend {backend.name}_by_conversation if stream_push",
        f"    default_backend {backend.name}",
        "",
        f"backend {backend.name}",
        "    balance roundrobin",
        f"    option httpchk GET {backend.health_path}",
        f"    http-response set-header {REPLICA_HEADER} %s",
        *servers,
        "",
        f"backend {backend.name}_by_conversation",
        f"    balance hdr({CONVERSATION_HEADER})",
        "    hash-type consistent",
        f"    option httpchk GET {backend.health_path}",
        *servers,
        "",
    ]


def haproxy_config(backends: list[Backend], host: str = "127.0.0.1") -> str:
    """The whole ``haproxy.cfg``: defaults, then one front and two back ends per pool."""
    lines = [
        "# Written by `shopbot run --replicas` (bot/balancer.py); rewritten on every start.",
        "global",
        "    maxconn 4000",
        "",
        "defaults",
        "    mode http",
        "    option forwardfor",
        "    option http-server-close",
        "    timeout connect 2s",
        "    timeout client 120s",
        "    timeout server 120s",
        "    timeout tunnel 1h",  # the widget's event streams
        "    timeout http-request 30s",
        # A busy server answers its health check late (Rasa parses messages in its event loop):
        # slow is not dead. A dead one refuses the connection, which fails the check at once.
        "    timeout check 20s",
        "    timeout queue 60s",
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure",  # only requests that never reached a server
        "    default-server maxconn 1000",
        "",
    ]
    for i, backend in enumerate(backends):
        lines += _backend_lines(backend, host, operator=i == 0)
    return "\n".join(lines)


def balancer_service(backends: list[Backend], run_dir: Path, host: str = "127.0.0.1") -> Service:
    """HAProxy with :func:`haproxy_config`, in the foreground (``-db``), as a :class:`Service`."""
    binary = find_haproxy()
    if binary is None:
        raise RuntimeError(
            "haproxy not found; install the Debian package with `make system-deps` "
            "(SHOPBOT_APT_PACKAGES includes haproxy)."
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    config = run_dir / "haproxy.cfg"
    config.write_text(haproxy_config(backends, host), encoding="utf-8")
    first = backends[0]
    return Service(
        name="load balancer",
        command=[binary, "-db", "-f", str(config)],
        # Ready when it forwards: the first pool's health route answers through it.
        ready_url=f"http://{host}:{first.front_port}{first.health_path}",
        log_file=run_dir / "logs" / "haproxy.log",
    )
