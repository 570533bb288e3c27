"""A fake DAHDI kernel, to drive the DAHDI backend through whole calls without a card.

The DAHDI kernel is a boundary the tests cannot reach, so `FakeDahdiKernel` stands in for it
as a `Transport`: it replaces only the system calls (open + DAHDI_SPECIFY, ioctl, read, write,
poll, close), interprets the ioctls on the very cffi structs the backend fills, and fails
through the binding's own errno choke point, so the backend's logic runs as it would on a
card. What it models follows drivers/dahdi/dahdi-base.c of dahdi-linux where the backend
depends on it:

* a channel that does not exist refuses DAHDI_SPECIFY with EINVAL, an unconfigured one with
  ENXIO, one already open with EBUSY;
* line events queue per channel, and read() and write() answer ELAST while one waits;
* DAHDI_HOOK RING and FLASH answer EINPROGRESS on a non-blocking fd; RING needs the port on
  hook (EBUSY) and a tone zone (ENODATA); FLASH needs it off hook (EBUSY);
* a station's ring cadence keeps running after the phone answers until the host sends
  DAHDI_HOOK OFFHOOK (or RINGOFF), as the kernel's cadence timer does;
* a trunk ring is reported as RINGBEGIN at its start and RINGOFFHOOK at its end; lost battery
  on a trunk held off hook with kewlstart/groundstart signalling is ONHOOK, then a red alarm;
* DAHDI_SETCONF with conference -1 picks the first free conference and writes it back;
* close() resets the channel (hook, conference, gains, echo canceller, events).

It does not mix conference audio, apply gains to the audio or run an echo canceller: those
are the kernel's work, not the backend's; their state is kept for the tests to check.
"""

from __future__ import annotations

import errno
import select
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from boardcc.drivers.dahdi import binding
from boardcc.drivers.dahdi.binding import OPEN, CData, raise_errno
from boardcc.drivers.dahdi.constants import (
    ELAST,
    MAX_BLOCKSIZE,
    AlarmBit,
    ConfMode,
    Event,
    Hook,
    Ioctl,
    Law,
    Sig,
)
from boardcc.dsp import alaw_encode, ulaw_encode

TRUNK_SIGS = (Sig.FXSLS, Sig.FXSGS, Sig.FXSKS)
STATION_SIGS = (Sig.FXOLS, Sig.FXOGS, Sig.FXOKS)

ALARM_BITS = {
    "red": AlarmBit.RED,
    "yellow": AlarmBit.YELLOW,
    "blue": AlarmBit.BLUE,
    "recovery": AlarmBit.RECOVER,
    "loopback": AlarmBit.LOOPBACK,
}

_TIMING = (
    "prewinktime",
    "preflashtime",
    "winktime",
    "flashtime",
    "starttime",
    "rxwinktime",
    "rxflashtime",
    "debouncetime",
    "pulsebreaktime",
    "pulsemaketime",
    "pulseaftertime",
)


@dataclass
class FakeChannel:
    """The kernel's state of one DAHDI channel."""

    number: int
    sig: int
    law: Law
    echo_name: str | None
    handle: int | None = None
    linear: bool = False
    blocksize: int = 1024
    numbufs: int = 2
    txbufpolicy: int = 0
    timing: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(_TIMING, 0) | {"flashtime": 750}
    )
    hook: str = "onhook"
    ringing: bool = False
    cadence: list[int] = field(default_factory=list)
    events: deque[int] = field(default_factory=deque)
    rx: deque[npt.NDArray[np.int16]] = field(default_factory=deque)
    heard: list[npt.NDArray[np.int16]] = field(default_factory=list)
    rxgain: npt.NDArray[np.uint8] = field(default_factory=lambda: np.arange(256, dtype=np.uint8))
    txgain: npt.NDArray[np.uint8] = field(default_factory=lambda: np.arange(256, dtype=np.uint8))
    confno: int = 0
    confmode: int = 0
    echo_taps: int = 0
    alarms: int = 0
    phone_off: bool = False
    read_errno: int | None = None
    write_errno: int | None = None
    refusals: dict[str, int] = field(default_factory=dict)
    short: int | None = None
    stalled: bool = False
    flashes: list[int] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    @property
    def trunk(self) -> bool:
        return self.sig in TRUNK_SIGS

    @property
    def station(self) -> bool:
        return self.sig in STATION_SIGS

    def reset(self) -> None:
        """What the kernel's close_channel() puts back."""
        self.handle = None
        self.linear = False
        self.hook = "onhook"
        self.ringing = False
        self.events.clear()
        self.rxgain = np.arange(256, dtype=np.uint8)
        self.txgain = np.arange(256, dtype=np.uint8)
        self.confno = self.confmode = 0
        self.echo_taps = 0


