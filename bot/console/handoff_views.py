"""Acting on a handoff: claim it, reply to the shopper, hand back to the bot, close.

The queue (``bot.storage.handoffs``) decides who holds a conversation; Rasa's HTTP API
(``bot.console.rasa_api``) delivers what the shopper sees. Only the agent who claimed a
conversation may write in it or end it.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.console.access import console_of
from bot.console.agents import Agent
from bot.console.context import Console
from bot.console.conversation_views import conversation_id_of
from bot.console.payloads import handoff_state
from bot.console.rasa_api import RASA_REFUSED, RasaUnavailable
from bot.console.views import current_session
from bot.storage.handoffs import Handoff
from core.json_body import JsonBodyError, load_json_body

logger = logging.getLogger(__name__)

MAX_REPLY_CHARS = 2000
BACK_TO_BOT = "You're back with the store assistant. Ask me anything."
CLOSED = "The agent closed this conversation. I'm here if you need anything else."
END_TEXT = {"returned": BACK_TO_BOT, "closed": CLOSED}


def joined_events(agent: Agent) -> list[dict[str, Any]]:
    """What the shopper sees when an agent claims the conversation."""
    return [
        {
            "event": "bot",
            "text": f"{agent.name} from the support team joined the conversation.",
            "metadata": {"shopbot": {"kind": "handoff", "state": "joined", "agent": agent.name}},
        }
    ]


def agent_message_events(agent: Agent, text: str) -> list[dict[str, Any]]:
    """An agent's message, marked as one (the transcript and the widget tell it from the bot)."""
    return [
        {
            "event": "bot",
            "text": text,
            "metadata": {"shopbot": {"kind": "agent", "agent": agent.name, "agent_id": agent.id}},
        }
    ]


def end_events(status: str) -> list[dict[str, Any]]:
    """Un-pause the bot and tell the shopper (``status``: returned or closed)."""
    return [
        {"event": "resume"},
        {
            "event": "bot",
            "text": END_TEXT[status],
            "metadata": {"shopbot": {"kind": "handoff", "state": "ended"}},
        },
    ]


def error(status: int, message: str, **extra: Any) -> Response:
    """A JSON refusal."""
    return JSONResponse({"error": message, **extra}, status_code=status)


async def json_body(request: Request) -> dict[str, Any] | None:
    """The request's JSON object ({} when the body is empty; None when it is not an object)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = load_json_body(raw)  # a 5,000-digit number or 10,000-deep nesting: refused too
    except JsonBodyError as exc:
        logger.warning("Refused a JSON body (%d): %s", exc.status, exc.reason)
        return None
    return body if isinstance(body, dict) else None


async def deliver(
    console: Console, agent: Agent, conversation_id: str, action: str, events: list[dict[str, Any]]
) -> Response | None:
    """Send ``events`` to Rasa; a 502 reply when Rasa does not take them."""
    try:
        await console.rasa.append_events(conversation_id, events)
    except RasaUnavailable as exc:
        logger.warning(
            "Rasa refused the %s of agent %d in conversation %s: %s",
            action,
            agent.id,
            conversation_id,
            exc,
        )
        return error(502, RASA_REFUSED)
    return None


def held_by(console: Console, conversation_id: str, agent: Agent) -> Handoff | Response:
    """The conversation's handoff when ``agent`` holds it, else the refusal to answer."""
    handoff = console.queue.current(conversation_id)
    if handoff is None:
        return error(409, "This conversation is not handed to an agent.")
    if handoff.status == "waiting":
        return error(409, "Nobody has claimed this conversation yet; claim it first.")
    if handoff.agent_id != agent.id:
        return error(403, f"{handoff.agent_name or 'Another agent'} has this conversation.")
    return handoff


