"""Operator routes of the Rasa server: health, readiness and Prometheus metrics.

Rasa serves custom routes only as channel blueprints under ``/webhooks/<name>/``, and its own
``/status`` needs the HTTP API token; this "channel" receives no messages and adds:

- ``GET /webhooks/ops/health`` — 200 while the process serves HTTP (liveness);
- ``GET /webhooks/ops/ready`` — 200 when the model is loaded and the action server answers its
  ``/health`` within :data:`CHECK_TIMEOUT_S`, else 503; the body names each check;
- ``GET /webhooks/ops/metrics`` — the process's Prometheus metrics (``bot.metrics``), for loopback
  clients or with ``Authorization: Bearer <SHOPBOT_METRICS_TOKEN>``.

It also installs :func:`bot.channels.rasa_api_guard.refuse_hostile_json`, which answers hostile
JSON on Rasa's own API routes with a 400 (``/model/parse`` answered 500), and
:mod:`bot.action_reply_validation`, which checks the action server's replies with a prebuilt
validator (Rasa rebuilt it for every reply: 42–69% of its CPU time per turn), and
:mod:`bot.local_slot_validation`, which fills the frustration slots in this process instead of
calling the action server on every turn.

A separate channel, not routes on the REST channel: the REST channel may be turned off or sit
behind the store's backend, and the shopper-facing channels keep only shopper routes. See
docs/decisions/019-health-and-metrics.md.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import action_reply_validation, local_slot_validation
from bot.channels.rasa_api_guard import refuse_hostile_json
from bot.metrics import SCRAPE_REFUSED, metrics, scrape_allowed

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 2.0


class OpsInput(InputChannel):
    """Health, readiness and metrics routes (no messages).

    Args:
        metrics_token: Bearer token for ``/metrics``; empty → loopback clients only.
        reply_check: ``prebuilt`` installs :mod:`bot.action_reply_validation`; ``rasa`` keeps
            Rasa's own check of action replies (the benchmark's baseline).
        slot_validation: ``local`` installs :mod:`bot.local_slot_validation`; ``remote`` keeps
            Rasa's call of ``action_validate_slot_mappings`` (the benchmark's baseline).
    """

    @classmethod
    def name(cls) -> str:
        """The URL segment: ``/webhooks/ops/``."""
        return "ops"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel from its ``credentials.yml`` section."""
        given = credentials or {}
        return cls(
            metrics_token=str(given.get("metrics_token") or ""),
            reply_check=str(given.get("reply_check") or "prebuilt"),
            slot_validation=str(given.get("slot_validation") or "local"),
        )

    def __init__(
        self, metrics_token: str = "", reply_check: str = "prebuilt", slot_validation: str = "local"
    ) -> None:
        self.metrics_token = metrics_token
        self.reply_check = reply_check
        self.slot_validation = slot_validation
        metrics()  # registered at start-up, so the first scrape lists every metric

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Return the health, readiness and metrics routes."""
        ops = Blueprint(f"shop_ops_{id(self)}", __name__)

        @ops.route("/health", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @ops.route("/ready", methods=["GET"])
        async def ready(request: Request) -> HTTPResponse:
            checks = await readiness(getattr(request.app.ctx, "agent", None))
            ok = all(value == "ok" for value in checks.values())
            if not ok:
                logger.warning("Not ready: %s", checks)
            return response.json(
                {"status": "ready" if ok else "not ready", "checks": checks},
                status=200 if ok else 503,
            )

        @ops.route("/metrics", methods=["GET"])
        async def scrape(request: Request) -> HTTPResponse:
            forwarded = "x-forwarded-for" in request.headers or "forwarded" in request.headers
            peer = request.ip  # the socket's peer, never a header
            if not scrape_allowed(
                peer, forwarded, request.headers.get("authorization"), self.metrics_token
            ):
                logger.warning("Refused a metrics scrape from %s (403)", peer)
                return response.json({"error": SCRAPE_REFUSED}, status=403)
            return response.raw(
                generate_latest(metrics().registry), content_type=CONTENT_TYPE_LATEST
            )

        @ops.listener("before_server_start")
        async def guard_rasa_api(app: Any, _: Any) -> None:
            app.register_middleware(refuse_hostile_json, "request")
            if self.reply_check == "prebuilt":
                action_reply_validation.install()
            else:
                logger.info(
                    "Action server replies are checked by Rasa's own check (%s)", self.reply_check
                )
            if self.slot_validation == "local":
                local_slot_validation.install()
            else:
                logger.info("Slots are validated by the action server (%s)", self.slot_validation)

        return ops


async def readiness(agent: Any) -> dict[str, str]:
    """``{"model": ..., "action_server": ...}``: ``ok`` or why not."""
    checks: dict[str, str] = {}
    checks["model"] = "ok" if agent is not None and agent.is_ready() else "not loaded"
    endpoint = getattr(agent, "action_endpoint", None)
    url = getattr(endpoint, "url", None)
    if not url:
        checks["action_server"] = "not configured"
        return checks
    checks["action_server"] = await _answers(health_url(url))
    return checks


def health_url(action_url: str) -> str:
    """The action server's ``/health`` beside its webhook URL."""
    parts = urlsplit(action_url)
    return urlunsplit((parts.scheme, parts.netloc, "/health", "", ""))


async def _answers(url: str) -> str:
    try:
        timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as reply:
            return "ok" if reply.status == 200 else f"answered {reply.status}"
    except Exception as exc:  # unreachable, refused, timed out: all mean "not ready"
        return f"unreachable ({type(exc).__name__})"
