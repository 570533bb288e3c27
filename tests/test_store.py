"""The CDR store: records kept whole, written off the caller's thread, never lost.

Every test runs on a SQLite file under tmp_path, as a site does by default. The database
failing is a real SQLite lock held by another connection, and the crash is a real SIGKILL
of a process that has flushed its records.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event

from boardcc.cdr import Cdr, Direction, Disposition, HungUpBy
from boardcc.store import CSV_COLUMNS, CdrStore, StoreError, alembic_config
from boardcc.store.cdrs import as_strings
from boardcc.store.models import Base

ROOT = Path(__file__).resolve().parent.parent
T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
LOGGER = "boardcc.store"


def finished_calls() -> list[Cdr]:
    """Calls of every kind, finished; also built by the crash test's child process."""
    return [
        Cdr(
            call_id="in-answered",
            direction=Direction.INBOUND,
            started=T0,
            trunk="sim/1",
            station="sim/21",
            caller="04262130678",
            caller_name="张三",
            called="8001",
            answered=T0 + dt.timedelta(seconds=12, microseconds=250_000),
            ended=T0 + dt.timedelta(minutes=3, microseconds=1),
            disposition=Disposition.ANSWERED,
            hung_up_by=HungUpBy.CALLER,
            route="rule service: station 8001",
            extra={"queue": "sales", "键": "值"},
        ),
        Cdr(
            call_id="in-abandoned",
            direction=Direction.INBOUND,
            started=T0 + dt.timedelta(minutes=10),
            trunk="sim/2",
            caller="13800138000",
            called="8001",
            ended=T0 + dt.timedelta(minutes=10, seconds=20),
            disposition=Disposition.ABANDONED,
            hung_up_by=HungUpBy.CALLER,
            route="rule service: ring group 1",
        ),
        Cdr(
            call_id="out-busy",
            direction=Direction.OUTBOUND,
            started=T0 + dt.timedelta(hours=1),
            trunk="sim/3",
            station="sim/22",
            caller="8002",
            called="0755123456",
            ended=T0 + dt.timedelta(hours=1, seconds=9),
            disposition=Disposition.BUSY,
            hung_up_by=HungUpBy.CALLEE,
            route="group agents: trunk group local",
        ),
        Cdr(
            call_id="internal",
            direction=Direction.INTERNAL,
            started=T0 + dt.timedelta(days=1),
            station="sim/23",
            caller="8003",
            called="8004",
            answered=T0 + dt.timedelta(days=1, seconds=4),
            ended=T0 + dt.timedelta(days=1, seconds=64),
            disposition=Disposition.ANSWERED,
            hung_up_by=HungUpBy.CALLEE,
        ),
    ]


