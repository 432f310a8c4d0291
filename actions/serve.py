"""Start the Rasa SDK action server with a guard on its webhook's request body.

``python -m rasa_sdk`` answers a body it cannot use with a 500: invalid JSON, a JSON value that is
not an object, or an object without the tracker make its handler raise, and its catch-all
exception handler then fails again reading ``request.json`` for the error body. This module runs
the same server (same arguments: ``python -m actions.serve --actions actions --port 5055``) with
one addition, installed through rasa_sdk's own plugin mechanism (it imports a module named
``rasa_sdk_plugins``, calls its ``init_hooks`` and then the ``attach_sanic_app_extensions`` hook): a request middleware that decodes the webhook's
body with :func:`core.json_body.load_json_body` (size, nesting, digits, UTF-8) and refuses what the
executor cannot run with a 400/413 and a reason. A body it accepts is handed on already decoded
(``request.parsed_json``), so it is parsed once, as before.

It also keeps numpy's BLAS (OpenBLAS) to one thread (:func:`one_blas_thread`): the server answers
concurrent shoppers on threads of its own, and OpenBLAS's second worker thread, spinning between
the small matrix products of retrieval, burned a second core for the whole of every answer
(in process, demo pipeline: 28 ms of wall time and 57 ms of CPU an answer; with one BLAS thread
32 ms and 32 ms; 2026-12-06).
"""

from __future__ import annotations

import logging
import os
import sys
import zlib
from typing import Any

import pluggy
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.heap import freeze_heap
from core.json_body import JsonBodyError, load_json_body

logger = logging.getLogger(__name__)

hookimpl = pluggy.HookimplMarker("rasa_sdk")

WEBHOOK = "/webhook"
# Rasa posts the whole tracker: a long conversation with parse data runs to megabytes, and parse
# data (intent ranking, entities, the OOS decision) nests deeper than a channel message.
MAX_BODY_BYTES = 64 * 1_048_576
MAX_DEPTH = 64
EXAMPLE = '{"next_action": "action_name", "tracker": {...}, "domain": {...}}'


def webhook_problem(body: bytes, deflated: bool) -> tuple[int, str, Any]:
    """``(status, reason, decoded)`` for an action call body: status 0 when it can be run.

    Args:
        body: The raw request body.
        deflated: ``Content-Encoding: deflate`` (Rasa compresses large calls).
    """
    if deflated:
        try:
            body = zlib.decompress(body)
        except zlib.error:
            return 400, "The request body is not valid deflate data.", None
    try:
        call = load_json_body(body, EXAMPLE, max_bytes=MAX_BODY_BYTES, max_depth=MAX_DEPTH)
    except JsonBodyError as error:
        return error.status, error.reason, None
    if not isinstance(call, dict):
        return 400, f"An action call is a JSON object; send JSON like {EXAMPLE}.", None
    if not isinstance(call.get("next_action"), str) or not call["next_action"]:
        return 400, "The action call names no action (next_action).", None
    if not isinstance(call.get("tracker"), dict):
        return 400, "The action call has no tracker object (tracker).", None
    return 0, "", call


async def guard_webhook(request: Request) -> HTTPResponse | None:
    """Refuse an action call the executor cannot run (a 400/413 with a reason)."""
    if request.method != "POST" or request.path != WEBHOOK:
        return None
    deflated = request.headers.get("Content-Encoding") == "deflate"
    status, reason, call = webhook_problem(request.body or b"", deflated)
    if status:
        logger.warning("Refused an action call (%d): %s", status, reason)
        return response.json({"error": reason}, status=status)
    if not deflated:
        request.parsed_json = call  # rasa_sdk reads request.json: decoded once
    return None


@hookimpl  # type: ignore[misc]
def attach_sanic_app_extensions(app: Sanic) -> None:
    """rasa_sdk's plugin hook: install the webhook guard before any route runs, and keep what
    the server has loaded out of the garbage collector's scans once it has started."""
    app.register_middleware(guard_webhook, "request")
    app.register_listener(_freeze_loaded_heap, "after_server_start")


async def _freeze_loaded_heap(app: Sanic, loop: object) -> None:
    freeze_heap("Action server")


def init_hooks(manager: pluggy.PluginManager) -> None:
    """rasa_sdk's plugin entry point: register this module's hook implementations."""
    manager.register(sys.modules[__name__])


def one_blas_thread() -> None:
    """OpenBLAS on one thread: for the copies loaded later (numpy's, scipy's: the standard
    ``OPENBLAS_NUM_THREADS``, unless the environment sets it) and for those already loaded
    (``threadpoolctl``)."""
    threads = int(os.environ.setdefault("OPENBLAS_NUM_THREADS", "1"))
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")


def main() -> None:
    """``python -m rasa_sdk`` with the guard registered as its plugin, on one BLAS thread."""
    one_blas_thread()
    sys.modules["rasa_sdk_plugins"] = sys.modules[__name__]
    from rasa_sdk.__main__ import main as rasa_sdk_main

    rasa_sdk_main()


if __name__ == "__main__":
    main()
