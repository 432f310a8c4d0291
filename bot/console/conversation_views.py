"""Reading conversations: the list (newest first) and one conversation's live transcript."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.console.access import console_of, refuse
from bot.console.context import Console
from bot.console.domain_names import domain_names
from bot.console.payloads import conversation_handoff, iso, with_corrections
from bot.console.views import current_session
from bot.storage.conversations import MAX_PAGE, ConversationFilter, ConversationSummary
from bot.storage.message_search import BadQuery, MessageSearch, SearchHit, search_terms

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
YES = ("true", "yes", "1")
NO = ("false", "no", "0")
YES_NO_FILTERS = ("handed_off", "had_fallback", "negative", "thumbs_down", "reviewed")
TRACKER_UNREADABLE = "The conversation history cannot be read right now; try again."


class BadParameter(ValueError):
    """A query parameter the API cannot use (the message says which, and why)."""


def parse_before(value: str | None) -> dt.datetime | None:
    """``before`` as naive UTC (ISO 8601, ``Z`` or an offset allowed)."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip().removesuffix("Z"))
    except ValueError:
        raise BadParameter(
            f"before must be an ISO 8601 time like 2026-12-01T09:00:00Z. Currently, it is "
            f"{value[:40]!r}."
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment


def parse_int(name: str, value: str | None, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``low..high``."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise BadParameter(
            f"{name} must be a whole number from {low} to {high}. Currently, it is {value[:20]!r}."
        )
    return number


def parse_yes_no(name: str, value: str | None) -> bool | None:
    """A yes/no filter: ``true``/``false`` (also ``yes``/``no``, ``1``/``0``); empty: any."""
    if value is None or not value.strip():
        return None
    word = value.strip().lower()
    if word in YES or word in NO:
        return word in YES
    raise BadParameter(f"{name} must be true or false. Currently, it is {value[:20]!r}.")


def parse_date(name: str, value: str | None) -> dt.date | None:
    """A day as ``YYYY-MM-DD`` (UTC); empty: none."""
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadParameter(
            f"{name} must be a date like 2026-12-01. Currently, it is {value[:40]!r}."
        ) from None


def parse_filter(params: Mapping[str, str]) -> ConversationFilter:
    """The list's filters from query parameters.

    Raises:
        BadParameter: naming the first parameter it cannot use.
    """
    channel = (params.get("channel") or "").strip() or None
    if channel is not None and (len(channel) > 32 or not channel.isprintable()):
        raise BadParameter(
            f"channel must be a channel name such as widget or rest. Currently, it is "
            f"{channel[:40]!r}."
        )
    since, until = (
        parse_date("since", params.get("since")),
        parse_date("until", params.get("until")),
    )
    if since and until and since > until:
        raise BadParameter(
            f"since must be on or before until. Currently, since is {since} and until is {until}."
        )
    threshold: float | None = None
    raw = (params.get("low_confidence_below") or "").strip()
    if raw:
        try:
            threshold = float(raw)
        except ValueError:
            threshold = -1.0
        if not 0.0 < threshold <= 1.0:  # also refuses nan
            raise BadParameter(
                f"low_confidence_below must be a number above 0 and at most 1, such as 0.5. "
                f"Currently, it is {raw[:20]!r}."
            )
    flags = {name: parse_yes_no(name, params.get(name)) for name in YES_NO_FILTERS}
    return ConversationFilter(
        channel=channel, since=since, until=until, low_confidence_below=threshold, **flags
    )


def conversation_id_of(request: Request) -> str:
    """The conversation id from the path (Rasa sender ids may contain ``/``)."""
    return str(request.path_params.get("cid", ""))


def known(console: Console, conversation_id: str) -> bool:
    """Whether the conversation exists anywhere the console looks."""
    if not conversation_id:
        return False
    if console.conversations.get(conversation_id) or console.queue.history(conversation_id):
        return True
    try:
        return console.transcripts.exists(conversation_id)
    except SQLAlchemyError as exc:
        # Cannot tell: let the page load; reading the transcript then answers 503.
        logger.warning("Cannot read the tracker store: %s", exc)
        return True


def _list(
    console: Console, before: dt.datetime | None, limit: int, where: ConversationFilter
) -> tuple[list[ConversationSummary], str | None]:
    """A page of conversations and the ``before`` of the next one (None: this is the last)."""
    rows = console.conversations.page(before, limit, where)
    return rows, iso(rows[-1].last_event_at) if len(rows) == limit else None


def parse_search(params: Mapping[str, str]) -> tuple[str, int | None]:
    """``q`` (stripped; empty: no search) and ``hit_before`` (the next search page's cursor)."""
    query = (params.get("q") or "").strip()
    try:
        search_terms(query)
    except BadQuery as exc:
        raise BadParameter(str(exc)) from None
    hit_before = parse_int("hit_before", params.get("hit_before"), 0, 1, 2**62) or None
    return query, hit_before


def _search(
    console: Console, query: str, hit_before: int | None, limit: int, where: ConversationFilter
) -> tuple[list[SearchHit], int | None]:
    """A page of conversations with a matching message, and the ``hit_before`` of the next."""
    hits = MessageSearch(console.engine).search(query, where, hit_before, limit)
    return hits, hits[-1].message_id if len(hits) == limit else None


async def api_conversations(request: Request) -> Response:
    """Conversations, newest activity first, ``limit`` at a time (``before`` pages back), that
    pass the filters (``channel``, ``since``, ``until``, ``handed_off``, ``had_fallback``,
    ``low_confidence_below``, ``negative``, ``thumbs_down``, ``reviewed``).

    With ``q``: the conversations with a message containing every word or "quoted phrase" of
    it, newest matching message first, each with a ``match`` (the message and a snippet);
    ``hit_before`` pages back (``next_hit_before`` of the previous page).
    """
    try:
        before = parse_before(request.query_params.get("before"))
        limit = parse_int("limit", request.query_params.get("limit"), PAGE_SIZE, 1, MAX_PAGE)
        where = parse_filter(request.query_params)
        query, hit_before = parse_search(request.query_params)
    except BadParameter as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    console = console_of(request)
    if query:
        hits, next_hit = await run_in_threadpool(_search, console, query, hit_before, limit, where)
        return JSONResponse(
            {
                "conversations": [hit.to_dict() for hit in hits],
                "next_hit_before": next_hit,
                "filters": where.to_dict(),
                "q": query,
                "terms": search_terms(query),
            }
        )
    rows, next_before = await run_in_threadpool(_list, console, before, limit, where)
    return JSONResponse(
        {
            "conversations": [row.to_dict() for row in rows],
            "next_before": next_before,
            "filters": where.to_dict(),
        }
    )


async def conversations_page(request: Request) -> Response:
    """The page listing conversations (server-rendered; "Older" links page back)."""
    console = console_of(request)
    session = current_session(request)
    try:
        before = parse_before(request.query_params.get("before"))
        where = parse_filter(request.query_params)
        query, hit_before = parse_search(request.query_params)
    except BadParameter as exc:
        return refuse(request, 400, str(exc))
    filters = where.to_dict()
    hits: list[SearchHit] = []
    if query:
        hits, next_hit = await run_in_threadpool(
            _search, console, query, hit_before, PAGE_SIZE, where
        )
        rows = [hit.summary for hit in hits]
        older = urlencode({**filters, "q": query, "hit_before": next_hit}) if next_hit else None
    else:
        rows, next_before = await run_in_threadpool(_list, console, before, PAGE_SIZE, where)
        older = urlencode({**filters, "before": next_before}) if next_before else None
    return console.templates.TemplateResponse(
        request,
        "conversations.html",
        {
            "agent": session.agent,
            "csrf_token": session.csrf_token,
            "conversations": rows,
            "matches": {hit.summary.conversation_id: hit for hit in hits},
            "older_query": older,
            "filters": filters,
            "q": query,
            "page": "conversations",
        },
    )


async def conversation_page(request: Request) -> Response:
    """One conversation: its history, live, and the handoff controls (``conversation.js``)."""
    console = console_of(request)
    session = current_session(request)
    conversation_id = conversation_id_of(request)
    if not await run_in_threadpool(known, console, conversation_id):
        return refuse(request, 404, "There is no conversation with this id.")
    summary = await run_in_threadpool(console.conversations.get, conversation_id)
    return console.templates.TemplateResponse(
        request,
        "conversation.html",
        {
            "agent": session.agent,
            "csrf_token": session.csrf_token,
            "conversation_id": conversation_id,
            "summary": summary,
            "intents": domain_names().intents,
            "page": "conversation",
        },
    )


def _transcript(console: Console, conversation_id: str, after: int, agent_id: int) -> Any:
    if after == 0 and not known(console, conversation_id):  # later polls: known at the first
        return None
    page = console.transcripts.items_after(conversation_id, after)
    return {
        "conversation_id": conversation_id,
        "items": with_corrections(console, conversation_id, page.items),
        "after": page.cursor,
        "more": page.more,
        "handoff": conversation_handoff(console, conversation_id, agent_id),
    }


async def api_conversation(request: Request) -> Response:
    """Transcript items after event ``after`` (0: from the start) and the handoff state."""
    console = console_of(request)
    conversation_id = conversation_id_of(request)
    try:
        after = parse_int("after", request.query_params.get("after"), 0, 0, 2**63 - 1)
    except BadParameter as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    agent_id = current_session(request).agent.id
    try:
        body = await run_in_threadpool(_transcript, console, conversation_id, after, agent_id)
    except SQLAlchemyError:
        logger.exception("Cannot read the transcript of %s", conversation_id)
        return JSONResponse({"error": TRACKER_UNREADABLE}, status_code=503)
    if body is None:
        return JSONResponse({"error": "There is no conversation with this id."}, status_code=404)
    return JSONResponse(body)
