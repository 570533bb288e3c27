"""The CDR store: call detail records written off the tick thread, recovered after a crash.

The engine calls `CdrStore.put` from its tick thread each time a call's record changes
(started, answered, ended). `put` never touches the database and never raises: it copies
the record into a pending map keyed by call id under a lock and wakes the writer thread. A
newer state of a call replaces one still waiting, so the backlog grows with the number of
calls, not of updates, and the database only ever sees a call's latest state.

The writer thread takes up to `batch_size` calls at a time, inserts the new ones and
updates the known ones in one transaction, and commits. When the database is down, locked
or slow, the writer retries the same batch with exponential backoff, logging each failure,
while the engine carries on and the backlog grows (up to `max_pending` calls; past that a
new call's record goes to the log only). A record the database refuses outright (a value it
cannot hold) would block every later one if retried, so a failing batch is split and the
refused record is logged in full and dropped.

Crashes: a committed record survives a kill -9 (SQLite in WAL mode, `boardcc.store.database`);
what is lost is only what was still waiting, a few milliseconds' worth when the database is
healthy. At the next `start`, `recover` closes every record the crash left open as
``engine_stopped``. One engine per database: recovery cannot tell another engine's open
calls from the crashed ones.

Queries (`find`, `export_csv`) run on the caller's thread, on connections of their own.
"""

from __future__ import annotations

import atexit
import csv
import dataclasses
import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO, get_args

from alembic.util import CommandError
from sqlalchemy import URL, ColumnElement, Engine, Select, insert, or_, select, update
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from boardcc.cdr import Cdr, Direction, Disposition, HungUpBy
from boardcc.store.database import SqliteSynchronous, display_url, make_engine, upgrade
from boardcc.store.models import CallRow

__all__ = ["CSV_COLUMNS", "CdrStore", "StoreError", "as_strings", "describe"]

_log = logging.getLogger(__name__)

# The export's columns: the record's fields, with talk time after the three times.
CSV_COLUMNS = (
    "call_id",
    "direction",
    "started",
    "answered",
    "ended",
    "duration_s",
    "trunk",
    "station",
    "caller",
    "caller_name",
    "called",
    "disposition",
    "hung_up_by",
    "route",
    "extra",
)


class StoreError(Exception):
    """The CDR database could not be opened, migrated, recovered or queried."""


