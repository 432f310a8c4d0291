"""What ``shopbot run --replicas`` wires together, before any process starts.

The processes themselves run in ``tests/e2e/test_replicas.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.balancer import find_haproxy
from bot.replicas import ScaleOut
from core.settings import Settings

SECRET = "unit-secret-0123456789abcdef0123456789"


def settings(tmp_path: Path) -> Settings:
    return Settings(
        root=tmp_path,
        rasa_port=6005,
        actions_port=6055,
        tracker_store_url="postgresql://rasa@db.internal/tracker",
        app_db_url="postgresql://rasa@db.internal/app",
        lock_store_url="redis://cache.internal:6379/0",
        api_token="unit-token",
        rest_secret=SECRET,
        widget_secret=SECRET,
        stream_secret=SECRET,
        client_key_secret=SECRET,
        telegram_secret=SECRET,
        run_dir=str(tmp_path / "run"),
    )


def test_one_replica_is_not_a_scale_out(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="replicas must be 2 or more"):
        ScaleOut(settings(tmp_path), replicas=1)


def test_configured_stores_are_used_and_nothing_is_started_for_them(tmp_path: Path) -> None:
    scale = ScaleOut(settings(tmp_path), replicas=2)
    shared = scale.start_stores()
    assert scale.postgres is None and scale.redis is None
    assert shared.tracker_store_url == "postgresql://rasa@db.internal/tracker"
    assert shared.lock_store_url == "redis://cache.internal:6379/0"


def test_replicas_reach_each_other_through_the_balancer(tmp_path: Path) -> None:
    if find_haproxy() is None:
        pytest.skip("haproxy is not installed (make system-deps installs it)")
    scale = ScaleOut(settings(tmp_path), replicas=2)
    scale.start_stores()
    services = scale.build()
    assert [s.name for s in services] == [
        "action server 1", "action server 2", "Rasa server 1", "Rasa server 2", "load balancer",
    ]  # fmt: skip
    run = tmp_path / "run"
    for index in range(2):
        endpoints = yaml.safe_load((run / f"replica-{index}" / "endpoints.yml").read_text())
        # Every Rasa server calls the action servers through the balancer's port ...
        assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:6055/webhook"
        assert endpoints["lock_store"]["url"] == "cache.internal"
        credentials = yaml.safe_load((run / f"replica-{index}" / "credentials.yml").read_text())
        # ... and shares the widget's stream bus.
        widget = credentials["bot.channels.widget.WidgetInput"]
        assert widget["stream_bus_url"] == "redis://cache.internal:6379/0"
    for action in scale.actions:
        # Action servers push tokens through the balancer, which routes them by conversation.
        assert action.env["SHOPBOT_STREAM_PUSH_URL"] == (
            "http://127.0.0.1:6005/webhooks/widget/internal/stream"
        )
    ports = {url.rsplit(":", 1)[1] for url in scale.rasa_urls}
    assert len(ports) == 2 and not ports & {"6005", "6055"}
    config = (run / "haproxy.cfg").read_text()
    for url in scale.rasa_urls:
        assert url.removeprefix("http://") + " check" in config
