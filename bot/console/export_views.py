"""Exporting transcripts: one conversation or a filtered list, as JSON or CSV, masked by default.

``?unmasked=1`` is for admins only (403 otherwise) and every unmasked export is written to the
audit log first (who, which conversation or filter, how many, the format; never the data). A
browser that says the request comes from another site (``Sec-Fetch-Site``) gets no unmasked
export: a link on another site must not make an admin's browser download (and audit) one.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from bot.console.access import console_of
from bot.console.context import Console
from bot.console.conversation_views import (
    TRACKER_UNREADABLE,
    BadParameter,
    conversation_id_of,
    parse_before,
    parse_filter,
    parse_int,
    parse_yes_no,
)
from bot.console.export import (
    DEFAULT_EXPORT,
    MAX_EXPORT,
    Exporter,
    ExportOptions,
    csv_header,
    csv_rows,
    json_list_close,
    json_list_open,
)
from bot.console.sessions import Session
from bot.console.views import current_session
from bot.privacy.directory import DirectorySource
from bot.privacy.masking import MaskerSource
from bot.storage.audit import AuditLog

logger = logging.getLogger(__name__)

FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8"}
EXPORT_UNMASKED = "export_unmasked"
NEEDS_ADMIN = "Unmasked exports need the admin role."
CROSS_SITE = "Unmasked exports must be started from the console itself."


class Refused(Exception):
    """The caller may not have this export (403)."""


def maskers_of(console: Console) -> MaskerSource:
    """The console's masker (made on first use from ``store_db_url``)."""
    if console.maskers is None:
        url = console.settings.resolve_db_url(console.settings.store_db_url)
        console.maskers = MaskerSource(DirectorySource.from_url(url))
    return console.maskers


def exporter_of(console: Console) -> Exporter:
    """An exporter over the console's tracker store, summaries and masker."""
    return Exporter(console.transcripts, console.conversations, maskers_of(console), console.queue)


def parse_options(request: Request, session: Session) -> tuple[str, ExportOptions]:
    """The format and options of an export request.

    Raises:
        BadParameter: A parameter the API cannot use.
        Refused: An unmasked export for an agent, or from another site.
    """
    params = request.query_params
    fmt = (params.get("format") or "json").strip().lower()
    if fmt not in FORMATS:
        raise BadParameter(f"format must be json or csv. Currently, it is {fmt[:20]!r}.")
    unmasked = bool(parse_yes_no("unmasked", params.get("unmasked")))
    mask_orders = bool(parse_yes_no("mask_orders", params.get("mask_orders")))
    if unmasked and not session.agent.is_admin:
        raise Refused(NEEDS_ADMIN)
    if unmasked and request.headers.get("sec-fetch-site", "same-origin") not in (
        "same-origin",
        "none",
    ):
        raise Refused(CROSS_SITE)
    return fmt, ExportOptions(masked=not unmasked, mask_orders=mask_orders)


def _filename(stem: str, fmt: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:64] or "conversation"
    return f"shopbot-{safe}.{fmt}"


def _headers(stem: str, fmt: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{_filename(stem, fmt)}"'}


def _audit(console: Console, session: Session, target: str, detail: dict[str, Any]) -> None:
    AuditLog(console.engine, console.clock).record(
        EXPORT_UNMASKED, session.agent.id, session.agent.email, target, detail
    )


def _refusal(exc: Exception) -> Response:
    status = 403 if isinstance(exc, Refused) else 400
    return JSONResponse({"error": str(exc)}, status_code=status)


async def export_conversation(request: Request) -> Response:
    """One conversation's transcript (``format=json|csv``, ``unmasked``, ``mask_orders``)."""
    console = console_of(request)
    session = current_session(request)
    conversation_id = conversation_id_of(request)
    try:
        fmt, options = parse_options(request, session)
    except (BadParameter, Refused) as exc:
        return _refusal(exc)
    try:
        record = await run_in_threadpool(exporter_of(console).record, conversation_id, options)
    except SQLAlchemyError:
        logger.exception("Cannot export %s", conversation_id)
        return JSONResponse({"error": TRACKER_UNREADABLE}, status_code=503)
    if record is None:
        return JSONResponse({"error": "There is no conversation with this id."}, status_code=404)
    if not options.masked:
        detail = {"format": fmt, "count": 1, "messages": len(record["messages"])}
        await run_in_threadpool(_audit, console, session, f"conversation:{conversation_id}", detail)
    if fmt == "csv":
        body = csv_header() + csv_rows(record)
    else:
        body = json.dumps(record, ensure_ascii=False)
    return Response(body, media_type=FORMATS[fmt], headers=_headers(conversation_id, fmt))


async def export_conversations(request: Request) -> Response:
    """The conversations the list's filters select (``limit`` of them, at most 1000, newest
    first; ``before`` as in the list), streamed as one JSON object or one CSV."""
    console = console_of(request)
    session = current_session(request)
    params = request.query_params
    try:
        fmt, options = parse_options(request, session)
        before = parse_before(params.get("before"))
        limit = parse_int("limit", params.get("limit"), DEFAULT_EXPORT, 1, MAX_EXPORT)
        where = parse_filter(params)
    except (BadParameter, Refused) as exc:
        return _refusal(exc)
    exporter = exporter_of(console)
    try:
        chosen = await run_in_threadpool(exporter.list_ids, console.engine, where, before, limit)
    except SQLAlchemyError:
        logger.exception("Cannot list conversations to export")
        return JSONResponse({"error": TRACKER_UNREADABLE}, status_code=503)
    filters = where.to_dict()
    if before is not None:
        filters["before"] = before.isoformat() + "Z"
    if not options.masked:
        target = "filter:" + (json.dumps(filters, sort_keys=True) if filters else "all")
        detail = {"format": fmt, "count": len(chosen), "limit": limit, "filters": filters}
        await run_in_threadpool(_audit, console, session, target, detail)

    async def chunks() -> AsyncIterator[str]:
        count = 0
        if fmt == "csv":
            yield csv_header()
        else:
            header = {
                "exported_at": console.clock().isoformat() + "Z",
                "masked": options.masked,
                "filters": filters,
            }
            yield json_list_open(header)
        for summary in chosen:
            try:
                record = await run_in_threadpool(
                    exporter.record, summary.conversation_id, options, summary
                )
            except SQLAlchemyError:
                logger.exception("Export stopped at %s", summary.conversation_id)
                break  # the body is already on its way: end it well-formed, one short
            if record is None:
                continue
            if fmt == "csv":
                yield csv_rows(record)
            else:
                yield ("," if count else "") + json.dumps(record, ensure_ascii=False)
            count += 1
        if fmt == "json":
            yield json_list_close(count)

    day = console.clock().date().isoformat()
    return StreamingResponse(
        chunks(), media_type=FORMATS[fmt], headers=_headers(f"conversations-{day}", fmt)
    )