async def claim(request: Request) -> Response:
    """Claim the conversation's waiting handoff (``{"handoff_id": n}`` or the open one)."""
    console = console_of(request)
    agent = current_session(request).agent
    conversation_id = conversation_id_of(request)
    body = await json_body(request)
    if body is None:
        return error(400, 'Send JSON like {"handoff_id": 12}, or an empty body.')
    wanted = body.get("handoff_id")
    if wanted is None:
        handoff = await run_in_threadpool(console.queue.current, conversation_id)
    elif type(wanted) is int and wanted > 0:
        handoff = await run_in_threadpool(console.queue.get, wanted)
    else:
        return error(400, f"handoff_id must be a whole number. Currently, it is {wanted!r}.")
    if handoff is None or handoff.conversation_id != conversation_id:
        return error(404, "This conversation has no handoff to claim.")
    result = await run_in_threadpool(console.queue.claim, handoff.id, agent.id)
    now = result.handoff
    if not result.won:
        if now is not None and now.status == "claimed" and now.agent_id == agent.id:
            return JSONResponse({"claimed": True, "handoff": handoff_state(now, agent.id)})
        if now is not None and now.status == "claimed":
            holder = result.holder or "Another agent"
            return error(409, f"{holder} already has this conversation.", holder=holder)
        status = now.status if now else "gone"
        return error(409, f"This conversation is no longer waiting ({status}).")
    logger.info(
        "Agent %d claimed conversation %s (handoff %d)", agent.id, conversation_id, handoff.id
    )
    refused = await deliver(console, agent, conversation_id, "join notice", joined_events(agent))
    return refused or JSONResponse({"claimed": True, "handoff": handoff_state(now, agent.id)})


async def reply(request: Request) -> Response:
    """Send the claiming agent's message ``{"text": ...}`` to the shopper."""
    console = console_of(request)
    agent = current_session(request).agent
    conversation_id = conversation_id_of(request)
    held = await run_in_threadpool(held_by, console, conversation_id, agent)
    if isinstance(held, Response):
        return held
    body = await json_body(request)
    text = body.get("text") if body is not None else None
    if not isinstance(text, str):
        return error(400, 'Send JSON like {"text": "Hello"}: text is missing or not a string.')
    text = text.strip()
    if not text:
        return error(400, "Write a message first: the text is empty.")
    if len(text) > MAX_REPLY_CHARS:
        return error(
            400,
            f"The message has {len(text)} characters; the limit is {MAX_REPLY_CHARS}. "
            "Shorten it or send it in parts.",
        )
    refused = await deliver(
        console, agent, conversation_id, "message", agent_message_events(agent, text)
    )
    if refused:
        return refused
    logger.info("Agent %d wrote in conversation %s", agent.id, conversation_id)
    return JSONResponse({"sent": True})


def _retry_of_end(console: Console, conversation_id: str, agent: Agent) -> Handoff | None:
    """The handoff this agent already ended while Rasa refused the resume (still paused): a
    second click on Hand back / Close must be able to finish the job."""
    history = console.queue.history(conversation_id)
    last = history[-1] if history else None
    if (
        last is not None
        and last.status in END_TEXT
        and last.agent_id == agent.id
        and console.transcripts.paused(conversation_id)
    ):
        return last
    return None


async def _end(request: Request, status: str) -> Response:
    console = console_of(request)
    agent = current_session(request).agent
    conversation_id = conversation_id_of(request)
    held = await run_in_threadpool(held_by, console, conversation_id, agent)
    if isinstance(held, Response):
        retry = await run_in_threadpool(_retry_of_end, console, conversation_id, agent)
        if retry is None:
            return held
        ended: Handoff | None = retry
        status = retry.status
    else:
        ended = await run_in_threadpool(console.queue.finish, conversation_id, status, agent.id)
        if ended is None:  # ended by someone else between the two reads
            return error(409, "This conversation is not handed to an agent.")
    logger.info("Agent %d ended conversation %s's handoff: %s", agent.id, conversation_id, status)
    refused = await deliver(console, agent, conversation_id, status, end_events(status))
    return refused or JSONResponse({"status": status, "handoff": handoff_state(ended, agent.id)})


async def handback(request: Request) -> Response:
    """Give the conversation back to the bot (status ``returned``)."""
    return await _end(request, "returned")


async def close(request: Request) -> Response:
    """Close the conversation (status ``closed``); the bot answers again if the shopper writes."""
    return await _end(request, "closed")
