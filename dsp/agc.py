"""Automatic gain control for many channels at once: weak lines raised to a target level,
loud ones lowered, with a look-ahead peak limiter so that no sample ever clips.

Why
---
Analog trunks arrive at very different levels: a caller on a long loop or a cheap handset can
be 20-30 dB quieter than one across the street. Agents and recordings want every call at one
level, and a voice board's AGC must raise weak lines without ever clipping (破音, SPEC D5)
and without lifting the line noise of a silent caller to speech level ("pumping").

How
---
The signal is cut into 5 ms sub-frames (40 samples at 8 kHz) and buffered, so the output lags
the input by a fixed `delay` (two sub-frames, 10 ms) and does not depend on how the stream
was cut into blocks.

* **Speech or not.** A sub-frame is speech when its power stands 10 dB over the line's noise
  floor and over -65 dBm0. The floor starts at the first sub-frame heard, follows any
  quieter one at once and rises by at most 3 dB/s, so it sits on the noise between words.
  Only speech moves the level estimate and the gain.
* **Level.** The active speech level is the mean power of the speech sub-frames, averaged with
  a time constant of `level_ms` (ITU-T P.56 measures active speech level the same way: the
  power of the speech, pauses left out).
* **Gain.** The wanted gain is ``target - level`` in dB, kept between ``-max_cut_db`` and
  `max_gain_db`, and never so high that the noise floor would come out above -40 dBm0: a
  line of hiss is not turned into loud hiss. The gain follows the wanted gain with time
  constant `attack_ms` when it has to fall and `release_ms` when it may rise, and holds in
  pauses, so silence between words is not pumped up. Within a sub-frame the gain moves on a
  straight line from one sub-frame's value to the next.
* **Limiter.** After the gain, every sample whose magnitude would exceed `ceiling` needs a gain
  ``ceiling / |x|``. The limiter takes, at each sample, the smallest such gain over the next
  sub-frame (a sliding minimum), then averages that over a sub-frame: the result ramps down
  over 5 ms before a peak and is at or below the needed gain at the peak itself, so the
  output never exceeds the ceiling, without the distortion of a hard clipper.

References: ITU-T P.56 (active speech level), G.169 (automatic level control devices).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import minimum_filter1d

from boardcc.dsp.levels import sine_power
from boardcc.dsp.signals import to_int16

__all__ = ["Agc", "apply_agc"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I16 = npt.NDArray[np.int16]
ChannelIndex = int | Sequence[int] | slice | npt.NDArray[np.bool_] | npt.NDArray[np.integer]

#: Sub-frame length: the unit of level measurement and the limiter's look-ahead.
SUBFRAME_MS = 5.0
#: Speech: this far over the noise floor, and over an absolute level.
SPEECH_OVER_NOISE_DB = 10.0
SPEECH_MIN_DBM0 = -65.0
#: How fast the noise floor may rise, dB/s (it falls at once).
NOISE_RISE_DB_PER_S = 3.0
#: The gain never lifts the noise floor above this level.
NOISE_CEILING_DBM0 = -40.0
#: Largest output magnitude, int16 units (about -0.9 dB full scale).
CEILING = 29500.0


class Agc:
    """Streaming automatic gain control with a look-ahead limiter, for many channels.

    Parameters
    ----------
    channels : int
        Number of channels in each block.
    target_dbm0 : float
        Active speech level wanted at the output, dBm0.
    max_gain_db : float
        Largest gain, dB.
    max_cut_db : float
        Largest attenuation, dB.
    attack_ms, release_ms : float
        Time constants of the gain when it falls (a louder talker) and when it rises.
    level_ms : float
        Time constant of the active speech level estimate.
    fs : float
        Sampling rate in Hz (keyword only).

    Attributes
    ----------
    delay : int
        Samples by which the output lags the input.

    Notes
    -----
    See the module docstring. The output does not depend on the block lengths given to
    `process`.
    """

    def __init__(
        self,
        channels: int,
        target_dbm0: float = -15.0,
        max_gain_db: float = 20.0,
        *,
        max_cut_db: float = 20.0,
        attack_ms: float = 20.0,
        release_ms: float = 200.0,
        level_ms: float = 300.0,
        fs: float = 8000.0,
    ) -> None:
        if not isinstance(channels, int | np.integer) or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        if not -60.0 <= target_dbm0 <= 0.0:
            raise ValueError(f"target_dbm0 must be between -60 and 0, got {target_dbm0}")
        if max_gain_db < 0.0 or max_cut_db < 0.0:
            raise ValueError(
                f"max_gain_db and max_cut_db must not be negative, got {max_gain_db}, {max_cut_db}"
            )
        for name, ms in (("attack_ms", attack_ms), ("release_ms", release_ms)):
            if ms <= 0.0:
                raise ValueError(f"{name} must be positive, got {ms}")
        if level_ms <= 0.0:
            raise ValueError(f"level_ms must be positive, got {level_ms}")
        if not 4000.0 <= fs <= 48000.0:
            raise ValueError(f"fs must be between 4000 and 48000 Hz, got {fs}")
        self.channels = c = int(channels)
        self.fs = float(fs)
        self.target_dbm0 = float(target_dbm0)
        self.max_gain_db = float(max_gain_db)
        self.max_cut_db = float(max_cut_db)
        self.subframe = f = max(2, round(fs * SUBFRAME_MS / 1000.0))
        seconds = f / fs
        self._attack = 1.0 - math.exp(-seconds * 1000.0 / attack_ms)
        self._release = 1.0 - math.exp(-seconds * 1000.0 / release_ms)
        self._smooth = 1.0 - math.exp(-seconds * 1000.0 / level_ms)
        self._rise = 10.0 ** (NOISE_RISE_DB_PER_S * seconds / 10.0)
        self._speech_over = 10.0 ** (SPEECH_OVER_NOISE_DB / 10.0)
        self._speech_min = sine_power(SPEECH_MIN_DBM0)
        self._reference = sine_power(0.0)
        # Per channel: noise floor and speech level (mean square), gain (dB) at the end of the
        # last sub-frame.
        self._noise = np.zeros(c)  # 0: nothing heard yet
        self._level = np.zeros(c)
        self._gain_db = np.zeros(c)
        # Stream: input not yet a whole sub-frame; the last gained sub-frame, waiting for the
        # limiter's look-ahead; the limiter's windowed minimum over the f - 1 samples before
        # it; output ready to hand out (one sub-frame of silence to start with).
        self._pending = np.zeros((c, 0), np.float32)
        self._last = np.zeros((c, f), np.float32)
        self._held = np.ones((c, f - 1), np.float32)
        self._ready = np.zeros((c, f), np.float32)
        self._ramp = (np.arange(1, f + 1) / f)[None, :]

    @property
    def delay(self) -> int:
        """Samples by which the output lags the input."""
        return 2 * self.subframe

    @property
    def gain_db(self) -> F64:
        """Gain of the level control per channel, dB (the limiter's comes on top), shape
        ``(channels,)``."""
        return self._gain_db.copy()

    def reset(self, channels: ChannelIndex | None = None) -> None:
        """Forget the levels and gains of `channels` (all by default), as for a new call.
        Audio in flight is kept."""
        sel = slice(None) if channels is None else channels
        self._noise[sel] = 0.0
        self._level[sel] = 0.0
        self._gain_db[sel] = 0.0

    def process(self, block: npt.ArrayLike) -> I16:
        """Level the next samples of every channel.

        Parameters
        ----------
        block : array_like, shape (channels, n)
            Samples in int16 units; other dtypes are rounded and saturated to int16 first.

        Returns
        -------
        ndarray of int16, shape (channels, n)
            The levelled samples, `delay` samples late.
        """
        x = np.asarray(block)
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(
                f"block must have shape (channels={self.channels}, samples), got {x.shape}"
            )
        n, f = x.shape[1], self.subframe
        samples = (x if x.dtype == np.int16 else to_int16(x)).astype(np.float32)
        data = np.concatenate([self._pending, samples], axis=1)
        count = data.shape[1] // f
        self._pending = data[:, count * f :]
        if count:
            gained = self._level_control(data[:, : count * f].reshape(self.channels, count, f))
            self._limit(gained.reshape(self.channels, count * f))
        out = self._take(n)
        return np.clip(np.rint(out), -32768.0, 32767.0).astype(np.int16)

    def _level_control(self, frames: F32) -> F32:
        """Apply the level control to whole sub-frames ``(c, m, f)``; returns them gained."""
        c, m, _ = frames.shape
        power = np.mean(np.square(frames, dtype=np.float64), axis=2)  # (c, m)
        gains = np.empty((c, m + 1))
        gains[:, 0] = self._gain_db
        # Python per sub-frame, numpy across channels: (c,)-sized steps only.
        for i in range(m):
            p = power[:, i]
            # The floor starts at the first sound heard, falls at once, rises slowly.
            noise = np.where(self._noise > 0.0, np.minimum(p, self._noise * self._rise), p)
            self._noise = np.where(p > 0.0, noise, self._noise)
            speech = (p > self._speech_over * self._noise) & (p > self._speech_min)
            first = speech & (self._level == 0.0)
            level = self._level + self._smooth * (p - self._level)
            self._level = np.where(first, p, np.where(speech, level, self._level))
            # In pauses the gain holds (or falls, if it must), never rises.
            want = self._want()
            want = np.where(speech, want, np.minimum(want, self._gain_db))
            step = np.where(want < self._gain_db, self._attack, self._release)
            self._gain_db = self._gain_db + step * (want - self._gain_db)
            gains[:, i + 1] = self._gain_db
        start = 10.0 ** (gains[:, :-1] / 20.0)
        end = 10.0 ** (gains[:, 1:] / 20.0)
        curve = start[:, :, None] + (end - start)[:, :, None] * self._ramp[:, None, :]
        out: F32 = (frames * curve).astype(np.float32)
        return out

    def _want(self) -> F64:
        """Wanted gain per channel, dB: speech to the target, within the limits, and the
        noise floor kept under its ceiling."""
        with np.errstate(divide="ignore"):
            level_db = 10.0 * np.log10(self._level / self._reference)
            noise_db = 10.0 * np.log10(self._noise / self._reference)
        want = np.clip(self.target_dbm0 - level_db, -self.max_cut_db, self.max_gain_db)
        want = np.minimum(want, np.maximum(NOISE_CEILING_DBM0 - noise_db, 0.0))
        return np.where(self._level > 0.0, want, self._gain_db)

    def _limit(self, gained: F32) -> None:
        """Limit the gained samples ``(c, m f)`` and queue the ones whose look-ahead is known
        (all but the last sub-frame, which waits for the next)."""
        f = self.subframe
        z = np.concatenate([self._last, gained], axis=1)
        self._last = z[:, -f:].copy()
        magnitude = np.abs(z)
        need = np.minimum(1.0, np.float32(CEILING) / np.maximum(magnitude, np.float32(1.0)))
        # Smallest needed gain over each sample and the f - 1 after it.
        ahead = minimum_filter1d(need, f, axis=1, origin=-(f // 2))
        ahead = ahead[:, : gained.shape[1]]
        window = np.concatenate([self._held, ahead], axis=1)
        self._held = window[:, -(f - 1) :].copy()
        out = z[:, : gained.shape[1]].copy()
        rows = np.flatnonzero(np.any(window < 1.0, axis=1))
        if rows.size:
            # Averaged over each sample and the f - 1 before it.
            smooth = sliding_window_view(window[rows], f, axis=1).mean(axis=2)
            out[rows] *= smooth
        self._ready = np.concatenate([self._ready, out], axis=1)

    def _take(self, n: int) -> F32:
        """The next `n` output samples."""
        out = self._ready[:, :n]
        self._ready = self._ready[:, n:]
        return out


def apply_agc(x: npt.ArrayLike, **options: float) -> I16:
    """Level a whole signal, shape ``(n,)`` or ``(channels, n)``, output aligned with it.

    Keyword options are those of :class:`Agc`.
    """
    a = np.asarray(x)
    if a.ndim not in (1, 2):
        raise ValueError(f"signal must be 1-D or (channels, samples), got shape {a.shape}")
    rows = a.reshape(-1, a.shape[-1])
    agc = Agc(rows.shape[0], **options)
    pad = np.zeros((rows.shape[0], agc.delay), np.int16)
    out = agc.process(np.concatenate([rows, pad], axis=1))
    return out[:, agc.delay :].reshape(a.shape)
