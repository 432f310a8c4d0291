"""Who may call a console route: every route is wrapped by :func:`guard` with its access level.

Deny by default: :func:`bot.console.app.build_app` refuses a route whose endpoint was not
guarded, and ``tests/unit/bot/console/test_access.py`` enumerates the app's routes. Pages answer
a missing session with a redirect to ``/signin``, API routes (``/api/...``) with 401; a role too
low gets 403; a state-changing request without its CSRF token gets 403.
"""

from __future__ import annotations

import enum
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from bot.console.csrf import SAFE_METHODS, same_origin, submitted_token, tokens_match

if TYPE_CHECKING:
    from bot.console.context import Console

logger = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]
ACCESS_ATTRIBUTE = "__console_access__"


class Access(str, enum.Enum):
    """Access levels: anyone (sign-in, health, static files), any signed-in agent, admins."""

    PUBLIC = "public"
    AGENT = "agent"
    ADMIN = "admin"


def is_api(request: Request) -> bool:
    """API routes answer JSON (401/403); everything else is a page."""
    return request.url.path.startswith("/api/")


def console_of(request: Request) -> Console:
    """The console's shared objects (stores, limiter, templates) from the app state."""
    return request.app.state.console  # type: ignore[no-any-return]


def refuse(request: Request, status: int, message: str) -> Response:
    """A refusal: JSON for API routes, a small page otherwise."""
    if is_api(request):
        return JSONResponse({"error": message}, status_code=status)
    return console_of(request).templates.TemplateResponse(
        request, "error.html", {"message": message, "status": status}, status_code=status
    )


def safe_next(target: str | None) -> str:
    """A local path to return to after sign-in (anything else, e.g. ``//evil``, becomes ``/``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def signin_redirect(request: Request) -> Response:
    """Send a page request without a session to the sign-in page, remembering where it went."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/signin" if target == "/" else f"/signin?next={quote(target, safe='')}"
    return RedirectResponse(location, status_code=303)


def guard(access: Access, endpoint: Endpoint) -> Endpoint:
    """Wrap ``endpoint`` so it runs only for callers with ``access``.

    Public routes still check the signed sign-in token on a state-changing request; signed-in
    routes look the session up, check the role, then the session's CSRF token. The session is
    left in ``request.state.session``.
    """

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        console = console_of(request)
        unsafe = request.method not in SAFE_METHODS
        if unsafe and not same_origin(request):
            return refuse(request, 403, "Cross-origin request refused.")
        if access is Access.PUBLIC:
            if unsafe and not console.signin_tokens.verify(
                console.signin_nonce(request), await submitted_token(request)
            ):
                return refuse(
                    request, 403, "The form has expired or was not sent by this site. Reload it."
                )
            return await endpoint(request)
        session = await run_in_threadpool(console.sessions.lookup, console.session_cookie(request))
        if session is None:
            if is_api(request):
                return refuse(request, 401, "Sign in first.")
            response = signin_redirect(request)
            console.clear_session_cookie(response)
            return response
        if access is Access.ADMIN and not session.agent.is_admin:
            return refuse(request, 403, "This needs the admin role.")
        if unsafe and not tokens_match(session.csrf_token, await submitted_token(request)):
            logger.warning(
                "Refused a %s %s without its CSRF token", request.method, request.url.path
            )
            return refuse(request, 403, "The CSRF token is missing or wrong. Reload the page.")
        request.state.session = session
        return await endpoint(request)

    setattr(guarded, ACCESS_ATTRIBUTE, access)
    return guarded


def access_of(endpoint: object) -> Access | None:
    """The access level a guarded endpoint was given (None: not guarded)."""
    value = getattr(endpoint, ACCESS_ATTRIBUTE, None)
    return value if isinstance(value, Access) else None