class CdrStore:
    """Call detail records in a SQL database, written by a thread of their own.

    Parameters
    ----------
    url : str, sqlalchemy.URL or path
        The database (`boardcc.store.database.make_engine`): ``sqlite:///var/cdr.db`` by
        default in a site, any SQLAlchemy URL for PostgreSQL or MySQL; a path means a
        SQLite file.
    batch_size : int
        Most calls written in one transaction.
    max_pending : int
        Most calls waiting for the database; past that a new call's record is logged at
        ERROR instead of stored (updates of calls already waiting are always taken).
    retry_initial_s, retry_max_s : float
        Backoff between attempts while the database fails: the first wait, doubled up to
        the last.
    sqlite_synchronous : {"FULL", "NORMAL"}
        SQLite's ``synchronous`` setting (docs/store.md).
    engine_options : mapping, optional
        More keyword arguments for `sqlalchemy.create_engine`.

    Raises
    ------
    ValueError
        For sizes or delays out of range, or an unknown `sqlite_synchronous`.

    Examples
    --------
    >>> store = CdrStore(Path("var/cdr.db"))  # doctest: +SKIP
    >>> store.start()  # migrated, open calls of a crash closed: how many  # doctest: +SKIP
    0
    >>> store.put(cdr)  # from the tick thread, each time the call changes  # doctest: +SKIP
    >>> store.close()  # writes what is waiting, then stops  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str | URL | os.PathLike[str],
        *,
        batch_size: int = 500,
        max_pending: int = 100_000,
        retry_initial_s: float = 0.05,
        retry_max_s: float = 5.0,
        sqlite_synchronous: SqliteSynchronous = "FULL",
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, not {max_pending}")
        if not 0 < retry_initial_s <= retry_max_s:
            raise ValueError(
                f"need 0 < retry_initial_s <= retry_max_s, not {retry_initial_s} and {retry_max_s}"
            )
        if sqlite_synchronous not in get_args(SqliteSynchronous):
            raise ValueError(
                f"sqlite_synchronous must be one of {get_args(SqliteSynchronous)}, "
                f"not {sqlite_synchronous!r}"
            )
        self._url = url
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._sqlite_synchronous = sqlite_synchronous
        self._engine_options = dict(engine_options or {})
        self._engine: Engine | None = None
        self._thread: threading.Thread | None = None
        # Guards everything below; the writer waits on it for work, flush() for progress.
        self._cond = threading.Condition()
        self._pending: dict[str, Cdr] = {}
        self._in_flight = 0
        self._stopping = False
        self._abandon = False
        self._closed = False

    def __repr__(self) -> str:
        return f"CdrStore({display_url(self._url)!r})"

    def __enter__(self) -> CdrStore:
        if self._engine is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for tests and tools that read the database directly.

        Raises
        ------
        RuntimeError
            Before `start` or after `close`.
        """
        if self._engine is None:
            raise RuntimeError(f"{self!r} is not started")
        return self._engine

    @property
    def backlog(self) -> int:
        """How many calls' records wait for the database (queued or being written)."""
        with self._cond:
            return len(self._pending) + self._in_flight

    def start(self) -> int:
        """Open the database, migrate it to the newest schema, recover, start the writer.

        A database that cannot be opened here is an error at once, so that a wrong URL or a
        missing driver is seen when the engine starts; once started, the store rides out
        any outage.

        Returns
        -------
        int
            How many calls the last run left open (`recover`).

        Raises
        ------
        StoreError
            If the database cannot be opened, migrated or recovered.
        RuntimeError
            If already started or closed.
        """
        if self._closed or self._engine is not None:
            raise RuntimeError(f"{self!r} was already started")
        where = display_url(self._url)
        try:
            engine = make_engine(
                self._url,
                sqlite_synchronous=self._sqlite_synchronous,
                engine_options=self._engine_options,
            )
        except (SQLAlchemyError, ImportError, OSError, ValueError) as exc:
            raise StoreError(f"cannot open the CDR database {where}: {exc}") from exc
        try:
            upgrade(engine)
        except (SQLAlchemyError, CommandError) as exc:
            engine.dispose()
            raise StoreError(f"cannot migrate the CDR database {where}: {exc}") from exc
        self._engine = engine
        try:
            recovered = self.recover()
        except StoreError:
            self._engine = None
            engine.dispose()
            raise
        self._thread = threading.Thread(target=self._run, name="boardcc-cdr-writer", daemon=True)
        self._thread.start()
        # A daemon thread dies with the interpreter: write what waits on the way out.
        atexit.register(self.close)
        _log.info("CDR store %s started", where)
        return recovered

    def recover(self) -> int:
        """Close the records of calls that were open when the last run stopped.

        Each gets disposition ``engine_stopped``, hung up by the engine (unless it says
        who), and as `ended` the last time known for it: when it was answered, else when it
        started. The real end lies between that and the restart, whose time is kept in
        ``extra["recovered_at"]``; claiming the whole gap as talk time would bill hours
        for a crash at night. `start` calls this before the writer runs.

        Returns
        -------
        int
            How many calls were closed.

        Raises
        ------
        StoreError
            If the database fails.
        RuntimeError
            Before `start`, or once the writer runs (this run's own open calls would be
            closed too).
        """
        if self._thread is not None:
            raise RuntimeError("recover() runs before the writer starts, from start()")
        now = dt.datetime.now(dt.UTC)
        try:
            with Session(self.engine) as session, session.begin():
                rows = session.scalars(
                    select(CallRow).where(CallRow.disposition == str(Disposition.OPEN))
                ).all()
                for row in rows:
                    known = [t for t in (row.started, row.answered) if t is not None]
                    row.ended = row.ended or max(known)
                    row.disposition = str(Disposition.ENGINE_STOPPED)
                    row.hung_up_by = row.hung_up_by or str(HungUpBy.ENGINE)
                    row.extra = {**row.extra, "recovered_at": now.isoformat()}
                    _log.warning(
                        "call %s was open when the engine stopped: recorded as %s, ended %s",
                        row.call_id,
                        Disposition.ENGINE_STOPPED,
                        row.ended.isoformat(),
                    )
                return len(rows)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot recover open calls: {exc}") from exc

    def put(self, cdr: Cdr) -> None:
        """Queue a call's current record for writing; returns at once and never raises.

        Call it from the tick thread whenever the call changes. The record is copied, so
        the caller may go on changing its own. A newer record of the same call replaces an
        older one still waiting.
        """
        try:
            copy = dataclasses.replace(cdr, extra=dict(cdr.extra))
            with self._cond:
                if self._stopping or self._closed:
                    _log.error("CDR store closed: record not stored: %s", describe(copy))
                    return
                if copy.call_id not in self._pending and len(self._pending) >= self._max_pending:
                    _log.error(
                        "%d calls already wait for the CDR database: record not stored: %s",
                        len(self._pending),
                        describe(copy),
                    )
                    return
                self._pending[copy.call_id] = copy
                self._cond.notify_all()
        except Exception:  # a bug here must not reach the tick
            _log.exception("CDR not queued: %r", cdr)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record queued so far is written (or refused and logged).

        Parameters
        ----------
        timeout : float, optional
            Seconds; None waits as long as it takes.

        Returns
        -------
        bool
            True if nothing is left to write; False on timeout, or if the store was never
            started and has records waiting.
        """
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                return not self._pending and not self._in_flight
            return self._cond.wait_for(
                lambda: not self._pending and not self._in_flight, timeout=timeout
            )

    def close(self, timeout: float = 10.0) -> None:
        """Write what is waiting, stop the writer, release the database. Idempotent.

        Parameters
        ----------
        timeout : float
            Seconds to wait for the database. What is still unwritten after that (the
            database is down) is logged at ERROR, one line per call, in full.
        """
        with self._cond:
            if self._closed:
                return
        atexit.unregister(self.close)
        flushed = self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._abandon = not flushed
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=max(timeout, 1.0))
            if self._thread.is_alive():
                _log.error("the CDR writer is still waiting for the database; leaving it")
        with self._cond:
            unwritten = list(self._pending.values())
            self._pending.clear()
            self._closed = True
        for cdr in unwritten:
            _log.error("CDR database unavailable at close: record not stored: %s", describe(cdr))
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # The writer thread.

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopping)
                if not self._pending or self._abandon:
                    return
                batch = []
                for call_id in list(self._pending)[: self._batch_size]:
                    batch.append(self._pending.pop(call_id))
                self._in_flight = len(batch)
            try:
                unwritten = self._write_with_retry(batch)
            except Exception:  # a bug in the writer must not silently stop all writing
                _log.exception("CDR writer failed; records kept for another attempt")
                unwritten = batch
                with self._cond:
                    self._cond.wait_for(lambda: self._abandon, timeout=self._retry_max_s)
            with self._cond:
                for cdr in unwritten:  # given back when close() gives up, or after a bug
                    self._pending.setdefault(cdr.call_id, cdr)
                self._in_flight = 0
                self._cond.notify_all()
                if self._abandon:
                    return

    def _write_with_retry(self, batch: list[Cdr]) -> list[Cdr]:
        """Write `batch`, retrying while the database is unavailable.

        Returns the records not written, which is never any unless `close` gave up waiting.
        """
        delay = self._retry_initial_s
        failures = 0
        while True:
            try:
                self._write(batch)
            except Exception as exc:
                if not is_transient(exc):
                    return self._write_one_by_one_or_drop(batch, exc)
                failures += 1
                _log.error(
                    "cannot write %d CDRs (attempt %d), retrying in %.2f s: %s",
                    len(batch),
                    failures,
                    delay,
                    exc,
                    exc_info=failures == 1,
                )
                with self._cond:
                    if self._cond.wait_for(lambda: self._abandon, timeout=delay):
                        return batch
                delay = min(delay * 2, self._retry_max_s)
            else:
                if failures:
                    _log.info("CDRs written again after %d failed attempts", failures)
                return []

    def _write_one_by_one_or_drop(self, batch: list[Cdr], exc: Exception) -> list[Cdr]:
        if len(batch) == 1:
            _log.error(
                "the CDR database refused a record, not stored: %s: %s",
                exc,
                describe(batch[0]),
            )
            return []
        for i, cdr in enumerate(batch):
            if self._write_with_retry([cdr]):  # close() gave up waiting
                return batch[i:]
        return []

    def _write(self, batch: list[Cdr]) -> None:
        with Session(self.engine) as session, session.begin():
            ids = [cdr.call_id for cdr in batch]
            known = set(session.scalars(select(CallRow.call_id).where(CallRow.call_id.in_(ids))))
            new = [CallRow.values(cdr) for cdr in batch if cdr.call_id not in known]
            changed = [CallRow.values(cdr) for cdr in batch if cdr.call_id in known]
            if new:
                session.execute(insert(CallRow), new)
            if changed:
                session.execute(update(CallRow), changed)

    # Queries.

    def find(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        number: str | None = None,
        station: str | Collection[str] | None = None,
        trunk: str | Collection[str] | None = None,
        direction: Direction | str | None = None,
        disposition: Disposition | str | None = None,
        limit: int | None = 1000,
        newest_first: bool = False,
    ) -> list[Cdr]:
        """Records of calls matching every filter given, in order of their start.

        Parameters
        ----------
        since, until : datetime, optional
            Calls that started at or after `since` and before `until` (timezone-aware).
        number : str, optional
            The caller's or the called number; ending in ``*`` it is a prefix
            (``"0426*"``).
        station, trunk : str or collection of str, optional
            A channel name, or several (an agent group's stations, a trunk group).
        direction, disposition : optional
            As in `boardcc.cdr`.
        limit : int or None
            At most this many; None for all.
        newest_first : bool
            Latest start first (with `limit`: the last calls) instead of earliest.

        Returns
        -------
        list of Cdr

        Raises
        ------
        ValueError
            For a naive `since`/`until` or a negative `limit`.
        StoreError
            If the database fails.
        """
        statement = _select(
            since, until, number, station, trunk, direction, disposition, limit, newest_first
        )
        try:
            with Session(self.engine) as session:
                return [row.to_cdr() for row in session.scalars(statement)]
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot query the CDR database: {exc}") from exc

    def export_csv(
        self,
        target: str | os.PathLike[str] | TextIO,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        number: str | None = None,
        station: str | Collection[str] | None = None,
        trunk: str | Collection[str] | None = None,
        direction: Direction | str | None = None,
        disposition: Disposition | str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> int:
        """Write the records `find` would return as CSV, streamed from the database.

        Columns are `CSV_COLUMNS`: the record's fields, times in ISO 8601 UTC, talk time
        in seconds, ``extra`` as JSON. A path is written in UTF-8 with a byte-order mark,
        which Excel needs to read Chinese names; a file object is written as it is opened
        (open it with ``newline=""``).

        Parameters
        ----------
        target : path or text file
        since, until, number, station, trunk, direction, disposition, limit, newest_first
            As for `find`, except that `limit` is None (everything) by default.

        Returns
        -------
        int
            How many records were written.

        Raises
        ------
        ValueError
            As for `find`.
        StoreError
            If the database fails.
        OSError
            If the file cannot be written.
        """
        statement = _select(
            since, until, number, station, trunk, direction, disposition, limit, newest_first
        )
        with _text_output(target) as out:
            writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            count = 0
            try:
                with Session(self.engine) as session:
                    rows = session.scalars(statement.execution_options(yield_per=500))
                    for row in rows:
                        writer.writerow(as_strings(row.to_cdr()))
                        count += 1
            except SQLAlchemyError as exc:
                raise StoreError(f"cannot query the CDR database: {exc}") from exc
        return count


def as_strings(cdr: Cdr) -> dict[str, str]:
    """A record as text, by `CSV_COLUMNS`: ISO 8601 times, talk time, ``extra`` as JSON."""

    def when(t: dt.datetime | None) -> str:
        return "" if t is None else t.isoformat()

    duration = cdr.duration_s
    return {
        "call_id": cdr.call_id,
        "direction": str(cdr.direction),
        "started": when(cdr.started),
        "answered": when(cdr.answered),
        "ended": when(cdr.ended),
        "duration_s": "" if duration is None else f"{duration:.3f}",
        "trunk": cdr.trunk or "",
        "station": cdr.station or "",
        "caller": cdr.caller,
        "caller_name": cdr.caller_name,
        "called": cdr.called,
        "disposition": str(cdr.disposition),
        "hung_up_by": str(cdr.hung_up_by),
        "route": cdr.route,
        "extra": json.dumps(cdr.extra, ensure_ascii=False, sort_keys=True, default=str),
    }


def describe(cdr: Cdr) -> str:
    """A record on one line of JSON, for the log when it cannot be stored."""
    return json.dumps(as_strings(cdr), ensure_ascii=False, default=str)


def is_transient(exc: Exception) -> bool:
    """Whether the database may take `exc`'s write later: down, locked, busy, full."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError)


def _select(
    since: dt.datetime | None,
    until: dt.datetime | None,
    number: str | None,
    station: str | Collection[str] | None,
    trunk: str | Collection[str] | None,
    direction: Direction | str | None,
    disposition: Disposition | str | None,
    limit: int | None,
    newest_first: bool,
) -> Select[CallRow]:
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, not {moment!r}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be 0 or more, not {limit}")
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(CallRow.started >= since)
    if until is not None:
        conditions.append(CallRow.started < until)
    if number is not None:
        if number.endswith("*"):
            prefix = number[:-1]
            conditions.append(
                or_(
                    CallRow.caller.startswith(prefix, autoescape=True),
                    CallRow.called.startswith(prefix, autoescape=True),
                )
            )
        else:
            conditions.append(or_(CallRow.caller == number, CallRow.called == number))
    for column, wanted in ((CallRow.station, station), (CallRow.trunk, trunk)):
        if isinstance(wanted, str):
            conditions.append(column == wanted)
        elif wanted is not None:
            conditions.append(column.in_(list(wanted)))
    if direction is not None:
        conditions.append(CallRow.direction == str(Direction(direction)))
    if disposition is not None:
        conditions.append(CallRow.disposition == str(Disposition(disposition)))
    if newest_first:
        order = (CallRow.started.desc(), CallRow.call_id.desc())
    else:
        order = (CallRow.started.asc(), CallRow.call_id.asc())
    statement = select(CallRow).where(*conditions).order_by(*order)
    return statement if limit is None else statement.limit(limit)


@contextmanager
def _text_output(target: str | os.PathLike[str] | TextIO) -> Iterator[TextIO]:
    if isinstance(target, str | os.PathLike):
        with Path(target).open("w", encoding="utf-8-sig", newline="") as out:
            yield out
    else:
        yield target
