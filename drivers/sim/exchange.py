"""The exchange behind a simulated trunk, and the person at the other end of the call.

One `TrunkLine` per trunk channel plays the central office: it rings the trunk with a
cadence (China's 1 s on, 4 s off by default) and sends caller ID (FSK between the first
and second ring, DTMF before the first ring, or V.23 FSK after a polarity reversal); when
the board answers it connects the caller, who runs a script. When the board seizes an idle
trunk it gives dial tone, collects the DTMF digits the board sends, and routes the call
through the board's directory to a scripted callee (answers after N rings with ring-back
meanwhile, busy, never answers, congestion, number not in service, fax, answering
machine). When the far end hangs up it signals as configured: busy tone (as Chinese analog
exchanges do), a polarity reversal, or an open loop.

States (``TrunkLine.state``)::

    idle --incoming--> alerting --board off hook--> talking --far end hangs up--> cleared
    idle --board off hook--> dial_tone --digit--> dialling --number--> calling --answer-->
        talking ...                                    (any state) --board on hook--> idle

Everything happens at sample-exact times through the board's scheduler; Python runs only
when something changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from boardcc.drivers.events import (
    BusyToneDetected,
    CallerIdReceived,
    LineVoltageBack,
    LineVoltageLost,
    PolarityReversal,
    RingOff,
    RingOn,
)
from boardcc.drivers.sim.party import FAR_END_STEPS, Party
from boardcc.drivers.sim.steps import Step
from boardcc.dsp import DtmfReceiver

if TYPE_CHECKING:
    from boardcc.drivers.sim.board import SimBoard


class LineState(StrEnum):
    IDLE = "idle"
    ALERTING = "alerting"  # ringing the board
    TALKING = "talking"
    CLEARED = "cleared"  # the far end hung up; waiting for the board to release
    DIAL_TONE = "dial_tone"
    DIALLING = "dialling"
    CALLING = "calling"  # the callee is being rung, or busy/unobtainable is heard
    DISCONNECTED = "disconnected"  # no line voltage (线路断开)
    REPLAY = "replay"  # a recording plays into the trunk; the exchange stays out of it


FAR_HANGUP_SIGNALS = ("busy", "reversal", "open_loop", "silence")


@dataclass(frozen=True, slots=True)
class CallerIdSpec:
    """What the exchange sends as caller ID, and how.

    Attributes
    ----------
    number : str or None
        The calling number; None with `absence` for a withheld or unavailable number.
    name : str or None
        The calling name (FSK MDMF only).
    mode : {"fsk", "dtmf", "v23"}
        ``"fsk"``: `standard` FSK between the first and second ring; ``"dtmf"``: DTMF
        digits before the first ring; ``"v23"``: ITU-T V.23 FSK after a polarity reversal,
        before the first ring (ETSI EN 300 659-1).
    datetime : str or None
        ``MMDDhhmm``; None means the board's clock at the time of the call.
    """

    number: str | None = None
    name: str | None = None
    mode: str = "fsk"
    standard: str = "bell202"
    format: str = "mdmf"
    datetime: str | None = None
    absence: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("fsk", "dtmf", "v23"):
            raise ValueError(f"caller ID mode must be fsk, dtmf or v23, got {self.mode!r}")
        if self.mode == "dtmf" and self.name:
            raise ValueError("DTMF caller ID carries no name")


CALLEE_KINDS = ("answer", "busy", "no_answer", "congestion", "not_in_service", "fax", "machine")


@dataclass(frozen=True, slots=True)
class Callee:
    """Who answers a number dialled out through a simulated trunk.

    Attributes
    ----------
    kind : str
        ``"answer"`` (after `rings` rings, then runs `script`), ``"busy"``, ``"no_answer"``,
        ``"congestion"``, ``"not_in_service"`` (special information tone and an
        announcement), ``"fax"`` (answers with CED), ``"machine"`` (an answering machine:
        a greeting of `greeting_s` then a beep).
    rings : int
        Rings before answering (answer, fax, machine).
    script : sequence of Step
        What a callee who answers does.
    """

    kind: str = "answer"
    rings: int = 2
    script: tuple[Step, ...] = ()
    greeting_s: float = 4.0

    def __post_init__(self) -> None:
        if self.kind not in CALLEE_KINDS:
            raise ValueError(f"callee kind must be one of {CALLEE_KINDS}, got {self.kind!r}")
        if self.rings < 0:
            raise ValueError(f"rings must be >= 0, got {self.rings}")


@dataclass(slots=True)
class CallRecord:
    """What happened to one call through a simulated trunk, for tests and scenario reports."""

    trunk: int
    direction: str  # "in" or "out"
    number: str = ""
    started: int = 0
    answered: int | None = None
    ended: int | None = None
    outcome: str = ""  # answered, abandoned, busy, no_answer, ...
    cleared_by: str = ""  # "far" or "board"
    digits: list[str] = field(default_factory=list)


class FarEnd(Party):
    """The caller or callee at the far end of a trunk."""

    allowed = FAR_END_STEPS

    def __init__(self, line: TrunkLine, role: str) -> None:
        super().__init__(line.sim, line.channel, role)
        self.line = line

    def hang_up(self) -> None:
        self.line.far_hang_up(self.now)


class TrunkLine:
    """The exchange and far party behind one trunk channel (see the module docstring).

    Attributes
    ----------
    far_hangup : list of str
        How the exchange signals that the far end hung up, in order: any of ``"busy"``
        (busy tone until the board releases), ``"reversal"`` (polarity reversal),
        ``"open_loop"`` (line voltage lost for `open_loop_ms`), ``"silence"``.
    answer_reversal : bool
        Reverse polarity when a callee answers an outbound call (answer supervision).
    cadence : tuple of int
        Ring cadence, ms on/off.
    """

    def __init__(self, sim: SimBoard, channel: int) -> None:
        self.sim, self.channel = sim, channel
        self.state = LineState.IDLE
        self.far_hangup: list[str] = ["busy"]
        self.answer_reversal = False
        self.open_loop_ms = 600
        self.interdigit_s = 4.0
        self.cadence: tuple[int, ...] = (1000, 4000)
        self.board_offhook = False
        self.far = FarEnd(self, "caller")
        self.calls: list[CallRecord] = []
        self._gen = 0  # bumps on every state change; stale timers check it
        self._tone: int | None = None
        self._cid_play: int | None = None
        self._ringing = False
        self._digits = ""
        self._dtmf: DtmfReceiver | None = None
        self._dtmf_from = 0
        self._pending_call: tuple[Sequence[Step], int] | None = None

    # -- state helpers ----------------------------------------------------------------------

    @property
    def call(self) -> CallRecord | None:
        """The call in progress (or the last one)."""
        return self.calls[-1] if self.calls else None

    @property
    def dialling(self) -> bool:
        return self.state in (LineState.DIAL_TONE, LineState.DIALLING)

    def _enter(self, state: LineState) -> int:
        self.state = state
        self._gen += 1
        return self._gen

    def _later(self, at: int, fn: object) -> None:
        gen = self._gen

        def fire(t: int) -> None:
            if gen == self._gen:
                fn(t)  # type: ignore[operator]

        self.sim.schedule(at, fire)

    def _tone_on(self, name: str, at: int) -> None:
        self._tone_off()
        clip = self.sim.sounds.plan_tone(name)
        self._tone = self.sim.players.start(self.channel, clip, at, loop=True)

    def _play(self, clip: tuple[int, int], at: int, loop: bool = False) -> None:
        self._tone_off()
        self._tone = self.sim.players.start(self.channel, clip, at, loop=loop)

    def _tone_off(self) -> None:
        if self._tone is not None:
            self.sim.players.stop(self._tone)
            self._tone = None

    def _end_call(self, t: int, outcome: str | None, cleared_by: str) -> None:
        call = self.call
        if call is not None and call.ended is None:
            call.ended = t
            if outcome and not call.outcome:
                call.outcome = outcome
            call.cleared_by = cleared_by

    # -- incoming calls ---------------------------------------------------------------------

    def incoming(
        self,
        at: int,
        *,
        caller_id: CallerIdSpec | None = None,
        script: Sequence[Step] = (),
        cadence: Sequence[int] | None = None,
        give_up_s: float = 60.0,
    ) -> None:
        """Ring the trunk from sample `at` with a call (see `SimBoard.incoming_call`)."""
        self.far.check(script)
        steps = tuple(script)
        pattern = tuple(cadence) if cadence is not None else self.cadence

        def begin(t: int) -> None:
            if self.state is not LineState.IDLE or self.board_offhook:
                # The line is busy: the caller hears busy and gives up; nothing reaches us.
                self.calls.append(CallRecord(self.channel, "in", started=t, ended=t))
                self.calls[-1].outcome = "line_busy"
                return
            self._enter(LineState.ALERTING)
            record = CallRecord(self.channel, "in", started=t)
            record.number = (caller_id.number or "") if caller_id else ""
            self.calls.append(record)
            self._pending_call = (steps, t)
            first_ring = t
            if caller_id is not None and caller_id.mode in ("dtmf", "v23"):
                spec = self._dated(caller_id, t)
                start = t
                if spec.mode == "v23":
                    self.sim.emit(PolarityReversal(self.channel, t))
                    start = t + self.sim.ms(250)
                clip = self.sim.sounds.caller_id(spec)
                self._send_cid(start, clip, spec)
                first_ring = start + clip[1] + self.sim.ms(500)
            self._later(first_ring, lambda t2: self._ring_cycle(t2, 0, pattern, caller_id))
            self._later(t + self.sim.ms(give_up_s * 1000), self._caller_gives_up)

        self.sim.schedule(at, begin)

    def _dated(self, spec: CallerIdSpec, t: int) -> CallerIdSpec:
        if spec.datetime is not None or spec.mode == "dtmf":
            return spec
        when = self.sim.wall_clock(t)
        return CallerIdSpec(
            number=spec.number,
            name=spec.name,
            mode=spec.mode,
            standard=spec.standard,
            format=spec.format,
            datetime=when.strftime("%m%d%H%M"),
            absence=spec.absence,
        )

    def _ring_cycle(
        self, t: int, k: int, pattern: tuple[int, ...], caller_id: CallerIdSpec | None
    ) -> None:
        pos = t
        for i in range(0, len(pattern), 2):
            on, off = self.sim.ms(pattern[i]), self.sim.ms(pattern[i + 1])
            self._later(pos, self._ring_on)
            self._later(pos + on, self._ring_off)
            if k == 0 and i == 0 and caller_id is not None and caller_id.mode == "fsk":
                # Bell 202 / YDN 069: the message starts 0.5 s after the first ring ends.
                spec = self._dated(caller_id, t)
                clip = self.sim.sounds.caller_id(spec)
                start = pos + on + self.sim.ms(500)
                self._later(start, lambda t2, c=clip, s=spec: self._send_cid(t2, c, s))
            pos += on + off
        self._later(pos, lambda t2: self._ring_cycle(t2, k + 1, pattern, caller_id))

    def _send_cid(self, t: int, clip: tuple[int, int], spec: CallerIdSpec) -> None:
        if self.sim.audio:
            self._cid_play = self.sim.players.start(self.channel, clip, t)
        else:  # a signalling-only board decodes it itself, when the message has ended
            event = CallerIdReceived(self.channel, t + clip[1], spec.number or "", spec.name or "")
            self._later(event.at, lambda _t: self.sim.emit(event))

    def _ring_on(self, t: int) -> None:
        self._ringing = True
        self.sim.emit(RingOn(self.channel, t))

    def _ring_off(self, t: int) -> None:
        if self._ringing:
            self._ringing = False
            self.sim.emit(RingOff(self.channel, t))

    def _caller_gives_up(self, t: int) -> None:
        self._ring_off(t)
        self._stop_cid()
        self._end_call(t, "abandoned", "far")
        self._enter(LineState.IDLE)

    def _stop_cid(self) -> None:
        if self._cid_play is not None:
            self.sim.players.stop(self._cid_play)
            self._cid_play = None

    # -- the board's hook -------------------------------------------------------------------

    def seize(self, t: int) -> None:
        """The board went off hook on this trunk."""
        self.board_offhook = True
        if self.state is LineState.ALERTING:
            self._ring_off(t)  # ring trip
            self._stop_cid()
            self._enter(LineState.TALKING)
            call = self.call
            if call is not None:
                call.answered, call.outcome = t, "answered"
            assert self._pending_call is not None
            steps, _ = self._pending_call
            self._pending_call = None
            self.far = FarEnd(self, "caller")
            if steps:
                self.far.run(steps, t)
        elif self.state is LineState.IDLE:
            self._enter(LineState.DIAL_TONE)
            self.calls.append(CallRecord(self.channel, "out", started=t))
            self._digits = ""
            self._dtmf = DtmfReceiver(1, fs=self.sim.fs)
            self._dtmf_from = t  # the receiver counts samples from here
            self.sim.collecting.add(self.channel)
            self._tone_on("dial", t + self.sim.ms(100))
            self._later(t + self.sim.ms(15000), self._no_digits)
        # Seizing a cleared, disconnected or replayed line changes nothing at the exchange.

    def release(self, t: int) -> None:
        """The board went on hook on this trunk."""
        self.board_offhook = False
        if self.state in (LineState.REPLAY, LineState.DISCONNECTED, LineState.ALERTING):
            return
        self._tone_off()
        self.far.cancel()
        self._stop_collecting()
        if self.state is not LineState.IDLE:
            outcome = {LineState.DIAL_TONE: "no_digits", LineState.DIALLING: "incomplete"}.get(
                self.state
            )
            if self.state is LineState.CALLING and self.call and not self.call.outcome:
                outcome = "cancelled"
            self._end_call(t, outcome, "board")
        self._enter(LineState.IDLE)

    def flash(self, t: int) -> None:
        """A hook flash from the board: analog exchanges here offer nothing; it is logged."""
        call = self.call
        if call is not None and call.ended is None:
            call.digits.append("FLASH")

    # -- outbound: digits and routing -------------------------------------------------------

    def hear(self, tx: np.ndarray) -> None:
        """Audio the board sent this block, while the exchange collects digits."""
        if self._dtmf is None:
            return
        for event in self._dtmf.process(tx[None, :]):
            self._digit(event.digit, self._dtmf_from + event.start)

    def _digit(self, digit: str, t: int) -> None:
        if not self.dialling:
            return
        if self.state is LineState.DIAL_TONE:
            self._tone_off()
            self._enter(LineState.DIALLING)
        else:
            self._gen += 1  # cancels the previous inter-digit timer
        self._digits += digit
        if self.call is not None:
            self.call.number = self._digits
        if self.sim.directory_complete(self._digits):
            self._route(t)
        else:
            self._later(t + self.sim.ms(self.interdigit_s * 1000), self._route)

    def _no_digits(self, t: int) -> None:
        # Dial tone timed out: the exchange gives busy (howler would follow on a real one).
        self._stop_collecting()
        if self.call is not None:
            self.call.outcome = "no_digits"
        self._enter(LineState.CALLING)
        self._tone_on("busy", t)

    def _stop_collecting(self) -> None:
        self._dtmf = None
        self.sim.collecting.discard(self.channel)

    def _route(self, t: int) -> None:
        self._stop_collecting()
        self._enter(LineState.CALLING)
        callee = self.sim.directory.get(self._digits, Callee("not_in_service"))
        call = self.call
        assert call is not None
        connect = t + self.sim.ms(800)  # switching delay before the first ring-back
        kind = callee.kind
        if kind in ("busy", "congestion"):
            call.outcome = kind
            self._tone_on(kind, connect)
        elif kind == "not_in_service":
            call.outcome = kind
            self._play(self.sim.sounds.not_in_service(), connect, loop=True)
        else:
            self._tone_on("ringback", connect)
            period = self.sim.ms(sum(self.sim.sounds.plan.tone("ringback").cadence_ms or (5000,)))
            if kind == "no_answer":
                self._later(connect + self.sim.ms(60_000), lambda t2: self._timeout(t2))
            else:
                answer_at = connect + max(0, callee.rings - 1) * period + self.sim.ms(1500)
                if callee.rings == 0:
                    answer_at = connect
                self._later(answer_at, lambda t2: self._answered(t2, callee))

    def _timeout(self, t: int) -> None:
        if self.call is not None:
            self.call.outcome = "no_answer"
        self._tone_on("busy", t)

    def _answered(self, t: int, callee: Callee) -> None:
        self._tone_off()
        self._enter(LineState.TALKING)
        call = self.call
        assert call is not None
        call.answered, call.outcome = (
            t,
            {"fax": "fax", "machine": "machine"}.get(callee.kind, "answered"),
        )
        if self.answer_reversal:
            self.sim.emit(PolarityReversal(self.channel, t))
        self.far = FarEnd(self, "callee")
        if callee.kind == "fax":
            self._play(self.sim.sounds.fax_ced(), t)
        elif callee.kind == "machine":
            self._play(self.sim.sounds.answering_machine(callee.greeting_s), t)
        elif callee.script:
            self.far.run(callee.script, t)

    # -- the far end clears -----------------------------------------------------------------

    def far_hang_up(self, t: int) -> None:
        """The caller or callee hangs up (a script's `HangUp`, or `SimBoard.hang_up_far`)."""
        if self.state not in (LineState.TALKING, LineState.CALLING, LineState.ALERTING):
            return
        if self.state is LineState.ALERTING:
            self._caller_gives_up(t)
            return
        self.far.silence()
        self._tone_off()
        self._end_call(t, None, "far")
        self._enter(LineState.CLEARED)
        for signal in self.far_hangup:
            if signal == "busy" and not self.sim.audio:  # decoded by the board itself
                heard = BusyToneDetected(self.channel, t + self.sim.ms(300))
                self._later(heard.at, lambda _t, e=heard: self.sim.emit(e))
            elif signal == "busy":
                self._tone_on("busy", t + self.sim.ms(300))
            elif signal == "reversal":
                self.sim.emit(PolarityReversal(self.channel, t))
            elif signal == "open_loop":
                self.sim.emit(LineVoltageLost(self.channel, t))
                back = t + self.sim.ms(self.open_loop_ms)
                self.sim.schedule(back, lambda t2: self.sim.emit(LineVoltageBack(self.channel, t2)))

    # -- the line itself --------------------------------------------------------------------

    def disconnect(self, t: int) -> None:
        """The line is cut (线路断开): voltage lost until `reconnect`."""
        if self.state is LineState.DISCONNECTED:
            return
        self.far.cancel()
        self._tone_off()
        self._ring_off(t)
        self._end_call(t, "line_lost", "line")
        self._enter(LineState.DISCONNECTED)
        self.sim.emit(LineVoltageLost(self.channel, t))

    def reconnect(self, t: int) -> None:
        if self.state is LineState.DISCONNECTED:
            self._enter(LineState.IDLE)
            self.sim.emit(LineVoltageBack(self.channel, t))
            if self.board_offhook:
                self.seize(t)
