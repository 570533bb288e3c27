"""The DAHDI board: analog trunks and stations on DAHDI cards, as a `Board`.

Each configured DAHDI channel is opened through ``/dev/dahdi/channel`` (DAHDI_SPECIFY), put in
signed-linear mode with a block of ``block`` samples, and classified by its signalling:
``fxs*`` signalling runs on an FXO module that faces the exchange, so it is a TRUNK;
``fxo*`` signalling runs on an FXS module that powers and rings a phone, so it is a STATION.
A channel that exists but was not configured by ``dahdi_cfg`` (an empty module slot) is
EMPTY; any other signalling (E&M, CAS, clear or HDLC channels) is refused, because boardcc
cannot honestly drive it as a trunk or a station.

Audio: `_read` polls every open channel and reads one block from each as it becomes ready,
so the card's clock paces the caller; `_write` writes one block to each. Both are
non-blocking. DAHDI refuses to read or write with ``ELAST`` while a line event waits; the
event is fetched (DAHDI_GETEVENT), reported, and the read retried. A channel that fails, reads
short or stays silent past ``poll_timeout_ms`` gives a row of silence and a `ChannelFault`;
the other channels are not held up.

Line events come from DAHDI_GETEVENT and are translated per kind by the tables at the end
(`_TRUNK_EVENTS`, `_STATION_EVENTS`); docs/boards/dahdi.md explains each choice with the kernel
behaviour behind it. Commands are DAHDI_HOOK (seize, release, flash, ring, stop ringing),
DAHDI_SETCADENCE, DAHDI_SETCONF (links and conferences inside the card), DAHDI_SETGAINS and
DAHDI_ECHOCANCEL_PARAMS.
"""

from __future__ import annotations

import contextlib
import errno
import select
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from boardcc.drivers.board import I16, Board, Capabilities, ChannelInfo, ChannelKind
from boardcc.drivers.dahdi import binding
from boardcc.drivers.dahdi.binding import (
    OPEN,
    CData,
    EventPending,
    InProgress,
    KernelError,
    LibcTransport,
    NotReady,
    Transport,
    describe_errno,
)
from boardcc.drivers.dahdi.constants import (
    MAX_BLOCKSIZE,
    MAX_CADENCE,
    MAX_EVENTSIZE,
    AlarmBit,
    ConfFlag,
    ConfMode,
    Event,
    EventFlag,
    Hook,
    Ioctl,
    Law,
    Sig,
)
from boardcc.drivers.errors import (
    BackendUnavailableError,
    BoardConfigError,
    BoardError,
    CommandError,
    HardwareError,
    NotSupportedError,
)
from boardcc.drivers.events import (
    Alarm,
    ChannelFault,
    HookFlash,
    LineVoltageBack,
    LineVoltageLost,
    OffHook,
    OnHook,
    PolarityReversal,
    RingOff,
    RingOn,
)
from boardcc.dsp import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

TRUNK_SIGNALLING = frozenset({Sig.FXSLS, Sig.FXSGS, Sig.FXSKS})
"""FXS signalling: used on an FXO module, which faces the exchange like a phone does."""
STATION_SIGNALLING = frozenset({Sig.FXOLS, Sig.FXOGS, Sig.FXOKS})
"""FXO signalling: used on an FXS module, which feeds and rings a phone like an exchange."""

ECHO_TAPS = (32, 64, 128, 256, 512, 1024)
"""Tail lengths DAHDI's echo cancellers take (8 taps per ms); it silently replaces others."""

BUFFERS_MAX = 32
BUFFER_SPACE = 32768
"""Bytes of kernel buffer a channel may have (buffers x block)."""

INSTALL_ADVICE = (
    "load the DAHDI kernel modules: on Debian/Ubuntu `apt install dahdi-dkms dahdi-linux dahdi`"
    " (kernel modules, udev rules, dahdi_cfg), then `modprobe dahdi` and the card's driver"
    " (wctdm24xxp, wcaxx, wct4xxp, ...), describe the channels in /etc/dahdi/system.conf"
    " (`dahdi_genconf` writes one) and run `dahdi_cfg -vv`; see docs/boards/dahdi.md"
)
PERMISSION_ADVICE = (
    "let this user open /dev/dahdi: Debian's udev rule gives it to group `dialout`"
    " (`adduser USER dialout`, then log in again); see docs/boards/dahdi.md"
)

