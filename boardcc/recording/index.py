"""The recordings' index in the database: written by the writer thread, searched by people.

Rows are `boardcc.store.recording_models.RecordingRow`, one per recording, with the parties
it passed through (`PartyRow`: agents, stations, queues, groups, channels). The writer
inserts a row when a recording opens (status ``recording``) and completes it when it closes
(``done``) or fails (``failed``: the disk refused it; the file holds what came before). A
row still ``recording`` at the next start belongs to a run that was killed: `recover` takes
its length from the file, which is whole up to its last sync, and marks it ``recovered``.

Searches (`find`) combine time range, number (caller or called, ``*`` suffix for a prefix),
agent, station, queue and group; `export` copies matching files with a CSV of the index;
`purge` applies the retention policy (delete, or move to an archive folder, after N days).
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from boardcc.store.cdrs import StoreError
from boardcc.store.recording_models import PartyRow, RecordingRow

__all__ = ["PARTY_ROLES", "Recording", "RecordingIndex", "length_on_disk"]

_log = logging.getLogger("boardcc.recording")

PARTY_ROLES = ("agent", "station", "queue", "group", "leg")


@dataclass(slots=True)
class Recording:
    """One recording as the index holds it."""

    recording_id: str
    kind: str  # call, tap, manual
    started: dt.datetime
    path: str
    codec: str
    channels: int
    call_id: str | None = None
    caller: str = ""
    called: str = ""
    ended: dt.datetime | None = None
    duration_s: float = 0.0
    size: int = 0
    status: str = "recording"
    error: str = ""
    parties: set[tuple[str, str]] = field(default_factory=set)  # (role, name)
    indexed: bool = True  # False: a voicemail message, which has a table of its own

    def names(self, role: str) -> list[str]:
        return sorted(n for r, n in self.parties if r == role)

    def json(self) -> dict[str, object]:
        return {
            "recording_id": self.recording_id,
            "kind": self.kind,
            "call_id": self.call_id,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat() if self.ended else None,
            "duration_s": round(self.duration_s, 3),
            "caller": self.caller,
            "called": self.called,
            "agents": self.names("agent"),
            "stations": self.names("station"),
            "queues": self.names("queue"),
            "groups": self.names("group"),
            "legs": self.names("leg"),
            "path": self.path,
            "size": self.size,
            "codec": self.codec,
            "channels": self.channels,
            "status": self.status,
            "error": self.error,
        }


CSV_COLUMNS = (
    "recording_id",
    "kind",
    "call_id",
    "started",
    "ended",
    "duration_s",
    "caller",
    "called",
    "agents",
    "stations",
    "queues",
    "groups",
    "legs",
    "path",
    "size",
    "codec",
    "channels",
    "status",
    "error",
)


class RecordingIndex:
    """The index on a database the CDR store has opened and migrated (one database).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        `boardcc.store.CdrStore.engine`, or `boardcc.store.make_engine` of a migrated
        database.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- written by the recorder's thread ------------------------------------------------------

    def opened(self, rec: Recording) -> None:
        with Session(self.engine) as session, session.begin():
            session.add(_row(rec))
            session.flush()  # the row before its parties (no ORM relationship orders them)
            session.add_all(_parties(rec))

    def closed(self, rec: Recording) -> None:
        """Store the recording's final state, parties included."""
        with Session(self.engine) as session, session.begin():
            values = _values(rec)
            session.execute(
                update(RecordingRow)
                .where(RecordingRow.recording_id == rec.recording_id)
                .values(**values)
            )
            session.execute(delete(PartyRow).where(PartyRow.recording_id == rec.recording_id))
            session.add_all(_parties(rec))

    # -- after a crash -------------------------------------------------------------------------

    def recover(self) -> int:
        """Close the recordings a killed run left open, their length read from the file.

        Returns how many.
        """
        now = dt.datetime.now(dt.UTC)
        count = 0
        try:
            with Session(self.engine) as session, session.begin():
                rows = session.scalars(
                    select(RecordingRow).where(RecordingRow.status == "recording")
                ).all()
                for row in rows:
                    seconds, size = length_on_disk(Path(row.path))
                    row.duration_s = seconds
                    row.size = size
                    row.ended = row.started + dt.timedelta(seconds=seconds)
                    row.status = "recovered"
                    row.error = f"the engine stopped while recording; recovered {now.isoformat()}"
                    count += 1
                    _log.warning(
                        "recording %s was open when the engine stopped: %.1f s kept in %s",
                        row.recording_id,
                        seconds,
                        row.path,
                    )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot recover open recordings: {exc}") from exc
        return count

    # -- searches ------------------------------------------------------------------------------

    def find(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        number: str | None = None,
        agent: str | None = None,
        station: str | None = None,
        queue: str | None = None,
        group: str | None = None,
        call_id: str | None = None,
        recording_id: str | None = None,
        limit: int | None = 1000,
        newest_first: bool = False,
    ) -> list[Recording]:
        """Recordings matching every filter given, oldest first (or newest).

        `number` is the caller's or the called number (``"0426*"``: a prefix); `agent`,
        `station`, `queue` and `group` match any party of that role the recording passed
        through (`group` also matches queues). Times must be timezone-aware.

        Raises
        ------
        ValueError
            For a naive time or a negative limit.
        StoreError
            If the database fails.
        """
        for name, moment in (("since", since), ("until", until)):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware, not {moment!r}")
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be 0 or more, not {limit}")
        q = select(RecordingRow)
        if since is not None:
            q = q.where(RecordingRow.started >= since)
        if until is not None:
            q = q.where(RecordingRow.started < until)
        if number:
            if number.endswith("*"):
                p = number[:-1]
                q = q.where(
                    RecordingRow.caller.startswith(p, autoescape=True)
                    | RecordingRow.called.startswith(p, autoescape=True)
                )
            else:
                q = q.where((RecordingRow.caller == number) | (RecordingRow.called == number))
        if call_id:
            q = q.where(RecordingRow.call_id == call_id)
        if recording_id:
            q = q.where(RecordingRow.recording_id.startswith(recording_id, autoescape=True))
        for roles, name in (
            (("agent",), agent),
            (("station",), station),
            (("queue",), queue),
            (("group", "queue"), group),
        ):
            if name:
                parties = select(PartyRow.recording_id).where(
                    PartyRow.name == name, PartyRow.role.in_(roles)
                )
                q = q.where(RecordingRow.recording_id.in_(parties))
        if newest_first:
            q = q.order_by(RecordingRow.started.desc(), RecordingRow.recording_id.desc())
        else:
            q = q.order_by(RecordingRow.started, RecordingRow.recording_id)
        if limit is not None:
            q = q.limit(limit)
        try:
            with Session(self.engine) as session:
                rows = session.scalars(q).all()
                ids = [r.recording_id for r in rows]
                parties: dict[str, set[tuple[str, str]]] = {i: set() for i in ids}
                for chunk in _chunks(ids, 500):
                    for p in session.scalars(
                        select(PartyRow).where(PartyRow.recording_id.in_(chunk))
                    ):
                        parties[p.recording_id].add((p.role, p.name))
                return [_recording(r, parties[r.recording_id]) for r in rows]
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot search the recordings: {exc}") from exc

    def get(self, recording_id: str) -> Recording:
        """The recording whose id is or starts with `recording_id` (at least 6 characters)."""
        if len(recording_id) < 6:
            raise ValueError(f"give at least 6 characters of a recording id, not {recording_id!r}")
        found = self.find(recording_id=recording_id, limit=2)
        if not found:
            raise KeyError(f"no recording {recording_id} / 没有录音 {recording_id}")
        if len(found) > 1:
            raise KeyError(f"{recording_id} names more than one recording; give more of it")
        return found[0]

    def export(self, recordings: Iterable[Recording], folder: Path) -> int:
        """Copy the recordings' files into `folder` with ``index.csv``; returns how many
        files were copied (a missing file is listed with an empty ``path``)."""
        folder.mkdir(parents=True, exist_ok=True)
        copied = 0
        with (folder / "index.csv").open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            for rec in recordings:
                row = {k: _text(v) for k, v in rec.json().items()}
                source = Path(rec.path)
                if source.is_file():
                    target = folder / source.name
                    shutil.copy2(source, target)
                    row["path"] = target.name
                    copied += 1
                else:
                    row["path"] = ""
                writer.writerow(row)
        return copied

    def purge(
        self, older_than: dt.datetime, *, action: str = "delete", move_to: Path | None = None
    ) -> int:
        """Delete (file and index entry) or move (file; the entry follows) every finished
        recording that started before `older_than`. Returns how many."""
        if action not in ("delete", "move"):
            raise ValueError(f"action is delete or move, not {action!r}")
        if action == "move" and move_to is None:
            raise ValueError("move needs a folder to move to")
        done = 0
        old = [r for r in self.find(until=older_than, limit=None) if r.status != "recording"]
        for rec in old:
            source = Path(rec.path)
            try:
                if action == "delete":
                    source.unlink(missing_ok=True)
                    with Session(self.engine) as session, session.begin():
                        session.execute(
                            delete(PartyRow).where(PartyRow.recording_id == rec.recording_id)
                        )
                        session.execute(
                            delete(RecordingRow).where(
                                RecordingRow.recording_id == rec.recording_id
                            )
                        )
                else:
                    assert move_to is not None
                    day = rec.started.astimezone().strftime("%Y/%m/%d")
                    target = move_to / day / source.name
                    if source.resolve() == target.resolve():
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if source.exists():
                        shutil.move(source, target)
                    with Session(self.engine) as session, session.begin():
                        session.execute(
                            update(RecordingRow)
                            .where(RecordingRow.recording_id == rec.recording_id)
                            .values(path=os.fspath(target))
                        )
            except OSError as exc:
                _log.error("retention: cannot %s %s: %s", action, source, exc)
                continue
            done += 1
        return done


