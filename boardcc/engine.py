"""The engine: the frame pump that drives every channel of a board, and the calls.

Each tick (one block, 20 ms) the engine reads all channels, runs the software DSP bank on
them, turns line events, DSP results and due timers into machine events, feeds each to its
channel's machine in time order, carries out the actions the machines return (line commands
to the board, media changes to the mixer, timers, and notices to the call controller),
builds the transmit block for all channels at once and writes it. Per-channel Python runs
only for channels that have an event (DESIGN "array-wide per tick, Python per event").

The call controller (the ``_on_*`` methods) is what ties legs together: it routes an
incoming call by the site's inbound rules (to a station, a ring group, a prompt, or hangs
up), places outbound calls by the outbound rules (soft dial from the API, hard dial from a
desk phone), connects trunks and stations when they answer, and ends calls when either side
leaves, keeping one CDR per call and handing it to the store at every change.

An exception while handling one channel's event is logged, that channel is reset to idle
(its call ended with the disposition ``channel_error``) and every other channel carries on.
Commands from other threads (the monitor API) are queued and run at the start of a tick.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from boardcc import routing
from boardcc.acd.acd import Acd
from boardcc.cdr import Cdr, Direction, Disposition, HungUpBy
from boardcc.clock import Clock, VirtualClock
from boardcc.config import SiteConfig, TrunkGroup, parse_step
from boardcc.drivers import (
    Alarm,
    Board,
    BoardError,
    BusyToneDetected,
    CallerIdReceived,
    ChannelFault,
    ChannelKind,
    DigitReceived,
    HookFlash,
    LineEvent,
    LineVoltageBack,
    LineVoltageLost,
    PolarityReversal,
    RingOff,
    RingOn,
)
from boardcc.drivers import OffHook as LineOffHook
from boardcc.drivers import OnHook as LineOnHook
from boardcc.dsp import load_plan
from boardcc.dspbank import DspBank
from boardcc.forwarding import Forwarding
from boardcc.ivr.host import TIMER_PREFIX as IVR_TIMER
from boardcc.ivr.host import IvrHost
from boardcc.machines import (
    FREE,
    Machine,
    StationMachine,
    StationSettings,
    StationState,
    TrunkMachine,
    TrunkSettings,
    TrunkState,
)
from boardcc.machines import actions as act
from boardcc.machines import events as ev
from boardcc.media import Mixer

if TYPE_CHECKING:
    from boardcc.recording.recorder import Recorder
    from boardcc.voicemail.service import Voicemail

log = logging.getLogger("boardcc.engine")

#: The media timer the engine keeps for prompts and digits; ends as `PlayDone`.
PLAY_TIMER = "__play"


class CdrSink(Protocol):
    """Where CDRs go (`boardcc.store.CdrStore`); must not block."""

    def put(self, cdr: Cdr) -> None: ...


@dataclass(slots=True)
class Call:
    """A call in progress: its CDR, its legs, and where its route has got to."""

    cdr: Cdr
    trunk: int | None = None
    caller_station: int | None = None  # outbound and internal: the station that called
    stations: list[int] = field(default_factory=list)  # stations rung or connected
    answered_by: int | None = None
    steps: Iterator[tuple[str, Any]] | None = None
    number: str = ""  # soft dial: the number to dial once the agent answers
    step: str = ""
    vars: dict[str, str] = field(default_factory=dict)  # set by the IVR; the ACD reads "skill"
    ivr: Any = None  # the IVR session (boardcc.ivr.session.Session) while in a flow
    outside: int | None = None  # the trunk a flow dialled out on (transfer to a number)
    forwarded_from: set[int] = field(default_factory=set)  # stations that forwarded it on no answer

    @property
    def legs(self) -> list[int]:
        out = [] if self.trunk is None else [self.trunk]
        if self.caller_station is not None:
            out.append(self.caller_station)
        if self.outside is not None:
            out.append(self.outside)
        return out + [s for s in self.stations if s not in out]


class Engine:
    """Drives one board with the machines, the DSP bank, the mixer and the call rules.

    Parameters
    ----------
    config : SiteConfig
        The site (`boardcc.config.load_site`).
    board : Board
        An open board; the engine does not close it.
    clock : VirtualClock or RealtimeClock, optional
        Virtual by default (as fast as the CPU allows).
    store : CdrSink, optional
        Receives every CDR change.
    start_time : datetime, optional
        Wall-clock time when the engine starts (default: now; naive means local time).
    """

    def __init__(
        self,
        config: SiteConfig,
        board: Board,
        clock: Clock | None = None,
        *,
        store: CdrSink | None = None,
        start_time: dt.datetime | None = None,
    ) -> None:
        self.config, self.board = config, board
        self.clock: Clock = clock if clock is not None else VirtualClock()
        self.store = store
        self.fs, self.block = board.fs, board.block
        self.plan = load_plan(config.tone_plan)
        n = len(board)
        kinds = [c.kind for c in board.channels]
        self.group_of: dict[int, TrunkGroup] = {}
        for g in config.trunk_groups:
            for ch in g.channel_list():
                self._need(ch, ChannelKind.TRUNK, f"trunk group {g.name}")
                self.group_of[ch] = g
        timeouts = config.timeouts
        self.machines: dict[int, Machine[Any]] = {}
        for ch, kind in enumerate(kinds):
            if kind is ChannelKind.TRUNK:
                g = self.group_of.get(ch)
                self.machines[ch] = TrunkMachine(
                    ch,
                    TrunkSettings(
                        ring_gone_s=g.ring_gone_s if g else 8.0,
                        guard_s=timeouts.guard_s,
                        answer_wait_s=timeouts.answer_wait_s,
                        answer_by=g.answer_by if g else "voice",
                        max_silence_s=g.max_silence_s if g else 0.0,
                    ),
                )
        self.extension_of: dict[int, str] = {}
        self.station_group: dict[int, str] = {}
        for s in config.stations:
            self._need(s.channel, ChannelKind.STATION, f"station {s.extension}")
            self.extension_of[s.channel] = s.extension
            self.station_group[s.channel] = s.group
        self.station_at = {ext: ch for ch, ext in self.extension_of.items()}
        for ch, kind in enumerate(kinds):
            if kind is ChannelKind.STATION:
                self.machines[ch] = StationMachine(
                    ch,
                    StationSettings(
                        soft_dial_answer_s=timeouts.soft_dial_answer_s,
                        ring_s=timeouts.station_ring_s,
                        first_digit_s=timeouts.first_digit_s,
                        interdigit_s=timeouts.interdigit_s,
                    ),
                )
        trunks = [c for c, k in enumerate(kinds) if k is ChannelKind.TRUNK]
        keyed = [c for c, k in enumerate(kinds) if k in (ChannelKind.TRUNK, ChannelKind.STATION)]
        self.trunks = trunks
        self.dsp = DspBank(n, [] if board.capabilities.hardware_dtmf else keyed, trunks, self.plan)
        self.mixer = Mixer(
            n, self.block, self.plan, config.prompts, fs=self.fs, music=config.music_on_hold
        )
        # Echo cancelling and AGC where the site asks: the card's own canceller if it has
        # one, else the software one (software DSP only for what the board lacks).
        echo = [ch for ch, g in self.group_of.items() if g.echo_cancel]
        if echo and board.capabilities.echo_cancel:
            for ch in echo:
                board.echo_canceller(ch, True)
            echo = []
        self.dsp.condition(echo, [ch for ch, g in self.group_of.items() if g.agc])
        self._sent = np.zeros((n, self.block), np.int16)
        self.hunter = routing.Hunter()
        self.calls: dict[str, Call] = {}
        self.call_of: dict[int, Call] = {}
        self.line_down: set[int] = set()
        self._timers: list[tuple[int, int, int, str]] = []
        self._timer_seq: dict[tuple[int, str], int] = {}
        self._seq = 0
        self._subscribers: list[Callable[[dict[str, Any]], None]] = []
        self._commands: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = (
            queue.SimpleQueue()
        )
        self._stop = threading.Event()
        # Wall-clock time at engine time 0: now on a live site; given, on a virtual clock, so
        # that working hours and CDR times are reproducible.
        self.started_at = (start_time or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        self.now = board.now
        self._origin = board.now  # board sample of engine time 0
        self.ticks = 0
        self.errors = 0
        self.tick_seconds: list[float] = []
        self.recorder: Recorder | None = None  # boardcc.recording attaches itself
        self.voicemail: Voicemail | None = None  # so does boardcc.voicemail
        # Feature codes dialled on a desk phone: handler(channel, number, at) -> taken
        self.feature_handlers: list[Callable[[int, str, int], bool]] = []
        self.ivr = IvrHost.for_engine(self)
        self.stopping = False  # set by `shutdown`
        self.acd = Acd(self)  # queues and agents (boardcc.acd; docs/acd.md)
        self.forwarding = Forwarding(self)  # per station (boardcc.forwarding; docs/site.md)

    def _need(self, channel: int, kind: ChannelKind, what: str) -> None:
        if not 0 <= channel < len(self.board):
            raise ValueError(f"{what}: the board has no channel {channel}")
        actual = self.board.channels[channel].kind
        if actual is not kind:
            raise ValueError(f"{what}: channel {channel} is a {actual.value}, not a {kind.value}")

    # -- time ---------------------------------------------------------------------------------

    def wall(self, at: int | None = None) -> dt.datetime:
        """Wall-clock time of board sample `at` (default: now)."""
        at = self.now if at is None else at
        return self.started_at + dt.timedelta(seconds=(at - self._origin) / self.fs)

    # -- running ------------------------------------------------------------------------------

    def run_for(self, seconds: float) -> None:
        """Run `seconds` of board time (as fast as the clock allows)."""
        for _ in range(max(0, round(seconds * self.fs / self.block))):
            self.tick()

    def run(self) -> None:
        """Run until `stop()` (from another thread or a signal handler)."""
        while not self._stop.is_set():
            self.tick()

    def stop(self) -> None:
        """Ask `run` to return after the tick in progress (safe from any thread)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def shutdown(self) -> None:
        """End every open call (the engine is stopping) and put the lines on hook.

        Their CDRs close with the disposition ``engine_stopped``. From here on the ACD
        offers no call (an agent freed by one call's end would otherwise be rung for the
        next caller, whose call ends a moment later).
        """
        self.stopping = True
        for call in list(self.calls.values()):
            self._end(call, Disposition.ENGINE_STOPPED, HungUpBy.ENGINE, self.now)
        for ch, machine in self.machines.items():
            if machine.state not in (TrunkState.IDLE, TrunkState.LINE_DOWN, StationState.IDLE):
                self._reset_channel(ch)
        self.ivr.close()

    def tick(self) -> None:
        """One block: read, detect, dispatch, mix, write."""
        if self.ticks == 0:
            self._origin = self.board.now
        deadline = (self.board.now - self._origin + self.block) / self.fs
        self.clock.wait_until(deadline)
        started = _cpu()
        self._run_commands()
        t0 = self.board.now
        # A signalling-only board (capabilities.audio False) carries no audio: no DSP and
        # no mixing, only the mixer's bookkeeping (what plays how long) goes on.
        audio = self.board.capabilities.audio
        rx = self.dsp.clean(self.board.read(), self._sent) if audio else self.board.read()
        self.now = self.board.now
        inputs: list[tuple[int, int, ev.Event]] = []
        for e in self.board.events():
            inputs += self._from_line(e)
        for ch, found in self.dsp.process(rx, t0) if audio else ():
            inputs.append((found.at, ch, self._from_dsp(ch, found)))
        inputs += self._due_timers(t0 + self.block)
        inputs.sort(key=lambda item: item[0])
        for _, ch, event in inputs:
            self.feed(ch, event)
        self.acd.tick(self.now)
        if audio:
            self._sent = self.mixer.build(rx, t0)
        else:
            self.mixer.players.expire(t0 + self.block)
        self.board.write(self._sent)
        if self.recorder is not None:
            self.recorder.tick(rx, self._sent)
        self.ticks += 1
        self.tick_seconds.append(_cpu() - started)
        if len(self.tick_seconds) > 5000:
            del self.tick_seconds[:2500]

    # -- inputs -------------------------------------------------------------------------------

    def _from_line(self, e: LineEvent) -> list[tuple[int, int, ev.Event]]:
        ch = e.channel
        machine = self.machines.get(ch)
        if isinstance(e, Alarm | ChannelFault):
            active = e.active if isinstance(e, Alarm) else True
            self._publish({"type": "alarm", "channel": ch, "what": _line_word(e), "active": active})
            log.warning("%s", _line_word(e), extra=self._extra(ch, type(e).__name__))
            return []
        if machine is None:
            if self.recorder is not None:  # record taps
                self.recorder.line_event(e)
            return []
        trunk = isinstance(machine, TrunkMachine)
        out: ev.Event | None = None
        # What a board decodes itself (capabilities hardware_dtmf, caller_id): the DSP bank
        # does not look for it in the audio.
        if isinstance(e, DigitReceived):
            return [(e.at, ch, ev.Digit(e.at, e.digit))]
        if isinstance(e, CallerIdReceived):
            return [(e.at, ch, ev.CallerIdIn(e.at, e.number, e.name))] if trunk else []
        if trunk:
            group = self.group_of.get(ch)
            signs = set(group.far_end_gone) if group else {"busy", "line_lost"}
            if isinstance(e, RingOn):
                out = ev.Ring(e.at)
            elif isinstance(e, RingOff):
                out = ev.RingEnd(e.at)
            elif isinstance(e, PolarityReversal):
                talking = machine.state is TrunkState.CONNECTED
                out = ev.FarEndGone(e.at, "reversal") if talking and "reversal" in signs else None
                out = out or ev.Reversal(e.at)
            elif isinstance(e, LineVoltageLost):
                self.line_down.add(ch)
                in_call = machine.state not in (TrunkState.IDLE, TrunkState.LINE_DOWN)
                out = ev.FarEndGone(e.at, "line_lost") if in_call else ev.LineLost(e.at)
            elif isinstance(e, LineVoltageBack):
                self.line_down.discard(ch)
                out = ev.LineBack(e.at)
            elif isinstance(e, BusyToneDetected):
                out = self._from_dsp(ch, ev.BusyTone(e.at))
        elif isinstance(e, LineOffHook):
            out = ev.OffHook(e.at)
        elif isinstance(e, LineOnHook):
            out = ev.OnHook(e.at)
        elif isinstance(e, HookFlash):
            out = ev.Flash(e.at)
        return [] if out is None else [(e.at, ch, out)]

    def _from_dsp(self, ch: int, found: ev.Event) -> ev.Event:
        """Busy tone on a trunk in a call is the far end hanging up (where configured);
        while dialling out it is the callee being busy."""
        if isinstance(found, ev.BusyTone):
            machine = self.machines[ch]
            group = self.group_of.get(ch)
            signs = set(group.far_end_gone) if group else {"busy", "line_lost"}
            if "busy" in signs and machine.state in _TALKING:
                return ev.FarEndGone(found.at, "busy")
        return found

    def _due_timers(self, limit: int) -> list[tuple[int, int, ev.Event]]:
        out: list[tuple[int, int, ev.Event]] = []
        while self._timers and self._timers[0][0] < limit:
            at, seq, ch, name = heapq.heappop(self._timers)
            if self._timer_seq.get((ch, name)) != seq:
                continue  # cancelled or restarted
            del self._timer_seq[(ch, name)]
            out.append((at, ch, ev.PlayDone(at) if name == PLAY_TIMER else ev.Timeout(at, name)))
        return out

    def _start_timer(self, ch: int, name: str, at: int) -> None:
        self._seq += 1
        self._timer_seq[(ch, name)] = self._seq
        heapq.heappush(self._timers, (at, self._seq, ch, name))

    def _cancel_timer(self, ch: int, name: str) -> None:
        self._timer_seq.pop((ch, name), None)

    # -- machines -----------------------------------------------------------------------------

    def feed(self, ch: int, event: ev.Event) -> None:
        """Give one event to channel `ch`'s machine and carry out what it asks.

        A failure is this channel's alone: it is logged and the channel is reset.
        """
        machine = self.machines.get(ch)
        if machine is None:
            return
        if isinstance(event, ev.Timeout) and event.name.startswith(IVR_TIMER):
            call = self.call_of.get(ch)
            if call is not None:
                self.ivr.timer(call, event.name, event.at)
            return
        if isinstance(event, ev.Timeout) and event.name.startswith("vm:"):
            if self.voicemail is not None:
                self.voicemail.timer(ch, event.name, event.at)
            return
        before = machine.state
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s", _describe(event), extra=self._extra(ch, type(event).__name__, at=event.at)
            )
        try:
            actions = machine.handle(event)
            if machine.state is not before:
                self._state_changed(ch, machine, before, event)
            for action in actions:
                self._do(ch, action, event.at)
        except Exception as exc:  # one channel's failure must not stop the rest
            self._channel_failed(ch, exc, event)

    def _state_changed(self, ch: int, machine: Machine[Any], before: Any, event: ev.Event) -> None:
        state = machine.state
        if log.isEnabledFor(logging.INFO):
            log.info(
                "%s -> %s (%s)",
                before,
                state,
                state.chinese,
                extra=self._extra(ch, type(event).__name__, str(state), event.at),
            )
        # An idle channel (or a headset phone back in standby) is in no call, even while the
        # controller has still to unlink it (a phone of a ring group that was not answered
        # goes idle before the call lets go; a missed zip-tone offer returns to standby).
        idle = state is TrunkState.IDLE or state in FREE
        call = None if idle else self.call_of.get(ch)
        self._publish(
            {
                "type": "state",
                "channel": ch,
                "code": state.code,
                "state": state.name,
                "state_zh": state.chinese,
                "call": call.cdr.call_id if call else None,
                "t": round((event.at - self._origin) / self.fs, 3),
            }
        )
        if isinstance(machine, TrunkMachine) and state is TrunkState.IDLE and ch in self.line_down:
            self.feed(ch, ev.LineLost(event.at))

    def _do(self, ch: int, action: act.Action, at: int) -> None:
        board = self.board
        if isinstance(action, act.Notify):
            self._notify(ch, action.what, dict(action.data), at)
        elif isinstance(action, act.StartTimer):
            self._start_timer(ch, action.name, max(at, self.now) + round(action.seconds * self.fs))
        elif isinstance(action, act.CancelTimer):
            self._cancel_timer(ch, action.name)
        elif isinstance(action, act.SendTone):
            self._cancel_timer(ch, PLAY_TIMER)
            self.mixer.tone(ch, action.tone, self.now)
        elif isinstance(action, act.SendPrompt):
            length = self.mixer.prompt(ch, action.prompt, self.now)
            self._start_timer(ch, PLAY_TIMER, self.now + length)
        elif isinstance(action, act.SendDigits):
            length = self.mixer.digits(ch, action.digits, self.now)
            self._start_timer(ch, PLAY_TIMER, self.now + length)
        elif isinstance(action, act.HearPeer):
            self._cancel_timer(ch, PLAY_TIMER)
            self.mixer.hear(ch, action.peer)
        elif isinstance(action, act.Quiet):
            self.quiet(ch)
        elif isinstance(action, act.GoOffHook):
            board.offhook(ch)
        elif isinstance(action, act.GoOnHook):
            board.onhook(ch)
        elif isinstance(action, act.RingPhone):
            machine = self.machines[ch]
            assert isinstance(machine, StationMachine)
            board.ring(ch, machine.settings.cadence)
        elif isinstance(action, act.StopRinging):
            board.stop_ring(ch)
        elif isinstance(action, act.WatchCallerId):
            if not board.capabilities.caller_id:  # else the board reports it
                self.dsp.watch(ch, action.on, self.now)
        else:
            raise TypeError(f"unknown action {action!r}")

    def _channel_failed(self, ch: int, exc: Exception, event: ev.Event) -> None:
        self.errors += 1
        machine = self.machines[ch]
        log.error(
            "%s while handling %s; channel reset / 通道复位",
            exc,
            type(event).__name__,
            exc_info=not isinstance(exc, BoardError),
            extra=self._extra(ch, type(event).__name__, str(machine.state), event.at),
        )
        self._publish({"type": "error", "channel": ch, "error": str(exc)})
        call = self.call_of.get(ch)  # before the reset unbinds the channel
        self._reset_channel(ch)
        if call is not None:
            self._end(call, Disposition.CHANNEL_ERROR, HungUpBy.ENGINE, event.at, leaving=ch)

    def _reset_channel(self, ch: int) -> None:
        """Put a channel back to idle whatever it was doing, quietly."""
        machine = self.machines[ch]
        for name in [n for (c, n) in self._timer_seq if c == ch]:
            self._cancel_timer(ch, name)
        self.mixer.quiet(ch)
        self.call_of.pop(ch, None)
        try:
            if isinstance(machine, TrunkMachine):
                self.dsp.watch(ch, False, self.now)
                if machine.state not in (TrunkState.IDLE, TrunkState.LINE_DOWN):
                    self.board.onhook(ch)
            elif machine.state in (StationState.RINGING, StationState.WAIT_OFFHOOK):
                self.board.stop_ring(ch)
        except BoardError as exc:
            log.error("reset failed: %s", exc, extra=self._extra(ch, "reset"))
        machine.reset()
        self._publish(
            {
                "type": "state",
                "channel": ch,
                "code": machine.state.code,
                "state": machine.state.name,
                "state_zh": machine.state.chinese,
                "call": None,
                "t": round((self.now - self._origin) / self.fs, 3),
            }
        )

    # -- the call controller ------------------------------------------------------------------

    def _notify(self, ch: int, what: str, data: dict[str, str], at: int) -> None:
        handler = getattr(self, f"_on_{what}", None)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s", what, data, extra=self._extra(ch, what))
        if self.acd.notify(ch, what, data, at):
            return  # the ACD took it (an agent's phone, a queued caller, call control)
        if handler is not None:
            handler(ch, data, at)

    def _new_call(self, direction: Direction, at: int, **fields: Any) -> Call:
        cdr = Cdr(uuid.uuid4().hex, direction, self.wall(at), **fields)
        call = Call(cdr)
        self.calls[cdr.call_id] = call
        self._put(call)
        self._publish({"type": "call", "event": "start", **_cdr_json(cdr)})
        return call

    def _put(self, call: Call) -> None:
        self.put_cdr(call.cdr)

    def put_cdr(self, cdr: Cdr, event: str = "") -> None:
        """Hand a copy of `cdr` to the store, and publish the call `event` if one is named
        (for the CDR of a leg that is not a call of its own: the outside leg of a
        transfer, boardcc.acd.outside)."""
        if self.store is not None:
            self.store.put(_copy(cdr))
        if event:
            self._publish({"type": "call", "event": event, **_cdr_json(cdr)})

    def _bind(self, call: Call, ch: int) -> None:
        self.call_of[ch] = call

    def _end(
        self,
        call: Call,
        disposition: Disposition,
        by: HungUpBy,
        at: int,
        *,
        leaving: int | None = None,
    ) -> None:
        """The call is over: release every leg but `leaving` and close the CDR."""
        if call.cdr.call_id not in self.calls:
            return
        del self.calls[call.cdr.call_id]
        if call.ivr is not None:
            self.ivr.ended(call, by is HungUpBy.CALLER, at)
        for leg in call.legs:
            if self.call_of.get(leg) is call:
                del self.call_of[leg]
            if leg != leaving:
                self.feed(leg, ev.Release(at))
        cdr = call.cdr
        cdr.ended = self.wall(at)
        cdr.disposition = disposition
        cdr.hung_up_by = by
        self.acd.ended(call, at)
        self._put(call)
        self._publish({"type": "call", "event": "end", **_cdr_json(cdr)})
        log.info(
            "call %s ended: %s, hung up by %s / 呼叫结束",
            cdr.call_id[:8],
            disposition.value,
            by.value or "-",
            extra=self._extra(leaving if leaving is not None else (call.legs or [-1])[0], "end"),
        )

    def _answered(self, call: Call, at: int) -> None:
        call.cdr.answered = self.wall(at)
        self._put(call)
        self._publish({"type": "call", "event": "answer", **_cdr_json(call.cdr)})

    # inbound -----------------------------------------------------------------------------------

    def _on_incoming(self, ch: int, data: dict[str, str], at: int) -> None:
        group = self.group_of.get(ch)
        call = self._new_call(
            Direction.INBOUND,
            at,
            trunk=self.board.channels[ch].name,
            caller=data.get("number", ""),
            caller_name=data.get("name", ""),
            called=group.access_number if group else "",
        )
        call.trunk = ch
        self._bind(call, ch)
        log.info(
            "外线来电 incoming call: %s %s",
            call.cdr.caller or "-",
            call.cdr.caller_name,
            extra=self._extra(ch, "incoming", str(self.machines[ch].state), at),
        )
        rule = routing.inbound_rule(self.config, group, self.wall(at).astimezone())
        if rule is None:
            call.cdr.route = "no rule"
            self._end(call, Disposition.REJECTED, HungUpBy.ENGINE, at)
            return
        call.cdr.route = f"rule {rule.name}"
        call.steps = iter([parse_step(s) for s in rule.steps])
        self._next_step(call, at)

    def _next_step(self, call: Call, at: int) -> None:
        assert call.trunk is not None
        while call.steps is not None:
            step = next(call.steps, None)
            if step is None:
                break
            kind, value = step
            call.step = kind
            call.cdr.route += f": {kind}"
            if kind == "station" and self._ring(call, [self.station_at[str(value)]], at, None):
                return
            if kind == "ring_group":
                stations = [self.station_at[str(x)] for x in value["stations"]]
                ring_s = value.get("ring_s")
                if value.get("strategy", "all") == "all":
                    if self._ring(call, stations, at, ring_s):
                        return
                    continue
                one_by_one = [("station_for", (s, ring_s)) for s in stations]
                call.steps = _chain(iter(one_by_one), call.steps)
                continue
            if kind == "station_for" and self._ring(call, [value[0]], at, value[1]):
                return
            if kind == "play":
                trunk = self.machines[call.trunk]
                if trunk.state is TrunkState.WAIT_ANSWER:
                    self.feed(call.trunk, ev.Answer(at))
                    self._answered(call, at)
                self.feed(call.trunk, ev.Play(at, str(value)))
                return
            if kind == "hang_up":
                self._end(call, Disposition.REJECTED, HungUpBy.ENGINE, at)
                return
            if kind == "ivr":
                if self.machines[call.trunk].state is TrunkState.WAIT_ANSWER:
                    self.feed(call.trunk, ev.Answer(at))
                    self._answered(call, at)
                if self.ivr.start(call, str(value), at):
                    return
            if kind == "ivr_resume":  # a transfer from the flow found nobody: back to it
                self.ivr.transfer_failed(call, str(value), at)
                return
            if kind == "voicemail":
                try:
                    if self.voicemail is None:
                        raise ValueError("voicemail is not running / 语音信箱未启用")
                    self.voicemail.deposit(call.trunk, str(value))
                    return
                except ValueError as exc:
                    log.info("%s", exc, extra=self._extra(call.trunk, "voicemail"))
            if kind == "queue":
                name, options = (value, {}) if isinstance(value, str) else (value["name"], value)
                self.acd.join(
                    call,
                    self.acd.queues[name],
                    at,
                    priority=int(options.get("priority", 0)),
                    skill=options.get("skill"),
                )
                return
        # Nothing left to try.
        rang = bool(call.stations)
        self._end(
            call, Disposition.NO_ANSWER if rang else Disposition.REJECTED, HungUpBy.ENGINE, at
        )

    def _ring(self, call: Call, stations: list[int], at: int, ring_s: float | None) -> bool:
        """Ring the idle ones of `stations` for `call`; False if none was idle."""
        stations = self.forwarding.routes(stations, call)
        idle = [s for s in stations if self.machines[s].state in FREE]
        if not idle:
            return False
        call.stations = []
        for s in idle:
            self.ring(call, s, at, self.forwarding.ring_s(s, ring_s))
        assert call.trunk is not None
        self.feed(call.trunk, ev.AwaitStation(at))
        return True

    def _on_played(self, ch: int, data: dict[str, str], at: int) -> None:
        call = self.call_of.get(ch)
        if call is not None and call.trunk == ch:
            if call.ivr is not None:
                self.ivr.prompt_ended(call, at)
                return
            self._next_step(call, at)

    def _on_digit(self, ch: int, data: dict[str, str], at: int) -> None:
        call = self.call_of.get(ch)
        if call is not None and call.trunk == ch and call.ivr is not None:
            self.ivr.digit(call, data["digit"], at)
            return
        if self.voicemail is not None:
            self.voicemail.digit(ch, data["digit"])

    def _on_off_hook(self, ch: int, data: dict[str, str], at: int) -> None:
        if self.voicemail is not None:  # stutter dial tone: messages waiting
            self.voicemail.off_hook(ch)

    def _on_abandoned(self, ch: int, data: dict[str, str], at: int) -> None:
        call = self.call_of.get(ch)
        if call is not None:
            self._end(call, Disposition.ABANDONED, HungUpBy.CALLER, at, leaving=ch)

    def _on_answered(self, ch: int, data: dict[str, str], at: int) -> None:
        call = self.call_of.get(ch)
        if call is None:
            return
        machine = self.machines[ch]
        if call.outside == ch and call.trunk is not None:  # a flow's transfer to a number
            call.answered_by = ch
            self.feed(ch, ev.Connect(at, call.trunk))
            self.feed(call.trunk, ev.Connect(at, ch))
            return
        if isinstance(machine, TrunkMachine):  # an outbound call answered far away
            station = call.caller_station
            assert station is not None
            self.feed(ch, ev.Connect(at, station))
            self.feed(station, ev.Connect(at, ch))
            self._answered(call, at)
            return
        if call.caller_station == ch and machine.state is StationState.CALLING:
            self._place_out(call, at)  # a soft dial: the agent lifted the handset
            return
        # A station answered an inbound or internal call: the others stop ringing.
        call.answered_by = ch
        for other in call.stations:
            if other != ch:
                self.call_of.pop(other, None)
                self.feed(other, ev.Release(at))
        call.stations = [ch]
        call.cdr.station = self.board.channels[ch].name
        peer = call.trunk if call.trunk is not None else call.caller_station
        assert peer is not None
        self.feed(peer, ev.Connect(at, ch))
        self.feed(ch, ev.Connect(at, peer))
        self._answered(call, at)

    def _on_not_answered(self, ch: int, data: dict[str, str], at: int) -> None:
        call = self.call_of.pop(ch, None)
        if call is None:
            return
        if call.caller_station == ch:  # soft dial: nobody lifted the phone in 45 s
            self._end(call, Disposition.NO_ANSWER, HungUpBy.ENGINE, at, leaving=ch)
            return
        if self.forwarding.no_answer(call, ch, at):
            return
        if ch in call.stations:
            call.stations.remove(ch)
        if call.stations:
            return  # others of the group still ring
        if call.trunk is not None:
            self._next_step(call, at)
        else:
            self._end(call, Disposition.NO_ANSWER, HungUpBy.ENGINE, at, leaving=ch)

    def _on_far_gone(self, ch: int, data: dict[str, str], at: int) -> None:
        call = self.call_of.get(ch)
        if call is None:
            return
        by = HungUpBy.CALLER if call.cdr.direction is Direction.INBOUND else HungUpBy.CALLEE
        answered = call.cdr.answered is not None and (
            call.answered_by is not None or call.cdr.direction is Direction.OUTBOUND
        )
        disposition = Disposition.ANSWERED if answered else Disposition.ABANDONED
        log.info(
            "对方挂机 far end hung up (%s)", data.get("how", ""), extra=self._extra(ch, "far_gone")
        )
        self._end(call, disposition, by, at, leaving=ch)

    def _on_on_hook(self, ch: int, data: dict[str, str], at: int) -> None:
        call = self.call_of.get(ch)
        if call is None:
            return
        talked = (call.cdr.answered is not None and call.answered_by is not None) or (
            call.cdr.direction is Direction.OUTBOUND and call.cdr.answered is not None
        )
        if call.caller_station == ch:
            by = HungUpBy.CALLER
            disposition = Disposition.ANSWERED if talked else Disposition.ABANDONED
        else:
            by = HungUpBy.CALLEE
            disposition = Disposition.ANSWERED
        self._end(call, disposition, by, at, leaving=ch)

    # outbound and internal ---------------------------------------------------------------------

    def dial(self, station: int | str, number: str) -> str:
        """Soft dial (SPEC C2): ring the agent's station; when the agent answers, hunt a
        trunk and dial `number`. Returns the call id."""
        if isinstance(station, str):
            if station not in self.station_at:
                raise ValueError(f"no station with extension {station!r} / 没有分机 {station}")
            ch = self.station_at[station]
        else:
            ch = station
        machine = self.machines.get(ch)
        if not isinstance(machine, StationMachine):
            raise ValueError(f"channel {ch} is not a station")
        standby = machine.state is StationState.STANDBY  # off hook already (headset)
        if machine.state is not StationState.IDLE and not standby:
            raise ValueError(f"station {self.extension_of.get(ch, ch)} is busy ({machine.state})")
        call = self._new_call(
            Direction.OUTBOUND,
            self.now,
            station=self.board.channels[ch].name,
            caller=self.extension_of.get(ch, ""),
            called=number,
            route="soft dial",
        )
        call.caller_station = ch
        call.number = number
        self._bind(call, ch)
        self.feed(ch, ev.Select(self.now))
        if not standby:
            self.feed(ch, ev.Alert(self.now))
        return call.cdr.call_id

    def _on_dialled(self, ch: int, data: dict[str, str], at: int) -> None:
        machine = self.machines[ch]
        if isinstance(machine, TrunkMachine):
            return  # our digits went out; the answer is awaited
        number = data.get("number", "")
        if any(handler(ch, number, at) for handler in self.feature_handlers):
            return
        if not number:  # lifted and left without dialling: busy tone, no call to record
            self.feed(ch, ev.Refuse(at))
            return
        call = self._new_call(
            Direction.INTERNAL if number in self.station_at else Direction.OUTBOUND,
            at,
            station=self.board.channels[ch].name,
            caller=self.extension_of.get(ch, ""),
            called=number,
            route="hard dial",
        )
        call.caller_station = ch
        self._bind(call, ch)
        if number in self.station_at:
            callee = self.forwarding.route(self.station_at[number], ch)
            if isinstance(callee, str):  # forwarded to an outside number
                call.cdr.extra["forwarded_to"] = call.number = callee
                self._place_out(call, at, prefixed=True)
                return
            if callee != self.station_at[number]:
                call.cdr.extra["forwarded_to"] = self.extension_of[callee]
            if (
                callee == ch
                or self.machines[callee].state not in FREE
                or not self.acd.takes_internal(callee)
            ):
                self.feed(ch, ev.Refuse(at))
                self._end(call, Disposition.BUSY, HungUpBy.ENGINE, at, leaving=ch)
                return
            call.stations = []
            self.ring(call, callee, at, self.forwarding.ring_s(callee, None))
            self.feed(ch, ev.Progress(at, "ringback"))
            return
        call.number = number
        self._place_out(call, at, prefixed=True)

    def _place_out(self, call: Call, at: int, *, prefixed: bool = False) -> None:
        station = call.caller_station
        assert station is not None
        try:
            trunk, out = self.route_out(station, call.number, prefixed=prefixed)
        except routing.NoRoute as exc:
            call.cdr.route += f": {exc}"
            log.info("呼出失败 cannot call out: %s", exc, extra=self._extra(station, "dial"))
            self.feed(station, ev.Refuse(at))
            self._end(call, Disposition.FAILED, HungUpBy.ENGINE, at, leaving=station)
            return
        call.trunk = trunk
        call.cdr.trunk = self.board.channels[trunk].name
        call.cdr.called = out.number
        call.cdr.route += f": trunk group {out.rule.trunk_group}"
        self._bind(call, trunk)
        self.feed(trunk, ev.Seize(at, out.number))
        self.feed(station, ev.Listen(at, trunk))

    def route_out(
        self, station: int, number: str, *, prefixed: bool
    ) -> tuple[int, routing.Outbound]:
        """An idle trunk and the number to dial on it for an outside call from `station`,
        by its group's outbound rule (prefix, barred, rewrites, hunting); `routing.NoRoute`
        if there is none. The caller seizes the trunk (``ev.Seize``) in the same tick."""
        group = self.station_group.get(station, "default")
        out = routing.place(self.config, group, number, prefixed=prefixed)
        trunks = self.config.trunk_group(out.rule.trunk_group).channel_list()
        trunk = self.hunter.pick(
            out.rule, trunks, lambda t: self.machines[t].state is TrunkState.IDLE
        )
        if trunk is None:
            raise routing.NoRoute(f"no free trunk in {out.rule.trunk_group}")
        return trunk, out

    def _on_failed(self, ch: int, data: dict[str, str], at: int) -> None:
        call = self.call_of.get(ch)
        if call is None:
            return
        reason = data.get("reason", "")
        if call.outside == ch and call.ivr is not None:  # back to the flow that dialled
            call.outside = None
            self.call_of.pop(ch, None)
            self.ivr.transfer_failed(call, reason or "failed", at)
            return
        disposition = {"busy": Disposition.BUSY, "no_answer": Disposition.NO_ANSWER}.get(
            reason, Disposition.FAILED
        )
        self._end(call, disposition, HungUpBy.CALLEE, at, leaving=ch)

    # -- commands from other threads ------------------------------------------------------------

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        """Run `fn` on the engine's thread at the start of the next tick."""
        future: Future[Any] = Future()
        self._commands.put((fn, future))
        return future

    def _run_commands(self) -> None:
        while True:
            try:
                fn, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except Exception as exc:  # the caller gets it
                future.set_exception(exc)

    def record(self, channel: int) -> str:
        """Start recording the call on `channel` by hand (an API command); returns the
        recording id (the call's, if it is recorded already)."""
        call = self.call_of.get(channel)
        if call is None:
            raise ValueError(f"no call on channel {channel} / 通道 {channel} 没有呼叫")
        if self.recorder is None:
            raise ValueError("recording is not running / 录音未启用")
        return self.recorder.record_call(call, manual=True)

    def stop_recording(self, channel: int) -> None:
        """Stop the recording of the call on `channel` (an API command)."""
        call = self.call_of.get(channel)
        rid = self.recorder.of_call.get(call.cdr.call_id) if call and self.recorder else None
        if rid is None:
            raise ValueError(f"no recording on channel {channel} / 通道 {channel} 没有录音")
        assert self.recorder is not None
        self.recorder.stop(rid)

    def ring(self, call: Call, station: int, at: int, ring_s: float | None = None) -> None:
        """Ring `station` for `call` (for `ring_s` seconds, if given): it becomes one of the
        call's ringing stations, bound to it, reserved and alerted."""
        call.stations.append(station)
        self._bind(call, station)
        self.feed(station, ev.Reserve(at))
        self.feed(station, ev.Alert(at, ring_s))

    def quiet(self, channel: int) -> None:
        """Silence on `channel`: whatever played there stops, and so does the timer that
        would have told its end."""
        self._cancel_timer(channel, PLAY_TIMER)
        self.mixer.quiet(channel)

    def play_music(self, channel: int, name: str = "default") -> None:
        """Music on hold of class `name` on `channel` until its source changes (hold,
        queues: docs/recording.md)."""
        self._cancel_timer(channel, PLAY_TIMER)
        self.mixer.music(channel, name)

    def enqueue(
        self,
        channel: int,
        queue: str,
        *,
        priority: int = 0,
        skill: str | None = None,
        data: dict[str, str] | None = None,
    ) -> None:
        """Hand the inbound call on trunk `channel` to `queue` (the IVR's transfer to a
        queue; docs/acd.md). `ValueError` for no such queue or call."""
        self.acd.enqueue(channel, queue, priority=priority, skill=skill, data=data)

    def hang_up(self, channel: int) -> None:
        """End the call on `channel` (an API command)."""
        call = self.call_of.get(channel)
        if call is None:
            raise ValueError(f"no call on channel {channel}")
        self._end(
            call,
            Disposition.ANSWERED if call.cdr.answered else Disposition.REJECTED,
            HungUpBy.ENGINE,
            self.now,
        )

    def listen(self, channel: int) -> None:
        """Play `channel` on this machine's speaker through the board's monitor port
        (SPEC B5, an API command); listening to another channel replaces it."""
        if not 0 <= channel < len(self.board):
            raise ValueError(f"no channel {channel} (the board has {len(self.board)})")
        try:
            self.board.listen(channel)
        except BoardError as exc:
            raise ValueError(f"cannot listen to channel {channel}: {exc}") from exc

    def stop_listening(self) -> None:
        """Stop the monitor port (an API command)."""
        self.board.stop_listening()

    # -- what the monitor sees ------------------------------------------------------------------

    def subscribe(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call `callback(event)` for every event (on the engine's thread); returns an
        unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def _publish(self, event: dict[str, Any]) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # a listener's fault is its own
                log.exception("a subscriber failed")

    def snapshot(self) -> dict[str, Any]:
        """Every channel with its state, call and numbers; every call in progress."""
        channels = []
        for info in self.board.channels:
            m = self.machines.get(info.index)
            call = self.call_of.get(info.index)
            channels.append(
                {
                    "channel": info.index,
                    "name": info.name,
                    "kind": info.kind.value,
                    "code": m.state.code if m else 0,
                    "state": m.state.name if m else "NONE",
                    "state_zh": m.state.chinese if m else "",
                    "since": round((m.entered_at - self._origin) / self.fs, 3) if m else 0.0,
                    "extension": self.extension_of.get(info.index, ""),
                    "call": call.cdr.call_id if call else None,
                    "caller": call.cdr.caller if call else "",
                    "called": call.cdr.called if call else "",
                    "line_down": info.index in self.line_down,
                    "node": _ivr_node(call, info.index),
                }
            )
        return {
            "t": round((self.now - self._origin) / self.fs, 3),
            "channels": channels,
            "calls": [_cdr_json(c.cdr) for c in self.calls.values()],
            "errors": self.errors,
            **self.acd.snapshot(),
        }

    def idle(self) -> bool:
        """No call open and every machine at rest."""
        rest = (TrunkState.IDLE, TrunkState.LINE_DOWN, StationState.IDLE)
        return not self.calls and all(m.state in rest for m in self.machines.values())

    def _extra(
        self, ch: int, signal: str, state: str | None = None, at: int | None = None
    ) -> dict[str, Any]:
        machine = self.machines.get(ch)
        return {
            "channel": ch,
            "signal": signal,
            "state": state if state is not None else (str(machine.state) if machine else "-"),
            "wall_time": self.wall(at).astimezone(),
        }


_TALKING = (
    TrunkState.WAIT_PLAY,
    TrunkState.PLAYING,
    TrunkState.WAIT_STATION,
    TrunkState.CONNECTED,
)


def _chain(first: Iterator[Any], rest: Iterator[Any] | None) -> Iterator[Any]:
    yield from first
    if rest is not None:
        yield from rest


def _copy(cdr: Cdr) -> Cdr:
    return Cdr(
        **{f: getattr(cdr, f) for f in cdr.__dataclass_fields__} | {"extra": dict(cdr.extra)}
    )


def _ivr_node(call: Call | None, channel: int) -> str:
    """The IVR node (``flow.node``) a trunk's caller is in, for the monitor."""
    if call is None or call.ivr is None or call.trunk != channel:
        return ""
    return str(call.cdr.extra.get("ivr_node", ""))


def _cdr_json(cdr: Cdr) -> dict[str, Any]:
    def t(x: dt.datetime | None) -> str | None:
        return None if x is None else x.isoformat()

    return {
        "call_id": cdr.call_id,
        "direction": cdr.direction.value,
        "trunk": cdr.trunk,
        "station": cdr.station,
        "caller": cdr.caller,
        "caller_name": cdr.caller_name,
        "called": cdr.called,
        "started": t(cdr.started),
        "answered": t(cdr.answered),
        "ended": t(cdr.ended),
        "disposition": cdr.disposition.value,
        "hung_up_by": cdr.hung_up_by.value,
        "route": cdr.route,
    }


def _describe(event: ev.Event) -> str:
    """An event as a log line: its name and fields (not its time, which the line has)."""
    fields = [f"{k}={getattr(event, k)!r}" for k in event.__dataclass_fields__ if k != "at"]
    return f"{type(event).__name__}({', '.join(fields)})" if fields else type(event).__name__


def _line_word(e: LineEvent) -> str:
    if isinstance(e, Alarm):
        return f"alarm {e.kind} {'raised' if e.active else 'cleared'} / 告警"
    if isinstance(e, ChannelFault):
        return f"channel fault: {e.message} / 通道故障"
    return type(e).__name__


def _cpu() -> float:
    return time.perf_counter()
