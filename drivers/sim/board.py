"""The simulated board: a real backend with no hardware, for development, CI and demos.

`SimBoard` carries audio both ways and models what is wired to each channel: the exchange
and far party behind every trunk (`exchange.TrunkLine`), the desk phone on every station
(`phone.DeskPhone`), record taps that hear both directions of a trunk, and empty slots.
It is deterministic (everything random comes from one seeded generator) and driven block
by block: each `read()` advances the board's clock by one block, so on the engine's
virtual clock it runs as fast as the CPU allows; ``realtime=True`` paces reads to the wall
clock instead.

A block is made array-wide: every clip that is playing (`players.Players`) is gathered and
added in one step, then the line impairments (level, noise, hybrid echo of what the board
sent) are applied for all channels together. Per-channel Python runs only for channels that
have something happening: a scheduled action, a person listening for the end of a
greeting, an exchange collecting dialled digits, an echo path.

Far ends are scripted from Python (`incoming_call`, `phone(n).run`, `directory`) or from
YAML scenario files (`load_scenario`, see docs/simulator.md); recorded line audio plays
into a trunk with `replay`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import signal as sps

from boardcc.drivers.board import Board, Capabilities, ChannelInfo, ChannelKind
from boardcc.drivers.errors import BoardConfigError, CommandError
from boardcc.drivers.events import Alarm, ChannelFault, LineEvent, OffHook, OnHook
from boardcc.drivers.sim.exchange import Callee, CallerIdSpec, LineState, TrunkLine
from boardcc.drivers.sim.party import ScriptError
from boardcc.drivers.sim.phone import DeskPhone
from boardcc.drivers.sim.sounds import Sounds
from boardcc.drivers.sim.steps import Listen, Step
from boardcc.dsp import power_dbm0, read_audio, sine_amplitude
from boardcc.dsp.players import Bank, Players

log = logging.getLogger("boardcc.drivers.sim")

F32 = npt.NDArray[np.float32]
I16 = npt.NDArray[np.int16]

DEFAULT_EPOCH = dt.datetime(2026, 1, 5, 9, 0, 0)  # a Monday morning: what caller ID dates say


@dataclass(frozen=True, slots=True)
class EchoPath:
    """A 2-wire/4-wire hybrid's echo: what the board sends comes back this way.

    Attributes
    ----------
    delay_ms : float
        Pure delay before the echo (line and hybrid), 0-60 ms.
    erl_db : float
        Echo return loss: how much quieter the echo is, dB (6-20 on real lines).
    dispersion_ms : float
        Length of the dispersive part after the delay.
    ir : sequence of float or None
        An explicit impulse response instead (overrides the three above).
    """

    delay_ms: float = 5.0
    erl_db: float = 12.0
    dispersion_ms: float = 6.0
    ir: tuple[float, ...] | None = None

    def response(self, fs: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
        if self.ir is not None:
            return np.asarray(self.ir, dtype=np.float64)
        if not 0.0 <= self.delay_ms <= 60.0:
            raise ValueError(f"echo delay_ms must be 0-60, got {self.delay_ms}")
        n = max(1, round(self.dispersion_ms * fs / 1000.0))
        k = np.arange(n)
        shape = rng.standard_normal(n) * np.exp(-k / (n / 4.0))
        shape = sps.lfilter([1.0, -0.6], [1.0], shape)  # a hybrid passes less low end
        ir = np.concatenate([np.zeros(round(self.delay_ms * fs / 1000.0)), shape])
        return ir * (10.0 ** (-self.erl_db / 20.0) / np.sqrt(np.sum(ir * ir)))


class _Echoes:
    """Every channel's hybrid echo at once: one batched FFT convolution per block.

    Each channel with an echo path keeps the last samples the board sent it; the echo of a
    block is that history convolved with the channel's impulse response (all responses
    zero-padded to the longest), computed for all such channels with one real FFT.
    """

    def __init__(self, block: int) -> None:
        self.block = block
        self.channels = np.zeros(0, np.intp)
        self._irs: list[npt.NDArray[np.float64]] = []
        self._taps = 1
        self._hist = np.zeros((0, block), np.float32)
        self._spectra = np.zeros((0, 1), np.complex64)
        self._nfft = 1

    def __bool__(self) -> bool:
        return bool(self.channels.size)

    def set(self, channel: int, ir: npt.NDArray[np.float64]) -> None:
        chans = self.channels.tolist()
        if channel in chans:
            self._irs[chans.index(channel)] = ir
        else:
            chans.append(channel)
            self._irs.append(ir)
            self._hist = np.vstack([self._hist, np.zeros((1, self._hist.shape[1]), np.float32)])
        self.channels = np.array(chans, np.intp)
        self._taps = max(len(r) for r in self._irs)
        span = self._taps - 1 + self.block
        self._nfft = 1 << (span - 1).bit_length()
        padded = np.zeros((len(self._irs), self._nfft))
        for i, r in enumerate(self._irs):
            padded[i, : len(r)] = r
        self._spectra = np.fft.rfft(padded, axis=1).astype(np.complex64)
        keep = self._taps - 1
        old = self._hist
        self._hist = np.zeros((len(chans), keep + self.block), np.float32)
        width = min(old.shape[1], keep)
        if width:
            self._hist[: old.shape[0], keep - width : keep] = old[:, old.shape[1] - width :]

    def __call__(self, sent: F32) -> F32:
        """The echo of `sent` (rows: this bank's channels, in order)."""
        keep = self._taps - 1
        self._hist[:, keep:] = sent
        y = np.fft.irfft(np.fft.rfft(self._hist, self._nfft, axis=1) * self._spectra, self._nfft)
        if keep:
            self._hist[:, :keep] = self._hist[:, self.block :]
        return y[:, keep : keep + self.block].astype(np.float32)


class _Listener:
    __slots__ = ("after_sound", "deadline", "need", "quiet", "resume", "sound", "threshold")

    def __init__(self, wait: Listen, now: int, fs: int, resume: Callable[[int], None]) -> None:
        self.threshold = wait.level_dbm0
        self.deadline = now + round(wait.timeout_s * fs)
        self.need = None if wait.silence_ms is None else round(wait.silence_ms * fs / 1000.0)
        self.after_sound = wait.after_sound
        self.sound = False
        self.quiet = 0
        self.resume = resume

    def hears(self, level: float, block: int, end: int) -> bool:
        loud = level > self.threshold
        if self.need is None:
            return loud or end >= self.deadline
        if loud:
            self.sound, self.quiet = True, 0
        elif self.sound or not self.after_sound:
            self.quiet += block
        return self.quiet >= self.need or end >= self.deadline


class SimBoard(Board):
    """A simulated voice board (backend ``"sim"``, the default).

    Channels are numbered trunks first, then stations, record taps and empty slots.

    Parameters
    ----------
    trunks, stations : int
        How many of each.
    records : int or sequence of int
        Record taps: a count (tapping the first trunks) or the trunks to tap.
    empty : int
        Empty slots.
    block : int
        Samples per block (160 = 20 ms).
    fs : int
        Sampling rate, Hz (8000).
    seed : int
        Seed of everything random (key timing, noise, echo paths).
    plan : str
        Tone plan of the exchange (``"cn"``, ``"us"``, ``"eu"`` or a YAML path).
    realtime : bool
        Pace `read()` to the wall clock instead of running as fast as possible.
    record_heard : {"all", "stations", "trunks", "none"} or sequence of int
        Whose far ends record what they hear (`heard`).
    record_seconds : float
        How much of it each keeps (the latest).
    links, conference, echo_cancel : bool
        Capabilities to report (the simulated card links and conferences by default; an
        echo canceller removes the simulated hybrid echo exactly while switched on).
    epoch : datetime
        Wall-clock time at sample 0, for caller-ID dates.
    audio : bool
        ``False`` makes a signalling-only board: no audio is made, mixed or recorded (every
        block read is silence, what is written is dropped); caller ID, keys and the busy
        tone of a far-end clear are reported as decoded events (`CallerIdReceived`,
        `DigitReceived`, `BusyToneDetected`), like a card with its own detectors, so the
        engine runs no DSP. For long traffic runs (hours of calls in seconds); see
        docs/simulator.md for what needs audio.
    scenario : str or Path, optional
        A scenario file to load; its ``board:`` section sets trunks, stations, records,
        empty, seed and plan, over the arguments given here.
    """

    backend = "sim"

    def __init__(
        self,
        *,
        trunks: int = 4,
        stations: int = 4,
        records: int | Sequence[int] = 0,
        empty: int = 0,
        block: int = 160,
        fs: int = 8000,
        seed: int = 0,
        plan: str = "cn",
        realtime: bool = False,
        record_heard: str | Sequence[int] = "all",
        record_seconds: float = 600.0,
        links: bool = True,
        conference: bool = True,
        echo_cancel: bool = False,
        epoch: dt.datetime = DEFAULT_EPOCH,
        audio: bool = True,
        scenario: str | Path | None = None,
    ) -> None:
        loaded = None
        if scenario is not None:
            from boardcc.drivers.sim.scenario import load_scenario

            loaded = load_scenario(scenario)
            given = {k: v for k, v in loaded.board.items()}
            trunks = given.get("trunks", trunks)
            stations = given.get("stations", stations)
            records = given.get("records", records)
            empty = given.get("empty", empty)
            seed = given.get("seed", seed)
            plan = given.get("plan", plan)
        for name, value in (("trunks", trunks), ("stations", stations), ("empty", empty)):
            if not isinstance(value, int) or value < 0:
                raise BoardConfigError(f"{name} must be a whole number >= 0, got {value!r}")
        if fs != 8000:
            raise BoardConfigError(f"fs: the simulated board runs at 8000 Hz, got {fs}")
        tapped = list(range(records)) if isinstance(records, int) else [int(r) for r in records]
        for r in tapped:
            if not 0 <= r < trunks:
                raise BoardConfigError(f"records: trunk {r} does not exist (0-{trunks - 1})")
        layout = (
            [(ChannelKind.TRUNK, None)] * trunks
            + [(ChannelKind.STATION, None)] * stations
            + [(ChannelKind.RECORD, r) for r in tapped]
            + [(ChannelKind.EMPTY, None)] * empty
        )
        infos = [ChannelInfo(i, kind, f"sim/{i}", tap) for i, (kind, tap) in enumerate(layout)]
        self.audio = audio
        caps = Capabilities(
            hardware_dtmf=not audio,
            caller_id=not audio,
            audio=audio,
            echo_cancel=echo_cancel,
            links=links,
            conference=conference,
            gains=True,
        )
        super().__init__(infos, caps, block=block, fs=fs)
        try:
            self._build(plan, seed, epoch, realtime, record_heard, record_seconds)
            if loaded is not None:
                loaded.apply(self)
        except BaseException:
            self._abandon()
            raise

    def _build(
        self,
        plan: str,
        seed: int,
        epoch: dt.datetime,
        realtime: bool,
        record_heard: str | Sequence[int],
        record_seconds: float,
    ) -> None:
        infos = self.channels
        fs, block = self.fs, self.block
        n = len(infos)
        self.rng = np.random.default_rng(seed)
        self.epoch = epoch
        self.realtime = realtime
        self._wall0: float | None = None
        self._queue: list[tuple[int, int, Callable[[int], None]]] = []
        self._seq = 0
        self.errors: list[str] = []
        self.players = Players(Bank(), block)
        try:
            self.sounds = Sounds(self.players.bank, plan, fs)
        except (OSError, ValueError) as exc:
            raise BoardConfigError(f"plan: {exc}") from exc
        self.directory: dict[str, Callee] = {}
        self.collecting: set[int] = set()
        self.lines = {i: TrunkLine(self, i) for i in self.of_kind(ChannelKind.TRUNK)}
        self.phones = {i: DeskPhone(self, i) for i in self.of_kind(ChannelKind.STATION)}
        self._tap_rows = np.array([i for i, c in enumerate(infos) if c.tap_of is not None], int)
        self._tapped = np.array([c.tap_of for c in infos if c.tap_of is not None], int)
        self._taps_of: dict[int, list[int]] = {}
        for tap, trunk in zip(self._tap_rows.tolist(), self._tapped.tolist(), strict=True):
            self._taps_of.setdefault(trunk, []).append(tap)
        self._mic = np.array([k is ChannelKind.TRUNK for k in self._kinds], np.float32)
        self._muted = np.flatnonzero(self._mic == 0.0)
        self._level = np.ones(n, np.float32)
        self._levelled = np.zeros(0, np.intp)
        self._noise = np.zeros(n, np.float32)
        self._noisy = np.zeros(0, np.intp)
        # Line noise: random windows into a few seconds of stored noise, not fresh normals
        # for every sample of every channel.
        self._noise_table = self.rng.standard_normal(1 << 16).astype(np.float32)
        self._echoes = _Echoes(block)
        self._echo_off: set[int] = set()
        self._echo_next = np.zeros((n, block), np.float32)
        self._rx_gain = np.ones(n, np.float32)
        self._tx_gain = np.ones(n, np.float32)
        self._tx_unity = True
        self._rx = np.zeros((n, block), np.float32)
        self._line_tx: npt.NDArray[Any] = np.zeros((n, block), np.float32)
        self._pairs = (np.zeros(0, int), np.zeros(0, int))
        self._confs: dict[int, npt.NDArray[np.int_]] = {}
        self._listeners: dict[int, _Listener] = {}
        self._failed: dict[int, str] = {}
        self._silence = np.zeros((n, block), np.int16)
        self._setup_tape(record_heard if self.audio else "none", record_seconds)

    # -- the clock and the scheduler ----------------------------------------------------------

    def ms(self, ms: float) -> int:
        """Milliseconds as samples."""
        return round(ms * self.fs / 1000.0)

    def seconds(self, samples: int) -> float:
        return samples / self.fs

    def wall_clock(self, t: int) -> dt.datetime:
        """The simulated wall-clock time at sample `t`."""
        return self.epoch + dt.timedelta(seconds=t / self.fs)

    def schedule(self, at: int, fn: Callable[[int], None]) -> None:
        """Call ``fn(t)`` when the board's clock reaches sample `at` (now, if past)."""
        self._seq += 1
        heapq.heappush(self._queue, (max(at, self.now), self._seq, fn))

    def at(self, seconds: float, fn: Callable[[SimBoard], object]) -> None:
        """Call ``fn(board)`` at `seconds` after the board was opened."""
        self.schedule(round(seconds * self.fs), lambda _t: fn(self))

    def emit(self, event: LineEvent) -> None:
        """Report a line event (and mirror it on record taps of the same line)."""
        self._emit(event)
        for tap in self._taps_of.get(event.channel, ()):
            self._emit(_moved(event, tap))

    def _emit_at(self, events: Sequence[LineEvent]) -> None:
        for event in events:
            if event.at <= self.now:
                self.emit(event)
            else:
                self.schedule(event.at, lambda _t, e=event: self.emit(e))

    def _run_due(self, limit: int) -> None:
        queue = self._queue
        while queue and queue[0][0] < limit:
            at, _, fn = heapq.heappop(queue)
            try:
                fn(at)
            except Exception as exc:  # one far end's fault must not stop the board
                message = f"at {at / self.fs:.3f} s: {type(exc).__name__}: {exc}"
                log.warning("simulated far end failed %s", message)
                self.errors.append(message)

    # -- audio --------------------------------------------------------------------------------

    def _read(self) -> I16:
        t0 = self.now
        self._run_due(t0 + self.block)
        if not self.audio:
            self.players.expire(t0 + self.block)
            if self.realtime:
                self._pace(t0 + self.block)
            return self._silence
        x = self._rx
        x.fill(0.0)
        self.players.mix(x, t0)
        if self._muted.size:
            x[self._muted] = 0.0
        if self._levelled.size:
            x[self._levelled] *= self._level[self._levelled, None]
        if self._noisy.size:
            k = self._noisy
            at = self.rng.integers(0, self._noise_table.size - self.block, k.size)
            x[k] += self._noise_table[at[:, None] + np.arange(self.block)] * self._noise[k, None]
        if self._echoes:
            x += self._echo_next
            self._echo_next.fill(0.0)
        if self._tap_rows.size:
            x[self._tap_rows] = x[self._tapped] + self._line_tx[self._tapped]
        if self.realtime:
            self._pace(t0 + self.block)
        y = x * self._rx_gain[:, None]
        if self._failed:
            y[list(self._failed)] = 0.0
        return np.clip(np.rint(y), -32768, 32767).astype(np.int16)

    def _write(self, tx: I16) -> None:
        if not self.audio:
            return
        end = self.now
        a, b = self._pairs
        line: npt.NDArray[Any]
        if self._tx_unity and not a.size and not self._confs and not self._failed:
            line = tx  # what goes down each line is exactly what the host sent
        else:
            h = tx.astype(np.float32)
            if not self._tx_unity:
                h *= self._tx_gain[:, None]
            if self._failed:
                h[list(self._failed)] = 0.0
            if a.size:
                h[a] += self._rx[b]
                h[b] += self._rx[a]
            for members in self._confs.values():
                total = self._rx[members].sum(axis=0)
                h[members] += total - self._rx[members]
            line = h
        self._line_tx = line
        if self._tape_rows.size:
            self._tape_put(line[self._tape_rows])
        if self._listeners:
            self._listen(line, end)
        for ch in list(self.collecting):
            self.lines[ch].hear(line[ch])
        if self._echoes:
            chans = self._echoes.channels
            self._echo_next[chans] = self._echoes(line[chans])
            if self._echo_off:
                self._echo_next[list(self._echo_off)] = 0.0

    def _pace(self, until: int) -> None:
        if self._wall0 is None:
            self._wall0 = time.monotonic() - self.now / self.fs
        delay = self._wall0 + until / self.fs - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _listen(self, h: F32, end: int) -> None:
        chans = list(self._listeners)
        levels = power_dbm0(np.mean(np.square(h[chans], dtype=np.float64), axis=1))
        for ch, level in zip(chans, levels.tolist(), strict=True):
            listener = self._listeners[ch]
            if listener.hears(level, self.block, end):
                del self._listeners[ch]
                listener.resume(end)

    def hear_for(self, channel: int, wait: Listen, now: int, resume: Callable[[int], None]) -> None:
        """Resume a far end's script when it hears what `wait` asks for."""
        if not self.audio:
            raise ScriptError(
                "wait_sound/wait_silence need audio; this board has audio=False "
                "/ 等待声音需要音频，本模拟卡未开音频"
            )
        self._listeners[channel] = _Listener(wait, now, self.fs, resume)

    def stop_hearing(self, channel: int) -> None:
        self._listeners.pop(channel, None)

    def set_mic(self, channel: int, on: bool) -> None:
        """Connect or cut a station phone's microphone (its hook)."""
        self._mic[channel] = 1.0 if on else 0.0
        self._muted = np.flatnonzero(self._mic == 0.0)

    # -- what the far ends heard --------------------------------------------------------------

    def _setup_tape(self, record_heard: str | Sequence[int], seconds: float) -> None:
        if isinstance(record_heard, str):
            choice = {
                "all": [i for i, k in enumerate(self._kinds) if k is not ChannelKind.EMPTY],
                "stations": self.of_kind(ChannelKind.STATION),
                "trunks": self.of_kind(ChannelKind.TRUNK),
                "none": [],
            }.get(record_heard)
            if choice is None:
                raise BoardConfigError(
                    f"record_heard must be all, stations, trunks, none or channels, "
                    f"got {record_heard!r}"
                )
            rows = choice
        else:
            rows = [int(c) for c in record_heard]
            for c in rows:
                self._check_channel(c)
        self._tape_rows = np.array(rows, int)
        self._tape_index = {c: i for i, c in enumerate(rows)}
        self._tape_gate = np.array(
            [self._kinds[c] is ChannelKind.STATION for c in rows], dtype=bool
        )
        blocks = max(1, int(np.ceil(seconds * self.fs / self.block)))
        self._tape = np.zeros((len(rows), blocks, self.block), np.int16)
        self._tape_blocks = 0

    def _tape_put(self, heard: npt.NDArray[Any]) -> None:
        slot = self._tape_blocks % self._tape.shape[1]
        if heard.dtype == np.int16:
            self._tape[:, slot, :] = heard
        else:
            self._tape[:, slot, :] = np.clip(np.rint(heard), -32768, 32767)
        # A phone on hook hears nothing.
        deaf = self._tape_gate & (self._mic[self._tape_rows] == 0.0)
        if deaf.any():
            self._tape[deaf, slot, :] = 0
        self._tape_blocks += 1

    def heard(self, channel: int, start: float = 0.0, end: float | None = None) -> I16:
        """What the far end of `channel` heard from the board (int16), between `start` and
        `end` seconds of the board's clock, as far back as the recording goes.

        A desk phone hears nothing while on hook; a trunk's far end hears what the board
        sent on the line (plus links and conferences).
        """
        self._check_channel(channel)
        row = self._tape_index.get(channel)
        if row is None:
            raise CommandError(channel, "heard", "this channel's far end does not record")
        cap = self._tape.shape[1]
        total = self._tape_blocks
        first = max(0, total - cap)
        order = [(b % cap) for b in range(first, total)]
        audio = self._tape[row, order, :].reshape(-1)
        lo = max(0, round(start * self.fs) - first * self.block)
        hi = audio.size if end is None else max(lo, round(end * self.fs) - first * self.block)
        return np.ascontiguousarray(audio[lo:hi])

    # -- far ends, scripted -------------------------------------------------------------------

    def trunk(self, channel: int) -> TrunkLine:
        """The exchange behind trunk `channel`."""
        self._check_channel(channel)
        line = self.lines.get(channel)
        if line is None:
            raise CommandError(channel, "trunk", f"is a {self._kinds[channel].value} channel")
        return line

    def phone(self, channel: int) -> DeskPhone:
        """The desk phone on station `channel`."""
        self._check_channel(channel)
        phone = self.phones.get(channel)
        if phone is None:
            raise CommandError(channel, "phone", f"is a {self._kinds[channel].value} channel")
        return phone

    def incoming_call(
        self,
        trunk: int,
        *,
        at: float | None = None,
        caller_id: CallerIdSpec | Mapping[str, Any] | str | None = None,
        script: Sequence[Step] = (),
        cadence: Sequence[int] | None = None,
        give_up_s: float = 60.0,
    ) -> None:
        """A call arrives on `trunk` at `at` seconds (default: now).

        `caller_id` is a `CallerIdSpec`, its fields as a mapping, or just the number (FSK);
        `script` is what the caller does once the board answers; the caller gives up after
        `give_up_s` seconds of ringing.
        """
        if isinstance(caller_id, str):
            caller_id = CallerIdSpec(number=caller_id)
        elif isinstance(caller_id, Mapping):
            caller_id = CallerIdSpec(**caller_id)
        when = self.now if at is None else round(at * self.fs)
        self.trunk(trunk).incoming(
            when, caller_id=caller_id, script=script, cadence=cadence, give_up_s=give_up_s
        )

    def directory_complete(self, digits: str) -> bool:
        """The number is in the directory and no longer number starts with it."""
        if digits not in self.directory:
            return False
        return not any(n != digits and n.startswith(digits) for n in self.directory)

    def hang_up_far(self, trunk: int) -> None:
        """The far party on `trunk` hangs up now."""
        self.trunk(trunk).far_hang_up(self.now)

    def disconnect(self, trunk: int) -> None:
        """Cut the line of `trunk` (线路断开) until `reconnect`."""
        self.trunk(trunk).disconnect(self.now)

    def reconnect(self, trunk: int) -> None:
        self.trunk(trunk).reconnect(self.now)

    def impair(
        self,
        channel: int,
        *,
        level_db: float | None = None,
        noise_dbm0: float | None = None,
        echo: EchoPath | Mapping[str, Any] | None = None,
    ) -> None:
        """Line impairments of one channel: the far end's level (dB, applied to everything
        the far end sends), white noise at `noise_dbm0`, and a hybrid echo path."""
        self._check_channel(channel)
        if level_db is not None:
            if not -40.0 <= level_db <= 20.0:
                raise CommandError(channel, "impair", f"level_db must be -40..20, got {level_db}")
            self._level[channel] = 10.0 ** (level_db / 20.0)
            self._levelled = np.flatnonzero(self._level != 1.0)
        if noise_dbm0 is not None:
            sigma = sine_amplitude(noise_dbm0) / np.sqrt(2.0)
            self._noise[channel] = sigma
            self._noisy = np.flatnonzero(self._noise > 0.0)
        if echo is not None:
            path = echo if isinstance(echo, EchoPath) else EchoPath(**echo)
            self._echoes.set(channel, path.response(self.fs, self.rng))

    def replay(
        self,
        trunk: int,
        audio: str | Path | npt.ArrayLike,
        *,
        events: str | Path | Sequence[Mapping[str, Any]] | None = None,
        at: float | None = None,
    ) -> float:
        """Play recorded line audio into `trunk`'s receive side, with timed line events.

        The exchange model of that trunk steps aside while the recording plays (the
        recording already holds whatever the line carried). `audio` is a file
        (`boardcc.dsp.read_audio`: WAV in any codec, VOX, ...) or int16 samples at 8 kHz;
        `events` a list of ``{at: seconds, event: ring_on|ring_off|polarity|voltage_lost|
        voltage_back|hang_up}`` or a YAML file of them (docs/simulator.md). Times are from
        the start of the replay. Returns the length of the recording, seconds.
        """
        from boardcc.drivers.sim.scenario import load_replay_events

        line = self.trunk(trunk)
        if isinstance(audio, str | Path):
            samples = read_audio(audio, fs=self.fs).samples.astype(np.float32).mean(axis=0)
        else:
            samples = np.asarray(audio, dtype=np.float32).ravel()
        timed = load_replay_events(events) if events is not None else []
        start = self.now if at is None else round(at * self.fs)
        clip = self.players.bank.add(samples)

        def begin(t: int) -> None:
            line.far.cancel()
            line.state = LineState.REPLAY
            self.players.start(trunk, clip, t)

        self.schedule(start, begin)
        for offset, make in timed:
            self.schedule(
                start + round(offset * self.fs), lambda t, m=make: self._emit_at(m(line, t))
            )
        self.schedule(start + clip[1], lambda t: _end_replay(line))
        return clip[1] / self.fs

    def fail(self, channel: int, message: str = "simulated hardware fault") -> None:
        """Make one channel misbehave: its audio is lost both ways and a `ChannelFault` is
        reported, as a failing port would; every other channel carries on."""
        self._check_channel(channel)
        if channel not in self._failed:
            self._failed[channel] = message
            self._emit(ChannelFault(channel, self.now, message))

    def repair(self, channel: int) -> None:
        """Undo `fail`."""
        self._failed.pop(channel, None)

    def alarm(self, kind: str, active: bool = True, channels: Sequence[int] | None = None) -> None:
        """Raise (or clear) a span alarm, e.g. an E1 ``"red"`` alarm, on `channels` (default:
        every trunk), as a card reports it: one `Alarm` event per channel."""
        for ch in self.of_kind(ChannelKind.TRUNK) if channels is None else channels:
            self._check_channel(ch)
            self._emit(Alarm(ch, self.now, kind, active))

    def advance(self, seconds: float, tx: npt.ArrayLike | None = None) -> list[LineEvent]:
        """Run the board for `seconds` with the host sending `tx` (default silence) every
        block; returns the line events. For tools and tests that drive a board without an
        engine."""
        out: list[LineEvent] = []
        silence = np.zeros((len(self), self.block), np.int16) if tx is None else np.asarray(tx)
        for _ in range(max(0, round(seconds * self.fs / self.block))):
            self.read()
            out += self.events()
            self.write(silence)
        return out

    def load_scenario(self, scenario: str | Path | Mapping[str, Any]) -> None:
        """Apply a scenario file (or its parsed content) to this board."""
        from boardcc.drivers.sim.scenario import load_scenario

        load_scenario(scenario).apply(self)

    # -- commands -----------------------------------------------------------------------------

    def _offhook(self, channel: int) -> None:
        self.lines[channel].seize(self.now)
        for tap in self._taps_of.get(channel, ()):
            self._emit(OffHook(tap, self.now))

    def _onhook(self, channel: int) -> None:
        self.lines[channel].release(self.now)
        for tap in self._taps_of.get(channel, ()):
            self._emit(OnHook(tap, self.now))

    def _flash(self, channel: int, ms: int) -> None:
        self.lines[channel].flash(self.now)

    def _ring(self, channel: int, cadence: tuple[int, ...]) -> None:
        self.phones[channel].start_ringing(cadence, self.now)

    def _stop_ring(self, channel: int) -> None:
        self.phones[channel].stop_ringing()

    def _feed_power(self, channel: int, on: bool) -> None:
        phone = self.phones[channel]
        if phone.powered == on:
            return
        phone.powered = on
        if not on:
            phone.stop_ringing()
        if phone.offhook:
            self.set_mic(channel, on)
            self._emit((OffHook if on else OnHook)(channel, self.now))

    def _link(self, a: int, b: int) -> None:
        pa, pb = self._pairs
        self._pairs = (np.append(pa, a), np.append(pb, b))

    def _unlink(self, a: int, b: int) -> None:
        pa, pb = self._pairs
        keep = ~(((pa == a) & (pb == b)) | ((pa == b) & (pb == a)))
        self._pairs = (pa[keep], pb[keep])

    def _conference(self, number: int, members: list[int]) -> None:
        self._confs[number] = np.array(members, int)

    def _end_conference(self, number: int, members: list[int]) -> None:
        self._confs.pop(number, None)

    def _set_gain(self, channel: int, rx_db: float, tx_db: float) -> None:
        self._rx_gain[channel] = 10.0 ** (rx_db / 20.0)
        self._tx_gain[channel] = 10.0 ** (tx_db / 20.0)
        self._tx_unity = bool(np.all(self._tx_gain == 1.0))

    def _echo_canceller(self, channel: int, on: bool) -> None:
        if on:
            self._echo_off.add(channel)
        else:
            self._echo_off.discard(channel)

    def _close(self) -> None:
        self._queue.clear()
        self._listeners.clear()


def _moved(event: LineEvent, channel: int) -> LineEvent:
    return dataclasses.replace(event, channel=channel)


def _end_replay(line: TrunkLine) -> None:
    if line.state is LineState.REPLAY:
        line.state = LineState.IDLE
