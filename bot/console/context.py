"""The console's shared objects (one per app), and its cookies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from bot.console.agents import AgentStore
from bot.console.csrf import SIGNIN_NONCE_COOKIE, SIGNIN_TOKEN_MAX_AGE_S, SigninTokens
from bot.console.describing import Describing
from bot.console.rasa_api import RasaApi
from bot.console.ratelimit import SigninLimiter
from bot.console.sessions import SessionStore
from bot.console.transcript import TranscriptReader
from bot.privacy.masking import MaskerSource
from bot.storage.clock import utcnow
from bot.storage.conversations import ConversationIndex
from bot.storage.corrections import CorrectionStore
from bot.storage.handoffs import HandoffQueue
from core.settings import Settings

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


@dataclass
class Console:
    """Everything a console request needs, built once by :func:`bot.console.app.build_app`."""

    settings: Settings
    engine: Engine
    agents: AgentStore
    sessions: SessionStore
    signin_tokens: SigninTokens
    limiter: SigninLimiter
    templates: Jinja2Templates
    queue: HandoffQueue
    conversations: ConversationIndex
    rasa: RasaApi
    transcripts: TranscriptReader
    corrections: CorrectionStore
    clock: Callable[[], dt.datetime] = utcnow
    maskers: MaskerSource | None = None  # exports' masking; made on first use (export_views)
    describing: Describing | None = None  # descriptions; made on first use (description_views)

    @property
    def secure_cookies(self) -> bool:
        """Cookies get ``Secure`` when the console is served over HTTPS."""
        return self.settings.console_https

    @property
    def cookie_name(self) -> str:
        """The session cookie; over HTTPS with the ``__Host-`` prefix (host-only, path /)."""
        return "__Host-shopbot_console" if self.secure_cookies else "shopbot_console"

    def session_cookie(self, request: Request) -> str | None:
        """The session id the browser sent, if any."""
        return request.cookies.get(self.cookie_name)

    def set_session_cookie(self, response: Response, session_id: str) -> None:
        """Set the session cookie: HttpOnly, SameSite=Lax, path /, Secure over HTTPS.

        No ``Max-Age``: a browser session cookie; the server enforces idle and absolute expiry.
        """
        response.set_cookie(
            self.cookie_name,
            session_id,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies,
        )

    def clear_session_cookie(self, response: Response) -> None:
        """Tell the browser to forget the session cookie."""
        response.delete_cookie(
            self.cookie_name, path="/", httponly=True, samesite="lax", secure=self.secure_cookies
        )

    def signin_nonce(self, request: Request) -> str | None:
        """The sign-in form's double-submit nonce from its cookie."""
        return request.cookies.get(SIGNIN_NONCE_COOKIE)

    def set_signin_nonce(self, response: Response, nonce: str) -> None:
        """Set the sign-in nonce cookie (only sent back to ``/signin``)."""
        response.set_cookie(
            SIGNIN_NONCE_COOKIE,
            nonce,
            max_age=SIGNIN_TOKEN_MAX_AGE_S,
            path="/signin",
            httponly=True,
            samesite="strict",
            secure=self.secure_cookies,
        )
