"""SQL helpers of erasure and retention: LIKE patterns, and leaving no copy of erased text in
a SQLite file."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine


def like_pattern(needle: str) -> str:
    """A LIKE pattern that finds ``needle`` anywhere (``%``, ``_`` and ``\\`` escaped)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def scrub_sqlite(engine: Engine) -> None:
    """After a delete or an update on SQLite, leave no copy of the old text: merge every FTS5
    index (deleted entries linger in its segments until a merge) and checkpoint the write-ahead
    log (old page images linger there). Deleted rows themselves are overwritten because the
    deleting connection turned ``secure_delete`` on. PostgreSQL: dead row versions stay on disk
    until (auto)vacuum reclaims them."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as conn:
        names = conn.execute(
            text(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND lower(sql) LIKE '%using fts5%'"
            )
        ).scalars()
        for name in list(names):
            conn.execute(text(f'INSERT INTO "{name}"("{name}") VALUES (\'optimize\')'))
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def secure_delete(conn: Connection) -> None:
    """On SQLite, make this connection overwrite what it deletes (``PRAGMA secure_delete``)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
