"""The Throughput section's Locust shoppers, run by the real Locust of ``.venv-load`` against a
loopback server that answers like the REST channel (the section itself drives the real Rasa)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.conftest import free_port
from training.bench.load_plan import Kind
from training.bench.throughput import locust_binary, plan_file, run_level

pytestmark = pytest.mark.e2e
SECRET = "load-secret"


class RestLike(BaseHTTPRequestHandler):
    """Answers every message with one reply, except "silence" (no reply) and a wrong secret."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        RestLike.seen.append({**body, "auth": self.headers.get("Authorization")})
        if self.headers.get("Authorization") != f"Bearer {SECRET}":
            status, replies = 401, {"error": "no"}
        else:
            status, replies = 200, [] if body["message"] == "silence" else [{"text": "hi"}]
        data = json.dumps(replies).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture()
def rest_like() -> Iterator[str]:
    RestLike.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), RestLike)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_shoppers_play_each_kind_with_its_name_and_count_silence_as_a_failure(
    rest_like: str, tmp_path: Path, project_root: Path
) -> None:
    locust_binary(project_root)  # built by `make integration` (scripts/load-venv.sh)
    kinds = [
        Kind("greeting", "greeting", [["hello"], ["hi there"]]),
        Kind("order_tracking", "tracking", [["where is my order", "104233", "a@example.org"]]),
        Kind("thanks", "thanks", [["silence", "never sent"]]),
    ]
    # Equal weights: under the realistic mix "thanks" (1 in 4) was never picked in 1 of ~30 runs.
    weights = {k.name: 1 for k in kinds}
    plan = plan_file(kinds, SECRET, tmp_path / "plan.json", weights=weights)
    stats = run_level(project_root, rest_like, plan, shoppers=4, seconds=6, work=tmp_path)
    assert {"greeting", "order_tracking", "thanks", "Aggregated"} <= set(stats)
    assert stats["greeting"].requests > 0 and stats["greeting"].failures == 0
    assert stats["thanks"].failures == stats["thanks"].requests > 0  # no reply is a failure
    assert all(m["auth"] == f"Bearer {SECRET}" for m in RestLike.seen)
    assert "never sent" not in [m["message"] for m in RestLike.seen]  # a failed turn ends it
    # A tracking conversation is one sender: ask, number, email in order.
    by_sender: dict[str, list[str]] = {}
    for m in RestLike.seen:
        by_sender.setdefault(m["sender"], []).append(m["message"])
    flows = [s for s in by_sender.values() if "104233" in s]
    assert flows and all(
        s[s.index("104233") - 1 : s.index("104233") + 2]
        == ["where is my order", "104233", "a@example.org"]
        for s in flows
    )
