"""Product descriptions (admins): generate drafts for the products without one, review each draft
(accept as written, accept edited, or reject), download the accepted ones for the store.

Plain HTML forms (POST with the session's ``csrf_token``, then a redirect back to the page), the
same access guard as every admin route. Every draft and every edit goes through the verifier
against the product's attributes (``bot.console.describing``): an edit that states a fact the
attributes lack is refused with those facts, never accepted. Drafts and reviews live in the
application database (``bot.storage.descriptions``), shared by every replica.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.console.access import console_of, refuse
from bot.console.context import Console
from bot.console.describing import (
    MODES,
    Describing,
    GeneratorUnavailable,
    Product,
    export_rows,
)
from bot.console.views import current_session
from bot.storage.descriptions import OPEN_STATUSES, DescriptionDrafts, Draft
from bot.storage.tables import REVIEW_STATUSES

logger = logging.getLogger(__name__)

BATCH_SIZE = 20  # drafts per click: a batch on the demo generator takes seconds on a CPU
MAX_TEXT_CHARS = 5000
MISSING_SHOWN = 200
PAGE_SIZE = 200
EXPORTS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}


class Refusal(Exception):
    """A request the page refuses (``status``; the message says why and what to do)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def describing_of(console: Console) -> Describing:
    """The console's catalog, generator and verifier (made on first use; the generator itself
    loads on the first draft)."""
    if console.describing is None:
        console.describing = Describing(console.settings)
    return console.describing


def drafts_of(console: Console) -> DescriptionDrafts:
    """The drafts in the console's application database."""
    return DescriptionDrafts(console.engine, console.clock)


def _missing(catalog: dict[str, Product], states: dict[str, set[str]]) -> list[dict[str, Any]]:
    """The products without a description, not drafted first, each with its drafts' states."""
    rows = [
        {"product": p, "states": sorted(states.get(p.id, ()))}
        for p in catalog.values()
        if not p.description.strip()
    ]
    return sorted(rows, key=lambda r: bool(r["states"]))


def _page_context(console: Console, status: str | None) -> dict[str, Any]:
    """Everything the page shows (runs in a thread: reads the catalog and the database)."""
    describing, drafts = describing_of(console), drafts_of(console)
    available, generator_line = describing.generator_state()
    context: dict[str, Any] = {
        "generator_available": available,
        "generator_line": generator_line,
        "drafts": drafts.list(status, PAGE_SIZE),
        "catalog_problem": "",
        "missing": [],
        "attributes": {},
    }
    try:
        catalog = describing.catalog()
    except (FileNotFoundError, ValueError) as exc:
        context["catalog_problem"] = str(exc)
        return context
    missing = _missing(catalog, drafts.statuses_by_product())
    context["missing"] = missing[:MISSING_SHOWN]
    context["missing_count"] = len(missing)
    context["undrafted_count"] = sum(1 for r in missing if not r["states"])
    context["attributes"] = {
        d.product_id: describing.attributes(catalog[d.product_id])
        for d in context["drafts"]
        if d.product_id in catalog
    }
    return context


def _status_filter(request: Request) -> str | None:
    """``status`` from the query: one of the review states, or ``all`` (the default)."""
    status = request.query_params.get("status") or "all"
    if status == "all":
        return None
    if status not in REVIEW_STATUSES:
        raise Refusal(
            400,
            f"status must be proposed, accepted, rejected or all. Currently, it is {status[:20]!r}.",
        )
    return status


async def _render(request: Request, status: str | None, code: int = 200, **extra: Any) -> Response:
    """The page, with ``extra`` (a notice, an error, a refused edit) on top."""
    console = console_of(request)
    session = current_session(request)
    context = await run_in_threadpool(_page_context, console, status)
    return console.templates.TemplateResponse(
        request,
        "descriptions.html",
        {
            **context,
            "agent": session.agent,
            "csrf_token": session.csrf_token,
            "page": "descriptions",
            "status": status or "all",
            "statuses": (*REVIEW_STATUSES, "all"),
            "batch_size": BATCH_SIZE,
            "notice": _notice(request),
            "error": "",
            "refused": None,
            **extra,
        },
        status_code=code,
    )


