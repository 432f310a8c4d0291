"""Full-text search over every conversation's messages, combinable with the list's filters.

What an agent types becomes a list of terms: each whitespace-separated word, or a "quoted
phrase", every one of which a message must contain (AND). Terms are always passed as quoted
phrases, never as query syntax: a shopper's text pasted into the box (quotes, ``*``, ``-``,
``NEAR``, ``OR``, parentheses, ``:``) is searched for as words and never raises. SQLite matches
them with its FTS5 table (``"term" "two words"``, the whole query a bound parameter); PostgreSQL
with ``search_vector @@ (phraseto_tsquery('simple', :t1) && ...)`` (the stored
``to_tsvector('simple', text)``, GIN-indexed; bound parameters too).

Results are conversations, newest matching message first (message ids grow as messages arrive),
each once, with a snippet of its newest matching message. The matches are read newest-first in
growing chunks until a page of distinct conversations (that pass the filters) is full: a common
word stops after a few dozen rows instead of collecting every match. When a budget of streamed
matches has not filled the page (a selective filter, a deep page), one grouped query answers it:
the database then collects the matches from the full-text index or from the filter's side,
whichever its planner finds cheaper. ``hit_before`` (the message id of the previous page's last
hit) pages back.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select

from bot.storage.conversations import MAX_PAGE, ConversationFilter, ConversationSummary
from bot.storage.handoff_tables import conversation_summaries as summaries
from bot.storage.message_tables import FTS_TABLE, SEARCH_VECTOR, TS_CONFIG, conversation_messages

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
FIRST_CHUNK = 3  # pages' worth of matches read first; then 4x per round
MAX_CHUNK = 4000
STREAM_BUDGET = 750  # matches streamed before one grouped query answers the page instead
SNIPPET_CHARS = 160
SNIPPET_LEAD = 50  # characters shown before the first match

messages = conversation_messages
# The FTS5 table as a query sees it (not in the app's metadata: migration 0007 makes it). Its
# hidden column named like the table takes MATCH.
fts = Table(FTS_TABLE, MetaData(), Column("rowid", Integer), Column(FTS_TABLE, Text))
_PHRASE_OR_WORD = re.compile(r'"([^"]*)"|(\S+)')
_TOKEN = re.compile(r"[^\W_]+")  # runs of letters and digits: the tokenizers' words


class BadQuery(ValueError):
    """A search the index cannot run (the message says why)."""


def search_terms(query: str) -> list[str]:
    """The terms of what an agent typed: words and "quoted phrases", operators as plain text.

    Control characters are dropped, terms without a letter or digit are ignored (they match
    nothing), repeats count once, at most ``MAX_TERMS`` are kept.

    Raises:
        BadQuery: When the query is longer than ``MAX_QUERY_CHARS``.
    """
    if len(query) > MAX_QUERY_CHARS:
        raise BadQuery(
            f"q must be at most {MAX_QUERY_CHARS} characters. Currently, it has {len(query)}."
        )
    clean = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in query)
    terms: list[str] = []
    for match in _PHRASE_OR_WORD.finditer(clean):
        term = " ".join((match.group(1) if match.group(1) is not None else match.group(2)).split())
        if _TOKEN.search(term) and term.casefold() not in (t.casefold() for t in terms):
            terms.append(term)
    return terms[:MAX_TERMS]


def fts5_query(terms: list[str]) -> str:
    """SQLite FTS5: every term as a quoted phrase (``"`` doubled inside), all required."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _fold(token: str) -> str:
    """Case and diacritics folded, as FTS5's ``unicode61 remove_diacritics 2`` does."""
    decomposed = unicodedata.normalize("NFKD", token.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def snippet(text: str, terms: list[str]) -> list[tuple[str, bool]]:
    """A short extract of ``text`` around the first match, as (text, is_match) parts.

    Matching follows the tokenizers (runs of letters and digits, case and accents folded); a
    phrase is its words in a row. Without a match found here (PostgreSQL's parser splits some
    strings, such as URLs, its own way), the start of the text.
    """
    tokens = [(m.start(), m.end(), _fold(m.group())) for m in _TOKEN.finditer(text)]
    words = [t[2] for t in tokens]
    spans: list[tuple[int, int]] = []
    for term in terms:
        want = [_fold(t) for t in _TOKEN.findall(term)]
        for i in range(len(words) - len(want) + 1):
            if want and words[i : i + len(want)] == want:
                spans.append((tokens[i][0], tokens[i + len(want) - 1][1]))
    spans = _merged(spans)
    start = max(0, spans[0][0] - SNIPPET_LEAD) if spans else 0
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < spans[0][0] else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > (spans[0][1] if spans else start) else end
    parts: list[tuple[str, bool]] = [("…", False)] if start else []
    at = start
    for low, high in spans:
        low, high = max(low, start), min(high, end)
        if low >= high:
            continue
        if low > at:
            parts.append((text[at:low], False))
        parts.append((text[low:high], True))
        at = high
    if at < end:
        parts.append((text[at:end], False))
    if end < len(text):
        parts.append(("…", False))
    return parts


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for low, high in sorted(spans):
        if out and low <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out


@dataclass(frozen=True)
class SearchHit:
    """A conversation found by a search, and its newest matching message."""

    summary: ConversationSummary
    message_id: int
    at: dt.datetime
    sender: str
    parts: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def snippet_text(self) -> str:
        """The snippet as plain text."""
        return "".join(text for text, _ in self.parts)

    def to_dict(self) -> dict[str, Any]:
        """The conversation's JSON with a ``match``: message id, time, sender, snippet."""
        return {
            **self.summary.to_dict(),
            "match": {
                "message_id": self.message_id,
                "at": self.at.isoformat() + "Z",
                "sender": self.sender,
                "snippet": self.snippet_text,
                "parts": [{"text": text, "match": hit} for text, hit in self.parts],
            },
        }


class MessageSearch:
    """Searches ``conversation_messages`` (SQLite FTS5 or PostgreSQL full text).

    Args:
        engine: An engine on a database upgraded to head (``bot.storage.migrate``).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    def _matching(self, terms: list[str], where: ConversationFilter | None) -> tuple[Select, Any]:
        """Matching messages' (id, conversation_id) that pass ``where``, and the id column to
        order them by (SQLite: the FTS5 rowid, which the index walks in order)."""
        if self.dialect == "sqlite":
            query = (
                select(messages.c.id, messages.c.conversation_id)
                .select_from(fts.join(messages, messages.c.id == fts.c.rowid))
                .where(fts.c[FTS_TABLE].op("MATCH")(fts5_query(terms)))
            )
            newest = fts.c.rowid
        else:
            config = literal_column(f"'{TS_CONFIG}'::regconfig")
            wanted: Any = None
            for n, term in enumerate(terms):
                one = func.phraseto_tsquery(config, bindparam(f"term_{n}", term))
                wanted = one if wanted is None else wanted.op("&&")(one)
            document = literal_column(f"{messages.name}.{SEARCH_VECTOR}")
            query = select(messages.c.id, messages.c.conversation_id).where(
                document.op("@@")(wanted)
            )
            newest = messages.c.id
        conditions = where.conditions() if where is not None else []
        if conditions:
            query = query.join(
                summaries, summaries.c.conversation_id == messages.c.conversation_id
            ).where(*conditions)
        return query, newest

    def _matches(self, terms: list[str], where: ConversationFilter | None) -> Select:
        """Matching messages newest first, below the bound ``below`` (one chunk of a stream)."""
        query, newest = self._matching(terms, where)
        return query.where(newest < bindparam("below")).order_by(newest.desc())

    def _grouped(
        self, terms: list[str], where: ConversationFilter | None, hit_before: int | None, limit: int
    ) -> Select:
        """A page in one query: each conversation's newest match, newest first (the database
        collects every match: from the full-text index, or from a selective filter's side)."""
        query, _ = self._matching(terms, where)
        inner = query.subquery()
        hit = func.max(inner.c.id)
        page = select(inner.c.conversation_id, hit.label("hit")).group_by(inner.c.conversation_id)
        if hit_before is not None:
            page = page.having(hit < hit_before)
        return page.order_by(hit.desc()).limit(limit)

    def search(
        self,
        query: str,
        where: ConversationFilter | None = None,
        hit_before: int | None = None,
        limit: int = 50,
    ) -> list[SearchHit]:
        """Conversations with a message that has every term of ``query`` and pass ``where``,
        newest matching message first; ``hit_before``: the last hit's ``message_id`` of the
        previous page.

        The matches are streamed newest-first while that pays: a page of a common word fills
        from its first rows. When ``STREAM_BUDGET`` matches did not fill the page (a selective
        filter, a rare pairing, a deep page), one grouped query answers it instead; PostgreSQL
        goes there at once when its planner's estimates say streaming would read more rows
        (:meth:`_group_at_once`).

        Raises:
            BadQuery: When ``query`` is too long.
        """
        terms = search_terms(query)
        limit = max(1, min(limit, MAX_PAGE))
        if not terms:
            return []
        matches = self._matches(terms, where)
        first_seen: dict[str, int] = {}  # conversation → its newest matching message
        page: list[tuple[str, int]] = []
        below, chunk, read = 2**62, limit * FIRST_CHUNK, 0
        with self.engine.connect() as conn:
            if self.dialect == "postgresql" and self._group_at_once(conn, terms, where, limit):
                read = STREAM_BUDGET  # straight to the grouped query
            while len(page) < limit:
                if read >= STREAM_BUDGET:
                    grouped = self._grouped(terms, where, hit_before, limit)
                    page = [(str(cid), int(hit)) for cid, hit in conn.execute(grouped)]
                    break
                rows = conn.execute(matches.limit(chunk), {"below": below}).all()
                read += len(rows)
                for message_id, conversation_id in rows:
                    if conversation_id in first_seen:
                        continue
                    first_seen[conversation_id] = message_id
                    if hit_before is None or message_id < hit_before:
                        page.append((conversation_id, message_id))
                        if len(page) == limit:
                            break
                if len(rows) < chunk:
                    break
                below, chunk = rows[-1][0], min(chunk * 4, MAX_CHUNK)
            return self._hits(conn, page, terms)

    def _group_at_once(
        self, conn: Any, terms: list[str], where: ConversationFilter | None, limit: int
    ) -> bool:
        """PostgreSQL, with filters: whether the grouped query is cheaper than streaming, by the
        planner's estimates. Streaming reads about ``limit x messages / filtered matches`` rows
        (matches spread evenly); the grouped query reads at most every match."""
        if where is None or not where.conditions():
            return False
        filtered = self._estimated_matches(conn, terms, where)
        every = self._estimated_matches(conn, terms, None)
        table = conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE oid = 'conversation_messages'::regclass"
        ).scalar()
        return limit * max(float(table or 0.0), every) / max(filtered, 1.0) > every

    def _estimated_matches(
        self, conn: Any, terms: list[str], where: ConversationFilter | None
    ) -> float:
        """PostgreSQL's estimate of the messages matching ``terms`` that pass ``where`` (its
        planner's row count, from the column statistics: no row is read)."""
        query, _ = self._matching(terms, where)
        compiled = query.compile(dialect=conn.dialect)
        plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar()
        return float(plan[0]["Plan"]["Plan Rows"])

    def _hits(self, conn: Any, page: list[tuple[str, int]], terms: list[str]) -> list[SearchHit]:
        if not page:
            return []
        rows = {
            row.conversation_id: ConversationSummary(**row._mapping)
            for row in conn.execute(
                select(summaries).where(summaries.c.conversation_id.in_([c for c, _ in page]))
            )
        }
        found = {
            row.id: row
            for row in conn.execute(
                select(messages.c.id, messages.c.at, messages.c.sender, messages.c.text).where(
                    messages.c.id.in_([m for _, m in page])
                )
            )
        }
        return [
            SearchHit(
                rows[cid], mid, found[mid].at, found[mid].sender, snippet(found[mid].text, terms)
            )
            for cid, mid in page
            if cid in rows and mid in found
        ]
