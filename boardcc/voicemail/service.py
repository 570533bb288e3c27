"""Voicemail on the engine: callers leave messages, owners hear them on their desk phones.

`Voicemail.deposit` (the hook of the IVR's voicemail node, of the ``voicemail`` rule step
and of queue overflows) takes a trunk's call: the box's greeting (its own, recorded by
phone, else the site's prompt ``vm_unavailable``/``vm_busy``), a beep, the caller's message
until ``#``, the length limit or hang-up, then ``vm_review``: 1 keeps it, 2 plays it back,
3 records again. A kept message is new in its box; the stations the box notifies get
message waiting — stutter dial tone when lifted, and an FSK message-waiting signal (ETSI/
Bell 202 MDMF type 0x82) sent on hook to phones with a lamp.

On a desk phone the feature code (``*6``) opens the station's box after its PIN: 1 plays
the messages (new first; after each, 7 deletes, 9 saves, 8 calls the caller back, # goes
on), 2 and 3 record the unavailable and busy greetings, 4 sets a new PIN. The same
operations are methods here for the API (`messages`, `delete`, `save`, `call_back`,
`play`, `set_pin`).

Each session is a small state machine driven by the engine's events for its channel:
prompt ends (timers named ``vm:...``), digits, the call's end or the phone's hang-up.
Messages are recorded by the recorder's writer thread (`Recorder.capture`), boxes live in
`VoicemailStore` (memory, written through to the database off the tick thread).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine as Database

from boardcc.cdr import Disposition, HungUpBy
from boardcc.dsp import AudioFileError, caller_id_fsk, read_audio
from boardcc.machines import StationState, TrunkState
from boardcc.machines import events as ev
from boardcc.recording.index import Recording
from boardcc.recording.settings import SUFFIX, VoicemailSettings
from boardcc.voicemail.store import Message, VoicemailStore, check_pin

if TYPE_CHECKING:
    from boardcc.engine import Engine

_log = logging.getLogger("boardcc.voicemail")

TIMER = "vm:"
#: Prompts voicemail plays when the site names them (a missing one is skipped).
PROMPTS = {
    "vm_unavailable": "greeting when nobody answers: leave a message after the beep",
    "vm_busy": "greeting when the box's owner is busy",
    "vm_review": "1 to keep the message, 2 to listen to it, 3 to record it again",
    "vm_saved": "saved, thank you, goodbye",
    "vm_pin": "your PIN, then #",
    "vm_menu": "1 messages, 2 unavailable greeting, 3 busy greeting, 4 new PIN",
    "vm_message_menu": "7 delete, 9 save, 8 call back, # next message",
    "vm_none": "no more messages",
}
BEEP = "vm_beep"
#: A session's state while a prompt plays, by what follows it; otherwise the state that
#: follows already holds, so that keys cut a menu prompt short.
_WHILE = {
    "beep": "greeting",
    "record": "beep",
    "greeting_record": "beep",
    "message_menu": "message",
    "review_again": "listening",
    "goodbye": "prompt",
}
MAX_PIN_TRIES = 3


@dataclass(slots=True)
class _Session:
    kind: str  # deposit, menu
    channel: int
    box: str
    state: str = ""
    call_id: str | None = None
    greeting: str = "unavailable"
    capture: str | None = None  # recording id while recording
    message: Message | None = None
    written: bool = False  # the message's file is complete (it can be played back)
    then: str = ""  # what to do when the current prompt ends
    digits: str = ""
    tries: int = 0
    queue: list[Message] = field(default_factory=list)
    current: Message | None = None


class Voicemail:
    """Voicemail boxes on an engine (`engine.voicemail`).

    Parameters
    ----------
    engine : Engine
        With a recorder attached (`boardcc.recording.recorder.Recorder`): messages are
        recorded by its writer.
    settings : VoicemailSettings
        The site's ``voicemail:`` section (its folder absolute).
    database : sqlalchemy.Engine, optional
        The migrated database (the CDR store's); None keeps boxes in memory only.
    """

    def __init__(
        self, engine: Engine, settings: VoicemailSettings, database: Database | None = None
    ) -> None:
        if engine.recorder is None:
            raise ValueError("voicemail needs the engine's recorder (boardcc.recording)")
        self.engine, self.settings = engine, settings
        self.folder = Path(settings.folder)
        self.store = VoicemailStore(database)
        self.store.load(settings.min_message_s)
        self.sessions: dict[int, _Session] = {}
        self.lamp: dict[int, bool] = {}  # station -> message waiting as last signalled
        # A message is kept or dropped once both its fate and its file's length are known.
        self._decided: dict[str, str] = {}  # message id -> keep, discard
        self._complete: set[str] = set()  # message ids whose file is written
        mixer = engine.mixer
        t = np.arange(round(0.4 * engine.fs)) / engine.fs
        mixer.add_prompt(BEEP, 8000 * np.sin(2 * np.pi * 1000 * t))
        for on in (True, False):
            mixer.add_prompt(
                f"vm_mwi_{'on' if on else 'off'}",
                caller_id_fsk(message_waiting=on, format="mwi", fs=engine.fs),
            )
        engine.voicemail = self
        engine.feature_handlers.append(self._feature)
        engine.subscribe(self._on_event)
        self._refresh_lamps()

    # -- the hook: a caller leaves a message ---------------------------------------------------

    def deposit(self, channel: int, box: str, greeting: str | None = None) -> None:
        """Take the caller on trunk `channel` to `box` (see docs/recording.md).

        Raises
        ------
        ValueError
            No such box, no inbound call on the channel, or the box is full; nothing changed.
        """
        e = self.engine
        spec = self.settings.box(box)
        if spec is None:
            raise ValueError(f"no voicemail box {box!r} / 没有语音信箱 {box}")
        if greeting is None:  # the owner's phone in use: the busy greeting
            greeting = "busy" if self._owner_busy(box) else "unavailable"
        if greeting not in ("unavailable", "busy"):
            raise ValueError(f"greeting is unavailable or busy, not {greeting!r}")
        call = e.call_of.get(channel)
        if call is None or call.trunk != channel:
            raise ValueError(f"no call on trunk {channel} / 外线 {channel} 没有呼叫")
        limit = spec.max_messages or self.settings.max_messages
        if len(self.store.listing(box)) >= limit:
            raise ValueError(f"voicemail box {box} is full ({limit}) / 语音信箱 {box} 已满")
        now = e.now
        if e.machines[channel].state is TrunkState.WAIT_ANSWER:
            e.feed(channel, ev.Answer(now))
            e._answered(call, now)
        # Whatever was playing (an IVR prompt) ends here, and so do the rule's steps: the
        # call is voicemail's until it ends.
        e.quiet(channel)
        call.steps = None
        call.step = "voicemail"
        call.cdr.route += f": voicemail {box}"
        s = _Session("deposit", channel, box, call_id=call.cdr.call_id, greeting=greeting)
        self.sessions[channel] = s
        _log.info("语音信箱 voicemail %s takes the call", box, extra=e._extra(channel, "voicemail"))
        own = getattr(self.store.box(box), f"greeting_{greeting}")
        self._play(s, self._file_prompt(own) if own else f"vm_{greeting}", "beep")

    # -- engine events -------------------------------------------------------------------------

    def timer(self, channel: int, name: str, at: int) -> None:
        s = self.sessions.get(channel)
        if s is None:
            return
        if name == TIMER + "played":
            self._next(s, s.then)
        elif name == TIMER + "limit" and s.state == "recording":
            self._stop_recording(s, "review")

    def digit(self, channel: int, digit: str) -> bool:
        """A key on a channel voicemail owns; False if it owns none."""
        s = self.sessions.get(channel)
        if s is None:
            return False
        if s.kind == "deposit":
            self._deposit_key(s, digit)
        else:
            self._menu_key(s, digit)
        return True

    def off_hook(self, channel: int) -> None:
        """A desk phone lifted: stutter dial tone while its boxes hold new messages."""
        if self._waiting(channel):
            self.engine.mixer.tone(channel, "stutter", self.engine.now)

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "call" and event.get("event") == "end":
            for s in list(self.sessions.values()):
                if s.call_id == event.get("call_id"):
                    self._hung_up(s)
        elif kind == "agent":  # logged in or out somewhere: agent boxes' lamps move
            self._refresh_lamps()
        elif kind == "state" and event.get("state") == "IDLE":
            ch = event["channel"]
            s = self.sessions.get(ch)
            if s is not None and s.kind == "menu":
                self._hung_up(s)
            if ch in self._notified() or self.lamp.get(ch):
                self._refresh_lamps()

    # -- deposit -------------------------------------------------------------------------------

    def _deposit_key(self, s: _Session, digit: str) -> None:
        if s.state == "greeting" and digit == "#":  # skip the greeting
            self._play(s, BEEP, "record")
        elif s.state == "recording" and digit == "#":
            self._stop_recording(s, "review")
        elif s.state == "review":
            if digit == "1":
                self._decide(s.message, "keep")
                self._play(s, "vm_saved", "goodbye")
            elif digit == "2":
                s.state = "listening"
                if s.written:
                    self._play_message(s)
            elif digit == "3":
                self._decide(s.message, "discard")
                s.message, s.written = None, False
                self._play(s, BEEP, "record")

    def _record(self, s: _Session, greeting: str | None = None) -> None:
        e = self.engine
        assert e.recorder is not None
        now = e.wall()
        local = now.astimezone()
        name = f"{local:%H%M%S}-{uuid.uuid4().hex[:8]}"
        folder = self.folder / _safe(s.box) / ("greetings" if greeting else local.strftime("%Y/%m"))
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ".wav" if greeting else SUFFIX[self.settings.codec]
        path = folder / (f"{greeting}-{name}{suffix}" if greeting else f"{name}{suffix}")
        codec = "pcm16" if greeting else self.settings.codec
        s.capture = e.recorder.capture(s.channel, path, codec)
        s.state = "recording"
        s.written = False
        call = e.calls.get(s.call_id or "")
        s.message = Message(
            message_id=uuid.uuid4().hex,
            box=s.box,
            folder="recording",
            received=now,
            caller=call.cdr.caller if call else e.extension_of.get(s.channel, ""),
            call_id=s.call_id,
            path=str(path),
        )
        if greeting:
            s.message.folder = f"greeting:{greeting}"
        else:
            self.store.add(s.message)
        limit = self.settings.max_message_s
        e._start_timer(s.channel, TIMER + "limit", e.now + round(limit * e.fs))

    def _stop_recording(self, s: _Session, then: str) -> None:
        e = self.engine
        assert e.recorder is not None and s.capture is not None
        e._cancel_timer(s.channel, TIMER + "limit")
        message = s.message
        assert message is not None

        def written(rec: Recording) -> None:  # the writer thread
            e.submit(lambda: self._written(s, message, rec))

        e.recorder.stop(s.capture, then=written)
        s.capture = None
        if then == "review":
            self._play(s, "vm_review", "review")
        else:
            s.state = then

    def _written(self, s: _Session, message: Message, rec: Recording) -> None:
        """The message's file is complete (engine thread)."""
        if message.folder.startswith("greeting:"):
            which = message.folder.split(":", 1)[1]
            if rec.status == "done" and rec.duration_s > 0:
                self.store.set_greeting(s.box, which, rec.path)
            return
        self.store.finished(message, rec.duration_s, rec.size)
        self._complete.add(message.message_id)
        if s.message is message:
            s.written = True
            if s.state == "listening":
                self._play_message(s)
        self._settle(message)

    def _decide(self, message: Message | None, decision: str) -> None:
        if message is not None:
            self._decided.setdefault(message.message_id, decision)
            self._settle(message)

    def _settle(self, message: Message) -> None:
        mid = message.message_id
        if mid not in self._complete or mid not in self._decided:
            return
        self._complete.discard(mid)
        decision = self._decided.pop(mid)
        if decision == "keep" and message.duration_s >= self.settings.min_message_s:
            self.store.set_folder(message, "new")
            _log.info("语音留言 new voicemail in %s: %.1f s", message.box, message.duration_s)
            new = self._new(message.box)
            self.engine._publish(
                {"type": "voicemail", "event": "new", **message.json(), "new": new}
            )
            self._refresh_lamps()
        else:
            self.store.remove(message)

    def _play_message(self, s: _Session) -> None:
        assert s.message is not None
        self._play(s, self._file_prompt(s.message.path), "review_again")

    def _hung_up(self, s: _Session) -> None:
        """The caller or the phone left: a message being recorded or reviewed is kept."""
        self.sessions.pop(s.channel, None)
        self.engine._cancel_timer(s.channel, TIMER + "played")
        if s.capture is not None:
            self._stop_recording(s, "gone")
        if s.kind == "deposit":
            self._decide(s.message, "keep")

    # -- the desk phone's menu -----------------------------------------------------------------

    def _feature(self, channel: int, number: str, at: int) -> bool:
        if number != self.settings.feature_code:
            return False
        e = self.engine
        box = self._box_of_station(channel)
        if box is None or not self.store.box(box).pin_hash:
            why = "no box" if box is None else f"box {box} has no PIN set"
            _log.info("语音信箱 voicemail menu refused: %s", why, extra=e._extra(channel, "vm"))
            e.feed(channel, ev.Refuse(at))
            return True
        s = _Session("menu", channel, box)
        self.sessions[channel] = s
        e.quiet(channel)
        self._play(s, "vm_pin", "pin")
        return True

    def _menu_key(self, s: _Session, digit: str) -> None:
        if s.state == "pin" or s.state == "new_pin":
            if digit != "#":
                s.digits += digit
                return
            entered, s.digits = s.digits, ""
            if s.state == "new_pin":
                try:
                    self.store.set_pin(s.box, entered)
                except ValueError:
                    self._play(s, "vm_pin", "new_pin")
                    return
                self._play(s, "vm_saved", "menu")
            elif check_pin(entered, self.store.box(s.box).pin_hash):
                self._play(s, "vm_menu", "menu")
            else:
                s.tries += 1
                if s.tries >= MAX_PIN_TRIES:
                    self.sessions.pop(s.channel, None)
                    self.engine.feed(s.channel, ev.Refuse(self.engine.now))
                else:
                    self._play(s, "vm_pin", "pin")
        elif s.state == "menu":
            if digit == "1":
                s.queue = self.store.listing(s.box)
                self._next_message(s)
            elif digit in "23":
                which = "unavailable" if digit == "2" else "busy"
                s.greeting = which
                self._play(s, BEEP, "greeting_record")
            elif digit == "4":
                self._play(s, "vm_pin", "new_pin")
        elif s.state == "recording" and digit == "#":
            self._stop_recording(s, "menu")
            self._play(s, "vm_saved", "menu")
        elif s.state in ("message", "message_menu") and s.current is not None:
            m = s.current
            if digit == "7":
                self.store.remove(m)
                self._refresh_lamps()
                self._next_message(s)
            elif digit == "9":
                self.store.set_folder(m, "old")
                self._refresh_lamps()
                self._next_message(s)
            elif digit == "8" and m.caller:
                self._call_back_from_phone(s, m)
            elif digit == "#":
                self._next_message(s)
            elif digit == "*":
                self._play(s, "vm_menu", "menu")

    def _next_message(self, s: _Session) -> None:
        if not s.queue:
            s.current = None
            self._play(s, "vm_none", "menu")
            return
        s.current = s.queue.pop(0)
        self._play(s, self._file_prompt(s.current.path), "message_menu")
        s.state = "message"

    def _call_back_from_phone(self, s: _Session, m: Message) -> None:
        """Leave the menu and dial the caller as if the agent had dialled the number."""
        e = self.engine
        self.sessions.pop(s.channel, None)
        e._cancel_timer(s.channel, TIMER + "played")
        group = e.station_group.get(s.channel, "default")
        prefix = next((r.prefix for r in e.config.outbound if r.station_group == group), "")
        internal = m.caller in e.station_at
        e._on_dialled(s.channel, {"number": m.caller if internal else prefix + m.caller}, e.now)

    # -- the API's side ------------------------------------------------------------------------

    def messages(self, box: str) -> list[dict[str, object]]:
        self._need_box(box)
        return [m.json() for m in self.store.listing(box)]

    def delete(self, message_id: str) -> None:
        self.store.remove(self._message(message_id))
        self._refresh_lamps()

    def save(self, message_id: str) -> None:
        self.store.set_folder(self._message(message_id), "old")
        self._refresh_lamps()

    def call_back(self, message_id: str, station: str) -> str:
        """Soft-dial the message's caller from `station` (the agent lifts, the engine
        dials); returns the call id."""
        m = self._message(message_id)
        if not m.caller:
            raise ValueError("the message has no caller number / 留言没有主叫号码")
        return self.engine.dial(station, m.caller)

    def play(self, message_id: str, channel: int) -> None:
        """Play a message to a desk phone that is off hook and not in a call."""
        m = self._message(message_id)
        machine = self.engine.machines.get(channel)
        if machine is None or machine.state is not StationState.CALLING:
            raise ValueError(f"channel {channel} is not a lifted desk phone / 话机未摘机")
        self.engine.mixer.prompt(channel, self._file_prompt(m.path), self.engine.now)
        if m.folder == "new":
            self.save(message_id)

    def set_pin(self, box: str, pin: str) -> None:
        self._need_box(box)
        self.store.set_pin(box, pin)

    def close(self) -> None:
        self.store.close()

    # -- helpers -------------------------------------------------------------------------------

    def _play(self, s: _Session, prompt: str, then: str) -> None:
        """Play `prompt` on the session's channel, then go to `then` (at once if the site
        has no such prompt)."""
        e = self.engine
        s.then = then
        if not e.mixer.has_prompt(prompt):
            self._next(s, then)
            return
        s.state = _WHILE.get(then, then)
        length = e.mixer.prompt(s.channel, prompt, e.now)
        e._start_timer(s.channel, TIMER + "played", e.now + length)

    def _next(self, s: _Session, step: str) -> None:
        if s.channel not in self.sessions:
            return
        e = self.engine
        if step == "beep":
            self._play(s, BEEP, "record")
        elif step == "record":
            self._record(s)
        elif step == "greeting_record":
            self._record(s, greeting=s.greeting)
        elif step in ("review", "review_again"):
            s.state = "review"
            if step == "review_again":
                self._play(s, "vm_review", "review")
        elif step == "goodbye":
            self.sessions.pop(s.channel, None)
            call = e.calls.get(s.call_id or "")
            if call is not None:
                e._end(call, Disposition.ANSWERED, HungUpBy.ENGINE, e.now)
        elif step == "message_menu":
            if s.current is not None and s.current.folder == "new":
                self.store.set_folder(s.current, "old")  # heard to the end
                self._refresh_lamps()
            self._play(s, "vm_message_menu", "await_key")
            s.state = "message_menu"
        elif step == "await_key":
            s.state = "message_menu"
        else:  # menu, pin, new_pin
            s.state = step

    def _file_prompt(self, path: str) -> str:
        """A recorded file as a prompt of the mixer, read once (a bad file: silence)."""
        p = Path(path)
        try:
            key = f"file:{p}:{p.stat().st_mtime_ns}"
        except OSError:
            return "vm_missing"
        mixer = self.engine.mixer
        if not mixer.has_prompt(key):
            try:
                mixer.add_prompt(key, read_audio(p, fs=self.engine.fs).samples[0])
            except AudioFileError as exc:
                _log.error("voicemail: %s", exc)
                return "vm_missing"
        return key

    def _owner_busy(self, box: str) -> bool:
        """Whether the box's owner is on the phone: its extension's station, or the phone
        its agent is logged in at, is not idle."""
        e = self.engine
        ch = e.station_at.get(box)
        if box.startswith("agent:"):
            agents = getattr(getattr(e, "acd", None), "agents", {})
            ch = getattr(agents.get(box[6:]), "channel", None)
        return ch is not None and e.machines[ch].state is not StationState.IDLE

    def _box_of_station(self, channel: int) -> str | None:
        """The box a desk phone's menu opens: its extension's, the box of the agent logged
        in there, else the first box it is notified of."""
        ext = self.engine.extension_of.get(channel)
        if ext is None:
            return None
        if self.settings.box(ext) is not None:
            return ext
        acd = getattr(self.engine, "acd", None)
        agent = acd.agent_at(channel) if acd is not None else None
        if agent is not None and self.settings.box(f"agent:{agent.job}") is not None:
            return f"agent:{agent.job}"
        return next((b.box for b in self.settings.boxes if ext in b.notify), None)

    def _need_box(self, box: str) -> None:
        if self.settings.box(box) is None:
            raise ValueError(f"no voicemail box {box!r} / 没有语音信箱 {box}")

    def _message(self, message_id: str) -> Message:
        m = self.store.messages.get(message_id)
        if m is None or m.folder not in ("new", "old"):
            raise ValueError(f"no voicemail message {message_id} / 没有该留言")
        return m

    def _new(self, box: str) -> int:
        return self.store.count(box, "new")

    def _notified(self) -> dict[int, list[str]]:
        """Station channel -> the boxes whose messages it shows."""
        out: dict[int, list[str]] = {}
        agents = getattr(getattr(self.engine, "acd", None), "agents", {})
        for b in self.settings.boxes:
            channels = [self.engine.station_at.get(ext) for ext in b.notify]
            if b.box.startswith("agent:"):  # and the phone the agent is logged in at
                channels.append(getattr(agents.get(b.box[6:]), "channel", None))
            for ch in channels:
                if ch is not None and b.box not in out.get(ch, []):
                    out.setdefault(ch, []).append(b.box)
        return out

    def _waiting(self, channel: int) -> bool:
        return any(self._new(b) for b in self._notified().get(channel, []))

    def _refresh_lamps(self) -> None:
        """Send FSK message waiting on or off to each idle notified phone whose lamp is
        wrong; a busy phone gets it when it is back on hook."""
        e = self.engine
        lit = {ch for ch, on in self.lamp.items() if on}  # a phone an agent has left, too
        for ch in set(self._notified()) | lit:
            want = self._waiting(ch)
            if self.lamp.get(ch, False) == want:
                continue
            if e.machines[ch].state is not StationState.IDLE:
                continue
            e.mixer.prompt(ch, f"vm_mwi_{'on' if want else 'off'}", e.now)
            self.lamp[ch] = want
            e._publish({"type": "voicemail", "event": "lamp", "channel": ch, "on": want})


def _safe(box: str) -> str:
    return box.replace(":", "_")
