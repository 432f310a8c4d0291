"""Corrections: an agent corrects a shopper turn (intent, entities) or a bot answer; an admin
accepts or rejects it. ``shopbot corrections export`` turns the accepted ones into training data.

The corrected turn is read from Rasa's tracker store (``bot.console.transcript``) so a correction
always names a real shopper or bot turn of its conversation; intents and entities must be the
domain's (``bot.console.domain_names``).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.console.access import console_of, refuse
from bot.console.context import Console
from bot.console.conversation_views import TRACKER_UNREADABLE, conversation_id_of
from bot.console.domain_names import domain_names
from bot.console.handoff_views import error, json_body
from bot.console.views import current_session
from bot.storage.correction_tables import STATUSES
from bot.storage.corrections import Correction, CorrectionError, check_entities

logger = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 2000
PAGE_SIZE = 200


class BadCorrection(ValueError):
    """A correction the API refuses (400; the message says why)."""


def _intent_fields(body: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The fields of a shopper-turn correction: the right intent and entities."""
    names = domain_names()
    intent = body.get("intent")
    if not isinstance(intent, str) or intent not in names.intents:
        raise BadCorrection(
            f"intent must be one of the domain's intents (or out_of_scope). Currently, it is "
            f"{str(intent)[:60]!r}."
        )
    if body.get("answer") is not None:
        raise BadCorrection("This event is a shopper turn: send intent (and entities), not answer.")
    entities = check_entities(item["text"], body.get("entities"), names.entities)
    original = item["intent"]["name"] if item.get("intent") else None
    return {"intent": intent, "entities": entities, "original_intent": original}


def _answer_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The fields of a bot-answer correction: the right answer and whether it is a fact."""
    answer, is_fact = body.get("answer"), body.get("is_fact", False)
    if body.get("intent") is not None:
        raise BadCorrection("This event is a bot answer: send answer (and is_fact), not intent.")
    if not isinstance(answer, str) or not answer.strip():
        raise BadCorrection("answer must be the right answer's text; it is missing or empty.")
    if len(answer) > MAX_ANSWER_CHARS:
        raise BadCorrection(
            f"answer has {len(answer)} characters; the limit is {MAX_ANSWER_CHARS}. Shorten it."
        )
    if not isinstance(is_fact, bool):
        raise BadCorrection(f"is_fact must be true or false. Currently, it is {is_fact!r}.")
    return {"answer": answer.strip(), "is_fact": is_fact}


def _propose(
    console: Console, conversation_id: str, body: dict[str, Any], agent_id: int
) -> Correction:
    """Check ``body`` against the tracker store and the domain, then store the correction."""
    event_id = body.get("event_id")
    if type(event_id) is not int or event_id <= 0:
        raise BadCorrection(f"event_id must be a whole number. Currently, it is {event_id!r}.")
    item, question = console.transcripts.turn(conversation_id, event_id)
    if item is None or item["type"] not in ("user", "bot"):
        raise BadCorrection(
            f"There is no shopper or bot turn with event_id {event_id} in this conversation."
        )
    if item["type"] == "user":
        fields = _intent_fields(body, item)
        kind = "intent"
    elif item["author"] == "bot":
        fields = {**_answer_fields(body), "question": question or None}
        kind = "answer"
    else:
        raise BadCorrection(
            f"Event {event_id} is an agent message or a notice; only the bot's answers can be "
            "corrected."
        )
    return console.corrections.propose(
        conversation_id, event_id, kind, item["text"], agent_id, **fields
    )


async def propose(request: Request) -> Response:
    """Propose a correction of one turn: ``{"event_id", "intent", "entities"?}`` for a shopper
    turn, ``{"event_id", "answer", "is_fact"?}`` for a bot answer."""
    console = console_of(request)
    agent = current_session(request).agent
    body = await json_body(request)
    if body is None:
        return error(400, 'Send JSON like {"event_id": 12, "intent": "track_order"}.')
    try:
        made = await run_in_threadpool(
            _propose, console, conversation_id_of(request), body, agent.id
        )
    except (BadCorrection, CorrectionError) as exc:
        return error(400, str(exc))
    except SQLAlchemyError:
        logger.exception("Cannot store a correction of %s", conversation_id_of(request))
        return error(503, TRACKER_UNREADABLE)
    return JSONResponse({"correction": made.to_dict()}, status_code=201)


def _status_filter(request: Request) -> str | None:
    """``status`` from the query: one of the states (default ``proposed``), or ``all``."""
    status = request.query_params.get("status") or "proposed"
    if status == "all":
        return None
    if status not in STATUSES:
        raise BadCorrection(
            f"status must be proposed, accepted, rejected or all. Currently, it is {status[:20]!r}."
        )
    return status


async def api_corrections(request: Request) -> Response:
    """Corrections, newest first (``?status=proposed`` by default; ``all`` for every one)."""
    try:
        status = _status_filter(request)
    except BadCorrection as exc:
        return error(400, str(exc))
    rows = await run_in_threadpool(console_of(request).corrections.list, status, PAGE_SIZE)
    return JSONResponse({"status": status or "all", "corrections": [c.to_dict() for c in rows]})


async def corrections_page(request: Request) -> Response:
    """The corrections to review (admins get Accept/Reject; agents read only)."""
    console = console_of(request)
    session = current_session(request)
    try:
        status = _status_filter(request)
    except BadCorrection as exc:
        return refuse(request, 400, str(exc))
    rows = await run_in_threadpool(console.corrections.list, status, PAGE_SIZE)
    return console.templates.TemplateResponse(
        request,
        "corrections.html",
        {
            "agent": session.agent,
            "csrf_token": session.csrf_token,
            "corrections": rows,
            "status": status or "all",
            "statuses": (*STATUSES, "all"),
            "page": "corrections",
            "preset": console.settings.preset,
            "retrain_margin": console.settings.retrain_margin,
        },
    )


async def _review(request: Request, accept: bool) -> Response:
    console = console_of(request)
    reviewer = current_session(request).agent
    raw = str(request.path_params.get("correction_id", ""))
    if not raw.isdigit():
        return error(404, "There is no correction with this id.")
    decided, now = await run_in_threadpool(
        console.corrections.review, int(raw), accept, reviewer.id
    )
    if now is None:
        return error(404, "There is no correction with this id.")
    if not decided:
        who = f" by {now.reviewer_name}" if now.reviewer_name else ""
        return error(
            409, f"This correction was already {now.status}{who}.", correction=now.to_dict()
        )
    return JSONResponse({"correction": now.to_dict()})


async def accept(request: Request) -> Response:
    """Accept a proposed correction (admins): the export writes it into the training data."""
    return await _review(request, True)


async def reject(request: Request) -> Response:
    """Reject a proposed correction (admins): it stays on record, never exported."""
    return await _review(request, False)
