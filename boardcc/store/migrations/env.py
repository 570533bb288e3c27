"""Alembic's environment: how a migration reaches the database.

The store runs migrations on a connection of its own engine, handed over in
``config.attributes["connection"]`` (`boardcc.store.database.upgrade`), so that SQLite gets
the same pragmas as every other connection. A config with only ``sqlalchemy.url`` (a
developer's `boardcc.store.database.alembic_config`) gets an engine made here; offline mode
(``sql=True``) prints the SQL for a database administrator to run by hand.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from boardcc.store.models import Base


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=Base.metadata,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("the Alembic config has neither a connection nor sqlalchemy.url")
    engine = create_engine(url)
    try:
        with engine.begin() as own:
            _configure_and_run(own)
    finally:
        engine.dispose()


_run()
