"""``shopbot forget``: erase one shopper's conversations and personal data on request.

    shopbot forget --email shopper@example.com [--dry-run]
    shopbot forget --conversation SENDER_ID [--conversation ...] [--dry-run]

Finds the conversations whose verified customer is the email, or whose messages, slots,
entities or ShopBot rows contain it, plus any conversation named (a widget conversation id, a
Telegram chat's sender id, a REST sender id), and deletes them from the tracker store and from
every ShopBot table. The audit log records the act with a keyed hash of the email (never the
email) and the counts. The store's order database (the customer's account, orders, invoices,
refunds) is the store's system of record and is left as it is: the command says when it still
holds a customer with this email.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from bot.privacy.app_rows import AppRows
from bot.privacy.directory import StoreDirectory
from bot.privacy.erasure import Eraser, email_digest
from bot.privacy.tracker_rows import TrackerRows
from bot.storage.audit import AuditLog
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade_to_head
from core.settings import Settings

logger = logging.getLogger(__name__)

ACTION = "forget"
ACTOR_LABEL = "cli"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shopbot forget",
        description="Erase one shopper's conversations and personal data (tracker store and "
        "ShopBot's own database; the store's order database is left alone).",
    )
    parser.add_argument("--email", help="the shopper's email (verified or written anywhere)")
    parser.add_argument(
        "--conversation",
        action="append",
        default=[],
        metavar="ID",
        help="a conversation (sender) id to erase as well; repeat for more",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would be erased, change nothing"
    )
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    """Run ``shopbot forget``; 0 on success, 2 on bad arguments, 1 when a database failed."""
    parser = _parser()
    args = parser.parse_args(argv)
    email = (args.email or "").strip()
    if not email and not args.conversation:
        parser.error("give --email or --conversation (or both). Currently, neither is given.")
    if email and "@" not in email:
        parser.error(f"--email must be an email address. Currently, it is {email[:60]!r}.")
    settings = settings or Settings()
    app_url = settings.resolve_db_url(settings.app_db_url)
    upgrade_to_head(app_url)
    engine = make_engine(app_url)
    tracker = TrackerRows.from_settings(settings)
    try:
        eraser = Eraser(AppRows(engine), tracker)
        found = eraser.find(email or None, args.conversation)
        outcome = eraser.erase(found, dry_run=args.dry_run)
        target = (
            email_digest(email, settings.ensure_client_key_secret())
            if email
            else f"conversations:{len(args.conversation)}"
        )
        detail = {
            **outcome.to_dict(),
            "by": [k for k, v in (("email", email), ("conversation", args.conversation)) if v],
        }
        if not args.dry_run:
            AuditLog(engine).record(ACTION, None, ACTOR_LABEL, target, detail)
    except SQLAlchemyError as exc:
        logger.error("shopbot forget failed: %s", exc.__class__.__name__)
        logger.debug("shopbot forget failed", exc_info=True)
        return 1
    finally:
        tracker.dispose()
        engine.dispose()
    verb = "would erase" if args.dry_run else "erased"
    logger.info(
        "Forget (%s): %s %d conversations, %d tracker events, %d ShopBot rows",
        target,
        verb,
        outcome.conversations,
        outcome.tracker_events,
        sum(outcome.app_rows.values()),
    )
    print(json.dumps({"dry_run": args.dry_run, **outcome.to_dict()}, indent=2))
    if email:
        store_url = settings.resolve_db_url(settings.store_db_url)
        if StoreDirectory.load(store_url).person(email) is not None:
            print(
                "The store's order database still has a customer account with this email (its "
                "orders, invoices and refunds are the store's records): erase or keep it there "
                "under the store's own rules."
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
