"""The monitor port: listen to one channel on the PC's speaker (SPEC B5, 板卡通道监听).

Voice boards have a monitor output an installer plugs a speaker into to hear a line while
bringing it up; boardcc does the same through the sound card. The board hands each block
of the chosen channel to a `MonitorPort` (what the line sends, what the board sends, or
both mixed, as a handset on the line would hear them); the port queues the audio for the
sound card and plays it from PyAudio's own thread, so a slow or missing sound card never
holds up a tick. At most `max_latency_ms` is kept queued: when the card falls behind, the
oldest audio is dropped, and when it runs dry it plays silence.

PyAudio is optional (``pip install 'boardcc[audio]'``, and the PortAudio library:
``apt-get install libportaudio2``); without it `listen` says so.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from boardcc.drivers.errors import BoardError

I16 = npt.NDArray[np.int16]

DIRECTIONS = ("both", "rx", "tx")


class MonitorUnavailableError(BoardError):
    """No way to play audio here (PyAudio or PortAudio missing, or no output device)."""


class Sink(Protocol):
    """Where the monitor's audio goes: started with a pull function, stopped once."""

    def start(self, fs: int, frames: int, pull: Callable[[int], bytes]) -> None: ...

    def stop(self) -> None: ...


class PyAudioSink:
    """The local sound card's default output, through PyAudio in callback mode."""

    def __init__(self) -> None:
        try:
            import pyaudio
        except ImportError as exc:
            raise MonitorUnavailableError(
                "listening needs PyAudio: pip install 'boardcc[audio]' "
                "(and the PortAudio library: sudo apt-get install libportaudio2) / "
                "监听需要安装 PyAudio"
            ) from exc
        self._pyaudio = pyaudio
        self._pa: Any = None
        self._stream: Any = None

    def start(self, fs: int, frames: int, pull: Callable[[int], bytes]) -> None:
        pa = self._pyaudio

        def callback(_in: object, count: int, _time: object, _status: int) -> tuple[bytes, int]:
            return pull(count), pa.paContinue

        try:
            self._pa = pa.PyAudio()
            self._stream = self._pa.open(
                format=pa.paInt16,
                channels=1,
                rate=fs,
                output=True,
                frames_per_buffer=frames,
                stream_callback=callback,
            )
        except OSError as exc:
            self.stop()
            raise MonitorUnavailableError(f"cannot open the sound card: {exc}") from exc

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop_stream()
            self._stream.close()
            self._stream = None
        if self._pa is not None:
            self._pa.terminate()
            self._pa = None


class MonitorPort:
    """Plays one channel's audio; fed a block at a time by the board.

    Parameters
    ----------
    channel : int
        The channel listened to.
    fs : int
        Sampling rate of the blocks, Hz.
    block : int
        Samples per block.
    direction : {"both", "rx", "tx"}
        What the line sends (``"rx"``), what the board sends (``"tx"``), or both mixed.
    sink : Sink, optional
        Where to play; the default is the sound card through PyAudio.
    max_latency_ms : float
        Most audio kept queued for the card.
    """

    def __init__(
        self,
        channel: int,
        fs: int,
        block: int,
        *,
        direction: str = "both",
        sink: Sink | None = None,
        max_latency_ms: float = 200.0,
    ) -> None:
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        self.channel, self.fs, self.block, self.direction = channel, fs, block, direction
        self._limit = max(block, round(max_latency_ms * fs / 1000.0))
        self._queue: deque[I16] = deque()
        self._queued = 0
        self._head = 0  # samples of the first queued block already played
        self._lock = threading.Lock()
        self._rx: I16 | None = None
        self.dropped = 0  # samples dropped because the card fell behind
        self.starved = 0  # samples of silence played because nothing was queued
        self._sink = sink if sink is not None else PyAudioSink()
        self._sink.start(fs, block, self.pull)

    def received(self, rx: I16) -> None:
        """The block the line sent on the channel."""
        if self.direction == "rx":
            self._put(rx)
        elif self.direction == "both":
            self._rx = rx.copy()

    def sent(self, tx: I16) -> None:
        """The block the board sent on the channel."""
        if self.direction == "tx":
            self._put(tx)
        elif self.direction == "both":
            mixed = tx.astype(np.int32)
            if self._rx is not None:
                mixed += self._rx
                self._rx = None
            self._put(np.clip(mixed, -32768, 32767).astype(np.int16))

    def _put(self, samples: I16) -> None:
        with self._lock:
            self._queue.append(np.ascontiguousarray(samples, dtype=np.int16))
            self._queued += samples.size
            while self._queued - self._head > self._limit and len(self._queue) > 1:
                first = self._queue.popleft()
                self.dropped += first.size - self._head
                self._queued -= first.size
                self._head = 0

    def pull(self, count: int) -> bytes:
        """The next `count` samples for the card (silence where none is queued)."""
        out = np.zeros(count, np.int16)
        filled = 0
        with self._lock:
            while filled < count and self._queue:
                first = self._queue[0]
                take = min(count - filled, first.size - self._head)
                out[filled : filled + take] = first[self._head : self._head + take]
                filled += take
                self._head += take
                if self._head == first.size:
                    self._queue.popleft()
                    self._queued -= first.size
                    self._head = 0
            self.starved += count - filled
        return out.tobytes()

    def close(self) -> None:
        self._sink.stop()
