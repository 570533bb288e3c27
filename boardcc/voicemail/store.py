"""Voicemail boxes and messages: held in memory for the engine, kept in the database.

The engine's thread reads and changes the boxes in memory only (a menu never waits for the
database); every change is also queued to one worker thread that writes it to the tables
of `boardcc.store.recording_models`, in order. `load` reads everything once, at start, and
first settles what a killed run left: a message still being recorded (folder
``recording``) is kept as new when its file holds at least the minimum length (the file is
whole up to its last sync), else deleted with its file.

PINs are stored as PBKDF2-HMAC-SHA256 hashes with a random salt (``pbkdf2$rounds$salt$hash``),
compared in constant time; a box without a PIN cannot be opened from a phone.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from boardcc.recording.index import length_on_disk
from boardcc.store.recording_models import MessageRow, VoicemailBoxRow

__all__ = ["Message", "VoicemailStore", "check_pin", "hash_pin"]

_log = logging.getLogger("boardcc.voicemail")

PIN_ROUNDS = 200_000


def hash_pin(pin: str, *, rounds: int = PIN_ROUNDS) -> str:
    """A salted PBKDF2 hash of a PIN of 4 to 12 digits."""
    if not re.fullmatch(r"[0-9]{4,12}", pin):
        raise ValueError("a PIN is 4 to 12 digits / 密码为4到12位数字")
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, rounds)
    b64 = base64.b64encode
    return f"pbkdf2${rounds}${b64(salt).decode()}${b64(digest).decode()}"


def check_pin(pin: str, stored: str) -> bool:
    """Whether `pin` matches `stored` (False for no PIN or a damaged hash)."""
    try:
        scheme, rounds, salt, digest = stored.split("$")
        if scheme != "pbkdf2":
            return False
        want = base64.b64decode(digest, validate=True)
        got = hashlib.pbkdf2_hmac(
            "sha256", pin.encode(), base64.b64decode(salt, validate=True), int(rounds)
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, want)


@dataclass(slots=True)
class Message:
    message_id: str
    box: str
    folder: str  # new, old (recording while the caller speaks)
    received: dt.datetime
    caller: str
    call_id: str | None
    path: str
    duration_s: float = 0.0
    size: int = 0

    def json(self) -> dict[str, object]:
        return {
            "message_id": self.message_id,
            "box": self.box,
            "folder": self.folder,
            "received": self.received.isoformat(),
            "caller": self.caller,
            "call_id": self.call_id,
            "duration_s": round(self.duration_s, 3),
            "path": self.path,
            "size": self.size,
        }


@dataclass(slots=True)
class _Box:
    pin_hash: str = ""
    greeting_unavailable: str = ""
    greeting_busy: str = ""


class VoicemailStore:
    """Boxes and messages in memory, written through to the database off the caller's thread.

    Parameters
    ----------
    engine : sqlalchemy.Engine, optional
        A migrated database (the CDR store's); None keeps everything in memory only.
    """

    def __init__(self, engine: Engine | None) -> None:
        self.engine = engine
        self.boxes: dict[str, _Box] = {}
        self.messages: dict[str, Message] = {}
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="boardcc-voicemail")

    # -- reading, once ---------------------------------------------------------------------

    def load(self, min_message_s: float) -> int:
        """Read boxes and messages; settle messages a killed run was recording. Returns how
        many such messages were kept."""
        if self.engine is None:
            return 0
        kept = 0
        with Session(self.engine) as session, session.begin():
            for row in session.scalars(select(VoicemailBoxRow)):
                self.boxes[row.box] = _Box(
                    row.pin_hash, row.greeting_unavailable, row.greeting_busy
                )
            for m in session.scalars(select(MessageRow)):
                if m.folder == "recording":
                    seconds, size = length_on_disk(Path(m.path))
                    if seconds < max(min_message_s, 0.1):
                        Path(m.path).unlink(missing_ok=True)
                        session.delete(m)
                        continue
                    m.folder, m.duration_s, m.size = "new", seconds, size
                    kept += 1
                    _log.warning("voicemail %s was being recorded at a crash: kept", m.path)
                self.messages[m.message_id] = Message(
                    m.message_id,
                    m.box,
                    m.folder,
                    m.received,
                    m.caller,
                    m.call_id,
                    m.path,
                    m.duration_s,
                    m.size,
                )
        return kept

    # -- queries (memory) ----------------------------------------------------------------------

    def box(self, name: str) -> _Box:
        return self.boxes.setdefault(name, _Box())

    def listing(self, box: str, folder: str | None = None) -> list[Message]:
        """The box's messages, new first, each folder oldest first."""
        out = [
            m
            for m in self.messages.values()
            if m.box == box and m.folder != "recording" and (folder is None or m.folder == folder)
        ]
        return sorted(out, key=lambda m: (m.folder != "new", m.received))

    def count(self, box: str, folder: str) -> int:
        return sum(1 for m in self.messages.values() if m.box == box and m.folder == folder)

    # -- changes (memory now, database behind) -------------------------------------------------

    def add(self, message: Message) -> None:
        self.messages[message.message_id] = message
        self._write(lambda s: s.add(_row(message)))

    def set_folder(self, message: Message, folder: str) -> None:
        message.folder = folder
        self._update(message)

    def finished(self, message: Message, duration_s: float, size: int) -> None:
        message.duration_s, message.size = duration_s, size
        self._update(message)

    def remove(self, message: Message) -> None:
        self.messages.pop(message.message_id, None)
        path = Path(message.path)

        def drop(session: Session) -> None:
            session.execute(delete(MessageRow).where(MessageRow.message_id == message.message_id))
            path.unlink(missing_ok=True)

        self._write(drop)

    def set_pin(self, box: str, pin: str) -> None:
        self.box(box).pin_hash = hash_pin(pin)
        self._save_box(box)

    def set_greeting(self, box: str, which: str, path: str) -> None:
        setattr(self.box(box), f"greeting_{which}", path)
        self._save_box(box)

    def flush(self) -> None:
        """Wait until every change so far is in the database."""
        self._worker.submit(lambda: None).result()

    def close(self) -> None:
        self._worker.shutdown(wait=True)

    def _update(self, message: Message) -> None:
        values = {"folder": message.folder, "duration_s": message.duration_s, "size": message.size}
        self._write(
            lambda s: s.execute(
                update(MessageRow)
                .where(MessageRow.message_id == message.message_id)
                .values(**values)
            )
        )

    def _save_box(self, name: str) -> None:
        b = self.boxes[name]
        row = VoicemailBoxRow(
            box=name,
            pin_hash=b.pin_hash,
            greeting_unavailable=b.greeting_unavailable,
            greeting_busy=b.greeting_busy,
        )
        self._write(lambda s: s.merge(row))

    def _write(self, change: Callable[[Session], object]) -> None:
        if self.engine is None:
            return
        engine = self.engine

        def run() -> None:
            try:
                with Session(engine) as session, session.begin():
                    change(session)
            except (SQLAlchemyError, OSError) as exc:
                _log.error("voicemail: database not updated / 语音信箱未写入数据库: %s", exc)

        self._worker.submit(run)


def _row(m: Message) -> MessageRow:
    return MessageRow(
        message_id=m.message_id,
        box=m.box,
        folder=m.folder,
        received=m.received,
        caller=m.caller[:64],
        call_id=m.call_id,
        duration_s=m.duration_s,
        path=m.path,
        size=m.size,
    )
