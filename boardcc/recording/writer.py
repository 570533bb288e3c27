"""The recordings' writer thread: files and index entries, off the tick thread.

The engine's tick hands over one array a tick for all recordings at once (`audio`: the ids
of the recordings and an int16 block ``(recordings, 2, samples)``, left = the line, right =
what was sent to it) and small messages when a recording opens, gains a party or closes.
All go through one queue, so they stay in order. The thread gathers ticks until it holds
`sync_s` of audio, then writes each recording's share in one call (ticks with the same set
of recordings are stacked and sliced per recording, so Python runs once per recording per
sync, not per tick) and has each file made whole on disk (`RecordingFile.sync`).

A write the disk refuses (full, or failing) ends that recording's file where it was: the
file stays readable up to there, the index says ``failed`` with the reason and the time,
`on_problem` is told (the engine publishes an alarm) and the calls go on. New recordings
are tried again as they come, so recording resumes when space is freed.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.exc import SQLAlchemyError

from boardcc.dsp import AudioFileError
from boardcc.recording.files import RecordingFile
from boardcc.recording.index import Recording, RecordingIndex

_log = logging.getLogger("boardcc.recording")

I16 = npt.NDArray[np.int16]


@dataclass(slots=True)
class _Open:
    rec: Recording
    file: RecordingFile | None  # None once the disk refused it


class RecordingWriter:
    """Writes recordings from a thread of its own.

    Parameters
    ----------
    index : RecordingIndex or None
        Where the index entries go (None: files only, for tools and tests).
    fs, block : int
        The board's rate and samples per tick.
    sync_s : float
        Audio gathered before each write and sync.
    on_problem : callable, optional
        ``on_problem(recording_id, message)`` from the writer thread when a recording fails.
    """

    def __init__(
        self,
        index: RecordingIndex | None,
        *,
        fs: int = 8000,
        block: int = 160,
        sync_s: float = 0.5,
        on_problem: Callable[[str, str], None] | None = None,
    ) -> None:
        self.index = index
        self.fs, self.block = fs, block
        self._sync_blocks = max(1, round(sync_s * fs / block))
        self._on_problem = on_problem
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._files: dict[str, _Open] = {}
        self._ticks: list[tuple[tuple[str, ...], I16]] = []
        self._idle = threading.Event()
        self._idle.set()
        self._pending = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="boardcc-recorder", daemon=True)
        self._thread.start()
        self._closed = False

    # -- from the tick thread -----------------------------------------------------------------

    def open(self, rec: Recording) -> None:
        self._put("open", rec)

    def audio(self, ids: tuple[str, ...], block: I16) -> None:
        """One tick of every recording: ``block[i]`` is recording ``ids[i]``'s
        ``(2, samples)``. The block is the writer's from now on."""
        self._put("audio", (ids, block))

    def close_recording(
        self, rec: Recording, then: Callable[[Recording], None] | None = None
    ) -> None:
        """Finish `rec` (its `ended` and parties are final); `then(rec)` runs on the writer
        thread once the file is complete, with its final length and size."""
        self._put("close", (rec, then))

    def _put(self, what: str, item: Any) -> None:
        with self._lock:
            self._pending += 1
            self._idle.clear()
        self._queue.put((what, item))

    # -- control ------------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything handed over so far is written; False on timeout."""
        self._put("flush", None)
        return self._idle.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what waits, finish every open file and stop the thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._put("stop", None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            _log.error("the recording writer did not finish in %.0f s", timeout)

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            what, item = self._queue.get()
            try:
                if what == "audio":
                    self._ticks.append(item)
                    if len(self._ticks) >= self._sync_blocks:
                        self._write_ticks()
                else:
                    self._write_ticks()
                    if what == "open":
                        self._open(item)
                    elif what == "close":
                        rec, then = item
                        self._close(rec)
                        if then is not None:
                            then(rec)
                    elif what == "stop":
                        for rid in list(self._files):
                            self._close(self._files[rid].rec)
                        return
            except Exception:  # a bug here must not stop every other recording
                _log.exception("recording writer: %s failed", what)
            finally:
                with self._lock:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.set()

    def _open(self, rec: Recording) -> None:
        try:
            Path(rec.path).parent.mkdir(parents=True, exist_ok=True)
            file: RecordingFile | None = RecordingFile(rec.path, rec.codec, rec.channels, self.fs)
        except (AudioFileError, OSError) as exc:
            file = None
            self._failed(rec, f"{exc}{_disk_note(Path(rec.path))}")
        self._files[rec.recording_id] = _Open(rec, file)
        self._index("opened", rec)

    def _write_ticks(self) -> None:
        ticks, self._ticks = self._ticks, []
        written: set[str] = set()
        start = 0
        while start < len(ticks):
            ids = ticks[start][0]
            end = start + 1
            while end < len(ticks) and ticks[end][0] == ids:
                end += 1
            stacked = np.stack([block for _, block in ticks[start:end]], axis=1)
            # (recordings, ticks, 2, samples): one recording's run is a reshape away.
            for i, rid in enumerate(ids):
                slot = self._files.get(rid)
                if slot is None or slot.file is None:
                    continue
                pair = stacked[i].transpose(1, 0, 2).reshape(2, -1)
                if slot.file.channels == 1:
                    mixed = pair[0].astype(np.int32) + pair[1]
                    samples = np.clip(mixed, -32768, 32767).astype(np.int16)[None, :]
                else:
                    samples = pair
                try:
                    slot.file.write(samples)
                    written.add(rid)
                except AudioFileError as exc:
                    self._give_up(slot, exc)
            start = end
        for rid in written:
            slot = self._files[rid]
            if slot.file is not None:
                slot.file.sync()

    def _give_up(self, slot: _Open, exc: AudioFileError) -> None:
        file = slot.file
        assert file is not None
        file.sync()
        file.close()
        slot.file = None
        at = file.frames / self.fs
        slot.rec.duration_s = at
        slot.rec.size = file.size
        self._failed(slot.rec, f"{exc}{_disk_note(file.path)}; kept {at:.1f} s")

    def _failed(self, rec: Recording, message: str) -> None:
        rec.status = "failed"
        rec.error = message
        _log.error("recording %s stopped / 录音中断: %s", rec.recording_id[:8], message)
        if self._on_problem is not None:
            try:
                self._on_problem(rec.recording_id, message)
            except Exception:
                _log.exception("on_problem failed")

    def _close(self, rec: Recording) -> None:
        slot = self._files.pop(rec.recording_id, None)
        if slot is None:
            return
        if slot.file is not None:
            slot.file.close()
            rec.duration_s = slot.file.frames / self.fs
            rec.size = slot.file.size
            rec.status = "done"
        else:
            rec.duration_s, rec.size = slot.rec.duration_s, slot.rec.size
            rec.status, rec.error = "failed", slot.rec.error
        if rec.ended is None:
            rec.ended = rec.started + dt.timedelta(seconds=rec.duration_s)
        self._index("closed", rec)

    def _index(self, how: str, rec: Recording) -> None:
        if self.index is None or not rec.indexed:
            return
        try:
            getattr(self.index, how)(rec)
        except SQLAlchemyError as exc:  # the file is safe; recovery can redo the entry
            _log.error("recording %s: index not written: %s", rec.recording_id[:8], exc)


def _disk_note(path: Path) -> str:
    """ " (disk full / 磁盘已满)" when the recording's disk has (almost) no room left."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return ""
    return f" (disk full: {free} bytes free / 磁盘已满)" if free < 1 << 20 else ""
