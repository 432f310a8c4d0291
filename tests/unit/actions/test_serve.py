"""The action server's webhook guard: what it refuses, and that rasa_sdk finds it as its plugin."""

from __future__ import annotations

import json
import sys
import zlib

import pytest

from actions.serve import MAX_DEPTH, webhook_problem

CALL = {"next_action": "action_answer_question", "tracker": {"sender_id": "x", "events": []}}


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"", 400, "empty"),
        (b"{not json", 400, "not valid JSON"),
        (b"\xff\xfe", 400, "UTF-8"),
        (b"[1, 2]", 400, "JSON object"),
        (b'"just a string"', 400, "JSON object"),
        (json.dumps({"tracker": {}}).encode(), 400, "next_action"),
        (json.dumps({"next_action": "", "tracker": {}}).encode(), 400, "next_action"),
        (json.dumps({"next_action": "a", "tracker": None}).encode(), 400, "tracker"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), 400, "nest"),
        (b'{"next_action": "a", "tracker": {}, "n": ' + b"9" * 5000 + b"}", 400, "digits"),
    ],
)  # fmt: skip
def test_a_body_the_executor_cannot_run_is_refused_with_a_reason(
    body: bytes, status: int, reason: str
) -> None:
    got, text, call = webhook_problem(body, deflated=False)
    assert (got, call) == (status, None)
    assert reason.lower() in text.lower()


def test_an_action_call_passes_decoded_and_deflated_calls_too() -> None:
    body = json.dumps(CALL).encode()
    assert webhook_problem(body, deflated=False) == (0, "", CALL)
    assert webhook_problem(zlib.compress(body), deflated=True) == (0, "", CALL)
    status, reason, _ = webhook_problem(b"not deflate", deflated=True)
    assert status == 400 and "deflate" in reason


def test_rasa_sdk_discovers_the_guard_as_its_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa_sdk.plugin import plugin_manager

    import actions.serve as serve

    monkeypatch.setitem(sys.modules, "rasa_sdk_plugins", serve)
    registered: list[object] = []

    class App:
        def register_middleware(self, handler: object, kind: str) -> None:
            registered.append((handler, kind))

        def register_listener(self, listener: object, event: str) -> None:
            registered.append((listener, event))

    plugin_manager().hook.attach_sanic_app_extensions(app=App())
    assert registered == [
        (serve.guard_webhook, "request"),
        (serve._freeze_loaded_heap, "after_server_start"),
    ]


def test_the_action_server_keeps_blas_to_one_thread() -> None:
    """Whatever loads OpenBLAS after the server starts (numpy, scipy) gets one thread."""
    import subprocess

    script = (
        "import os; os.environ.pop('OPENBLAS_NUM_THREADS', None)\n"
        "from actions.serve import one_blas_thread; one_blas_thread()\n"
        "import numpy, scipy.linalg, threadpoolctl\n"
        "print(sorted({i['num_threads'] for i in threadpoolctl.threadpool_info()"
        " if i['user_api'] == 'blas'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[1]"
