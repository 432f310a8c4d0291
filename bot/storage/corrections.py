"""Corrections of conversations: agents propose them, admins accept or reject them.

Synchronous SQLAlchemy Core on the application database (async callers use a thread). A review
is one ``UPDATE ... WHERE id = ? AND status = 'proposed'``: two admins reviewing at once cannot
both decide, on any replica.
"""

from __future__ import annotations

import builtins
import datetime as dt
import itertools
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine, Row
from sqlalchemy.orm import aliased

from bot.storage.clock import utcnow
from bot.storage.console_tables import console_agents
from bot.storage.correction_tables import corrections
from bot.storage.handoff_tables import conversation_summaries

logger = logging.getLogger(__name__)

MAX_LIST = 500


class CorrectionError(ValueError):
    """A correction that cannot be stored (the message names the field, the value and the fix)."""


def iso(value: dt.datetime | None) -> str | None:
    """A naive-UTC time as ISO 8601 with ``Z`` (None stays None)."""
    return value.isoformat() + "Z" if value else None


def check_entities(
    text: str, entities: object, known: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """``entities`` as a clean list of ``{entity, value, start, end}`` spans of ``text``.

    Offsets are character offsets into ``text`` (``end`` exclusive); spans may not overlap; a
    missing ``value`` is the span's text. ``known``: the entity names allowed (None: any).

    Raises:
        CorrectionError: naming the first bad span.
    """
    if entities is None:
        return []
    if not isinstance(entities, list):
        raise CorrectionError(
            f"entities must be a list of {{entity, value, start, end}}. Currently, it is "
            f"{type(entities).__name__}."
        )
    spans: list[dict[str, Any]] = []
    for n, span in enumerate(entities):
        if not isinstance(span, dict):
            raise CorrectionError(f"entities[{n}] must be an object with entity, start and end.")
        name, start, end = span.get("entity"), span.get("start"), span.get("end")
        if not isinstance(name, str) or not name:
            raise CorrectionError(f"entities[{n}].entity must be an entity name.")
        if known is not None and name not in known:
            raise CorrectionError(
                f"entities[{n}].entity must be one of the domain's entities. Currently, it is "
                f"{name[:40]!r}."
            )
        if type(start) is not int or type(end) is not int or not 0 <= start < end <= len(text):
            raise CorrectionError(
                f"entities[{n}] must have whole-number offsets with 0 <= start < end <= "
                f"{len(text)} (the text's length). Currently, start={start!r}, end={end!r}."
            )
        if not text[start:end].strip():
            raise CorrectionError(f"entities[{n}] covers only spaces ({start}..{end}).")
        value = span.get("value")
        if value is None:
            value = text[start:end]
        if not isinstance(value, str) or not value.strip():
            raise CorrectionError(f"entities[{n}].value must be text. Currently, it is {value!r}.")
        spans.append({"entity": name, "value": value, "start": start, "end": end})
    spans.sort(key=lambda s: s["start"])
    for before, after in itertools.pairwise(spans):
        if after["start"] < before["end"]:
            raise CorrectionError(
                f"Entities may not overlap: {before['entity']} ({before['start']}..{before['end']})"
                f" and {after['entity']} ({after['start']}..{after['end']})."
            )
    return spans


@dataclass(frozen=True)
class Correction:
    """One agent's correction of one turn of a conversation."""

    id: int
    conversation_id: str
    event_id: int
    kind: str  # intent | answer
    text: str
    status: str  # proposed | accepted | rejected
    agent_id: int
    created_at: dt.datetime
    question: str | None = None
    original_intent: str | None = None
    intent: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    answer: str | None = None
    is_fact: bool = False
    agent_name: str | None = None
    reviewed_by: int | None = None
    reviewer_name: str | None = None
    reviewed_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON the console answers."""
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "event_id": self.event_id,
            "kind": self.kind,
            "text": self.text,
            "question": self.question,
            "original_intent": self.original_intent,
            "intent": self.intent,
            "entities": self.entities,
            "answer": self.answer,
            "is_fact": self.is_fact,
            "status": self.status,
            "agent": self.agent_name,
            "created_at": iso(self.created_at),
            "reviewed_by": self.reviewer_name,
            "reviewed_at": iso(self.reviewed_at),
        }


_reviewer = aliased(console_agents)
_COLUMNS = (
    *corrections.c,
    console_agents.c.name.label("agent_name"),
    _reviewer.c.name.label("reviewer_name"),
)
_FROM = corrections.join(console_agents, corrections.c.agent_id == console_agents.c.id).outerjoin(
    _reviewer, corrections.c.reviewed_by == _reviewer.c.id
)


def _correction(row: Row) -> Correction:
    m = row._mapping
    return Correction(
        id=int(m["id"]),
        conversation_id=str(m["conversation_id"]),
        event_id=int(m["event_id"]),
        kind=str(m["kind"]),
        text=str(m["text"]),
        status=str(m["status"]),
        agent_id=int(m["agent_id"]),
        created_at=m["created_at"],
        question=m["question"],
        original_intent=m["original_intent"],
        intent=m["intent"],
        entities=list(m["entities"] or []),
        answer=m["answer"],
        is_fact=bool(m["is_fact"]),
        agent_name=m["agent_name"],
        reviewed_by=m["reviewed_by"],
        reviewer_name=m["reviewer_name"],
        reviewed_at=m["reviewed_at"],
    )


class CorrectionStore:
    """Corrections in the application database.

    Args:
        engine: An engine on a database upgraded to head (``bot.storage.migrate``).
        clock: Returns naive UTC now (tests pass a fake).
    """

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self.now = clock

    def propose(
        self,
        conversation_id: str,
        event_id: int,
        kind: str,
        text: str,
        agent_id: int,
        *,
        question: str | None = None,
        original_intent: str | None = None,
        intent: str | None = None,
        entities: Sequence[dict[str, Any]] = (),
        answer: str | None = None,
        is_fact: bool = False,
    ) -> Correction:
        """Store a proposed correction and return it; the conversation's summary row is marked
        reviewed (``reviewed_at``, the list's "reviewed" filter) in the same transaction."""
        if kind not in ("intent", "answer"):
            raise CorrectionError(f"kind must be intent or answer. Currently, it is {kind!r}.")
        if kind == "intent" and not intent:
            raise CorrectionError("A correction of a shopper turn needs the right intent.")
        if kind == "answer" and not (answer or "").strip():
            raise CorrectionError("A correction of a bot answer needs the right answer.")
        spans = check_entities(text, list(entities)) if kind == "intent" else []
        now = self.now()
        with self.engine.begin() as conn:
            new_id = conn.execute(
                insert(corrections).values(
                    conversation_id=conversation_id,
                    event_id=event_id,
                    kind=kind,
                    text=text,
                    question=question,
                    original_intent=original_intent,
                    intent=intent if kind == "intent" else None,
                    entities=spans,
                    answer=answer.strip() if kind == "answer" and answer else None,
                    is_fact=bool(is_fact) and kind == "answer",
                    status="proposed",
                    agent_id=agent_id,
                    created_at=now,
                )
            ).inserted_primary_key[0]
            conn.execute(
                update(conversation_summaries)
                .where(conversation_summaries.c.conversation_id == conversation_id)
                .values(reviewed_at=now)
            )
        made = self.get(int(new_id))
        assert made is not None, f"correction {new_id} vanished after insert"
        logger.info(
            "Agent %d proposed correction %d (%s) in conversation %s",
            agent_id,
            made.id,
            kind,
            conversation_id,
        )
        return made

    def get(self, correction_id: int) -> Correction | None:
        """One correction by id."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(*_COLUMNS).select_from(_FROM).where(corrections.c.id == correction_id)
            ).first()
        return _correction(row) if row else None

    def list(self, status: str | None = None, limit: int = MAX_LIST) -> list[Correction]:
        """Corrections, newest first (``status``: only those in that state)."""
        query = select(*_COLUMNS).select_from(_FROM)
        if status is not None:
            query = query.where(corrections.c.status == status)
        query = query.order_by(corrections.c.created_at.desc(), corrections.c.id.desc())
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(max(1, min(limit, MAX_LIST)))).all()
        return [_correction(row) for row in rows]

    def for_conversation(self, conversation_id: str) -> builtins.list[Correction]:
        """A conversation's corrections, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_COLUMNS)
                .select_from(_FROM)
                .where(corrections.c.conversation_id == conversation_id)
                .order_by(corrections.c.id)
            ).all()
        return [_correction(row) for row in rows]

    def accepted(self) -> builtins.list[Correction]:
        """Every accepted correction, in the order they were accepted (the export's input)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_COLUMNS)
                .select_from(_FROM)
                .where(corrections.c.status == "accepted")
                .order_by(corrections.c.reviewed_at, corrections.c.id)
            ).all()
        return [_correction(row) for row in rows]

    def review(
        self, correction_id: int, accept: bool, reviewer_id: int
    ) -> tuple[bool, Correction | None]:
        """Accept or reject a proposed correction.

        Returns:
            Whether this call decided it (False: it was already reviewed, or does not exist) and
            the correction as it is now.
        """
        status = "accepted" if accept else "rejected"
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(corrections)
                .where(corrections.c.id == correction_id, corrections.c.status == "proposed")
                .values(status=status, reviewed_by=reviewer_id, reviewed_at=self.now())
            ).rowcount
        if changed:
            logger.info("Agent %d %s correction %d", reviewer_id, status, correction_id)
        return bool(changed), self.get(correction_id)