def open_call() -> Cdr:
    return Cdr(
        call_id="in-talking",
        direction=Direction.INBOUND,
        started=T0 + dt.timedelta(days=2),
        trunk="sim/4",
        station="sim/24",
        caller="02087654321",
        called="8001",
        answered=T0 + dt.timedelta(days=2, seconds=8),
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "var" / "cdr.db"


@pytest.fixture
def store(db: Path) -> Iterator[CdrStore]:
    with CdrStore(db) as started:
        yield started


def put_all(store: CdrStore, cdrs: list[Cdr]) -> None:
    for cdr in cdrs:
        store.put(cdr)
    assert store.flush(timeout=10)


def by_id(cdrs: list[Cdr]) -> dict[str, Cdr]:
    return {cdr.call_id: cdr for cdr in cdrs}


def by_call_id(records: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {record["call_id"]: record for record in records}


# Records kept whole.


def test_every_field_round_trips(store: CdrStore) -> None:
    calls = [*finished_calls(), open_call()]
    put_all(store, calls)
    assert store.find() == calls  # in order of start, equal field by field
    first = store.find(limit=1)[0]
    assert first.started.tzinfo is dt.UTC
    assert first.duration_s == pytest.approx(167.75)


def test_times_in_other_zones_are_stored_as_the_same_instant(store: CdrStore) -> None:
    beijing = dt.timezone(dt.timedelta(hours=8))
    cdr = Cdr("cn", Direction.INBOUND, started=dt.datetime(2026, 1, 5, 17, 0, tzinfo=beijing))
    put_all(store, [cdr])
    (back,) = store.find()
    assert back.started == T0
    assert back.started.tzinfo is dt.UTC


def test_the_record_follows_the_call_and_the_database_sees_its_latest_state(
    store: CdrStore,
) -> None:
    cdr = Cdr("c1", Direction.INBOUND, started=T0, trunk="sim/1", caller="0426")
    put_all(store, [cdr])
    assert store.find()[0].disposition is Disposition.OPEN

    cdr.answered = T0 + dt.timedelta(seconds=5)
    cdr.station = "sim/21"
    put_all(store, [cdr])
    assert store.find()[0].answered == cdr.answered

    cdr.ended = T0 + dt.timedelta(seconds=65)
    cdr.disposition = Disposition.ANSWERED
    cdr.hung_up_by = HungUpBy.CALLEE
    cdr.extra["note"] = "ok"
    put_all(store, [cdr])
    assert store.find() == [cdr]


def test_put_copies_the_record(store: CdrStore) -> None:
    cdr = Cdr("c1", Direction.INBOUND, started=T0, extra={"a": "1"})
    store.put(cdr)
    cdr.caller = "changed after put"
    cdr.extra["a"] = "changed after put"
    assert store.flush(timeout=10)
    (back,) = store.find()
    assert back.caller == ""
    assert back.extra == {"a": "1"}


def test_the_database_is_used_only_from_the_writer_thread(store: CdrStore) -> None:
    threads: set[str] = set()

    @event.listens_for(store.engine, "before_cursor_execute")
    def record(*_args: Any) -> None:
        threads.add(threading.current_thread().name)

    for cdr in finished_calls():
        store.put(cdr)
    assert store.flush(timeout=10)
    assert threads == {"boardcc-cdr-writer"}


def test_many_calls_are_written_in_batches(db: Path) -> None:
    calls = [
        Cdr(f"c{i:04}", Direction.INBOUND, started=T0 + dt.timedelta(seconds=i))
        for i in range(1200)
    ]
    with CdrStore(db, batch_size=100) as store:
        put_all(store, calls)
        for cdr in calls[::3]:
            cdr.disposition = Disposition.NO_ANSWER
            cdr.ended = cdr.started + dt.timedelta(seconds=30)
            store.put(cdr)
        assert store.flush(timeout=10)
        assert store.find(limit=None) == calls


# Queries and export.


def test_find_by_time_number_channel_direction_and_disposition(store: CdrStore) -> None:
    put_all(store, [*finished_calls(), open_call()])

    def ids(**filters: Any) -> list[str]:
        return [cdr.call_id for cdr in store.find(**filters)]

    assert ids(since=T0 + dt.timedelta(minutes=10), until=T0 + dt.timedelta(days=1)) == [
        "in-abandoned",
        "out-busy",
    ]
    assert ids(until=T0) == []
    assert ids(number="8001") == ["in-answered", "in-abandoned", "in-talking"]
    assert ids(number="0755123456") == ["out-busy"]  # the called number
    assert ids(number="0426*") == ["in-answered"]
    assert ids(number="%*") == []  # a prefix, not a LIKE pattern
    assert ids(station="sim/22") == ["out-busy"]
    assert ids(station=["sim/21", "sim/23"]) == ["in-answered", "internal"]  # a group
    assert ids(station=[]) == []
    assert ids(trunk={"sim/1", "sim/2"}) == ["in-answered", "in-abandoned"]
    assert ids(direction=Direction.OUTBOUND) == ["out-busy"]
    assert ids(direction="internal") == ["internal"]
    assert ids(disposition=Disposition.ANSWERED, trunk="sim/1") == ["in-answered"]
    assert ids(disposition="open") == ["in-talking"]
    assert ids(limit=2) == ["in-answered", "in-abandoned"]
    assert ids(limit=2, newest_first=True) == ["in-talking", "internal"]


def test_find_refuses_what_it_cannot_mean(store: CdrStore) -> None:
    with pytest.raises(ValueError, match="since must be timezone-aware"):
        store.find(since=dt.datetime(2026, 1, 5))
    with pytest.raises(ValueError, match="-1"):
        store.find(limit=-1)
    with pytest.raises(ValueError, match="'sideways'"):
        store.find(direction="sideways")


def test_export_csv_to_a_path_for_excel(store: CdrStore, tmp_path: Path) -> None:
    put_all(store, [*finished_calls(), open_call()])
    out = tmp_path / "cdr.csv"
    assert store.export_csv(out, direction=Direction.INBOUND) == 3
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert [row["call_id"] for row in rows] == ["in-answered", "in-abandoned", "in-talking"]
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0] == {
        "call_id": "in-answered",
        "direction": "in",
        "started": "2026-01-05T09:00:00+00:00",
        "answered": "2026-01-05T09:00:12.250000+00:00",
        "ended": "2026-01-05T09:03:00.000001+00:00",
        "duration_s": "167.750",
        "trunk": "sim/1",
        "station": "sim/21",
        "caller": "04262130678",
        "caller_name": "张三",
        "called": "8001",
        "disposition": "answered",
        "hung_up_by": "caller",
        "route": "rule service: station 8001",
        "extra": '{"queue": "sales", "键": "值"}',
    }
    assert rows[2]["ended"] == rows[2]["duration_s"] == rows[2]["hung_up_by"] == ""


def test_export_csv_to_a_file_object(store: CdrStore) -> None:
    put_all(store, finished_calls())
    out = io.StringIO(newline="")
    assert store.export_csv(out, number="8001") == 2
    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert len(lines) == 3
    assert store.export_csv(io.StringIO(), number="nobody") == 0


# SQLite's settings and the schema.


def test_sqlite_runs_in_wal_mode_with_full_sync_and_foreign_keys(store: CdrStore, db: Path) -> None:
    with store.engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
        assert pragma("PRAGMA foreign_keys").scalar() == 1
    with sqlite3.connect(db) as outsider:  # WAL is the file's mode, seen by anyone
        assert outsider.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_sqlite_synchronous_normal_on_request(db: Path) -> None:
    with CdrStore(db, sqlite_synchronous="NORMAL") as store, store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 1


def test_the_migrations_make_exactly_the_models(store: CdrStore) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() == head
        assert compare_metadata(context, Base.metadata) == []


def test_the_migrations_go_down_and_up_again(store: CdrStore) -> None:
    put_all(store, finished_calls())
    config = alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    with store.engine.connect() as connection:
        assert not connection.dialect.has_table(connection, "calls")
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert store.find() == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://cdr@db.example/boardcc", ["CREATE TABLE calls", "TIMESTAMP WITHOUT"]),
        ("mysql://cdr@db.example/boardcc", ["CREATE TABLE calls", "DATETIME(6)"]),
    ],
)
def test_the_migrations_render_for_postgresql_and_mysql(url: str, expected: list[str]) -> None:
    config = alembic_config(url)
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    sql = config.output_buffer.getvalue()
    for text in [*expected, "CREATE INDEX ix_calls_started ON calls (started)"]:
        assert text in sql