_ALARM_KINDS = (
    (AlarmBit.RED, "red"),
    (AlarmBit.YELLOW, "yellow"),
    (AlarmBit.BLUE, "blue"),
    (AlarmBit.RECOVER, "recovery"),
    (AlarmBit.LOOPBACK, "loopback"),
    (AlarmBit.NOTOPEN, "not-open"),
)
"""``chan_alarms`` bits reported as `Alarm` kinds (LOS/LFA/LMFA only detail a red alarm)."""

_CONFERENCE_MODE = ConfMode.CONF | ConfFlag.TALKER | ConfFlag.LISTENER
"""Each member talks (its line's audio goes into the sum) and listens (its line hears the sum
of the others added to what the host writes to it); what the host reads is left alone."""

_NEW_CONFERENCE = -1
"""``confno`` asking DAHDI for the first free conference (it writes the number back)."""


def parse_channels(spec: str | int | Sequence[int]) -> list[int]:
    """DAHDI channel numbers from ``"1-24,31"``, one number or a list of numbers.

    Raises
    ------
    BoardConfigError
        If the spec is empty, malformed, names a channel below 1 or one twice.
    """
    numbers: list[int] = []
    if isinstance(spec, str):
        for part in spec.replace(" ", "").split(","):
            first, dash, last = part.partition("-")
            if not (first.isdigit() and (not dash or last.isdigit())):
                raise BoardConfigError(
                    f"channels: cannot read {part!r} in {spec!r} (e.g. '1-24,31')"
                )
            lo, hi = int(first), int(last) if dash else int(first)
            if hi < lo:
                raise BoardConfigError(f"channels: range {part!r} runs backwards")
            numbers.extend(range(lo, hi + 1))
    elif isinstance(spec, int):
        numbers = [spec]
    else:
        numbers = [int(n) for n in spec]
    if not numbers:
        raise BoardConfigError("channels: no DAHDI channel given")
    if min(numbers) < 1:
        raise BoardConfigError(f"channels: DAHDI channels are numbered from 1, got {min(numbers)}")
    seen: set[int] = set()
    for n in numbers:
        if n in seen:
            raise BoardConfigError(f"channels: DAHDI channel {n} is listed twice")
        seen.add(n)
    return numbers


@cache
def gain_table(law: Law, db: float) -> npt.NDArray[np.uint8]:
    """DAHDI's gain table for `db`: G.711 code in, G.711 code out, in the channel's law."""
    if db == 0.0:
        table = np.arange(256, dtype=np.uint8)  # DAHDI's own default: every code unchanged
    else:
        decode, encode = (
            (alaw_decode, alaw_encode) if law == Law.ALAW else (ulaw_decode, ulaw_encode)
        )
        linear = decode(np.arange(256, dtype=np.uint8)).astype(np.float64) * 10.0 ** (db / 20.0)
        table = encode(np.clip(np.rint(linear), -32768, 32767).astype(np.int16))
    table.setflags(write=False)
    return table


@dataclass(slots=True)
class _Port:
    """What the board knows about one DAHDI channel."""

    number: int
    kind: ChannelKind
    handle: int | None = None
    law: Law = Law.MULAW
    initial_alarms: int = 0
    initially_off_hook: bool = False
    broken: bool = False
    echo_accepted: bool = False  # the kernel took DAHDI_ECHOCANCEL_PARAMS on this channel
    echo_name: str | None = None  # attached canceller ("" none), None when sysfs cannot tell
    held_off_hook: bool = False  # station: we told DAHDI "off hook" when its phone answered
    ringing: bool = False  # station: our ring cadence runs
    ring_on: bool = False  # trunk: RingOn reported, its RingOff not yet
    voltage_lost: bool = False  # trunk: LineVoltageLost reported, not cleared since
    alarms: tuple[str, ...] = ()
    confno: int = 0
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = f"dahdi/{self.number}"


