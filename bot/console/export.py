"""Transcripts for export: one conversation, or a filtered list, as JSON records or CSV rows.

Masked by default (``bot.privacy.masking``): every text, entity value and the verified
customer's email go through the masker, with the conversation's customer (from the store's
directory) as its identity, so that customer's first name alone is masked too; NLU entities of
personal kinds (``email``, ``person_name``...) are masked whatever the masker finds. Unmasked
records are the transcript as the console shows it. Synchronous (database reads): views call it
in a worker thread, one conversation at a time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Engine

from bot.console.transcript import MAX_ITEMS, TranscriptReader
from bot.privacy.directory import Person
from bot.privacy.masking import Masker, MaskerSource, Span, token
from bot.storage.conversations import ConversationFilter, ConversationIndex, ConversationSummary
from bot.storage.handoff_tables import conversation_summaries as summaries
from bot.storage.handoffs import HandoffQueue

MAX_EXPORT = 1000  # conversations in one list export
DEFAULT_EXPORT = 200
MAX_PAGES = 200  # of MAX_ITEMS events: a conversation longer than 100,000 events is cut
# NLU entities that are personal data whatever their text looks like, and their mask.
PERSONAL_ENTITIES = {
    "email": "email",
    "person_name": "name",
    "name": "name",
    "phone": "phone",
    "phone_number": "phone",
    "address": "address",
    "new_address": "address",
}
CSV_FIELDS = (
    "conversation_id",
    "channel",
    "event_id",
    "at",
    "type",
    "author",
    "text",
    "intent",
    "confidence",
    "sentiment",
    "entities",
    "agent",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run these as formulas


@dataclass(frozen=True)
class ExportOptions:
    """How to export.

    Args:
        masked: Mask personal data (only admins may turn this off).
        mask_orders: Also mask six-digit order numbers.
    """

    masked: bool = True
    mask_orders: bool = False


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def _entity_spans(item: dict[str, Any]) -> list[Span]:
    """Spans of the message's text that NLU tagged as personal entities."""
    out = []
    for entity in item.get("entities") or []:
        kind = PERSONAL_ENTITIES.get(str(entity.get("name")))
        if kind and isinstance(entity.get("start"), int) and isinstance(entity.get("end"), int):
            out.append(Span(entity["start"], entity["end"], kind))
    return out


def export_message(
    item: dict[str, Any], masker: Masker | None, identity: Person | None
) -> dict[str, Any]:
    """One transcript item as an export message (masked when ``masker`` is given)."""

    def clean(text: str, extra: list[Span] | None = None) -> str:
        return masker.mask(text, identity, extra or []) if masker is not None else text

    kind = item["type"]
    message: dict[str, Any] = {"event_id": item["id"], "at": item["at"], "type": kind}
    if kind == "user":
        entities = []
        for entity in item.get("entities") or []:
            value = entity.get("value")
            personal = PERSONAL_ENTITIES.get(str(entity.get("name")))
            if masker is not None and personal:
                value = token(personal)
            elif isinstance(value, str):
                value = clean(value)
            entities.append({"name": entity.get("name"), "value": value})
        intent = item.get("intent") or {}
        message.update(
            author="shopper",
            text=clean(item.get("text") or "", _entity_spans(item)),
            intent=intent.get("name"),
            confidence=intent.get("confidence"),
            sentiment=(item.get("sentiment") or {}).get("label"),
            entities=entities,
            channel=item.get("channel"),
        )
    elif kind == "bot":
        message.update(
            author=item.get("author"),
            text=clean(item.get("text") or ""),
            agent=item.get("agent"),
            outcome=(item.get("reasoning") or {}).get("outcome"),
        )
    elif kind == "feedback":
        message.update(author="shopper", value=item.get("value"))
    elif kind == "action":
        message.update(author="bot", name=item.get("name"))
    return message


