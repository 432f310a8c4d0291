"""The HAProxy configuration of ``shopbot run --replicas``: checked by HAProxy itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from actions.streaming import CONVERSATION_HEADER
from bot.balancer import Backend, find_haproxy, haproxy_config

BACKENDS = [
    Backend("rasa", 5005, (41001, 41002), "/webhooks/ops/health"),
    Backend("actions", 5055, (42001, 42002), "/health"),
]


def test_haproxy_accepts_the_configuration(tmp_path: Path) -> None:
    binary = find_haproxy()
    if binary is None:
        pytest.skip("haproxy is not installed (make system-deps installs it)")
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config(BACKENDS), encoding="utf-8")
    checked = subprocess.run([binary, "-c", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_messages_go_round_robin_and_only_undelivered_requests_are_retried() -> None:
    config = haproxy_config(BACKENDS)
    assert "bind 127.0.0.1:5005" in config and "bind 127.0.0.1:5055" in config
    assert config.count("balance roundrobin") == 2
    assert "cookie" not in config  # no sticky sessions
    # A request a server already received is never sent again (a message must not run twice).
    retry_lines = [line.strip() for line in config.splitlines() if "retry-on" in line]
    assert retry_lines == ["retry-on conn-failure"]
    for port in (41001, 41002, 42001, 42002):
        assert f"127.0.0.1:{port} check" in config
    assert "option httpchk GET /webhooks/ops/health" in config


def test_token_pushes_of_one_conversation_reach_one_server() -> None:
    config = haproxy_config(BACKENDS)
    assert "acl stream_push path_end /internal/stream" in config
    assert "use_backend rasa_by_conversation if stream_push" in config
    assert f"balance hdr({CONVERSATION_HEADER})" in config


def test_the_balancer_has_its_own_health_and_loopback_only_metrics() -> None:
    config = haproxy_config(BACKENDS)
    rasa_front = config.split("frontend rasa_front", 1)[1].split("backend rasa", 1)[0]
    assert "monitor-uri /lb/health" in rasa_front
    assert "use-service prometheus-exporter if { path /lb/metrics } loopback" in rasa_front
    assert "deny deny_status 403 if { path /lb/metrics }" in rasa_front
    assert config.count("monitor-uri") == 1