class DahdiBoard(Board):
    """Analog trunks and stations on DAHDI cards (backend ``"dahdi"``).

    Channels are in the order of `channels`; channel `i` of the board is DAHDI channel
    ``channels[i]``, named ``"dahdi/N"``.

    Parameters
    ----------
    channels : str, int or sequence of int
        DAHDI channel numbers (as in /etc/dahdi/system.conf): ``"1-24,31"`` or ``[1, 2, 5]``.
    block : int
        Samples per channel per `read`/`write` (16-8192; 160 = 20 ms).
    fs : int
        Must be 8000: DAHDI channels run at 8 kHz.
    transport : Transport or None
        The kernel; None for the real one (`LibcTransport` on `device`). Tests pass a fake.
    echo_tail : int
        Echo canceller taps used when it is switched on (32-1024, a power of two; 8 per ms).
    echo_cancel : bool or None
        Whether to offer the card's echo canceller: None probes (see docs/boards/dahdi.md), False
        leaves echo cancelling to the engine's software, True trusts the operator.
    buffers : int
        Kernel buffers of `block` samples per direction (2-32): slack for a late host.
    device : str
        The DAHDI channel device.
    poll_timeout_ms : int or None
        How long `read` waits for a channel before giving it up for this block (silence and a
        `ChannelFault`); None for five blocks but at least 50 ms.

    Raises
    ------
    BackendUnavailableError
        If the DAHDI device cannot be opened (kernel modules missing, no permission).
    BoardConfigError
        For a setting out of range, a channel DAHDI does not have, or one whose signalling
        boardcc does not drive.
    HardwareError
        If a channel is in use by another program or refuses its set-up.
    """

    backend: ClassVar[str] = "dahdi"

    def __init__(
        self,
        *,
        channels: str | int | Sequence[int],
        block: int = 160,
        fs: int = 8000,
        transport: Transport | None = None,
        echo_tail: int = 128,
        echo_cancel: bool | None = None,
        buffers: int = 4,
        device: str = binding.DEFAULT_DEVICE,
        poll_timeout_ms: int | None = None,
        **unknown: object,
    ) -> None:
        if unknown:
            raise BoardConfigError(f"unknown dahdi board setting(s): {', '.join(sorted(unknown))}")
        numbers = parse_channels(channels)
        if fs != 8000:
            raise BoardConfigError(f"fs: DAHDI channels run at 8000 Hz only, got {fs}")
        if not 16 <= block <= MAX_BLOCKSIZE:
            raise BoardConfigError(f"block: DAHDI takes 16-{MAX_BLOCKSIZE} samples, got {block}")
        if not 2 <= buffers <= BUFFERS_MAX or buffers * block > BUFFER_SPACE:
            raise BoardConfigError(
                f"buffers: 2-{BUFFERS_MAX} and at most {BUFFER_SPACE} samples in all, "
                f"got {buffers} of {block}"
            )
        if echo_tail not in ECHO_TAPS:
            raise BoardConfigError(f"echo_tail: one of {ECHO_TAPS} taps, got {echo_tail}")
        if poll_timeout_ms is None:
            poll_timeout_ms = max(50, 5 * block * 1000 // fs)
        if poll_timeout_ms <= 0:
            raise BoardConfigError(f"poll_timeout_ms: must be positive, got {poll_timeout_ms}")

        self._transport: Transport = transport if transport is not None else LibcTransport(device)
        self._device = device
        self._echo_tail = echo_tail
        self._echo_probe = echo_cancel is None
        self._poll_timeout_s = poll_timeout_ms / 1000.0
        self._ports: list[_Port] = []
        try:
            for index, number in enumerate(numbers):
                self._ports.append(self._open_port(index, number, block, buffers))
        except BaseException:
            self._release_handles()
            raise

        audio = [p for p in self._ports if p.handle is not None]
        if echo_cancel is None:
            echo_cancel = any(p.echo_accepted and p.echo_name != "" for p in audio)
        super().__init__(
            [ChannelInfo(i, p.kind, p.name) for i, p in enumerate(self._ports)],
            Capabilities(
                hardware_dtmf=False,
                caller_id=False,
                echo_cancel=echo_cancel,
                links=True,
                conference=True,
                gains=True,
            ),
            block=block,
            fs=fs,
        )
        self._open_indices = [i for i, p in enumerate(self._ports) if p.handle is not None]
        self._report_initial_state()

    # -- opening ----------------------------------------------------------------------------

    def _open_port(self, index: int, number: int, block: int, buffers: int) -> _Port:
        try:
            handle = self._transport.open_channel(number)
        except KernelError as exc:
            if exc.op == OPEN:
                raise self._unavailable(exc) from exc
            if exc.code == errno.ENXIO:  # exists, but dahdi_cfg gave it no signalling
                return _Port(number, ChannelKind.EMPTY)
            if exc.code == errno.EINVAL:
                raise BoardConfigError(
                    f"channels: DAHDI has no channel {number} (see `dahdi_scan`, "
                    "/etc/dahdi/system.conf and `dahdi_cfg -vv`)"
                ) from exc
            if exc.code == errno.EBUSY:
                raise HardwareError(
                    index, f"dahdi/{number} is in use by another program (Asterisk?)", exc.code
                ) from exc
            raise HardwareError(index, f"dahdi/{number}: {exc}", exc.code) from exc
        port = _Port(number, ChannelKind.EMPTY, handle)
        try:
            self._set_up(index, port, handle, block, buffers)
        except BaseException:
            with contextlib.suppress(KernelError):  # the set-up error is the one to report
                self._transport.close(handle)
            raise
        if port.kind is ChannelKind.EMPTY:
            self._transport.close(handle)
            port.handle = None
        return port

    def _set_up(self, index: int, port: _Port, handle: int, block: int, buffers: int) -> None:
        t = self._transport
        try:
            p = binding.params()
            t.ioctl(handle, Ioctl.GET_PARAMS, p)
            sig = int(p.sigtype)
            if sig & Sig.BROKEN:
                port.broken = True
                return
            if sig in TRUNK_SIGNALLING:
                port.kind = ChannelKind.TRUNK
            elif sig in STATION_SIGNALLING:
                port.kind = ChannelKind.STATION
            else:
                raise BoardConfigError(
                    f"channels: DAHDI channel {port.number} has {_signalling_name(sig)} "
                    "signalling; boardcc drives analog ports only (fxsks/fxsls/fxsgs for "
                    "trunks, fxoks/fxols/fxogs for stations in system.conf): leave it out"
                )
            port.law = Law.ALAW if p.curlaw == Law.ALAW else Law.MULAW
            port.initial_alarms = int(p.chan_alarms)
            port.initially_off_hook = bool(p.rxisoffhook)
            t.ioctl(handle, Ioctl.SETLINEAR, binding.int_arg(1))
            t.ioctl(handle, Ioctl.SET_BLOCKSIZE, binding.int_arg(block))
            t.ioctl(handle, Ioctl.SET_BUFINFO, binding.bufferinfo(buffers, block))
            spanno, chanpos = int(p.spanno), int(p.chanpos)
        except KernelError as exc:
            raise HardwareError(index, f"{port.name}: {exc}", exc.code) from exc
        # Echo canceller: switched off to start from a known state (the engine switches it
        # on where it needs it); the kernel refusing even that means none can be used.
        try:
            t.ioctl(handle, Ioctl.ECHOCANCEL_PARAMS, binding.echocan(0))
            port.echo_accepted = True
        except KernelError:
            port.echo_accepted = False
        port.echo_name = t.echo_canceller(spanno, chanpos)

    def _unavailable(self, exc: KernelError) -> BackendUnavailableError:
        what = f"cannot open {self._device}: {describe_errno(exc.code)}"
        if exc.code in (errno.EACCES, errno.EPERM):
            return BackendUnavailableError(self.backend, what, PERMISSION_ADVICE)
        return BackendUnavailableError(
            self.backend, what + "; the DAHDI kernel modules are not loaded", INSTALL_ADVICE
        )

    def _report_initial_state(self) -> None:
        for index, port in enumerate(self._ports):
            if port.broken:
                self._fault(index, f"{port.name}: DAHDI marks the port broken (failed to start)")
            if port.initial_alarms:
                self._alarms_now(index, port.initial_alarms)
            if port.kind is ChannelKind.STATION and port.initially_off_hook:
                self._emit(OffHook(index, self.now))

    def _release_handles(self) -> None:
        for port in self._ports:
            if port.handle is not None:
                handle, port.handle = port.handle, None
                # Already failing: the first error is the one to report.
                with contextlib.suppress(KernelError):
                    self._transport.close(handle)

    # -- audio ------------------------------------------------------------------------------

    def _read(self) -> I16:
        rx = np.zeros((len(self._ports), self.block), dtype=np.int16)
        if not self._open_indices:
            time.sleep(self.block / self.fs)  # nothing on the card to pace us
            return rx
        waiting = list(self._open_indices)
        deadline = time.monotonic() + self._poll_timeout_s
        while waiting:
            left_ms = max(0, int((deadline - time.monotonic()) * 1000.0))
            handles = [self._handle(i) for i in waiting]
            revents = self._transport_poll(handles, left_ms)
            still: list[int] = []
            for index, ready in zip(waiting, revents, strict=True):
                if ready & select.POLLPRI:
                    self._drain_events(index)
                if ready & (select.POLLERR | select.POLLNVAL):
                    self._fault(index, f"{self._ports[index].name}: poll reports an error")
                elif not (ready & select.POLLIN and self._read_row(index, rx[index])):
                    still.append(index)
            waiting = still
            if waiting and time.monotonic() >= deadline:
                ms = round(self._poll_timeout_s * 1000)
                for index in waiting:
                    self._fault(index, f"{self._ports[index].name}: no audio within {ms} ms")
                break
        return rx

    def _transport_poll(self, handles: list[int], timeout_ms: int) -> list[int]:
        try:
            return self._transport.poll(handles, timeout_ms)
        except KernelError as exc:
            # Only a bad fd makes poll() itself fail; read each channel to find which.
            return [binding.POLL_EVENTS if exc.code == errno.EBADF else 0] * len(handles)

    def _read_row(self, index: int, row: I16) -> bool:
        """Read one channel's block into `row`; False when it is not ready yet."""
        port = self._ports[index]
        for _ in range(MAX_EVENTSIZE):
            try:
                got = self._transport.readinto(self._handle(index), row)
            except EventPending:
                self._drain_events(index)
                continue
            except NotReady:
                return False
            except KernelError as exc:
                self._fault(index, f"{port.name}: {exc}")
                return True
            if got != row.nbytes:
                row[:] = 0
                self._fault(index, f"{port.name}: read {got} of {row.nbytes} bytes")
            return True
        row[:] = 0
        self._fault(index, f"{port.name}: line events keep arriving; block not read")
        return True

    def _write(self, tx: I16) -> None:
        tx = np.ascontiguousarray(tx)
        for index in self._open_indices:
            port = self._ports[index]
            row = tx[index]
            for _ in range(MAX_EVENTSIZE):
                try:
                    put = self._transport.write(self._handle(index), row)
                except EventPending:
                    self._drain_events(index)
                    continue
                except NotReady:
                    self._fault(index, f"{port.name}: transmit buffers full; block dropped")
                except KernelError as exc:
                    self._fault(index, f"{port.name}: {exc}")
                else:
                    if put != row.nbytes:
                        self._fault(index, f"{port.name}: wrote {put} of {row.nbytes} bytes")
                break

    # -- line events ------------------------------------------------------------------------

    def _poll_events(self) -> None:
        if not self._open_indices:
            return
        handles = [self._handle(i) for i in self._open_indices]
        for index, ready in zip(self._open_indices, self._transport_poll(handles, 0), strict=True):
            if ready & select.POLLPRI:
                self._drain_events(index)

    def _drain_events(self, index: int) -> None:
        code = binding.int_arg()
        for _ in range(MAX_EVENTSIZE):
            try:
                self._transport.ioctl(self._handle(index), Ioctl.GETEVENT, code)
            except KernelError as exc:
                self._fault(index, f"{self._ports[index].name}: {exc}")
                return
            if code[0] == Event.NONE:
                return
            self._on_event(index, int(code[0]))

    def _on_event(self, index: int, code: int) -> None:
        if code & (EventFlag.PULSEDIGIT | EventFlag.DTMFDOWN | EventFlag.DTMFUP):
            return  # digits: boardcc finds DTMF in the audio; pulse dialling is not supported
        try:
            event = Event(code)
        except ValueError:
            return  # a newer kernel's event that boardcc does not know
        table = _TRUNK_EVENTS if self._ports[index].kind is ChannelKind.TRUNK else _STATION_EVENTS
        handler = table.get(event)
        if handler is not None:
            handler(self, index)

    # trunk (FXS-signalled) channels

    def _ring_begin(self, index: int) -> None:
        self._ports[index].ring_on = True
        self._emit(RingOn(index, self.now))

    def _ring_end(self, index: int) -> None:
        # RINGOFFHOOK on an FXS-signalled channel is "the ring is over" (50 ms without ringing
        # voltage). A kernel built without RINGBEGIN reports only this, so the ring is
        # reported whole here.
        port = self._ports[index]
        if not port.ring_on:
            self._emit(RingOn(index, self.now))
        port.ring_on = False
        self._emit(RingOff(index, self.now))

    def _loop_lost(self, index: int) -> None:
        # ONHOOK while we hold the line (kewlstart or groundstart): the exchange dropped
        # battery or loop current, which is how it clears a call.
        self._voltage_lost(index)

    def _polarity(self, index: int) -> None:
        self._emit(PolarityReversal(index, self.now))

    def _voltage_lost(self, index: int) -> None:
        port = self._ports[index]
        if not port.voltage_lost:
            port.voltage_lost = True
            self._emit(LineVoltageLost(index, self.now))

    # station (FXO-signalled) channels

    def _phone_off_hook(self, index: int) -> None:
        port = self._ports[index]
        self._emit(OffHook(index, self.now))
        if port.ringing:
            # Ring trip: the module cut the ringing voltage, but DAHDI's cadence runs on
            # until told; going "off hook" ends it and leaves the port in talk.
            port.ringing = False
            self._event_hook(index, Hook.OFFHOOK)
            port.held_off_hook = True

    def _phone_on_hook(self, index: int) -> None:
        port = self._ports[index]
        self._emit(OnHook(index, self.now))
        if port.held_off_hook:
            # Back to idle, or the next DAHDI_HOOK RING would be refused (EBUSY).
            port.held_off_hook = False
            self._event_hook(index, Hook.ONHOOK)

    def _phone_flash(self, index: int) -> None:
        self._emit(HookFlash(index, self.now))

    # both kinds

    def _alarm(self, index: int) -> None:
        p = binding.params()
        try:
            self._transport.ioctl(self._handle(index), Ioctl.GET_PARAMS, p)
        except KernelError as exc:
            self._fault(index, f"{self._ports[index].name}: alarm raised, but {exc}")
            return
        self._alarms_now(index, int(p.chan_alarms))

    def _no_alarm(self, index: int) -> None:
        self._alarms_now(index, 0)

    def _alarms_now(self, index: int, bits: int) -> None:
        port = self._ports[index]
        now = tuple(kind for bit, kind in _ALARM_KINDS if bits & bit)
        for kind in port.alarms:
            if kind not in now:
                self._emit(Alarm(index, self.now, kind, active=False))
        for kind in now:
            if kind not in port.alarms:
                self._emit(Alarm(index, self.now, kind, active=True))
        port.alarms = now
        if port.kind is ChannelKind.TRUNK:
            # An FXO module raises a red alarm when the line's battery stays away (1 s by
            # default) and clears it when battery is back.
            if "red" in now:
                self._voltage_lost(index)
            elif not now and port.voltage_lost:
                port.voltage_lost = False
                self._emit(LineVoltageBack(index, self.now))

    def _removed(self, index: int) -> None:
        self._fault(index, f"{self._ports[index].name}: DAHDI reports the device removed")

    # -- commands ---------------------------------------------------------------------------

    def _offhook(self, channel: int) -> None:
        self._hook(channel, Hook.OFFHOOK)

    def _onhook(self, channel: int) -> None:
        port = self._ports[channel]
        self._hook(channel, Hook.ONHOOK)
        if "red" not in port.alarms:
            # A short drop (a far-end clear) is never followed by "voltage back": the next call
            # starts afresh. A lasting one (red alarm) is, when the battery returns.
            port.voltage_lost = False

    def _flash(self, channel: int, ms: int) -> None:
        p = binding.params()
        self._ioctl(channel, Ioctl.GET_PARAMS, p)
        if p.flashtime != ms:
            p.flashtime = ms
            self._ioctl(channel, Ioctl.SET_PARAMS, p)
        try:
            self._hook(channel, Hook.FLASH)
        except HardwareError as exc:
            if exc.code == errno.EBUSY:
                raise CommandError(channel, "flash", "the trunk is not off hook") from exc
            raise

    def _ring(self, channel: int, cadence: tuple[int, ...]) -> None:
        if len(cadence) > MAX_CADENCE:
            raise CommandError(
                channel,
                "ring",
                f"DAHDI takes at most {MAX_CADENCE // 2} on/off pairs, got {len(cadence) // 2}",
            )
        port = self._ports[channel]
        if port.ringing:
            self._hook(channel, Hook.RINGOFF)  # start again with the new cadence
            port.ringing = False
        self._ioctl(channel, Ioctl.SETCADENCE, binding.ring_cadence(cadence))
        try:
            self._hook(channel, Hook.RING)
        except HardwareError as exc:
            if exc.code == errno.EBUSY:
                raise CommandError(channel, "ring", "the station is in a call") from exc
            if exc.code == errno.ENODATA:
                raise HardwareError(
                    channel,
                    f"{port.name}: DAHDI rings only with a tone zone loaded (loadzone= and "
                    "defaultzone= in /etc/dahdi/system.conf, then dahdi_cfg)",
                    exc.code,
                ) from exc
            raise
        port.ringing = True

    def _stop_ring(self, channel: int) -> None:
        port = self._ports[channel]
        if port.ringing:
            self._hook(channel, Hook.RINGOFF)
            port.ringing = False

    def _feed_power(self, channel: int, on: bool) -> None:
        if not on:
            raise NotSupportedError(
                channel,
                "feed_power",
                "DAHDI cannot cut a station's loop battery: an FXS module feeds it as long as "
                "the channel is configured (it opens the loop only briefly, on hang-up, for "
                "fxoks disconnect supervision)",
            )
        # Feeding battery is what every configured FXS port does all the time: nothing to do.

    def _link(self, a: int, b: int) -> None:
        self._join([a, b])

    def _unlink(self, a: int, b: int) -> None:
        self._leave([a, b])

    def _conference(self, number: int, members: list[int]) -> None:
        self._join(members)

    def _end_conference(self, number: int, members: list[int]) -> None:
        self._leave(members)

    def _join(self, members: list[int]) -> None:
        """Put `members` in one free DAHDI conference (DAHDI picks its number)."""
        confno = _NEW_CONFERENCE
        joined: list[int] = []
        try:
            for channel in members:
                info = binding.confinfo(confno, _CONFERENCE_MODE)
                try:
                    self._ioctl(channel, Ioctl.SETCONF, info)
                except HardwareError as exc:
                    if exc.code == errno.EBUSY:
                        raise HardwareError(
                            channel, "DAHDI has no free conference left", exc.code
                        ) from exc
                    raise
                confno = int(info.confno)
                self._ports[channel].confno = confno
                joined.append(channel)
        except BoardError:
            self._leave(joined, quiet=True)
            raise

    def _leave(self, members: list[int], *, quiet: bool = False) -> None:
        first: BoardError | None = None
        for channel in members:
            try:
                self._ioctl(channel, Ioctl.SETCONF, binding.confinfo(0, ConfMode.NORMAL))
            except BoardError as exc:
                first = first or exc
            self._ports[channel].confno = 0
        if first is not None and not quiet:
            raise first

    def _set_gain(self, channel: int, rx_db: float, tx_db: float) -> None:
        law = self._ports[channel].law
        tables = binding.gains(gain_table(law, rx_db), gain_table(law, tx_db))
        self._ioctl(channel, Ioctl.SETGAINS, tables)

    def _echo_canceller(self, channel: int, on: bool) -> None:
        port = self._ports[channel]
        if self._echo_probe and not (port.echo_accepted and port.echo_name != ""):
            raise NotSupportedError(
                channel,
                "echo_canceller",
                f"{port.name} has no echo canceller (add `echocanceller=NAME,{port.number}` to "
                "/etc/dahdi/system.conf and run dahdi_cfg)",
            )
        self._ioctl(channel, Ioctl.ECHOCANCEL_PARAMS, binding.echocan(self._echo_tail if on else 0))

    # -- lifecycle --------------------------------------------------------------------------

    def _close(self) -> None:
        first: HardwareError | None = None
        for index, port in enumerate(self._ports):
            if port.handle is None:
                continue
            handle, port.handle = port.handle, None
            try:
                self._transport.close(handle)
            except KernelError as exc:
                first = first or HardwareError(index, f"{port.name}: {exc}", exc.code)
        self._open_indices = []
        if first is not None:
            raise first

    # -- helpers ----------------------------------------------------------------------------

    def _handle(self, index: int) -> int:
        handle = self._ports[index].handle
        if handle is None:
            raise CommandError(index, "dahdi", f"{self._ports[index].name} is not open")
        return handle

    def _ioctl(self, channel: int, request: Ioctl, arg: CData) -> int:
        """An ioctl for a command: kernel failures become `HardwareError` on `channel`."""
        try:
            return self._transport.ioctl(self._handle(channel), request, arg)
        except InProgress:
            return 0  # DAHDI_HOOK on a non-blocking fd: the ring or flash has started
        except KernelError as exc:
            raise HardwareError(channel, f"{self._ports[channel].name}: {exc}", exc.code) from exc

    def _hook(self, channel: int, value: Hook) -> None:
        self._ioctl(channel, Ioctl.HOOK, binding.int_arg(value))

    def _event_hook(self, index: int, value: Hook) -> None:
        """A hook change made while handling an event: a failure is a fault, not a raise."""
        try:
            self._hook(index, value)
        except HardwareError as exc:
            self._fault(index, str(exc))

    def _fault(self, index: int, message: str) -> None:
        self._emit(ChannelFault(index, self.now, message))


def _signalling_name(sig: int) -> str:
    try:
        return Sig(sig).name.lower()
    except ValueError:
        return f"unknown ({sig:#x})"


_Handler = Callable[[DahdiBoard, int], None]

_TRUNK_EVENTS: dict[Event, _Handler] = {
    Event.RINGBEGIN: DahdiBoard._ring_begin,
    Event.RINGOFFHOOK: DahdiBoard._ring_end,
    Event.ONHOOK: DahdiBoard._loop_lost,
    Event.POLARITY: DahdiBoard._polarity,
    Event.ALARM: DahdiBoard._alarm,
    Event.NOALARM: DahdiBoard._no_alarm,
    Event.REMOVED: DahdiBoard._removed,
}
"""DAHDI events on a trunk (FXS-signalled channel) -> what the board reports."""

_STATION_EVENTS: dict[Event, _Handler] = {
    Event.RINGOFFHOOK: DahdiBoard._phone_off_hook,
    Event.ONHOOK: DahdiBoard._phone_on_hook,
    Event.WINKFLASH: DahdiBoard._phone_flash,
    Event.ALARM: DahdiBoard._alarm,
    Event.NOALARM: DahdiBoard._no_alarm,
    Event.REMOVED: DahdiBoard._removed,
}
"""DAHDI events on a station (FXO-signalled channel) -> what the board reports."""