def _notice(request: Request) -> str:
    """The line that confirms the last action (from the redirect's query)."""
    params = request.query_params
    if (made := params.get("generated", "")).isdigit():
        return f"{made} draft(s) generated: review them below."
    for action in ("accepted", "rejected"):
        if (draft_id := params.get(action, "")).isdigit():
            return f"Draft {draft_id} {action}."
    return ""


async def descriptions_page(request: Request) -> Response:
    """The products without a description, the drafts and their review, the downloads."""
    try:
        status = _status_filter(request)
    except Refusal as exc:
        return refuse(request, exc.status, str(exc))
    return await _render(request, status)


def _chosen(console: Console, product_id: str) -> list[Product]:
    """The products to draft: ``product_id`` (when given), else the next :data:`BATCH_SIZE`
    products without a description and without any draft (a rejected one included: drafting it
    again is a deliberate choice, by its id)."""
    catalog = describing_of(console).catalog()
    states = drafts_of(console).statuses_by_product()
    if product_id:
        product = catalog.get(product_id)
        if product is None:
            raise Refusal(
                400,
                f"product_id {product_id[:64]!r} is not in the catalog; use an id from the "
                "list below (the catalog's 'id' field).",
            )
        open_states = states.get(product_id, set()) & set(OPEN_STATUSES)
        if open_states:
            state = "waiting for review" if "proposed" in open_states else "accepted"
            raise Refusal(
                409, f"Product {product_id} already has a draft {state}; review that one first."
            )
        return [product]
    chosen = [p for p in catalog.values() if not p.description.strip() and p.id not in states]
    if not chosen:
        raise Refusal(409, "Every product without a description has a draft already.")
    return chosen[:BATCH_SIZE]


def _generate(console: Console, product_id: str, mode: str, agent_id: int) -> int:
    """Draft, verify and store; the number of drafts stored."""
    try:
        products = _chosen(console, product_id)
    except (FileNotFoundError, ValueError) as exc:
        raise Refusal(409, str(exc)) from exc
    try:
        made = describing_of(console).generate(products, mode)
    except GeneratorUnavailable as exc:
        raise Refusal(
            503, f"{exc} Write the template baseline instead (the last option below)."
        ) from exc
    return len(drafts_of(console).add(made, agent_id))


async def generate(request: Request) -> Response:
    """Generate drafts: for one ``product_id``, or the next batch of products without one;
    ``mode`` is ``generator``, ``generator+template`` or ``template`` (no generator)."""
    console = console_of(request)
    agent = current_session(request).agent
    form = await request.form()
    product_id = str(form.get("product_id") or "").strip()
    mode = str(form.get("mode") or "generator")
    if mode not in MODES:
        return await _render(
            request,
            None,
            400,
            error=f"mode must be one of {', '.join(MODES)}. Currently, it is {mode[:30]!r}.",
        )
    try:
        made = await run_in_threadpool(_generate, console, product_id, mode, agent.id)
    except Refusal as exc:
        return await _render(request, None, exc.status, error=str(exc))
    logger.info("Agent %d generated %d description draft(s) (%s)", agent.id, made, mode)
    return RedirectResponse(f"/descriptions?generated={made}#drafts", status_code=303)


