"""Runs of ``shopbot retrain`` (started from a shell or by an admin in the console).

One row per run in ``retrain_runs``: ``running`` until the command finishes, then ``accepted``
(the candidate serves), ``refused`` (the gate kept the served model) or ``failed``; the gate's
report as JSON and as markdown. Shared by every console replica through the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from bot.storage.audit_tables import retrain_runs
from bot.storage.clock import utcnow

STATUSES = ("running", "accepted", "refused", "failed")
# A run that has said nothing for this long died with its process (a crash, a restart).
STALE_AFTER = dt.timedelta(hours=6)


@dataclass(frozen=True)
class RetrainRun:
    """One run of ``shopbot retrain``."""

    id: int
    preset: str
    status: str
    requested_by: int | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    report: dict[str, Any] | None
    log_tail: str | None

    def as_json(self) -> dict[str, Any]:
        """The run as the console's API shows it."""
        return {
            "id": self.id,
            "preset": self.preset,
            "status": self.status,
            "requested_by": self.requested_by,
            "started_at": self.started_at.isoformat() + "Z",
            "finished_at": self.finished_at.isoformat() + "Z" if self.finished_at else None,
            "report": self.report,
            "summary": self.log_tail,
        }


class RetrainRuns:
    """Start, finish and list retraining runs."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._engine = engine
        self._clock = clock

    def start(self, preset: str, requested_by: int | None) -> int:
        """Record a new ``running`` run and return its id."""
        with self._engine.begin() as connection:
            result = connection.execute(
                insert(retrain_runs).values(
                    preset=preset,
                    status="running",
                    requested_by=requested_by,
                    started_at=self._clock(),
                )
            )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def finish(
        self, run_id: int, status: str, report: dict[str, Any] | None, summary: str | None
    ) -> None:
        """Record how run ``run_id`` ended."""
        if status not in STATUSES[1:]:
            raise ValueError(
                f"status must be one of {STATUSES[1:]}. Currently, status is {status!r}."
            )
        with self._engine.begin() as connection:
            connection.execute(
                update(retrain_runs)
                .where(retrain_runs.c.id == run_id)
                .values(
                    status=status,
                    finished_at=self._clock(),
                    report=report,
                    log_tail=(summary or "")[-20_000:] or None,
                )
            )

    def running(self) -> RetrainRun | None:
        """The run in progress, if any (one started longer ago than ``STALE_AFTER`` is marked
        failed: its process is gone)."""
        for run in self.recent(limit=5):
            if run.status != "running":
                continue
            if self._clock() - run.started_at > STALE_AFTER:
                self.finish(run.id, "failed", None, "No result: the retraining process stopped.")
                continue
            return run
        return None

    def recent(self, limit: int = 20) -> list[RetrainRun]:
        """The newest runs first."""
        query = (
            select(retrain_runs)
            .order_by(retrain_runs.c.started_at.desc(), retrain_runs.c.id.desc())
            .limit(limit)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            RetrainRun(
                id=row.id,
                preset=row.preset,
                status=row.status,
                requested_by=row.requested_by,
                started_at=row.started_at,
                finished_at=row.finished_at,
                report=row.report,
                log_tail=row.log_tail,
            )
            for row in rows
        ]
