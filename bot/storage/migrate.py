"""Upgrade the application database to the newest Alembic revision (on start, and by hand).

``shopbot run`` and the end-to-end tests call :func:`upgrade_to_head` before the servers start.
By hand: ``python -m bot.storage.migrate [upgrade|current|history]`` (the URL from
``SHOPBOT_APP_DB_URL``, default ``sqlite:///var/shopbot.db``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData

from bot.storage.engine import make_engine

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "shopbot_alembic_version"


def table_metadata() -> MetaData:
    """The application database's metadata with every table module of this package loaded
    (``tables.py`` and each ``*_tables.py``), for autogenerate and schema checks."""
    for module in pkgutil.iter_modules([str(Path(__file__).resolve().parent)]):
        if module.name == "tables" or module.name.endswith("_tables"):
            importlib.import_module(f"{__package__}.{module.name}")
    from bot.storage.tables import metadata

    return metadata


def alembic_config(db_url: str) -> Config:
    """An Alembic config for ``db_url`` with this package's migrations (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic's config is a ConfigParser: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision in ``bot/storage/migrations/versions``."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, f"no migrations in {MIGRATIONS_DIR}"
    return head


def current_revision(db_url: str) -> str | None:
    """The revision the database at ``db_url`` is at (None before the first upgrade)."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()


def upgrade_to_head(db_url: str) -> str:
    """Create or upgrade the application database at ``db_url``; return its revision.

    Args:
        db_url: An absolute SQLAlchemy URL (``Settings.resolve_db_url(settings.app_db_url)``).
    """
    before = current_revision(db_url)
    head = head_revision()
    if before != head:
        logger.info("Upgrading the application database from %s to %s", before or "empty", head)
        command.upgrade(alembic_config(db_url), "head")
    return head


def main(argv: list[str] | None = None) -> int:
    """Run a migration command against ``Settings().app_db_url``."""
    from core.logging_setup import configure_logging
    from core.settings import Settings

    parser = argparse.ArgumentParser(prog="shopbot migrate", description=__doc__)
    parser.add_argument(
        "command", nargs="?", default="upgrade", choices=["upgrade", "current", "history"]
    )
    args = parser.parse_args(argv)
    configure_logging()
    settings = Settings()
    url = settings.resolve_db_url(settings.app_db_url)
    if args.command == "upgrade":
        print(upgrade_to_head(url))
    elif args.command == "current":
        print(current_revision(url) or "(empty)")
    else:
        command.history(alembic_config(url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
