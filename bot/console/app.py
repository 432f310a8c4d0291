"""Build the console's ASGI app: routes (each with its access level), static files, headers."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.console import (
    analytics_views,
    conversation_views,
    correction_views,
    description_views,
    export_views,
    handoff_views,
    ops_views,
    teach_views,
    views,
)
from bot.console.access import Access, Endpoint, access_of, guard
from bot.console.agents import AgentStore
from bot.console.context import STATIC_DIR, TEMPLATES_DIR, Console
from bot.console.csrf import SigninTokens
from bot.console.headers import SecurityHeaders
from bot.console.passwords import Passwords
from bot.console.payloads import duration
from bot.console.rasa_api import RasaApi, RasaHttpApi
from bot.console.ratelimit import SigninLimiter, storage_url
from bot.console.sessions import SessionStore
from bot.console.transcript import TranscriptReader
from bot.console.waiting import WaitingWatcher
from bot.storage.clock import utcnow
from bot.storage.conversations import ConversationIndex
from bot.storage.corrections import CorrectionStore
from bot.storage.engine import make_engine
from bot.storage.handoffs import HandoffQueue
from core.settings import Settings

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024

# (path, methods, access, endpoint): every route of the console, in one place.
ROUTES: list[tuple[str, list[str], Access, Endpoint]] = [
    ("/health", ["GET"], Access.PUBLIC, views.health),
    ("/ready", ["GET"], Access.PUBLIC, ops_views.ready),
    ("/metrics", ["GET"], Access.PUBLIC, ops_views.scrape),  # loopback or the metrics token
    ("/signin", ["GET"], Access.PUBLIC, views.signin_page),
    ("/signin", ["POST"], Access.PUBLIC, views.signin),
    ("/signout", ["POST"], Access.AGENT, views.signout),
    ("/", ["GET"], Access.AGENT, views.home),
    ("/api/me", ["GET"], Access.AGENT, views.api_me),
    ("/api/queue", ["GET"], Access.AGENT, views.api_queue),
    ("/conversations", ["GET"], Access.AGENT, conversation_views.conversations_page),
    ("/conversations/{cid:path}", ["GET"], Access.AGENT, conversation_views.conversation_page),
    ("/api/conversations", ["GET"], Access.AGENT, conversation_views.api_conversations),
    ("/api/export/conversations", ["GET"], Access.AGENT, export_views.export_conversations),
    ("/api/conversations/{cid:path}/claim", ["POST"], Access.AGENT, handoff_views.claim),
    ("/api/conversations/{cid:path}/reply", ["POST"], Access.AGENT, handoff_views.reply),
    ("/api/conversations/{cid:path}/handback", ["POST"], Access.AGENT, handoff_views.handback),
    ("/api/conversations/{cid:path}/close", ["POST"], Access.AGENT, handoff_views.close),
    (
        "/api/conversations/{cid:path}/corrections",
        ["POST"],
        Access.AGENT,
        correction_views.propose,
    ),
    (
        "/api/conversations/{cid:path}/export",
        ["GET"],
        Access.AGENT,  # unmasked: admins only, checked by the view (403)
        export_views.export_conversation,
    ),
    # Last: its {cid:path} would also match ".../claim" (a GET there is an unknown conversation).
    ("/api/conversations/{cid:path}", ["GET"], Access.AGENT, conversation_views.api_conversation),
    ("/api/agents", ["GET"], Access.ADMIN, views.api_agents),
    ("/analytics", ["GET"], Access.AGENT, analytics_views.analytics_page),
    ("/api/analytics", ["GET"], Access.AGENT, analytics_views.api_analytics),
    ("/corrections", ["GET"], Access.AGENT, correction_views.corrections_page),
    ("/api/corrections", ["GET"], Access.AGENT, correction_views.api_corrections),
    ("/api/corrections/{correction_id}/accept", ["POST"], Access.ADMIN, correction_views.accept),
    ("/api/corrections/{correction_id}/reject", ["POST"], Access.ADMIN, correction_views.reject),
    ("/api/corrections/export", ["POST"], Access.ADMIN, teach_views.export_corrections),
    ("/api/corrections/export/{name}", ["GET"], Access.ADMIN, teach_views.exported_file),
    ("/api/retrain", ["GET"], Access.ADMIN, teach_views.api_retrain),
    ("/api/retrain", ["POST"], Access.ADMIN, teach_views.start_retrain),
    ("/descriptions", ["GET"], Access.ADMIN, description_views.descriptions_page),
    ("/descriptions/generate", ["POST"], Access.ADMIN, description_views.generate),
    ("/descriptions/export/{fmt}", ["GET"], Access.ADMIN, description_views.export),
    ("/descriptions/{draft_id}/accept", ["POST"], Access.ADMIN, description_views.accept),
    ("/descriptions/{draft_id}/reject", ["POST"], Access.ADMIN, description_views.reject),
]


def build_console(
    settings: Settings,
    engine: Engine | None = None,
    passwords: Passwords | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    rasa: RasaApi | None = None,
    transcripts: TranscriptReader | None = None,
) -> Console:
    """The console's shared objects for ``settings`` (the engine made from ``app_db_url``;
    Rasa's HTTP API and tracker store from ``host``/``rasa_port``/``tracker_store_url``)."""
    engine = engine or make_engine(settings.resolve_db_url(settings.app_db_url))
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.filters["duration"] = duration
    return Console(
        settings=settings,
        engine=engine,
        agents=AgentStore(engine, passwords, clock),
        sessions=SessionStore(
            engine, settings.console_session_idle, settings.console_session_max, clock
        ),
        signin_tokens=SigninTokens(settings.ensure_console_secret()),
        limiter=SigninLimiter(
            settings.console_signin_limit_account,
            settings.console_signin_limit_address,
            storage_url(settings),
        ),
        templates=templates,
        queue=HandoffQueue(engine, clock),
        conversations=ConversationIndex(engine),
        rasa=rasa or RasaHttpApi.from_settings(settings),
        transcripts=transcripts or TranscriptReader.from_settings(settings),
        corrections=CorrectionStore(engine, clock),
        clock=clock,
    )


def build_routes() -> list[BaseRoute]:
    """Every route, guarded; refuses a route whose endpoint has no access level (deny by default)."""
    routes: list[BaseRoute] = [
        Route(path, guard(access, endpoint), methods=methods)
        for path, methods, access, endpoint in ROUTES
    ]
    routes.append(Mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static"))
    for route in routes:
        if isinstance(route, Route) and access_of(route.endpoint) is None:
            raise RuntimeError(
                f"Console route {route.path} has no access level; wrap it with bot.console.access.guard."
            )
    return routes


def build_app(console: Console) -> Starlette:
    """The console's ASGI app around ``console``."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        purged = console.sessions.purge_expired()
        watcher = WaitingWatcher(console.queue, console.sessions, console.rasa, console.settings)
        task = asyncio.create_task(watcher.run(), name="waiting-watcher")
        logger.info("Agent console ready (%d expired sessions removed)", purged)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            console.transcripts.dispose()
            console.engine.dispose()

    app = Starlette(
        routes=build_routes(),
        middleware=[Middleware(SecurityHeaders, https=console.settings.console_https)],
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.console = console
    app.state.metrics = ops_views.console_registry(console)
    return app
