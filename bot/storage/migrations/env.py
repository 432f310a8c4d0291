"""Alembic environment of the application database (run by ``bot.storage.migrate``).

The URL comes from the Alembic config (``sqlalchemy.url``, set by ``bot.storage.migrate``) or an
open connection passed in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bot.storage.engine import make_engine
from bot.storage.message_tables import include_in_schema_compare
from bot.storage.migrate import VERSION_TABLE, table_metadata

metadata = table_metadata()  # every table module of bot/storage, for autogenerate


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # The full-text index objects made by raw DDL (migration 0007) are not in the metadata.
        include_name=include_in_schema_compare,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit the SQL without a database (``alembic upgrade head --sql``)."""
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the connection given by the caller, or a fresh one to the URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(str(context.config.get_main_option("sqlalchemy.url")))
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
