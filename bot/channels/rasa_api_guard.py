"""Refuse hostile JSON on Rasa's own HTTP API routes with a 400/413, before Rasa reads it.

Rasa 3.6's ``POST /model/parse`` wraps everything in ``except Exception`` → 500, so a body it
cannot parse (a 5,000-digit number, 10,000-deep nesting, invalid JSON) or one without ``text``
answered ``500 ParsingError``. Rasa's other JSON routes answer 400 already; they get the same checks
so every route behaves alike — except that ``messages``, ``trigger_intent`` and ``execute`` call
``request.json.get(...)``, so valid JSON that is not an object (``[]``, ``"hi"``, ``null``) was a
500 ``AttributeError`` there, and ``tracker/events`` reads each list item the same way: those
shapes are refused too. A request middleware of the Rasa app (installed by the ``ops``
channel at start-up) decodes the body of those routes with :func:`core.json_body.load_json_body`
and answers in Rasa's error format when it refuses; anything it lets through reaches Rasa
unchanged (which then checks the token: a hostile body gets its 400 even without one, which tells
the caller nothing).
"""

from __future__ import annotations

import logging
import re

import rasa
from rasa.shared.core.events import Event
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.json_body import JsonBodyError, load_json_body

logger = logging.getLogger(__name__)

# Rasa's routes that read a JSON body (rasa/server.py); not /model/train and /model/test (YAML).
JSON_ROUTES = re.compile(
    r"^/(model/parse|conversations/.+/(messages|tracker/events|trigger_intent|execute|predict))$"
)
PARSE_ROUTE = "/model/parse"
# Rasa's handlers of these read the body with ``request.json.get``: it must be an object.
OBJECT_ROUTES = re.compile(r"^/conversations/.+/(messages|trigger_intent|execute)$")
EVENTS_ROUTE = re.compile(r"^/conversations/.+/tracker/events$")


async def refuse_hostile_json(request: Request) -> HTTPResponse | None:
    """Sanic request middleware: Rasa's error reply for a refused body, else None (go on)."""
    if request.method not in ("POST", "PUT") or not JSON_ROUTES.match(request.path):
        return None
    if not request.body.strip():
        return None  # Rasa answers an empty body itself (400)
    try:
        data = load_json_body(request.body)
    except JsonBodyError as exc:
        logger.warning(
            "Refused a %s %s body from %s (%d): %s",
            request.method,
            request.path,
            request.ip,
            exc.status,
            exc.reason,
        )
        return rasa_error(exc.status, exc.reason)
    if (
        request.path == PARSE_ROUTE
        and not request.args.get("emulation_mode")
        and not (isinstance(data, dict) and isinstance(data.get("text"), str))
    ):
        return rasa_error(400, 'Send the message to parse as a string in \'text\': {"text": "hi"}.')
    if OBJECT_ROUTES.match(request.path) and not isinstance(data, dict):
        return rasa_error(
            400, f'Send a JSON object, like {{"name": "greet"}}; got {type(data).__name__}.'
        )
    if EVENTS_ROUTE.match(request.path):
        return _refused_events(data)
    return None


def _refused_events(data: object) -> HTTPResponse | None:
    """Rasa's error reply unless ``data`` holds at least one event Rasa can read.

    Rasa's handler parses the events inside its ``except Exception``, so its own 400 for a body
    without a readable event (``[]``, ``{}``, an unknown type) came back as a 500 with an empty
    message; found by the HTTP fuzz tests.
    """
    example = 'like {"event": "pause"}'
    items = data if isinstance(data, list) else [data]
    if not all(isinstance(item, dict) for item in items):
        return rasa_error(400, f"Send an event as a JSON object, or a list of them, {example}.")
    try:
        events = [Event.from_parameters(item) for item in items]
    except Exception as exc:  # Rasa's own parser refused an event's parameters
        return rasa_error(400, f"An event could not be read ({type(exc).__name__}); {example}.")
    if not any(events):
        return rasa_error(400, f"Send at least one event of a type Rasa knows, {example}.")
    return None


def rasa_error(status: int, message: str) -> HTTPResponse:
    """A reply in the shape of Rasa's ``ErrorResponse``."""
    return response.json(
        {
            "version": rasa.__version__,
            "status": "failure",
            "message": message,
            "reason": "BadRequest" if status == 400 else "PayloadTooLarge",
            "details": {},
            "help": None,
            "code": status,
        },
        status=status,
    )
