"""ShopBot's own tables, conversation by conversation: finding, deleting and masking the rows.

Generic on purpose: every application-database table with a ``conversation_id`` column (the
handoff queue, summaries, corrections, the widget's event log, the message search table, and any
table added later) is covered, children before parents, plus ``widget_conversations`` (keyed by
``id``: the widget's conversation id is Rasa's sender id) and, on erasure, ``telegram_links`` (the
link of a Telegram conversation's user to a store customer). A table's "text columns" (``Text``,
``JSON`` and ``String`` of 100 characters or more, e.g. ``customer``, ``last_user_text``,
``payload``) are where personal data can be: erasure searches them for an email, anonymisation
masks them. Full-text shadow tables follow their table through its triggers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import JSON, String, Table, Text, cast, delete, func, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.schema import Column

from bot.privacy.sql import like_pattern, scrub_sqlite, secure_delete
from bot.storage.migrate import table_metadata
from bot.storage.telegram import telegram_user_of
from bot.storage.telegram_tables import telegram_links

BATCH = 500
MIN_TEXT_LENGTH = 100
WIDGET_CONVERSATIONS = "widget_conversations"
WIDGET_EVENTS = "widget_events"
SUMMARIES = "conversation_summaries"
# The verified customer's email is kept in these columns (lower-case, as the store keeps it).
CUSTOMER_COLUMNS = (("conversation_summaries", "customer"), ("handoffs", "customer"))


def conversation_tables() -> list[Table]:
    """Every table with a ``conversation_id`` column, children first (safe delete order)."""
    tables = reversed(table_metadata().sorted_tables)
    return [t for t in tables if "conversation_id" in t.c]


def text_columns(table: Table) -> list[Column[Any]]:
    """The columns of ``table`` that can hold personal data (free text, JSON, long strings)."""
    out = []
    for column in table.columns:
        if column.primary_key or column.foreign_keys or column.name == "conversation_id":
            continue
        kind = column.type
        if isinstance(kind, (Text, JSON)) or (
            isinstance(kind, String) and (kind.length or 0) >= MIN_TEXT_LENGTH
        ):
            out.append(column)
    return out


class AppRows:
    """The application database's rows of conversations.

    Args:
        engine: An engine on a database upgraded to head.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.tables = conversation_tables()
        self.widget_conversations = table_metadata().tables[WIDGET_CONVERSATIONS]

    def customer_conversations(self, email: str) -> set[str]:
        """Conversations whose verified customer is ``email``."""
        found: set[str] = set()
        metadata = table_metadata()
        with self.engine.connect() as conn:
            for table_name, column_name in CUSTOMER_COLUMNS:
                table = metadata.tables[table_name]
                rows = conn.execute(
                    select(table.c.conversation_id)
                    .where(func.lower(table.c[column_name]) == email.strip().lower())
                    .distinct()
                ).all()
                found |= {str(r.conversation_id) for r in rows}
        return found

    def customer_emails(self, conversation_id: str) -> list[str]:
        """The verified customer emails recorded for one conversation."""
        metadata = table_metadata()
        found: list[str] = []
        with self.engine.connect() as conn:
            for table_name, column_name in CUSTOMER_COLUMNS:
                table = metadata.tables[table_name]
                for (value,) in conn.execute(
                    select(table.c[column_name])
                    .where(table.c.conversation_id == conversation_id)
                    .distinct()
                ):
                    if value and value not in found:
                        found.append(str(value))
        return found

    def mentioning(self, needle: str) -> set[str]:
        """Conversations with a row whose text columns contain ``needle`` (case-insensitive)."""
        if not needle:
            return set()
        pattern = like_pattern(needle.lower())
        found: set[str] = set()
        with self.engine.connect() as conn:
            for table in self.tables:
                columns = text_columns(table)
                if not columns:
                    continue
                terms = [
                    func.lower(cast(c, Text) if isinstance(c.type, JSON) else c).like(
                        pattern, escape="\\"
                    )
                    for c in columns
                ]
                rows = conn.execute(
                    select(table.c.conversation_id).where(or_(*terms)).distinct()
                ).all()
                found |= {str(r.conversation_id) for r in rows}
        return found

    def existing(self, conversation_ids: Sequence[str]) -> set[str]:
        """Which of the conversations have rows here."""
        found: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in _chunks(list(conversation_ids)):
                for table in self.tables:
                    rows = conn.execute(
                        select(table.c.conversation_id)
                        .where(table.c.conversation_id.in_(chunk))
                        .distinct()
                    ).all()
                    found |= {str(r.conversation_id) for r in rows}
                wc = self.widget_conversations
                found |= {
                    str(r.id) for r in conn.execute(select(wc.c.id).where(wc.c.id.in_(chunk)))
                }
        return found

    def idle_since(self, cutoff: dt.datetime) -> list[str]:
        """Conversations with no activity here since ``cutoff`` (naive UTC): summaries whose
        last event is older, widget conversations whose newest event (or creation) is older."""
        metadata = table_metadata()
        summaries = metadata.tables[SUMMARIES]
        widget_events = metadata.tables[WIDGET_EVENTS]
        wc = self.widget_conversations
        newest = (
            select(func.max(widget_events.c.created_at))
            .where(widget_events.c.conversation_id == wc.c.id)
            .scalar_subquery()
        )
        with self.engine.connect() as conn:
            old = {
                str(r.conversation_id)
                for r in conn.execute(
                    select(summaries.c.conversation_id).where(summaries.c.last_event_at < cutoff)
                )
            }
            old |= {
                str(r.id)
                for r in conn.execute(
                    select(wc.c.id).where(func.coalesce(newest, wc.c.created_at) < cutoff)
                )
            }
        return sorted(old)

    def last_activity(self, conversation_ids: Sequence[str]) -> dict[str, dt.datetime]:
        """The newest activity here of each conversation (summary or widget event)."""
        metadata = table_metadata()
        summaries = metadata.tables[SUMMARIES]
        widget_events = metadata.tables[WIDGET_EVENTS]
        out: dict[str, dt.datetime] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(conversation_ids)):
                for cid, at in conn.execute(
                    select(summaries.c.conversation_id, summaries.c.last_event_at).where(
                        summaries.c.conversation_id.in_(chunk)
                    )
                ):
                    out[str(cid)] = at
                for cid, at in conn.execute(
                    select(widget_events.c.conversation_id, func.max(widget_events.c.created_at))
                    .where(widget_events.c.conversation_id.in_(chunk))
                    .group_by(widget_events.c.conversation_id)
                ):
                    if at is not None and (str(cid) not in out or at > out[str(cid)]):
                        out[str(cid)] = at
        return out

    def count(self, conversation_ids: Sequence[str]) -> dict[str, int]:
        """How many rows of the conversations each table has (tables with none left out)."""
        counts: dict[str, int] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(conversation_ids)):
                for table in self.tables:
                    n = conn.execute(
                        select(func.count()).where(table.c.conversation_id.in_(chunk))
                    ).scalar_one()
                    counts[table.name] = counts.get(table.name, 0) + int(n)
                wc = self.widget_conversations
                n = conn.execute(select(func.count()).where(wc.c.id.in_(chunk))).scalar_one()
                counts[wc.name] = counts.get(wc.name, 0) + int(n)
                links = telegram_links
                users = _telegram_users(chunk)
                n = conn.execute(
                    select(func.count()).where(links.c.user_id.in_(users))
                ).scalar_one()
                counts[links.name] = counts.get(links.name, 0) + int(n)
        return {name: n for name, n in counts.items() if n}

    def delete(self, conversation_ids: Sequence[str]) -> dict[str, int]:
        """Delete every row of the conversations (one transaction per batch); rows per table."""
        removed: dict[str, int] = {}
        for chunk in _chunks(list(conversation_ids)):
            with self.engine.begin() as conn:
                secure_delete(conn)
                for table in self.tables:
                    count = conn.execute(
                        delete(table).where(table.c.conversation_id.in_(chunk))
                    ).rowcount
                    removed[table.name] = removed.get(table.name, 0) + count
                wc = self.widget_conversations
                count = conn.execute(delete(wc).where(wc.c.id.in_(chunk))).rowcount
                removed[wc.name] = removed.get(wc.name, 0) + count
                _unlink_telegram(conn, chunk, removed)
        return {name: n for name, n in removed.items() if n}

    def anonymise(
        self, conversation_ids: Sequence[str], mask: Callable[[str, Any], Any]
    ) -> dict[str, int]:
        """Replace each text column's value by ``mask(conversation_id, value)``; rows changed
        per table."""
        changed: dict[str, int] = {}
        for chunk in _chunks(list(conversation_ids)):
            with self.engine.begin() as conn:
                secure_delete(conn)
                for table in self.tables:
                    columns = text_columns(table)
                    if not columns:
                        continue
                    keys = [c for c in table.primary_key.columns]
                    rows = conn.execute(
                        select(*keys, table.c.conversation_id, *columns).where(
                            table.c.conversation_id.in_(chunk)
                        )
                    ).all()
                    for row in rows:
                        values = {}
                        for column in columns:
                            old = row._mapping[column]
                            new = mask(str(row.conversation_id), old) if old is not None else None
                            if new != old:
                                values[column.name] = new
                        if values:
                            where = [k == row._mapping[k] for k in keys]
                            conn.execute(update(table).where(*where).values(**values))
                            changed[table.name] = changed.get(table.name, 0) + 1
                # An anonymous conversation keeps no tie to the store customer either.
                _unlink_telegram(conn, chunk, changed)
        return {name: n for name, n in changed.items() if n}

    def scrub(self) -> None:
        """Leave no copy of deleted or masked text in a SQLite file (see ``scrub_sqlite``)."""
        scrub_sqlite(self.engine)


def _chunks(items: list[str], size: int = BATCH) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _unlink_telegram(
    conn: Connection, conversation_ids: Sequence[str], counts: dict[str, int]
) -> None:
    """Delete the conversations' Telegram users' links to a store customer (each holds the
    customer's token), counting the rows in ``counts``."""
    users = _telegram_users(conversation_ids)
    if not users:
        return
    count = conn.execute(delete(telegram_links).where(telegram_links.c.user_id.in_(users))).rowcount
    counts[telegram_links.name] = counts.get(telegram_links.name, 0) + count


def _telegram_users(conversation_ids: Sequence[str]) -> list[int]:
    return [u for c in conversation_ids if (u := telegram_user_of(c)) is not None]
