"""Product description drafts: an admin generates them in the console, then accepts or rejects
each one.

Synchronous SQLAlchemy Core on the application database (async callers use a thread). A review
is one ``UPDATE ... WHERE id = ? AND status = 'proposed'``: two admins reviewing at once cannot
both decide, on any replica. The rows are plain data; the console's ``describing`` module turns
them into ``shopbot describe`` rows for the export.
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine, Row
from sqlalchemy.orm import aliased

from bot.storage.clock import utcnow
from bot.storage.console_tables import console_agents
from bot.storage.description_tables import description_drafts
from bot.storage.tables import REVIEW_STATUSES

logger = logging.getLogger(__name__)

MAX_LIST = 500
OPEN_STATUSES = ("proposed", "accepted")  # a product with one of these gets no new draft


@dataclass(frozen=True)
class DraftFields:
    """What generation wrote for one product (the fields of a ``shopbot describe`` row)."""

    product_id: str
    name: str
    outcome: str  # accepted | rejected | template (the verifier at generation time)
    description: str
    source: str  # generator | template | ""
    draft: str = ""
    unsupported: list[str] = field(default_factory=list)
    generator: str = ""


@dataclass(frozen=True)
class Draft:
    """One stored draft with its review state."""

    id: int
    fields: DraftFields
    status: str  # proposed | accepted | rejected
    created_by: int
    created_at: dt.datetime
    creator_name: str | None = None
    final_text: str | None = None
    edited: bool = False
    reviewed_by: int | None = None
    reviewer_name: str | None = None
    reviewed_at: dt.datetime | None = None

    @property
    def product_id(self) -> str:
        """The catalog id of the described product."""
        return self.fields.product_id

    @property
    def proposed_text(self) -> str:
        """The text the review form starts from: the verified description, else the draft."""
        return self.fields.description or self.fields.draft


_creator = aliased(console_agents)
_reviewer = aliased(console_agents)
_COLUMNS = (
    *description_drafts.c,
    _creator.c.name.label("creator_name"),
    _reviewer.c.name.label("reviewer_name"),
)
_FROM = description_drafts.join(
    _creator, description_drafts.c.created_by == _creator.c.id
).outerjoin(_reviewer, description_drafts.c.reviewed_by == _reviewer.c.id)


def _draft(row: Row) -> Draft:
    m = row._mapping
    return Draft(
        id=int(m["id"]),
        fields=DraftFields(
            product_id=str(m["product_id"]),
            name=str(m["name"]),
            outcome=str(m["outcome"]),
            description=str(m["description"]),
            source=str(m["source"]),
            draft=str(m["draft"]),
            unsupported=[str(u) for u in (m["unsupported"] or [])],
            generator=str(m["generator"]),
        ),
        status=str(m["status"]),
        created_by=int(m["created_by"]),
        created_at=m["created_at"],
        creator_name=m["creator_name"],
        final_text=m["final_text"],
        edited=bool(m["edited"]),
        reviewed_by=m["reviewed_by"],
        reviewer_name=m["reviewer_name"],
        reviewed_at=m["reviewed_at"],
    )


class DescriptionDrafts:
    """Description drafts in the application database.

    Args:
        engine: An engine on a database upgraded to head (``bot.storage.migrate``).
        clock: Returns naive UTC now (tests pass a fake).
    """

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self.now = clock

    def add(self, made: Sequence[DraftFields], agent_id: int) -> builtins.list[Draft]:
        """Store freshly generated drafts (status ``proposed``) in one transaction."""
        now = self.now()
        ids: builtins.list[int] = []
        with self.engine.begin() as conn:
            for item in made:
                result = conn.execute(
                    insert(description_drafts).values(
                        product_id=item.product_id,
                        name=item.name,
                        outcome=item.outcome,
                        description=item.description,
                        source=item.source,
                        draft=item.draft,
                        unsupported=list(item.unsupported),
                        generator=item.generator,
                        status="proposed",
                        created_by=agent_id,
                        created_at=now,
                        edited=False,
                    )
                )
                ids.append(int(result.inserted_primary_key[0]))  # type: ignore[index]
        logger.info("Agent %d generated %d description draft(s)", agent_id, len(ids))
        return [d for d in (self.get(i) for i in ids) if d is not None]

    def get(self, draft_id: int) -> Draft | None:
        """One draft by id."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(*_COLUMNS).select_from(_FROM).where(description_drafts.c.id == draft_id)
            ).first()
        return _draft(row) if row else None

    def list(self, status: str | None = None, limit: int = MAX_LIST) -> builtins.list[Draft]:
        """Drafts, newest first (``status``: only those in that state)."""
        if status is not None and status not in REVIEW_STATUSES:
            raise ValueError(
                f"status must be one of {REVIEW_STATUSES}. Currently, status is {status!r}."
            )
        query = select(*_COLUMNS).select_from(_FROM)
        if status is not None:
            query = query.where(description_drafts.c.status == status)
        query = query.order_by(
            description_drafts.c.created_at.desc(), description_drafts.c.id.desc()
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(max(1, min(limit, MAX_LIST)))).all()
        return [_draft(row) for row in rows]

    def statuses_by_product(self) -> dict[str, set[str]]:
        """Every product that has drafts, with the review states of its drafts."""
        query = select(description_drafts.c.product_id, description_drafts.c.status).distinct()
        out: dict[str, set[str]] = {}
        with self.engine.connect() as conn:
            for product_id, status in conn.execute(query):
                out.setdefault(str(product_id), set()).add(str(status))
        return out

    def accepted(self) -> builtins.list[Draft]:
        """The accepted draft of each product, the latest accepted one when a product has
        several (two admins generating at once), in the order they were accepted."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_COLUMNS)
                .select_from(_FROM)
                .where(description_drafts.c.status == "accepted")
                .order_by(description_drafts.c.reviewed_at, description_drafts.c.id)
            ).all()
        latest = {d.product_id: d for d in map(_draft, rows)}
        return sorted(latest.values(), key=lambda d: (d.reviewed_at or d.created_at, d.id))

    def review(
        self,
        draft_id: int,
        accept: bool,
        reviewer_id: int,
        text: str | None = None,
        edited: bool = False,
    ) -> tuple[bool, Draft | None]:
        """Accept (with the checked ``text`` the store imports) or reject a proposed draft.

        Returns:
            Whether this call decided it (False: it was already reviewed, or does not exist) and
            the draft as it is now.
        """
        if accept and not (text or "").strip():
            raise ValueError("An accepted draft needs its text; text is empty.")
        values: dict[str, Any] = {
            "status": "accepted" if accept else "rejected",
            "reviewed_by": reviewer_id,
            "reviewed_at": self.now(),
        }
        if accept:
            values.update(final_text=text, edited=edited)
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(description_drafts)
                .where(
                    description_drafts.c.id == draft_id, description_drafts.c.status == "proposed"
                )
                .values(**values)
            ).rowcount
        if changed:
            logger.info("Agent %d %s description draft %d", reviewer_id, values["status"], draft_id)
        return bool(changed), self.get(draft_id)