class FakeDahdiKernel:
    """A `Transport` that emulates the DAHDI kernel for a set of channels.

    Parameters
    ----------
    channels : mapping of int to Sig or int
        DAHDI channel number -> signalling (``Sig.NONE`` for a channel that exists but is
        not configured; a channel not listed does not exist).
    law : Law
        Companding law of every channel.
    echo_canceller : str or None
        The echo canceller attached to every channel (``""`` none, None: sysfs cannot tell).
    refuse_echo : bool
        Answer DAHDI_ECHOCANCEL_PARAMS with EINVAL (a kernel that takes none).
    zone_loaded : bool
        Whether a tone zone is loaded (DAHDI rings stations only with one).
    device_errno : int or None
        Make opening the device itself fail with this errno (no DAHDI at all).
    """

    def __init__(
        self,
        channels: Mapping[int, int],
        *,
        law: Law = Law.ALAW,
        echo_canceller: str | None = "MG2",
        refuse_echo: bool = False,
        zone_loaded: bool = True,
        device_errno: int | None = None,
    ) -> None:
        self.chans = {
            number: FakeChannel(number, int(sig), law, echo_canceller)
            for number, sig in channels.items()
        }
        self.refuse_echo = refuse_echo
        self.zone_loaded = zone_loaded
        self.device_errno = device_errno
        self.closed: list[int] = []
        self._by_handle: dict[int, FakeChannel] = {}
        self._next_handle = 3

    # -- Transport --------------------------------------------------------------------------

    def open_channel(self, number: int) -> int:
        if self.device_errno is not None:
            raise_errno(OPEN, self.device_errno)
        chan = self.chans.get(number)
        if chan is None:
            raise_errno("DAHDI_SPECIFY", errno.EINVAL)
        if chan.sig == Sig.NONE:
            raise_errno("DAHDI_SPECIFY", errno.ENXIO)
        if chan.handle is not None:
            raise_errno("DAHDI_SPECIFY", errno.EBUSY)
        chan.handle, self._next_handle = self._next_handle, self._next_handle + 1
        self._by_handle[chan.handle] = chan
        return chan.handle

    def ioctl(self, handle: int, request: int, arg: CData) -> int:
        op = binding.ioctl_name(request)
        chan = self._chan(handle, op)
        name = op.removeprefix("DAHDI_")
        chan.calls.append(name)
        if name in chan.refusals:
            raise_errno(op, chan.refusals[name])
        if request == Ioctl.GET_PARAMS:
            self._get_params(chan, arg)
        elif request == Ioctl.SET_PARAMS:
            for key in _TIMING:
                chan.timing[key] = int(getattr(arg, key))
        elif request == Ioctl.SETLINEAR:
            chan.linear = bool(arg[0])
        elif request == Ioctl.SET_BLOCKSIZE:
            if not 16 <= arg[0] <= MAX_BLOCKSIZE:
                raise_errno(op, errno.EINVAL)
            chan.blocksize = int(arg[0])
        elif request == Ioctl.SET_BUFINFO:
            if not 16 <= arg.bufsize <= MAX_BLOCKSIZE or arg.bufsize * arg.numbufs > 32768:
                raise_errno(op, errno.EINVAL)
            chan.blocksize, chan.numbufs = int(arg.bufsize), int(arg.numbufs)
            chan.txbufpolicy = int(arg.txbufpolicy)
        elif request == Ioctl.HOOK:
            self._hook(chan, int(arg[0]), op)
        elif request == Ioctl.GETEVENT:
            arg[0] = chan.events.popleft() if chan.events else Event.NONE
        elif request == Ioctl.SETCONF:
            self._set_conf(chan, arg, op)
        elif request == Ioctl.SETGAINS:
            chan.rxgain, chan.txgain = binding.gain_tables(arg)
        elif request == Ioctl.ECHOCANCEL_PARAMS:
            if self.refuse_echo:
                raise_errno(op, errno.EINVAL)
            chan.echo_taps = int(arg.tap_length)
        elif request == Ioctl.SETCADENCE:
            chan.cadence = binding.cadence_of(arg)
        else:
            raise_errno(op, errno.ENOTTY)
        return 0

    def readinto(self, handle: int, buffer: npt.NDArray[np.int16]) -> int:
        chan = self._chan(handle, "read")
        if chan.read_errno is not None:
            raise_errno("read", chan.read_errno)
        if chan.events:
            raise_errno("read", ELAST)
        if chan.stalled:
            raise_errno("read", errno.EAGAIN)
        samples = min(buffer.nbytes // (2 if chan.linear else 1), chan.blocksize)
        if chan.short is not None:
            samples, chan.short = min(samples, chan.short), None
        audio = self._take(chan, samples)
        if chan.linear:
            buffer.reshape(-1)[:samples] = audio
            return samples * 2
        encode = alaw_encode if chan.law == Law.ALAW else ulaw_encode
        buffer.reshape(-1).view(np.uint8)[:samples] = encode(audio)
        return samples

    def write(self, handle: int, buffer: npt.NDArray[np.int16]) -> int:
        chan = self._chan(handle, "write")
        if chan.write_errno is not None:
            raise_errno("write", chan.write_errno)
        if chan.events:
            raise_errno("write", ELAST)
        if not chan.linear:
            raise AssertionError("the fake kernel keeps only linear audio")
        samples = min(buffer.size, chan.blocksize)
        chan.heard.append(np.array(buffer.reshape(-1)[:samples], dtype=np.int16))
        return samples * 2

    def poll(self, handles: Sequence[int], timeout_ms: int) -> list[int]:
        out = []
        for handle in handles:
            chan = self._by_handle.get(handle)
            if chan is None:
                out.append(select.POLLNVAL)
                continue
            ready = 0 if chan.stalled else select.POLLIN
            if chan.events:
                ready |= select.POLLPRI
            out.append(ready)
        return out

    def close(self, handle: int) -> None:
        chan = self._chan(handle, "close")
        del self._by_handle[handle]
        chan.reset()
        self.closed.append(handle)

    def echo_canceller(self, spanno: int, chanpos: int) -> str | None:
        return self.chans[chanpos].echo_name

    # -- the far ends -----------------------------------------------------------------------

    def ring(self, channel: int, on: bool = True) -> None:
        """The exchange starts (or ends) one ring on a trunk."""
        chan = self._kind(channel, trunk=True)
        chan.events.append(Event.RINGBEGIN if on else Event.RINGOFFHOOK)

    def phone_hook(self, channel: int, off: bool) -> None:
        """The phone on a station goes off hook (or back on hook)."""
        chan = self._kind(channel, trunk=False)
        chan.phone_off = off
        chan.events.append(Event.RINGOFFHOOK if off else Event.ONHOOK)

    def flash(self, channel: int) -> None:
        """The phone on a station flashes its hook."""
        self._kind(channel, trunk=False).events.append(Event.WINKFLASH)

    def polarity(self, channel: int) -> None:
        """The exchange reverses a trunk's polarity."""
        self._kind(channel, trunk=True).events.append(Event.POLARITY)

    def battery(self, channel: int, present: bool, *, alarm: bool = True) -> None:
        """A trunk's battery goes away (or comes back).

        With ``alarm=False`` the loss is short (a disconnect pulse): DAHDI reports it only as
        ONHOOK, and only when the line is held off hook with kewlstart or groundstart.
        """
        chan = self._kind(channel, trunk=True)
        if not present:
            if chan.hook == "offhook" and chan.sig in (Sig.FXSKS, Sig.FXSGS):
                chan.events.append(Event.ONHOOK)
            if alarm:
                self._set_alarms(chan, chan.alarms | AlarmBit.RED)
        else:
            self._set_alarms(chan, chan.alarms & ~AlarmBit.RED)

    def alarm(self, channel: int, kind: str, active: bool) -> None:
        """A span or card alarm (``"red"``, ``"yellow"``, ...) raised or cleared."""
        chan = self.chans[channel]
        bit = ALARM_BITS[kind]
        self._set_alarms(chan, chan.alarms | bit if active else chan.alarms & ~bit)

    def removed(self, channel: int) -> None:
        """The card disappears (hot-unplugged USB Astribank, say)."""
        self.chans[channel].events.append(Event.REMOVED)

    def feed(self, channel: int, samples: npt.ArrayLike) -> None:
        """Audio the far end sends on a channel (int16), served by the following reads."""
        self.chans[channel].rx.append(np.asarray(samples, dtype=np.int16).reshape(-1))

    def heard(self, channel: int) -> npt.NDArray[np.int16]:
        """Everything the host wrote to a channel, in order."""
        parts = self.chans[channel].heard
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)

    def hook_state(self, channel: int) -> str:
        """``"onhook"``, ``"offhook"`` or ``"ringing"``: what the host last set."""
        return self.chans[channel].hook

    def cadence(self, channel: int) -> list[int]:
        """The ring cadence last set on a station, ms on, off, ..."""
        return self.chans[channel].cadence

    def ringing(self, channel: int) -> bool:
        """Whether the kernel is ringing a station (its cadence timer runs)."""
        return self.chans[channel].ringing

    @property
    def confs(self) -> dict[int, dict[int, int]]:
        """Conference number -> {channel: confmode} for every channel in one."""
        out: dict[int, dict[int, int]] = {}
        for chan in self.chans.values():
            if chan.confno:
                out.setdefault(chan.confno, {})[chan.number] = chan.confmode
        return out

    def fail(self, channel: int, code: int | None) -> None:
        """Make reads of a channel fail with errno `code` (None: work again)."""
        self.chans[channel].read_errno = code

    def fail_writes(self, channel: int, code: int | None) -> None:
        """Make writes to a channel fail with errno `code` (EAGAIN: buffers full)."""
        self.chans[channel].write_errno = code

    def refuse(self, channel: int, ioctl: str, code: int) -> None:
        """Make every `ioctl` (``"SETCONF"``, ``"HOOK"``, ...) on a channel fail with `code`."""
        self.chans[channel].refusals[ioctl] = code

    def short_read(self, channel: int, samples: int) -> None:
        """Make the next read of a channel return only `samples` samples."""
        self.chans[channel].short = samples

    def stall(self, channel: int, stalled: bool = True) -> None:
        """Make a channel stop producing audio (its reads say EAGAIN, poll never ready)."""
        self.chans[channel].stalled = stalled

    def is_open(self, channel: int) -> bool:
        return self.chans[channel].handle is not None

    # -- kernel internals -------------------------------------------------------------------

    def _chan(self, handle: int, op: str) -> FakeChannel:
        chan = self._by_handle.get(handle)
        if chan is None:
            raise_errno(op, errno.EBADF)
        return chan

    def _kind(self, channel: int, *, trunk: bool) -> FakeChannel:
        chan = self.chans[channel]
        if not (chan.trunk if trunk else chan.station):
            kind = "trunk (fxs*)" if trunk else "station (fxo*)"
            raise ValueError(f"fake DAHDI channel {channel} is not a {kind}")
        return chan

    def _take(self, chan: FakeChannel, samples: int) -> npt.NDArray[np.int16]:
        out = np.zeros(samples, dtype=np.int16)
        filled = 0
        while filled < samples and chan.rx:
            head = chan.rx[0]
            n = min(samples - filled, head.size)
            out[filled : filled + n] = head[:n]
            filled += n
            if n == head.size:
                chan.rx.popleft()
            else:
                chan.rx[0] = head[n:]
        return out

    def _get_params(self, chan: FakeChannel, p: CData) -> None:
        p.channo, p.spanno, p.chanpos = chan.number, 1, chan.number
        p.sigtype = chan.sig
        p.sigcap = chan.sig & ~Sig.BROKEN
        p.rxisoffhook = int(chan.phone_off)
        p.curlaw = chan.law
        p.name = f"FAKE/1/{chan.number}".encode()
        for key, value in chan.timing.items():
            setattr(p, key, value)
        p.chan_alarms = chan.alarms

    def _hook(self, chan: FakeChannel, value: int, op: str) -> None:
        if chan.station and value == Hook.RING:
            if not self.zone_loaded:
                raise_errno(op, errno.ENODATA)
            if chan.hook != "onhook":
                raise_errno(op, errno.EBUSY)
            chan.hook, chan.ringing = "ringing", True
            raise_errno(op, errno.EINPROGRESS)
        if value == Hook.FLASH:
            if chan.hook != "offhook":
                raise_errno(op, errno.EBUSY)
            chan.flashes.append(chan.timing["flashtime"])
            raise_errno(op, errno.EINPROGRESS)
        if value in (Hook.ONHOOK, Hook.RINGOFF):
            chan.hook, chan.ringing = "onhook", False
        elif value == Hook.OFFHOOK:
            chan.hook, chan.ringing = "offhook", False
        else:
            raise_errno(op, errno.EINVAL)  # wink and start: not modelled

    def _set_conf(self, chan: FakeChannel, info: CData, op: str) -> None:
        confno, mode = int(info.confno), int(info.confmode)
        if info.chan != 0 or not -1 <= confno <= 1024 or (confno == 0) != (mode == 0):
            raise_errno(op, errno.EINVAL)
        if mode & 0xFF not in (ConfMode.NORMAL, ConfMode.CONF):
            raise_errno(op, errno.EINVAL)  # monitor modes: not modelled
        if confno == -1:
            used = {c.confno for c in self.chans.values()}
            confno = next(n for n in range(1, 1025) if n not in used)
            info.confno = confno
        chan.confno, chan.confmode = confno, mode
        info.chan = chan.number

    def _set_alarms(self, chan: FakeChannel, alarms: int) -> None:
        # dahdi_alarm_channel(): an event only when the alarms change.
        if alarms != chan.alarms:
            chan.alarms = alarms
            chan.events.append(Event.ALARM if alarms else Event.NOALARM)
