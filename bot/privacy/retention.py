"""``shopbot retention``: delete or anonymise conversations older than the retention period.

    shopbot retention [--older-than DAYS] [--mode delete|anonymise] [--dry-run]

Safe to run from cron: idempotent (deleted conversations are gone; anonymised events are marked
and skipped next time), batched (``--batch`` conversations per transaction), one log line with
the counts, exit 0 when done (also when retention is off), 2 on bad arguments, 1 when a database
failed. A conversation is old when its newest activity anywhere (tracker event, summary, widget
event) is older than the period. Each run that changes something is written to the audit log.
Defaults: ``SHOPBOT_RETENTION_DAYS`` (0: keep forever) and ``SHOPBOT_RETENTION_MODE``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from collections.abc import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from bot.privacy.app_rows import AppRows
from bot.privacy.directory import DirectorySource
from bot.privacy.erasure import Anonymiser, Eraser, Outcome
from bot.privacy.masking import MaskerSource
from bot.privacy.tracker_rows import TrackerRows
from bot.storage.audit import AuditLog
from bot.storage.clock import utcnow
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade_to_head
from core.settings import RETENTION_MODES, Settings

logger = logging.getLogger(__name__)

ACTION = "retention"
ACTOR_LABEL = "cli"
DEFAULT_BATCH = 200
EPOCH = dt.datetime(1970, 1, 1)


def old_conversations(
    app: AppRows, tracker: TrackerRows, cutoff: dt.datetime, anonymise: bool
) -> list[str]:
    """Conversations idle since ``cutoff`` everywhere (anonymise: only those with events not
    anonymised yet)."""
    stamp = (cutoff - EPOCH).total_seconds()
    candidates = set(tracker.senders_idle_since(stamp, not_anonymised=anonymise))
    if not anonymise:  # conversations that only ShopBot's tables know (e.g. a widget session)
        candidates |= set(app.idle_since(cutoff))
    ids = sorted(candidates)
    recent_tracker = {c for c, t in tracker.last_activity(ids).items() if t >= stamp}
    recent_app = {c for c, at in app.last_activity(ids).items() if at >= cutoff}
    return [c for c in ids if c not in recent_tracker and c not in recent_app]


def run_retention(
    app: AppRows,
    tracker: TrackerRows,
    maskers: MaskerSource,
    days: int,
    mode: str,
    dry_run: bool = False,
    batch: int = DEFAULT_BATCH,
    clock: Callable[[], dt.datetime] = utcnow,
) -> tuple[dt.datetime, Outcome]:
    """Delete or anonymise conversations idle for more than ``days``; the cutoff and counts."""
    cutoff = clock() - dt.timedelta(days=days)
    ids = old_conversations(app, tracker, cutoff, anonymise=mode == "anonymise")
    total = Outcome()
    eraser = Eraser(app, tracker)
    anonymiser = Anonymiser(app, tracker, maskers)
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        if mode == "delete":
            total.add(eraser.erase(chunk, dry_run))
        else:
            total.add(anonymiser.anonymise(chunk, dry_run))
    return cutoff, total


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shopbot retention",
        description="Delete or anonymise conversations older than the retention period "
        "(safe to run from cron).",
    )
    parser.add_argument(
        "--older-than",
        type=int,
        default=None,
        metavar="DAYS",
        help="retention period in days (default: SHOPBOT_RETENTION_DAYS; 0 keeps everything)",
    )
    parser.add_argument(
        "--mode",
        choices=RETENTION_MODES,
        default=None,
        help="delete conversations, or mask their personal data in place "
        "(default: SHOPBOT_RETENTION_MODE, delete)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would change, change nothing"
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=DEFAULT_BATCH,
        help="conversations per transaction (default %(default)s)",
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    settings: Settings | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> int:
    """Run ``shopbot retention``; 0 on success (or nothing to do), 2 on bad arguments, 1 when a
    database failed."""
    parser = _parser()
    args = parser.parse_args(argv)
    settings = settings or Settings()
    days = settings.retention_days if args.older_than is None else args.older_than
    mode = args.mode or settings.retention_mode
    if days < 0:
        parser.error(f"--older-than must be 0 or more days. Currently, it is {days}.")
    if args.batch < 1:
        parser.error(f"--batch must be at least 1. Currently, it is {args.batch}.")
    if days == 0:
        logger.info("Retention is off (SHOPBOT_RETENTION_DAYS=0, no --older-than): nothing done")
        return 0
    app_url = settings.resolve_db_url(settings.app_db_url)
    upgrade_to_head(app_url)
    engine = make_engine(app_url)
    tracker = TrackerRows.from_settings(settings)
    store_url = settings.resolve_db_url(settings.store_db_url)
    maskers = MaskerSource(DirectorySource.from_url(store_url))
    try:
        cutoff, outcome = run_retention(
            AppRows(engine), tracker, maskers, days, mode, args.dry_run, args.batch, clock
        )
        if not args.dry_run and outcome.conversations:
            detail = {"mode": mode, "days": days, "cutoff": cutoff.isoformat() + "Z"}
            detail.update(outcome.to_dict())
            AuditLog(engine, clock).record(ACTION, None, ACTOR_LABEL, f"older_than:{days}d", detail)
    except SQLAlchemyError as exc:
        logger.error("shopbot retention failed: %s", exc.__class__.__name__)
        logger.debug("shopbot retention failed", exc_info=True)
        return 1
    finally:
        tracker.dispose()
        engine.dispose()
    logger.info(
        "Retention (%s%s, older than %d days, before %s): %d conversations, %d tracker events, "
        "%d ShopBot rows",
        mode,
        ", dry run" if args.dry_run else "",
        days,
        cutoff.isoformat(timespec="seconds") + "Z",
        outcome.conversations,
        outcome.tracker_events,
        sum(outcome.app_rows.values()),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
