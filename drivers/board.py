"""The vendor-neutral board: what the engine sees of every voice card (SPEC B1-B4).

`Board` owns the lifecycle and every check that does not depend on the card: it is a
context manager, `close()` may be called any number of times, a board dropped while still
open warns (`ResourceWarning`), operations on a closed board raise `BoardClosedError`, a
channel number out of range raises `ChannelRangeError`, and a command the channel's kind or
the board's capabilities cannot take raises `CommandError` / `NotSupportedError` before the
backend is asked. A backend implements the small ``_hooks`` below and pushes line events
with `_emit`; that is all (the design follows python-can's ``BusABC``).

Audio moves a block at a time for all channels at once: `read()` returns int16
``(channels, block)`` and advances the board's sample clock, `write(tx)` sends the same
shape. A failure on one channel becomes a `ChannelFault` event and silence on that row, never
an exception out of `read()` or `write()`.
"""

from __future__ import annotations

import warnings
import weakref
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from boardcc.drivers.errors import (
    BoardClosedError,
    ChannelRangeError,
    CommandError,
    NotSupportedError,
)
from boardcc.drivers.events import LineEvent
from boardcc.drivers.monitor import MonitorPort, Sink

I16 = npt.NDArray[np.int16]

CHINA_RING_CADENCE_MS = (1000, 4000)
"""The ring cadence of Chinese exchanges: 1 s on, 4 s off (also used to ring stations)."""