# Starting, stopping, failing.


def test_start_refuses_a_file_that_is_no_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database, it is a plain text file of some length" * 20)
    with pytest.raises(StoreError, match=r"cannot migrate the CDR database .*junk\.db"):
        CdrStore(junk).start()


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("postgresql+nosuchdriver://cdr@db.example/boardcc", "nosuchdriver"),
        ("sqlite://", "in-memory"),
        ("not a url", "cannot open"),
    ],
)
def test_start_names_a_database_it_cannot_open(url: str, match: str) -> None:
    with pytest.raises(StoreError, match=match):
        CdrStore(url).start()


def test_start_twice_is_a_mistake(store: CdrStore) -> None:
    with pytest.raises(RuntimeError, match="already started"):
        store.start()
    with pytest.raises(RuntimeError, match="before the writer starts"):
        store.recover()


def test_close_is_idempotent_and_a_late_put_is_logged_not_raised(
    db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = CdrStore(db)
    store.start()
    store.put(finished_calls()[0])
    store.close()
    store.close()
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        store.put(finished_calls()[1])
    assert "CDR store closed: record not stored" in caplog.text
    assert '"in-abandoned"' in caplog.text
    with CdrStore(db) as again:
        assert [cdr.call_id for cdr in again.find()] == ["in-answered"]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="batch_size must be at least 1, not 0"):
        CdrStore("sqlite:///x.db", batch_size=0)
    with pytest.raises(ValueError, match="retry_initial_s"):
        CdrStore("sqlite:///x.db", retry_initial_s=2.0, retry_max_s=1.0)
    with pytest.raises(ValueError, match="'OFF'"):
        CdrStore("sqlite:///x.db", sqlite_synchronous="OFF")  # type: ignore[arg-type]


