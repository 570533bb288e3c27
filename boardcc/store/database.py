"""Opening the database: the engine, SQLite's settings, and the schema migrations.

`make_engine` turns a URL (or a plain path, meaning a SQLite file) into a SQLAlchemy
engine. For SQLite every new connection is set to WAL journal mode (readers such as the CLI
never block the writer), foreign keys on, and ``synchronous`` FULL by default: WAL alone
already keeps every committed transaction through a kill -9 of the process, since the
operating system holds the written log; FULL also fsyncs the log at each commit, so a
power cut loses nothing committed either. The store commits a batch at a time off the tick
thread, so the fsync costs no tick anything (docs/store.md).

`upgrade` runs the Alembic migrations shipped in `boardcc.store.migrations` to the newest
revision, with an Alembic config built here (no ``alembic.ini``), found through the
package's resources so that it works from a source tree, an editable install or a wheel.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError

__all__ = [
    "MIGRATIONS",
    "SqliteSynchronous",
    "alembic_config",
    "display_url",
    "make_engine",
    "to_url",
    "upgrade",
]

_log = logging.getLogger(__name__)

# Alembic's "package:folder" form, resolved with importlib.resources.
MIGRATIONS = "boardcc.store:migrations"

SqliteSynchronous = Literal["NORMAL", "FULL"]


def to_url(url: str | URL | os.PathLike[str]) -> URL:
    """A SQLAlchemy URL; a path (`os.PathLike`) means a SQLite file.

    Raises
    ------
    sqlalchemy.exc.ArgumentError
        If a string is not a URL.
    ValueError
        For an in-memory SQLite database, which the writer thread cannot share.
    """
    if isinstance(url, os.PathLike):
        url = URL.create("sqlite", database=os.fspath(url))
    url = make_url(url)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError(
            f"an in-memory SQLite database ({url}) is not shared between threads; "
            "give a file (tests: tmp_path / 'cdr.db')"
        )
    return url


def display_url(url: str | URL | os.PathLike[str]) -> str:
    """The URL for messages and logs, with any password hidden."""
    if isinstance(url, os.PathLike):
        return os.fspath(url)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<malformed database URL>"


def make_engine(
    url: str | URL | os.PathLike[str],
    *,
    sqlite_synchronous: SqliteSynchronous = "FULL",
    engine_options: Mapping[str, Any] | None = None,
) -> Engine:
    """Create the engine for a database URL, with SQLite's settings on every connection.

    Parameters
    ----------
    url : str, sqlalchemy.URL or path
        ``sqlite:///cdr.db``, ``postgresql+psycopg://user:pw@host/boardcc``,
        ``mysql+pymysql://user:pw@host/boardcc?charset=utf8mb4``, ...; a path means a
        SQLite file. The folder of a SQLite file is created if missing.
    sqlite_synchronous : {"FULL", "NORMAL"}
        SQLite's ``synchronous``: FULL survives a power cut, NORMAL only a crash of the
        process (both with WAL). Ignored for other databases.
    engine_options : mapping, optional
        More keyword arguments for `sqlalchemy.create_engine` (``connect_args``,
        ``pool_size``, ...). ``pool_pre_ping`` is on unless given.

    Returns
    -------
    sqlalchemy.Engine

    Raises
    ------
    ValueError
        For an unknown `sqlite_synchronous` or an in-memory SQLite database.
    sqlalchemy.exc.ArgumentError
        For a malformed URL.
    ImportError
        If the database's driver (psycopg, pymysql, ...) is not installed.
    """
    if sqlite_synchronous not in get_args(SqliteSynchronous):
        raise ValueError(
            f"sqlite_synchronous must be one of {get_args(SqliteSynchronous)}, "
            f"not {sqlite_synchronous!r}"
        )
    url = to_url(url)
    options: dict[str, Any] = {"pool_pre_ping": True, **(engine_options or {})}
    if url.get_backend_name() == "sqlite" and url.database is not None:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        _set_sqlite_pragmas_on_connect(engine, sqlite_synchronous)
    return engine


def _set_sqlite_pragmas_on_connect(engine: Engine, synchronous: SqliteSynchronous) -> None:
    @event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            mode = cursor.fetchone()[0]
            if str(mode).lower() != "wal":
                # A network file system, for one, cannot share WAL's memory index.
                _log.warning(
                    "SQLite refused WAL journal mode (it is %s): readers will block the "
                    "CDR writer; put the database on a local disk",
                    mode,
                )
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()


def alembic_config(url: str | URL | os.PathLike[str] | None = None) -> Config:
    """An Alembic config for the shipped migrations, for `alembic.command` functions.

    Parameters
    ----------
    url : str, sqlalchemy.URL or path, optional
        The database, for commands that open it themselves (``revision`` with
        autogenerate, ``current``) or print SQL for it (``upgrade(..., sql=True)``).
        `upgrade` passes a connection instead.

    Returns
    -------
    alembic.config.Config
    """
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    if url is not None:
        rendered = to_url(url).render_as_string(hide_password=False)
        # The config is a ConfigParser: a literal % must be doubled.
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database's schema to `revision` (the newest by default), in one transaction
    where the database allows it.

    Raises
    ------
    sqlalchemy.exc.SQLAlchemyError
        If the database cannot be reached or refuses a change.
    alembic.util.CommandError
        If the database carries a revision this version of boardcc does not know (it was
        migrated by a newer boardcc).
    """
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