class ChannelKind(StrEnum):
    """What is wired to a channel (SPEC B2)."""

    TRUNK = "trunk"  # 外线, FXO: a line from the exchange
    STATION = "station"  # 内线/座席话机, FXS: a desk phone the board powers and rings
    RECORD = "record"  # 高阻录音: a high-impedance tap that only listens to a line
    EMPTY = "empty"  # no module fitted


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the card does itself; the engine runs software DSP for the rest (SPEC B3)."""

    hardware_dtmf: bool = False
    caller_id: bool = False
    echo_cancel: bool = False
    links: bool = False
    conference: bool = False
    gains: bool = True
    # False: a signalling-only board (the simulated board's ``audio=False``): blocks are
    # silence and nothing sent is heard, so the engine runs no DSP and mixes nothing.
    audio: bool = True


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """One channel of a board.

    Attributes
    ----------
    index : int
        Position in the board's blocks, from 0.
    kind : ChannelKind
    name : str
        The backend's name for it (``"sim/3"``, ``"dahdi/25"``), for logs and the monitor.
    tap_of : int or None
        For a record tap on the same board: the channel whose line it listens to.
    """

    index: int
    kind: ChannelKind
    name: str
    tap_of: int | None = None


@dataclass(slots=True)
class _Conference:
    members: set[int] = field(default_factory=set)


class Board(ABC):
    """A voice board: channels, audio blocks, line events and line commands.

    Backends subclass this and implement `_read`, `_write`, `_close` and the command hooks
    they support. Channel numbers are 0-based positions across the whole board.

    Parameters
    ----------
    channels : sequence of ChannelInfo
        The board's channels, in block order.
    capabilities : Capabilities
        What the card does itself.
    block : int
        Samples per channel per `read`/`write` (160 = 20 ms at 8 kHz).
    fs : int
        Sampling rate, Hz.
    """

    backend: ClassVar[str] = "?"
    _open_boards: ClassVar[weakref.WeakSet[Board]] = weakref.WeakSet()

    def __init__(
        self,
        channels: Sequence[ChannelInfo],
        capabilities: Capabilities,
        *,
        block: int = 160,
        fs: int = 8000,
    ) -> None:
        # Marked open before anything can fail, so __del__ and close() always work.
        self._closed = False
        if block <= 0:
            raise ValueError(f"block must be a positive number of samples, got {block}")
        for i, ch in enumerate(channels):
            if ch.index != i:
                raise ValueError(f"channel at position {i} says index {ch.index}")
        self._channels = tuple(channels)
        self._kinds = [ch.kind for ch in self._channels]
        self.capabilities = capabilities
        self.block, self.fs = block, fs
        self._now = 0
        self._events: deque[LineEvent] = deque()
        self._links: dict[int, int] = {}
        self._conferences: dict[int, _Conference] = {}
        self._next_conference = 1
        self._monitor: MonitorPort | None = None
        Board._open_boards.add(self)

    # -- what the board is ------------------------------------------------------------------

    @property
    def channels(self) -> tuple[ChannelInfo, ...]:
        """Every channel, in block order."""
        return self._channels

    def __len__(self) -> int:
        return len(self._channels)

    def of_kind(self, kind: ChannelKind | str) -> list[int]:
        """Indices of the channels of one kind."""
        kind = ChannelKind(kind)
        return [i for i, k in enumerate(self._kinds) if k is kind]

    @property
    def now(self) -> int:
        """The board's sample clock: samples per channel read since it was opened."""
        return self._now

    @property
    def closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self.backend} {len(self)} channels, {state}>"

    # -- audio and events -------------------------------------------------------------------

    def read(self) -> I16:
        """The next block received on every channel, int16 ``(channels, block)``."""
        self._check_open()
        rx = self._read()
        if rx.shape != (len(self._channels), self.block) or rx.dtype != np.int16:
            raise TypeError(
                f"{type(self).__name__}._read returned {rx.dtype} {rx.shape}, "
                f"expected int16 {(len(self._channels), self.block)}"
            )
        self._now += self.block
        if self._monitor is not None:
            self._monitor.received(rx[self._monitor.channel])
        return rx

    def write(self, tx: npt.ArrayLike) -> None:
        """Send one block to every channel, int16 ``(channels, block)``."""
        self._check_open()
        block = np.asarray(tx)
        if block.shape != (len(self._channels), self.block):
            raise ValueError(
                f"tx must have shape {(len(self._channels), self.block)}, got {block.shape}"
            )
        if block.dtype != np.int16:
            raise TypeError(f"tx must be int16, got {block.dtype}")
        self._write(block)
        if self._monitor is not None:
            self._monitor.sent(block[self._monitor.channel])

    def events(self) -> list[LineEvent]:
        """Line events since the last call, in time order."""
        self._check_open()
        self._poll_events()
        out = sorted(self._events, key=lambda e: e.at)
        self._events.clear()
        return out

    # -- commands ---------------------------------------------------------------------------

    def offhook(self, channel: int) -> None:
        """Seize a trunk (answer a ringing call, or take the line to dial out)."""
        self._command(channel, "offhook", ChannelKind.TRUNK)
        self._offhook(channel)

    def onhook(self, channel: int) -> None:
        """Release a trunk."""
        self._command(channel, "onhook", ChannelKind.TRUNK)
        self._onhook(channel)

    def flash(self, channel: int, ms: int = 600) -> None:
        """A hook flash on a trunk (to the exchange), `ms` long."""
        self._command(channel, "flash", ChannelKind.TRUNK)
        if not 50 <= ms <= 2000:
            raise CommandError(channel, "flash", f"length must be 50-2000 ms, got {ms}")
        self._flash(channel, ms)

    def ring(self, channel: int, cadence: Sequence[int] = CHINA_RING_CADENCE_MS) -> None:
        """Ring a station's phone with a cadence (ms on, off, on, off, ...), until stopped.

        The ringing stops by itself when the phone goes off hook (ring trip).
        """
        self._command(channel, "ring", ChannelKind.STATION)
        pattern = tuple(int(ms) for ms in cadence)
        if not pattern or len(pattern) % 2 or any(ms <= 0 for ms in pattern):
            raise CommandError(
                channel, "ring", f"cadence must be on/off pairs of positive ms, got {cadence!r}"
            )
        self._ring(channel, pattern)

    def stop_ring(self, channel: int) -> None:
        """Stop ringing a station."""
        self._command(channel, "stop_ring", ChannelKind.STATION)
        self._stop_ring(channel)

    def feed_power(self, channel: int, on: bool = True) -> None:
        """Feed (or cut) talk battery to a station (FeedPower)."""
        self._command(channel, "feed_power", ChannelKind.STATION)
        self._feed_power(channel, on)

    def link(self, a: int, b: int) -> None:
        """Connect two channels' audio in the card: each far end hears the other.

        What the host writes to either channel is heard as well, added on top.
        """
        if not self.capabilities.links:
            raise NotSupportedError(a, "link", f"the {self.backend} board has no links")
        for ch in (a, b):
            self._command(ch, "link", ChannelKind.TRUNK, ChannelKind.STATION)
        if a == b:
            raise CommandError(a, "link", "cannot link a channel to itself")
        for ch in (a, b):
            if ch in self._links or self._in_conference(ch):
                raise CommandError(ch, "link", "already linked or in a conference")
        self._link(a, b)
        self._links[a], self._links[b] = b, a

    def unlink(self, a: int, b: int) -> None:
        """Undo `link`."""
        self._check_open()
        if self._links.get(a) != b:
            raise CommandError(a, "unlink", f"not linked to channel {b}")
        self._unlink(a, b)
        del self._links[a], self._links[b]

    def linked(self, channel: int) -> int | None:
        """The channel this one is linked to, if any."""
        return self._links.get(channel)

    def conference(self, members: Sequence[int]) -> int:
        """Put channels in a conference in the card; returns its number.

        Each member's far end hears the sum of the others, plus what the host writes to it.
        """
        if not self.capabilities.conference:
            ch = members[0] if members else 0
            raise NotSupportedError(ch, "conference", f"the {self.backend} board has none")
        chosen = list(dict.fromkeys(members))
        if len(chosen) < 2:
            raise CommandError(chosen[0] if chosen else 0, "conference", "needs two or more")
        for ch in chosen:
            self._command(ch, "conference", ChannelKind.TRUNK, ChannelKind.STATION)
            if ch in self._links or self._in_conference(ch):
                raise CommandError(ch, "conference", "already linked or in a conference")
        number = self._next_conference
        self._conference(number, chosen)
        self._next_conference += 1
        self._conferences[number] = _Conference(set(chosen))
        return number

    def end_conference(self, number: int) -> None:
        """Release a conference made by `conference`."""
        self._check_open()
        conf = self._conferences.pop(number, None)
        if conf is None:
            raise CommandError(0, "end_conference", f"no conference number {number}")
        self._end_conference(number, sorted(conf.members))

    def set_gain(self, channel: int, rx_db: float = 0.0, tx_db: float = 0.0) -> None:
        """Receive and transmit gain of one channel, dB (-24 to +12)."""
        self._command(
            channel, "set_gain", ChannelKind.TRUNK, ChannelKind.STATION, ChannelKind.RECORD
        )
        if not self.capabilities.gains:
            raise NotSupportedError(channel, "set_gain", f"the {self.backend} board has no gains")
        for name, db in (("rx_db", rx_db), ("tx_db", tx_db)):
            if not -24.0 <= db <= 12.0:
                raise CommandError(channel, "set_gain", f"{name} must be -24..12 dB, got {db}")
        self._set_gain(channel, float(rx_db), float(tx_db))

    def echo_canceller(self, channel: int, on: bool) -> None:
        """Switch the card's line echo canceller on one channel."""
        self._command(channel, "echo_canceller", ChannelKind.TRUNK, ChannelKind.STATION)
        if not self.capabilities.echo_cancel:
            raise NotSupportedError(
                channel, "echo_canceller", f"the {self.backend} board has no echo canceller"
            )
        self._echo_canceller(channel, on)

    # -- monitor port -----------------------------------------------------------------------

    def listen(self, channel: int, *, direction: str = "both", sink: Sink | None = None) -> None:
        """Play `channel` on the PC's speaker (the board's monitor port, SPEC B5).

        `direction` is ``"both"`` (as a handset on the line hears it), ``"rx"`` or ``"tx"``.
        Listening to another channel replaces the first. Needs PyAudio (the ``audio``
        extra) unless a `sink` is given; without it raises `MonitorUnavailableError`
        saying what to install.
        """
        self._check_open()
        self._check_channel(channel)
        port = MonitorPort(channel, self.fs, self.block, direction=direction, sink=sink)
        self.stop_listening()
        self._monitor = port

    def stop_listening(self) -> None:
        """Stop the monitor port."""
        port, self._monitor = self._monitor, None
        if port is not None:
            port.close()

    @property
    def listening(self) -> int | None:
        """The channel on the monitor port, if any."""
        return None if self._monitor is None else self._monitor.channel

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Release the board; calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        Board._open_boards.discard(self)
        try:
            self.stop_listening()
        finally:
            self._close()

    def __enter__(self) -> Board:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # Only a warning: cleanup belongs in close(), which the owner must call.
        if not getattr(self, "_closed", True):
            warnings.warn(
                f"{type(self).__name__} was not closed; call close() or use `with`",
                ResourceWarning,
                stacklevel=2,
            )

    # -- for backends -----------------------------------------------------------------------

    def _abandon(self) -> None:
        """For a backend whose constructor fails after `Board.__init__`: forget the board
        without calling `_close` on a half-built object (release what it did build first)."""
        self._closed = True
        Board._open_boards.discard(self)

    @classmethod
    def open_boards(cls) -> list[Board]:
        """Boards opened in this process and not yet closed (for leak checks in tests)."""
        return [b for b in cls._open_boards if not b._closed]

    def _emit(self, event: LineEvent) -> None:
        """Queue a line event for `events()`."""
        self._events.append(event)

    def _check_open(self) -> None:
        if self._closed:
            raise BoardClosedError(f"the {self.backend} board is closed")

    def _check_channel(self, channel: int) -> None:
        if not 0 <= channel < len(self._channels):
            raise ChannelRangeError(
                channel, f"no such channel; this board has 0-{len(self._channels) - 1}"
            )

    def _command(self, channel: int, command: str, *kinds: ChannelKind) -> None:
        self._check_open()
        self._check_channel(channel)
        kind = self._kinds[channel]
        if kind not in kinds:
            allowed = " or ".join(k.value for k in kinds)
            raise CommandError(channel, command, f"needs a {allowed} channel, this is {kind.value}")

    def _in_conference(self, channel: int) -> bool:
        return any(channel in c.members for c in self._conferences.values())

    def _unsupported(self, channel: int, command: str) -> NotSupportedError:
        return NotSupportedError(channel, command, f"the {self.backend} board cannot do it")

    @abstractmethod
    def _read(self) -> I16:
        """Receive one block for all channels (faults as silence plus `ChannelFault`)."""

    @abstractmethod
    def _write(self, tx: I16) -> None:
        """Send one block for all channels (faults as `ChannelFault`)."""

    @abstractmethod
    def _close(self) -> None:
        """Release everything; called once."""

    def _poll_events(self) -> None:
        """Collect pending line events from the card into `_emit` (if not done in `_read`)."""
        return None

    def _offhook(self, channel: int) -> None:
        raise self._unsupported(channel, "offhook")

    def _onhook(self, channel: int) -> None:
        raise self._unsupported(channel, "onhook")

    def _flash(self, channel: int, ms: int) -> None:
        raise self._unsupported(channel, "flash")

    def _ring(self, channel: int, cadence: tuple[int, ...]) -> None:
        raise self._unsupported(channel, "ring")

    def _stop_ring(self, channel: int) -> None:
        raise self._unsupported(channel, "stop_ring")

    def _feed_power(self, channel: int, on: bool) -> None:
        raise self._unsupported(channel, "feed_power")

    def _link(self, a: int, b: int) -> None:
        raise self._unsupported(a, "link")

    def _unlink(self, a: int, b: int) -> None:
        raise self._unsupported(a, "unlink")

    def _conference(self, number: int, members: list[int]) -> None:
        raise self._unsupported(members[0], "conference")

    def _end_conference(self, number: int, members: list[int]) -> None:
        raise self._unsupported(members[0], "end_conference")

    def _set_gain(self, channel: int, rx_db: float, tx_db: float) -> None:
        raise self._unsupported(channel, "set_gain")

    def _echo_canceller(self, channel: int, on: bool) -> None:
        raise self._unsupported(channel, "echo_canceller")
