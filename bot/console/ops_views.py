"""The console's operator routes: readiness and Prometheus metrics (``/health`` is in views).

- ``GET /ready`` — 200 when the application database answers ``SELECT 1``, else 503. Rasa is not
  a condition: without it the console still shows transcripts and the queue (replies get a 502).
- ``GET /metrics`` — the console process's metrics: handoffs waiting for an agent, whether the
  database answered, and the process collector's CPU and memory; loopback clients only, or
  ``Authorization: Bearer <SHOPBOT_METRICS_TOKEN>`` (:func:`bot.metrics.scrape_allowed`).

Each app has its own registry (tests build many apps in one process).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.console.access import console_of
from bot.console.context import Console
from bot.metrics import SCRAPE_REFUSED, scrape_allowed

logger = logging.getLogger(__name__)


def database_ok(console: Console) -> bool:
    """Whether the application database answers ``SELECT 1``."""
    try:
        with console.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # any failure to reach it means "not ready"
        logger.warning("The console's database does not answer: %s", exc)
        return False


class ConsoleCollector(Collector):
    """Reads the queue at scrape time (no counters to keep in step with the database)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The gauges, read now."""
        up = database_ok(self.console)
        yield GaugeMetricFamily(
            "shopbot_console_database_up",
            "1 when the application database answered the scrape's SELECT 1.",
            value=1 if up else 0,
        )
        if up:
            yield GaugeMetricFamily(
                "shopbot_console_handoffs_waiting",
                "Conversations waiting for an agent to claim them.",
                value=self.console.queue.count_waiting(),
            )


def console_registry(console: Console) -> CollectorRegistry:
    """A registry with the console's gauges and the process collector."""
    registry = CollectorRegistry()
    registry.register(ConsoleCollector(console))
    ProcessCollector(registry=registry)
    return registry


async def ready(request: Request) -> Response:
    """200 when the application database answers, else 503 (the body names the check)."""
    ok = await run_in_threadpool(database_ok, console_of(request))
    return JSONResponse(
        {
            "status": "ready" if ok else "not ready",
            "checks": {"database": "ok" if ok else "unreachable"},
        },
        status_code=200 if ok else 503,
    )


async def scrape(request: Request) -> Response:
    """The console's metrics in Prometheus' text format (403 for others than loopback)."""
    console = console_of(request)
    forwarded = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    peer = request.client.host if request.client else None
    if not scrape_allowed(
        peer, forwarded, request.headers.get("authorization"), console.settings.metrics_token
    ):
        logger.warning("Refused a metrics scrape from %s (403)", peer)
        return JSONResponse({"error": SCRAPE_REFUSED}, status_code=403)
    registry: CollectorRegistry = request.app.state.metrics
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