@pytest.fixture
def locked(db: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding SQLite's write lock until it rolls back."""
    db.parent.mkdir(parents=True, exist_ok=True)
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    yield other
    other.close()


def lock(connection: sqlite3.Connection) -> None:
    connection.execute("BEGIN IMMEDIATE")


def test_a_locked_database_neither_blocks_put_nor_loses_records(
    db: Path, locked: sqlite3.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    store = CdrStore(
        db,
        retry_initial_s=0.01,
        retry_max_s=0.05,
        engine_options={"connect_args": {"timeout": 0.02}},  # SQLite's busy wait
    )
    with store, caplog.at_level(logging.INFO, logger=LOGGER):
        put_all(store, finished_calls()[:1])
        lock(locked)

        calls = [
            Cdr(f"late{i}", Direction.INBOUND, started=T0 + dt.timedelta(seconds=i))
            for i in range(2000)
        ]
        begin = time.perf_counter()
        for cdr in calls:
            store.put(cdr)
        spent = time.perf_counter() - begin
        assert spent < 0.5, f"2000 puts took {spent:.3f} s against a locked database"

        assert not store.flush(timeout=0.3)
        assert store.backlog == len(calls)
        assert "cannot write" in caplog.text
        assert "database is locked" in caplog.text

        locked.execute("ROLLBACK")
        assert store.flush(timeout=10)
        assert "CDRs written again after" in caplog.text
        assert len(store.find(limit=None)) == 1 + len(calls)


def test_close_logs_in_full_what_a_dead_database_never_took(
    db: Path, locked: sqlite3.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    store = CdrStore(
        db, retry_initial_s=0.01, retry_max_s=0.05, engine_options={"connect_args": {"timeout": 0}}
    )
    store.start()
    lock(locked)
    calls = finished_calls()
    for cdr in calls:
        store.put(cdr)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        store.close(timeout=0.2)
    logged = [
        json.loads(r.getMessage().split("record not stored: ", 1)[1])
        for r in caplog.records
        if "unavailable at close" in r.getMessage()
    ]
    assert by_call_id(logged) == by_call_id([as_strings(cdr) for cdr in calls])


def test_a_record_the_database_refuses_is_logged_and_does_not_block_others(
    store: CdrStore, caplog: pytest.LogCaptureFixture
) -> None:
    naive = Cdr("naive", Direction.INBOUND, started=dt.datetime(2026, 1, 5, 9, 0))
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        for cdr in [*finished_calls()[:2], naive, *finished_calls()[2:]]:
            store.put(cdr)
        assert store.flush(timeout=10)
    assert [cdr.call_id for cdr in store.find()] == [cdr.call_id for cdr in finished_calls()]
    (refused,) = [r for r in caplog.records if "refused a record" in r.getMessage()]
    assert "naive datetime" in refused.getMessage()
    assert '"call_id": "naive"' in refused.getMessage()


def test_past_max_pending_a_new_call_goes_to_the_log(
    db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = CdrStore(db, max_pending=2)  # not started: nothing drains
    first, second, third, *_ = finished_calls()
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        store.put(first)
        store.put(second)
        store.put(third)
        store.put(first)  # an update of a waiting call is always taken
    assert store.backlog == 2
    (full,) = [r for r in caplog.records if "wait for the CDR database" in r.getMessage()]
    assert '"call_id": "out-busy"' in full.getMessage()
    store.start()
    store.close()
    with CdrStore(db) as again:
        assert [cdr.call_id for cdr in again.find()] == ["in-answered", "in-abandoned"]


# Crashes.


def test_recovery_closes_the_calls_left_open(db: Path, caplog: pytest.LogCaptureFixture) -> None:
    ringing = Cdr("ringing", Direction.INBOUND, started=T0, trunk="sim/5")
    talking = open_call()
    with CdrStore(db) as store:
        put_all(store, [*finished_calls(), ringing, talking])

    with caplog.at_level(logging.WARNING, logger=LOGGER), CdrStore(db) as store:
        found = by_id(store.find(limit=None))
    assert "call ringing was open when the engine stopped" in caplog.text

    for cdr in finished_calls():
        assert found[cdr.call_id] == cdr
    for before, after, ended in (
        (ringing, found["ringing"], ringing.started),
        (talking, found["in-talking"], talking.answered),
    ):
        assert after.disposition is Disposition.ENGINE_STOPPED
        assert after.hung_up_by is HungUpBy.ENGINE
        assert after.ended == ended
        recovered_at = dt.datetime.fromisoformat(after.extra["recovered_at"])
        assert abs(recovered_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
        assert (after.caller, after.started, after.answered) == (
            before.caller,
            before.started,
            before.answered,
        )

    with CdrStore(db) as store:
        assert store.find(disposition=Disposition.OPEN) == []


def test_start_tells_how_many_calls_it_recovered(db: Path) -> None:
    with CdrStore(db) as store:
        put_all(store, [open_call(), *finished_calls()])
    store = CdrStore(db)
    assert store.start() == 1
    store.close()
    store = CdrStore(db)
    assert store.start() == 0
    store.close()


CHILD = """
import sys, time
from pathlib import Path
from boardcc.store import CdrStore
from tests.test_store import finished_calls, open_call
store = CdrStore(Path(sys.argv[1]))
store.start()
for cdr in [*finished_calls(), open_call()]:
    store.put(cdr)
assert store.flush(timeout=10)
print("flushed", flush=True)
time.sleep(60)
"""


def test_kill_9_loses_no_flushed_record_and_the_open_call_is_closed(db: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == "flushed\n", child.stderr.read() if child.stderr else line
        # The records are in the write-ahead log only: nothing has checkpointed them.
        assert Path(f"{db}-wal").stat().st_size > 0
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for pipe in (child.stdout, child.stderr):
            if pipe is not None:
                pipe.close()

    store = CdrStore(db)
    assert store.start() == 1
    try:
        found = by_id(store.find(limit=None))
    finally:
        store.close()
    assert [found[cdr.call_id] for cdr in finished_calls()] == finished_calls()
    closed = found["in-talking"]
    assert closed.disposition is Disposition.ENGINE_STOPPED
    assert closed.ended == open_call().answered