def _draft_or_refuse(console: Console, request: Request) -> Draft:
    """The proposed draft the path names (404 unknown, 409 already reviewed)."""
    raw = str(request.path_params.get("draft_id", ""))
    draft = drafts_of(console).get(int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if draft is None:
        raise Refusal(404, "There is no draft with this id.")
    if draft.status != "proposed":
        who = f" by {draft.reviewer_name}" if draft.reviewer_name else ""
        raise Refusal(409, f"This draft was already {draft.status}{who}.")
    return draft


def _accept(console: Console, request: Request, text: str, reviewer_id: int) -> list[str]:
    """Check ``text`` against the product's attributes; accept it when nothing is unsupported.

    Returns:
        The unsupported facts (empty: accepted).
    """
    draft = _draft_or_refuse(console, request)
    describing = describing_of(console)
    product = describing.catalog().get(draft.product_id)
    if product is None:
        raise Refusal(409, f"Product {draft.product_id} is no longer in the catalog.")
    text = describing.clean(text)
    unchanged = bool(draft.fields.description) and text == draft.fields.description
    # The unedited template is the catalog's own words (it may repeat a phrase of the title);
    # everything else, an admin's edit included, passes the same gate as a generated draft.
    generated = not (unchanged and draft.fields.source == "template")
    problems = describing.check(product, text, generated=generated)
    if problems:
        return problems
    decided, _now = drafts_of(console).review(
        draft.id, True, reviewer_id, text=text, edited=not unchanged
    )
    if not decided:
        raise Refusal(409, "This draft was reviewed by someone else meanwhile.")
    return []


async def accept(request: Request) -> Response:
    """Accept a draft, as written or edited (``text``); an edit the attributes do not support
    is refused with its unsupported facts (422) and nothing is accepted."""
    console = console_of(request)
    reviewer = current_session(request).agent
    form = await request.form()
    text = str(form.get("text") or "")
    draft_id = str(request.path_params.get("draft_id", ""))
    if len(text) > MAX_TEXT_CHARS:
        return await _render(
            request,
            None,
            400,
            error=f"The text has {len(text)} characters; the limit is "
            f"{MAX_TEXT_CHARS}. Shorten it.",
        )
    try:
        problems = await run_in_threadpool(_accept, console, request, text, reviewer.id)
    except (Refusal, FileNotFoundError, ValueError) as exc:
        status = exc.status if isinstance(exc, Refusal) else 409
        return await _render(request, None, status, error=str(exc))
    if problems:
        refused = {"id": int(draft_id), "text": text, "unsupported": problems}
        return await _render(
            request,
            None,
            422,
            refused=refused,
            error="Not accepted: the product's attributes do not support "
            + "; ".join(problems)
            + ". Change the text, or reject the draft.",
        )
    return RedirectResponse(f"/descriptions?accepted={draft_id}#draft-{draft_id}", status_code=303)


def _reject(console: Console, request: Request, reviewer_id: int) -> int:
    draft = _draft_or_refuse(console, request)
    decided, _now = drafts_of(console).review(draft.id, False, reviewer_id)
    if not decided:
        raise Refusal(409, "This draft was reviewed by someone else meanwhile.")
    return draft.id


async def reject(request: Request) -> Response:
    """Reject a draft: it stays on record (with who and when), never exported."""
    console = console_of(request)
    reviewer = current_session(request).agent
    try:
        draft_id = await run_in_threadpool(_reject, console, request, reviewer.id)
    except Refusal as exc:
        return await _render(request, None, exc.status, error=str(exc))
    return RedirectResponse(f"/descriptions?rejected={draft_id}#draft-{draft_id}", status_code=303)


async def export(request: Request) -> Response:
    """The accepted descriptions as ``descriptions.csv`` or ``descriptions.jsonl``: the rows
    ``shopbot describe`` writes, for the store to import."""
    fmt = str(request.path_params.get("fmt", ""))
    if fmt not in EXPORTS:
        return refuse(request, 404, f"There is no export named {fmt[:20]!r}; use csv or jsonl.")
    drafts = await run_in_threadpool(drafts_of(console_of(request)).accepted)
    return Response(
        export_rows(drafts, fmt),
        media_type=EXPORTS[fmt],
        headers={"Content-Disposition": f'attachment; filename="descriptions.{fmt}"'},
    )
