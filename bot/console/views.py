"""The console's endpoints (wrapped with their access level in :mod:`bot.console.app`)."""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from bot.console.access import console_of, safe_next
from bot.console.payloads import queue_snapshot
from bot.console.sessions import Session

logger = logging.getLogger(__name__)

SIGNIN_FAILED = "Wrong email or password."  # the same whether or not the account exists
SIGNIN_LIMITED = "Too many sign-in attempts. Wait a minute, then try again."


def client_address(request: Request) -> str:
    """The caller's address (the proxy's client when ``console_trusted_proxies`` is set)."""
    return request.client.host if request.client else "unknown"


def current_session(request: Request) -> Session:
    """The session the access guard found."""
    return request.state.session  # type: ignore[no-any-return]


async def waiting_conversations(request: Request) -> dict[str, Any]:
    """The handoff queue as the signed-in agent sees it: ``{"count", "conversations"}``."""
    console = console_of(request)
    return await run_in_threadpool(queue_snapshot, console, current_session(request).agent.id)


async def health(request: Request) -> Response:
    """Readiness probe: answers 200 once the app is up."""
    return JSONResponse({"status": "ok"})


def _signin_form(
    request: Request, message: str = "", status: int = 200, email: str = ""
) -> Response:
    console = console_of(request)
    nonce = console.signin_nonce(request) or console.signin_tokens.new_nonce()
    response = console.templates.TemplateResponse(
        request,
        "signin.html",
        {
            "csrf_token": console.signin_tokens.sign(nonce),
            "next": safe_next(request.query_params.get("next")),
            "message": message,
            "email": email,
        },
        status_code=status,
    )
    console.set_signin_nonce(response, nonce)
    return response


async def signin_page(request: Request) -> Response:
    """The sign-in form (or home, when already signed in)."""
    console = console_of(request)
    session = await run_in_threadpool(console.sessions.lookup, console.session_cookie(request))
    if session is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _signin_form(request)


async def signin(request: Request) -> Response:
    """Check email and password (rate limited); on success start a new session."""
    console = console_of(request)
    form = await request.form()
    email = str(form.get("email") or "")[:254]
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or "/"))
    address = client_address(request)
    decision = await run_in_threadpool(console.limiter.attempt, email, address)
    if not decision.allowed:
        logger.warning("Sign-in rate limit reached (address %s)", address)
        response = _signin_form(request, SIGNIN_LIMITED, 429, email)
        response.headers["Retry-After"] = str(decision.retry_after_s)
        return response
    agent = await run_in_threadpool(console.agents.authenticate, email, password)
    if agent is None:
        logger.info("Failed console sign-in from %s", address)
        return _signin_form(request, SIGNIN_FAILED, 401, email)
    # A new session id at every sign-in; a session this browser had before ends.
    await run_in_threadpool(console.sessions.delete, console.session_cookie(request))
    session_id, _session = await run_in_threadpool(console.sessions.create, agent)
    logger.info("Agent %d signed in to the console from %s", agent.id, address)
    response = RedirectResponse(target, status_code=303)
    console.set_session_cookie(response, session_id)
    return response


async def signout(request: Request) -> Response:
    """End the session and go back to the sign-in page."""
    console = console_of(request)
    await run_in_threadpool(console.sessions.delete, console.session_cookie(request))
    logger.info("Agent %d signed out of the console", current_session(request).agent.id)
    response = RedirectResponse("/signin", status_code=303)
    console.clear_session_cookie(response)
    return response


async def home(request: Request) -> Response:
    """The signed-in home page: the live handoff queue (``static/queue.js`` keeps it current)."""
    session = current_session(request)
    queue = await waiting_conversations(request)
    return console_of(request).templates.TemplateResponse(
        request,
        "home.html",
        {
            "agent": session.agent,
            "csrf_token": session.csrf_token,
            "count": queue["count"],
            "entries": queue["conversations"],
            "page": "queue",
        },
    )


async def api_me(request: Request) -> Response:
    """The signed-in agent."""
    agent = current_session(request).agent
    return JSONResponse(
        {"id": agent.id, "email": agent.email, "name": agent.name, "role": agent.role}
    )


async def api_queue(request: Request) -> Response:
    """The open handoffs (waiting, then claimed) and how many are waiting."""
    return JSONResponse(await waiting_conversations(request))


async def api_agents(request: Request) -> Response:
    """Every agent (admins only)."""
    agents = await run_in_threadpool(console_of(request).agents.list)
    return JSONResponse(
        {
            "agents": [
                {
                    "id": a.id,
                    "email": a.email,
                    "name": a.name,
                    "role": a.role,
                    "disabled": a.disabled,
                    "last_sign_in_at": a.last_sign_in_at.isoformat() + "Z"
                    if a.last_sign_in_at
                    else None,
                }
                for a in agents
            ]
        }
    )