def _row(rec: Recording) -> RecordingRow:
    return RecordingRow(recording_id=rec.recording_id, **_values(rec))


def _values(rec: Recording) -> dict[str, object]:
    return {
        "call_id": rec.call_id,
        "kind": rec.kind,
        "started": rec.started,
        "ended": rec.ended,
        "duration_s": rec.duration_s,
        "caller": rec.caller[:64],
        "called": rec.called[:64],
        "path": rec.path,
        "size": rec.size,
        "codec": rec.codec,
        "channels": rec.channels,
        "status": rec.status,
        "error": rec.error,
    }


def _parties(rec: Recording) -> list[PartyRow]:
    return [
        PartyRow(recording_id=rec.recording_id, role=role, name=name[:64])
        for role, name in sorted(rec.parties)
    ]


def _recording(row: RecordingRow, parties: set[tuple[str, str]]) -> Recording:
    return Recording(
        recording_id=row.recording_id,
        kind=row.kind,
        started=row.started,
        path=row.path,
        codec=row.codec,
        channels=row.channels,
        call_id=row.call_id,
        caller=row.caller,
        called=row.called,
        ended=row.ended,
        duration_s=row.duration_s,
        size=row.size,
        status=row.status,
        error=row.error,
        parties=parties,
    )


def length_on_disk(path: Path) -> tuple[float, int]:
    """Seconds and bytes of a recording file as a reader sees it (0 if it is unreadable)."""
    try:
        size = path.stat().st_size
    except OSError:
        return 0.0, 0
    try:
        if path.suffix.lower() == ".vox":  # headerless: two samples a byte, 8 kHz
            return size * 2 / 8000, size
        info = sf.info(os.fspath(path))
        return float(info.duration), size
    except (sf.LibsndfileError, RuntimeError, OSError):
        return 0.0, size


def _chunks(items: list[str], n: int) -> Iterable[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _text(v: object) -> str:
    if isinstance(v, list):
        return " ".join(str(x) for x in v)
    return "" if v is None else str(v)
