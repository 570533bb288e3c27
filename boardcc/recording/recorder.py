"""Which calls are recorded, and one array a tick to the writer (the engine's side).

The recorder listens to the engine's events (`Engine.subscribe`): when a call is answered,
a station joins it, or it joins a queue, the site's policy (`RecordingSettings`: all calls,
trunk groups, queues, agents, stations) may start its recording; when the call ends, the
recording ends. A recording hangs on the call (by call id), not on a leg, so it follows the
call across holds, transfers and conferences; the parties it meets (agents, stations,
queues, groups, channels) are added as they come and stored with it.

What is recorded is taken from the call's anchor, the leg that stays for the whole call
(the trunk; for an internal call the calling station, or whoever remains): the left channel
is what the anchor receives (the caller, after echo cancelling), the right channel what
the engine sends it (the agent, a conference's sum, a prompt or music on hold). Each tick
(`tick`) is two gathers over every recording at once and one array handed to the writer
thread (`boardcc.recording.writer`); Python per recording runs only when one starts, ends
or changes anchor. Record taps (high-impedance channels, SPEC B2) record mono whenever the
line they tap is off hook, with the same index.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from boardcc.drivers import ChannelKind, LineEvent, OffHook, OnHook
from boardcc.recording.index import Recording, RecordingIndex
from boardcc.recording.playback import PhonePlayback
from boardcc.recording.settings import RecordingSettings
from boardcc.recording.writer import RecordingWriter
from boardcc.store.cdrs import StoreError

if TYPE_CHECKING:
    from boardcc.engine import Call, Engine

_log = logging.getLogger("boardcc.recording")

I16 = npt.NDArray[np.int16]

#: Retention runs at start and then this often (engine time).
PURGE_EVERY_S = 86_400


@dataclass(slots=True)
class _Active:
    rec: Recording
    left: int  # channel whose receive audio is the left channel
    right: int  # channel whose transmit audio is the right channel
    manual: bool = False
    taps: set[int] = field(default_factory=set)


class Recorder:
    """Records the calls the site's policy names, and record taps.

    Parameters
    ----------
    engine : Engine
        The engine; the recorder attaches itself (`engine.recorder`) and subscribes.
    settings : RecordingSettings
        The site's ``recording:`` section (its folder already made absolute).
    index : RecordingIndex, optional
        Where entries go (the CDR store's database); None: files only.
    """

    def __init__(
        self,
        engine: Engine,
        settings: RecordingSettings,
        index: RecordingIndex | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.folder = Path(settings.folder)
        self.index = index
        if index is not None:
            index.recover()  # entries a killed run left open, completed from their files
        self.problems: list[str] = []
        # Codecs cost what they cost (MP3 most): a site recording many calls in one spreads
        # them over several writer threads (libsndfile runs without the GIL).
        self.writers = [
            RecordingWriter(
                index,
                fs=engine.fs,
                block=engine.block,
                sync_s=settings.sync_s,
                on_problem=self._problem,
            )
            for _ in range(settings.writers)
        ]
        self._writer_of: dict[str, RecordingWriter] = {}
        self._shares: list[tuple[RecordingWriter, tuple[str, ...], npt.NDArray[np.intp]]] = []
        self._turn = 0
        self.active: dict[str, _Active] = {}
        self.of_call: dict[str, str] = {}  # call id -> recording id
        self.of_tap: dict[int, str] = {}  # record channel -> recording id
        self._queues: dict[str, set[str]] = {}  # call id -> queues it joined (ACD events)
        self._ids: tuple[str, ...] = ()
        self._left = np.zeros(0, np.intp)
        self._right = np.zeros(0, np.intp)
        engine.recorder = self
        engine.subscribe(self._on_event)
        # Searches, decoding and retention, off the tick thread.
        self.jobs = ThreadPoolExecutor(1, thread_name_prefix="boardcc-recording-jobs")
        self.playback = PhonePlayback(self)
        engine.feature_handlers.append(self.playback.feature)
        self._next_purge = engine.now  # retention: at start, then once a day

    # -- the tick ------------------------------------------------------------------------------

    def tick(self, rx: I16, tx: I16) -> None:
        """Hand this tick's audio of every recording to the writer (engine thread)."""
        if self.engine.now >= self._next_purge:
            self._next_purge = self.engine.now + PURGE_EVERY_S * self.engine.fs
            self.jobs.submit(self.apply_retention)
        if not self._ids:
            return
        block = np.empty((len(self._ids), 2, rx.shape[1]), np.int16)
        block[:, 0] = rx[self._left]
        block[:, 1] = tx[self._right]
        if len(self._shares) == 1:
            writer, ids, _ = self._shares[0]
            writer.audio(ids, block)
            return
        for writer, ids, rows in self._shares:
            writer.audio(ids, block[rows])

    def _rebuild(self) -> None:
        self._ids = tuple(self.active)
        shares: dict[RecordingWriter, list[int]] = {}
        for row, rid in enumerate(self._ids):
            shares.setdefault(self._writer_of[rid], []).append(row)
        self._shares = [
            (w, tuple(self._ids[r] for r in rows), np.array(rows, np.intp))
            for w, rows in shares.items()
        ]
        self._left = np.fromiter((a.left for a in self.active.values()), np.intp, len(self._ids))
        self._right = np.fromiter((a.right for a in self.active.values()), np.intp, len(self._ids))

    # -- starting and stopping -----------------------------------------------------------------

    def record_call(self, call: Call, *, manual: bool = False) -> str:
        """Start recording `call` (if it is not already); returns the recording id."""
        known = self.of_call.get(call.cdr.call_id)
        if known is not None:
            if manual:
                self.active[known].manual = True
            return known
        anchor = _anchor(call)
        if anchor is None:
            raise ValueError(
                f"call {call.cdr.call_id[:8]} has no leg to record / 呼叫无可录音的通道"
            )
        rec = self._new("manual" if manual else "call", self.settings.channels == "stereo")
        rec.call_id = call.cdr.call_id
        rec.caller, rec.called = call.cdr.caller, call.cdr.called
        self._parties(rec, call)
        self.active[rec.recording_id] = _Active(rec, anchor, anchor, manual)
        self.of_call[call.cdr.call_id] = rec.recording_id
        self._open(rec)
        self._rebuild()
        self.engine._publish({"type": "recording", "event": "start", **_brief(rec)})
        _log.info(
            "录音开始 recording %s started: call %s, %s",
            rec.recording_id[:8],
            call.cdr.call_id[:8],
            rec.path,
        )
        return rec.recording_id

    def capture(self, channel: int, path: Path, codec: str) -> str:
        """Record what `channel` receives, mono, into `path`, outside the index (voicemail
        messages and greetings); ends with `stop`. Returns the recording id."""
        rec = self._new("capture", False)
        rec.path, rec.codec, rec.indexed = str(path), codec, False
        self.active[rec.recording_id] = _Active(rec, channel, channel)
        self._open(rec)
        self._rebuild()
        return rec.recording_id

    def stop(self, recording_id: str, then: Callable[[Recording], None] | None = None) -> None:
        """End a recording (its call goes on); `then(rec)` runs on the writer thread once
        the file is complete."""
        active = self.active.pop(recording_id, None)
        if active is None:
            raise ValueError(f"no recording {recording_id} in progress / 没有进行中的录音")
        rec = active.rec
        if rec.call_id is not None:
            self.of_call.pop(rec.call_id, None)
        for tap in active.taps:
            self.of_tap.pop(tap, None)
        rec.ended = self.engine.wall()
        self._rebuild()
        self._writer_of.pop(recording_id).close_recording(_copy(rec), then)
        if rec.indexed:
            self.engine._publish({"type": "recording", "event": "end", **_brief(rec)})

    def close(self, timeout: float = 10.0) -> None:
        """End every recording and stop the writer (the engine is stopping)."""
        for rid in list(self.active):
            self.stop(rid)
        self.jobs.shutdown(wait=True)
        for writer in self.writers:
            writer.close(timeout)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every writer has written what it was given; False on timeout."""
        return all(w.flush(timeout) for w in self.writers)

    def _open(self, rec: Recording) -> None:
        """Give `rec` to the next writer in turn (before it joins the gather)."""
        writer = self.writers[self._turn % len(self.writers)]
        self._turn += 1
        self._writer_of[rec.recording_id] = writer
        writer.open(_copy(rec))

    def apply_retention(self) -> int:
        """Delete or move the recordings older than the retention policy keeps them (a
        job thread: `tick` schedules it at start and once a day). Returns how many."""
        policy = self.settings.retention
        if self.index is None or policy.days <= 0:
            return 0
        cut = recording_age(policy.days, self.engine.wall())
        move_to = Path(policy.move_to) if policy.action == "move" else None
        try:
            done = self.index.purge(cut, action=policy.action, move_to=move_to)
        except (StoreError, OSError) as exc:
            _log.error("retention failed / 录音保留策略执行失败: %s", exc)
            return 0
        if done:
            _log.info(
                "retention: %d recordings older than %d days %sd", done, policy.days, policy.action
            )
        return done

    def wanted(self, call: Call) -> bool:
        """Whether the site's policy records `call` (queues are seen as the call joins)."""
        s = self.settings
        if s.all:
            return True
        group = self.engine.group_of.get(call.trunk) if call.trunk is not None else None
        if group is not None and group.name in s.trunk_groups:
            return True
        stations = {self.engine.extension_of.get(ch) for ch in call.legs}
        if stations & set(s.stations):
            return True
        if self._queues.get(call.cdr.call_id, set()) & set(s.queues):
            return True
        return bool(set(self._agents(call)) & set(s.agents))

    # -- engine events -------------------------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        call_id = event.get("call") or event.get("call_id")
        if not isinstance(call_id, str):
            return
        call = self.engine.calls.get(call_id)
        if kind == "call" and event.get("event") == "end":
            self._queues.pop(call_id, None)
            rid = self.of_call.get(call_id)
            if rid is not None:
                self.stop(rid)
            return
        if call is None:
            return
        if kind == "queue" and event.get("queue"):
            self._queues.setdefault(call_id, set()).add(str(event["queue"]))
        rid = self.of_call.get(call_id)
        if rid is not None:
            active = self.active[rid]
            self._parties(active.rec, call)
            anchor = _anchor(call)
            if anchor is not None and anchor != active.left:
                active.left = active.right = anchor
                self._rebuild()
            return
        if call.cdr.answered is not None and self.wanted(call):
            self.record_call(call)

    def line_event(self, event: LineEvent) -> None:
        """A line event of a channel no machine drives: record taps start and stop here."""
        ch = event.channel
        info = self.engine.board.channels[ch]
        if info.kind is not ChannelKind.RECORD or not self.settings.taps:
            return
        if isinstance(event, OffHook) and ch not in self.of_tap:
            rec = self._new("tap", False)
            rec.parties.add(("leg", info.name))
            if info.tap_of is not None:
                rec.parties.add(("leg", self.engine.board.channels[info.tap_of].name))
                call = self.engine.call_of.get(info.tap_of)
                if call is not None:
                    rec.call_id = call.cdr.call_id
                    rec.caller, rec.called = call.cdr.caller, call.cdr.called
                    self._parties(rec, call)
            self.active[rec.recording_id] = _Active(rec, ch, ch, taps={ch})
            self.of_tap[ch] = rec.recording_id
            self._open(rec)
            self._rebuild()
            self.engine._publish({"type": "recording", "event": "start", **_brief(rec)})
        elif isinstance(event, OnHook) and ch in self.of_tap:
            active = self.active[self.of_tap[ch]]
            tapped = info.tap_of
            call = self.engine.call_of.get(tapped) if tapped is not None else None
            if call is not None:
                self._parties(active.rec, call)
            self.stop(active.rec.recording_id)

    # -- helpers -------------------------------------------------------------------------------

    def _new(self, kind: str, stereo: bool) -> Recording:
        rid = uuid.uuid4().hex
        started = self.engine.wall()
        local = started.astimezone()
        path = (
            self.folder
            / local.strftime("%Y/%m/%d")
            / f"{local:%H%M%S}-{kind}-{rid[:8]}{self.settings.suffix}"
        )
        return Recording(
            recording_id=rid,
            kind=kind,
            started=started,
            path=str(path),
            codec=self.settings.codec,
            channels=2 if stereo else 1,
        )

    def _parties(self, rec: Recording, call: Call) -> None:
        e = self.engine
        for ch in call.legs:
            rec.parties.add(("leg", e.board.channels[ch].name))
            ext = e.extension_of.get(ch)
            if ext is not None:
                rec.parties.add(("station", ext))
                rec.parties.add(("group", e.station_group.get(ch, "default")))
        if call.trunk is not None and call.trunk in e.group_of:
            rec.parties.add(("group", e.group_of[call.trunk].name))
        for job in self._agents(call):
            rec.parties.add(("agent", job))
        for queue in self._queues.get(call.cdr.call_id, ()):
            rec.parties.add(("queue", queue))
        if not rec.caller:
            rec.caller, rec.called = call.cdr.caller, call.cdr.called

    def _agents(self, call: Call) -> list[str]:
        """Job numbers of the agents logged in at the call's stations (with the ACD)."""
        acd = getattr(self.engine, "acd", None)
        agent_at = getattr(acd, "agent_at", None)
        if agent_at is None:
            return []
        jobs = []
        for ch in call.legs:
            agent = agent_at(ch)
            job = getattr(agent, "job", None)
            if isinstance(job, str):
                jobs.append(job)
        return jobs

    def _problem(self, recording_id: str, message: str) -> None:
        """From the writer thread: published as an alarm on the engine's thread."""
        self.problems.append(message)
        self.engine.submit(
            lambda: self.engine._publish(
                {
                    "type": "alarm",
                    "what": f"recording failed / 录音失败: {message}",
                    "recording_id": recording_id,
                }
            )
        )


def _anchor(call: Call) -> int | None:
    """The leg that stays with the call: its trunk, else the calling station, else the
    first station left in it."""
    if call.trunk is not None:
        return call.trunk
    if call.caller_station is not None:
        return call.caller_station
    return call.stations[0] if call.stations else None


def _copy(rec: Recording) -> Recording:
    return dataclasses.replace(rec, parties=set(rec.parties))


def _brief(rec: Recording) -> dict[str, Any]:
    return {
        "recording_id": rec.recording_id,
        "call_id": rec.call_id,
        "kind": rec.kind,
        "path": rec.path,
    }


def recording_age(days: int, now: dt.datetime | None = None) -> dt.datetime:
    """The start time before which recordings are older than `days` days."""
    return (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
