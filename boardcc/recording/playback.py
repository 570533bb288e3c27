"""Recordings played back: on this PC's speaker, and on a desk phone by feature code.

On the PC a recording goes to the sound card through the monitor port's sink
(`boardcc.drivers.monitor`, PyAudio; SPEC B5): `FilePlayer` decodes the file once and
hands the card what it pulls, so a slow card never holds anything else up. This is what
``boardcc recordings play ID`` does.

On a desk phone (SPEC C8 "played back on PC or phone") the agent lifts the handset and
dials the recording feature code (``*5``), then ``#`` for the latest recording the station
took part in, or ``n#`` for the n-th latest. Only stations the site lets play recordings
may: those listed in ``recording.playback_extensions``, and, with agents, a station whose
logged-in agent has the permission ``play_recordings``. The search and the decoding run on
a worker thread; the engine's thread only starts the prompt when it is ready.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from boardcc.drivers.monitor import PyAudioSink, Sink
from boardcc.dsp import AudioFileError, read_audio
from boardcc.machines import StationState
from boardcc.machines import events as ev

if TYPE_CHECKING:
    from boardcc.recording.recorder import Recorder

_log = logging.getLogger("boardcc.recording")

I16 = npt.NDArray[np.int16]


class FilePlayer:
    """Play an audio file on this machine's speaker (the monitor port's sound card).

    Parameters
    ----------
    path : path
        Any file `boardcc.dsp.read_audio` reads; channels are mixed.
    sink : Sink, optional
        Where to play; the default is the sound card through PyAudio.

    Raises
    ------
    AudioFileError
        If the file cannot be read.
    boardcc.drivers.monitor.MonitorUnavailableError
        Without PyAudio or a sound card.
    """

    def __init__(
        self, path: str | Path, *, sink: Sink | None = None, fs: int = 8000, block: int = 160
    ) -> None:
        audio = read_audio(path, fs=fs)
        mixed = audio.samples.astype(np.int32).sum(axis=0)
        self.samples: I16 = np.clip(mixed, -32768, 32767).astype(np.int16)
        self._pos = 0
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._sink = sink if sink is not None else PyAudioSink()
        self._sink.start(fs, block, self.pull)

    def pull(self, count: int) -> bytes:
        """The next `count` samples for the card (silence after the end)."""
        with self._lock:
            out = np.zeros(count, np.int16)
            take = self.samples[self._pos : self._pos + count]
            out[: take.size] = take
            self._pos += take.size
            if self._pos >= self.samples.size:
                self._done.set()
        return out.tobytes()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the whole file has gone to the card; False on timeout."""
        return self._done.wait(timeout)

    def close(self) -> None:
        self._sink.stop()


class PhonePlayback:
    """The desk phone's feature code for recordings (attached by the recorder)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def feature(self, channel: int, number: str, at: int) -> bool:
        code = self.recorder.settings.feature_code
        rest = number[len(code) :]
        if not number.startswith(code) or (rest and not rest.isdigit()):
            return False
        engine = self.recorder.engine
        ext = engine.extension_of.get(channel)
        if ext is None or not self._permitted(channel, ext) or self.recorder.index is None:
            _log.info(
                "不允许放音 station %s may not play recordings",
                ext,
                extra=engine._extra(channel, "playback"),
            )
            engine.feed(channel, ev.Refuse(at))
            return True
        nth = int(number[len(code) :] or "1")
        index = self.recorder.index

        def find_and_decode() -> None:
            try:
                found = index.find(station=ext, newest_first=True, limit=max(nth, 1))
                if len(found) < nth:
                    raise LookupError(f"station {ext} has no recording {nth} / 没有该录音")
                path = found[nth - 1].path
                samples = read_audio(path, fs=engine.fs).samples
            except (LookupError, AudioFileError, ValueError) as exc:
                _log.info("%s", exc, extra=engine._extra(channel, "playback"))
                engine.submit(lambda: engine.feed(channel, ev.Refuse(engine.now)))
                return
            mixed = samples.astype(np.float32).sum(axis=0)
            engine.submit(lambda: self._play(channel, path, mixed))

        self.recorder.jobs.submit(find_and_decode)
        engine.quiet(channel)
        return True

    def _play(self, channel: int, path: str, samples: npt.NDArray[np.float32]) -> None:
        engine = self.recorder.engine
        if engine.machines[channel].state is not StationState.CALLING:
            return  # hung up meanwhile
        key = f"recording:{path}"
        if not engine.mixer.has_prompt(key):
            engine.mixer.add_prompt(key, samples)
        engine.mixer.prompt(channel, key, engine.now)

    def _permitted(self, channel: int, ext: str) -> bool:
        if ext in self.recorder.settings.playback_extensions:
            return True
        acd = getattr(self.recorder.engine, "acd", None)
        agent = getattr(acd, "agent_at", lambda ch: None)(channel)
        may = getattr(agent, "may", None)
        return bool(may is not None and may("play_recordings"))