class Exporter:
    """Builds export records from the tracker store and the conversation index.

    Args:
        transcripts: Reads Rasa's tracker store.
        conversations: The conversation summaries (channel, times, verified customer).
        maskers: The masker over the store's customers.
        queue: The handoff queue (a conversation known only there exports with no messages).
    """

    def __init__(
        self,
        transcripts: TranscriptReader,
        conversations: ConversationIndex,
        maskers: MaskerSource,
        queue: HandoffQueue | None = None,
    ) -> None:
        self.transcripts = transcripts
        self.conversations = conversations
        self.maskers = maskers
        self.queue = queue

    def items(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every transcript item of the conversation, oldest first."""
        out: list[dict[str, Any]] = []
        after = 0
        for _ in range(MAX_PAGES):
            page = self.transcripts.items_after(conversation_id, after, MAX_ITEMS)
            out += page.items
            after = page.cursor
            if not page.more:
                break
        return out

    def record(
        self,
        conversation_id: str,
        options: ExportOptions,
        summary: ConversationSummary | None = None,
    ) -> dict[str, Any] | None:
        """The conversation as an export record (None: no such conversation)."""
        summary = summary or self.conversations.get(conversation_id)
        items = self.items(conversation_id)
        unknown = summary is None and not items
        if unknown and (self.queue is None or not self.queue.history(conversation_id)):
            return None
        customer = summary.customer if summary else None
        identity = self.maskers.person(customer) if options.masked else None
        masker = self.maskers.get(options.mask_orders) if options.masked else None
        messages = [export_message(item, masker, identity) for item in items]
        channel = summary.channel if summary else _first_channel(messages)
        return {
            "conversation_id": conversation_id,
            "channel": channel,
            "started_at": _iso(summary.started_at) if summary else _first_at(messages),
            "last_event_at": _iso(summary.last_event_at) if summary else _last_at(messages),
            "customer": (masker.mask(customer) if masker and customer else customer),
            "masked": options.masked,
            "messages": messages,
        }

    def list_ids(
        self,
        engine: Engine,
        where: ConversationFilter,
        before: dt.datetime | None,
        limit: int,
    ) -> list[ConversationSummary]:
        """The summaries of up to ``limit`` conversations that pass ``where`` (newest first)."""
        rows: list[ConversationSummary] = []
        cursor: tuple[dt.datetime, str] | None = None
        page = 200
        with engine.connect() as conn:
            while len(rows) < limit:
                query = (
                    select(summaries)
                    .where(*where.conditions())
                    .order_by(summaries.c.last_event_at.desc(), summaries.c.conversation_id.desc())
                    .limit(min(page, limit - len(rows)))
                )
                if before is not None:
                    query = query.where(summaries.c.last_event_at < before)
                if cursor is not None:  # keyset on (last_event_at, id): ties are not skipped
                    query = query.where(
                        or_(
                            summaries.c.last_event_at < cursor[0],
                            and_(
                                summaries.c.last_event_at == cursor[0],
                                summaries.c.conversation_id < cursor[1],
                            ),
                        )
                    )
                found = [ConversationSummary(**r._mapping) for r in conn.execute(query)]
                rows += found
                if len(found) < page:
                    break
                cursor = (found[-1].last_event_at, found[-1].conversation_id)
        return rows[:limit]


def _first_channel(messages: list[dict[str, Any]]) -> str | None:
    return next((m.get("channel") for m in messages if m.get("channel")), None)


def _first_at(messages: list[dict[str, Any]]) -> str | None:
    return messages[0]["at"] if messages else None


def _last_at(messages: list[dict[str, Any]]) -> str | None:
    return messages[-1]["at"] if messages else None


def _cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if isinstance(value, list) and not value:
        return ""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_header() -> str:
    """The CSV's first line."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(CSV_FIELDS)
    return buffer.getvalue()


def csv_rows(record: dict[str, Any]) -> str:
    """One conversation's messages as CSV lines (one per message)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for message in record["messages"]:
        entities = message.get("entities") or []
        writer.writerow(
            [
                _cell(record["conversation_id"]),
                _cell(record["channel"]),
                message["event_id"],
                _cell(message["at"]),
                message["type"],
                _cell(message.get("author")),
                _cell(message.get("text") or message.get("name") or message.get("value")),
                _cell(message.get("intent")),
                "" if message.get("confidence") is None else message["confidence"],
                _cell(message.get("sentiment")),
                _cell("; ".join(f"{e['name']}={e['value']}" for e in entities)),
                _cell(message.get("agent")),
            ]
        )
    return buffer.getvalue()


def json_list_open(header: dict[str, Any]) -> str:
    """The start of a list export: ``{...header, "conversations": [`` (records follow, comma
    separated, then :func:`json_list_close`)."""
    body = json.dumps(header, ensure_ascii=False)
    return (body[:-1] + ", " if header else "{") + '"conversations": ['


def json_list_close(count: int) -> str:
    """The end of a list export."""
    return f'], "count": {count}}}\n'
