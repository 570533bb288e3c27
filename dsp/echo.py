"""Line echo canceller for many channels at once: a block frequency-domain adaptive filter with
two echo-path models, double-talk detection and a non-linear processor with comfort noise.

Why
---
An analog trunk bridged to a desk phone returns part of what we send through its 2-wire/4-wire
hybrid, up to tens of milliseconds late, and the far talker hears their own voice (SPEC D4).
Boards without a hardware canceller need one in software on every bridged channel at once,
cheap per channel and safe when both parties talk.

How
---
``tx`` is what we send to the line (the far end's speech, the reference); ``rx`` is what comes
back: the echo of ``tx`` plus the near-end talker and line noise. The canceller models the echo
path as an FIR filter covering ``tail_ms`` and subtracts its estimate from ``rx``.

* **Filter.** Overlap-save block frequency-domain adaptive filtering (Ferrara 1980; partitioned
  as the multidelay filter of Soo & Pang 1990 when the tail is longer than a frame): frames of
  ``B`` samples, the tail cut into ``P = ceil(tail / B)`` partitions of ``B`` taps, FFTs of
  ``2B``. The far end's spectra of the last ``Q + P - 1`` frames and rx of the last ``Q`` sit
  in rings (``Q`` below). Every step is one numpy call for a block of channels (arrays
  ``(channels, ..., B + 1)``, complex64); Python runs per frame, never per sample or per
  channel.
* **Frame length.** 64 ms by default (``B = 512`` at 8 kHz, one partition for a 64 ms tail).
  numpy's cost is per call and per FFT, so longer frames are cheaper per second of audio (32 ms
  frames cost about one and a half times as much, see ``bench/test_echo_bench.py``) and
  converge about as fast. The price is delay: the output lags ``rx`` by one frame (`delay`).
* **Update.** A normalised gradient step per frequency bin, taken over the last ``Q`` frames
  (``GRADIENT_MS``, 192 ms: ``Q = 3``) rather than the newest alone: the background's errors
  on those frames are recomputed with its current weights, and ``sum_q conj(X_q) E_q`` is
  divided by the far end's power in each bin over the same frames, plus a floor of 3 % of
  its mean over the bins. One frame of speech is too short a look at its spectrum: a step
  fitted to it overshoots in the bins where that frame happens to be weak, and the next
  frame's step undoes it. Over 192 ms the spectrum is steadier (ERLE one second into the
  worst test talker: 16.5 dB with one frame, 19 dB with three, 22-23 dB with the second
  step below; a least-squares fit of the same audio would reach well over 30 dB, so the
  information is there). The gradient is constrained to the ``B`` causal taps of each
  partition on every step (an inverse FFT, truncation, an FFT), in the time domain, where
  each tap gets a share of the step in proportion to the size of its weight (the improved
  proportionate NLMS of Benesty & Gay 2002, the share capped at three times the mean
  because a block update would overshoot on a few taps): a line echo is a short burst
  somewhere in the tail, and the taps that hold it learn faster.
* **How often.** A background still far from the path (the foreground's ERLE over the last
  125 ms under ``MISADJUSTED_DB``, 25 dB, and its error over the line's noise; not while the
  Geigel detector holds, which a near-end talker sets off) takes two such steps per
  frame, the second on errors recomputed after the first; once past it, one step every
  ``STEADY_EVERY`` (3) frames, the chunks of channels in turn. The learning rate thus follows
  the misadjustment, and so does the cost: a converged canceller spends most frames on the
  foreground's filtering alone (the line's noise, too, is learnt on the background's frames).
* **Step size.** ``MU * min(1, Ex / Ee) * max(0, 1 - N / |E|^2)`` per band of 8 bins. The
  first factor holds back while the error is louder than the far end can make it (a near-end
  talker before the filter knows the path). The second is the share of the error that stands
  over the near end's noise ``N``, learnt per band while the far end is silent (with a small
  margin): the step shrinks as the residual echo sinks into the noise, as the optimal step of
  Valin (2007) does.
* **Two echo-path models** (Ochiai, Araseki & Ogihara 1977; the foreground/background pair of
  speexdsp's MDF). The *background* filter adapts; the *foreground* filter makes the output and
  only changes by copying the background, when the background's error has been clearly smaller
  over the last few frames where it ran, counted above the line's noise (which neither can
  cancel, and which would otherwise hide that the background has gone deeper). Double talk
  that slips past the detectors corrupts the background, never the output; when the
  background's error grows far beyond the foreground's, it is put back to the foreground.
* **Echo-path change.** A foreground whose error is louder than rx itself adds echo instead
  of removing it: its path is wrong (double talk cannot do this: with the right path the
  error is the near end, less than rx). Both models then start again from nothing, which
  re-learns the new path as fast as at the start of a call; a proportionate update would
  otherwise keep its step on the old path's taps.
* **Double-talk detection**, per frame and channel, with a hangover, once the foreground
  cancels at least 10 dB: a Geigel detector on the residual (after cancellation, only a
  near-end talker can peak over half the far end's peak over the tail; Duttweiler 1978), and
  the normalised cross-correlation of ``rx`` with the echo estimate (near 1 when ``rx`` is echo
  alone; Benesty, Morgan & Cho 2000), which also catches quieter near-end speech. Either one
  raises `double_talk` and keeps the non-linear processor open. The Geigel detector also cuts
  the background's step to a quarter; neither freezes it, because both also fire when the
  echo path changes, and a frozen canceller would never learn the new path.
* **Non-linear processor.** After the linear canceller, a frame well under the echo estimate
  while the far end talks and the near end does not is residual echo: it is replaced by
  comfort noise at the level of the line's noise while the far end is silent, faded in and out
  over a frame. Switchable per channel (`nlp`); ITU-T G.168 calls this the NLP.
* **ERLE.** `erle_db` is the echo return loss enhancement of the linear canceller: ``rx`` power
  over output power, smoothed over the frames where only the far end talks, for the monitor.

The canceller buffers what it is given and works on whole frames, so its output does not
depend on how the stream is cut into blocks. Channels are processed in blocks of `CHUNK` so
that a block's arrays stay in the processor's cache.

References
----------
ITU-T G.168 (04/2015), Digital network echo cancellers.
E. R. Ferrara, "Fast implementation of LMS adaptive filters", IEEE Trans. ASSP 28(4), 1980.
J.-S. Soo and K. K. Pang, "Multidelay block frequency domain adaptive filter", IEEE Trans.
ASSP 38(2), 1990.
J. Benesty and S. L. Gay, "An improved PNLMS algorithm", Proc. IEEE ICASSP 2002.
J.-M. Valin, "On adjusting the learning rate in frequency domain echo cancellation with
double-talk", IEEE Trans. ASLP 15(3), 2007.
K. Ochiai, T. Araseki and T. Ogihara, "Echo canceler with two echo path models", IEEE Trans.
Commun. 25(6), 1977.
D. L. Duttweiler, "A twelve-channel digital echo canceler", IEEE Trans. Commun. 26(5), 1978.
J. Benesty, D. R. Morgan and J. H. Cho, "A new class of doubletalk detectors based on
cross-correlation", IEEE Trans. SAP 8(2), 2000.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.fft as sfft
from scipy import signal as sps

from boardcc.dsp.levels import sine_power
from boardcc.dsp.signals import to_int16

__all__ = ["EchoCanceller", "cancel_echo"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
C64 = npt.NDArray[np.complex64]
I16 = npt.NDArray[np.int16]
Bools = npt.NDArray[np.bool_]
#: What `EchoCanceller.reset` accepts to name channels.
ChannelIndex = int | Sequence[int] | slice | npt.NDArray[np.bool_] | npt.NDArray[np.integer]

#: Default frame length; the output lags the input by one frame.
FRAME_MS = 64.0
#: Channels processed together, so that their arrays stay in cache.
CHUNK = 256

#: Largest normalised step of the background filter.
MU = 1.0
#: The background's gradient is taken over the error of this much recent audio, recomputed
#: with its current weights every frame.
GRADIENT_MS = 192.0
#: The background counts as misadjusted while the foreground's error is within this much of
#: rx (and over the line's noise): it then takes two steps per frame; once past, a step every
#: STEADY_EVERY frames.
MISADJUSTED_DB = 25.0
#: Frames between two steps of a background that is no longer misadjusted.
STEADY_EVERY = 3
#: Share of the step spread evenly over the taps; the rest goes to each tap in proportion to
#: the size of its weight (IPNLMS, Benesty & Gay 2002), up to SHARE_MAX times the mean.
PROPORTIONATE = 0.25
SHARE_MAX = 3.0
#: Floor of the step normaliser, relative to the mean bin power of the far end.
SPECTRAL_FLOOR = 0.03
#: Absolute floor of the step normaliser, dBm0.
REGULARISATION_DBM0 = -70.0
#: The far end counts as talking (the filter adapts, the NLP may act) above this average
#: level over the tail, dBm0; below ``QUIET_DBM0`` it is silent and the near end's background
#: noise is learnt.
FAR_DBM0 = -45.0
QUIET_DBM0 = -55.0
#: Bins per band for the noise floor and the step's noise share.
BAND = 8
#: Noise learning: time constant of the band powers of the error, how fast their tracked
#: minimum (and the output's noise level) may rise, and how far over the minimum the error
#: must be before the filter adapts on it (the minimum of a smoothed power sits a few dB under
#: its mean; the rest is margin so that the filter stops wandering in the noise).
NOISE_SMOOTHING_MS = 90.0
NOISE_RISE_DB_PER_S = 0.7
NOISE_BIAS = 1.5
#: Geigel threshold: residual peak over far-end peak (0.5 = an echo return loss of 6 dB); the
#: background's step while it fires.
GEIGEL = 0.5
GEIGEL_STEP = 0.25
#: Normalised cross-correlation below which the near end is taken to be talking.
NCC = 0.5
#: How long a detected double talk is held.
HANGOVER_MS = 128.0
#: Two-path decisions on error energies smoothed with this time constant: copy the background
#: into the foreground when it is this much better; put the foreground back into the
#: background when the background is this much worse.
PATH_SMOOTHING_MS = 125.0
COPY_RATIO = 0.7
RESET_RATIO = 4.0
#: The echo path has changed when the foreground's error is this much louder than rx.
WRONG_PATH = 1.25
#: The foreground counts as converged (double-talk detectors trusted) at this ERLE, dB.
CONVERGED_DB = 10.0
#: Time constant of the ERLE estimate, over single-talk frames.
ERLE_SMOOTHING_MS = 600.0
#: NLP: the output is taken for residual echo when it is this far below the echo estimate, dB.
NLP_MARGIN_DB = 6.0
#: Comfort noise: a looped table of telephone-band noise, seconds.
COMFORT_TABLE_S = 2.0


class EchoCanceller:
    """Streaming line echo canceller for many channels at once.

    Parameters
    ----------
    channels : int
        Number of channels in each block.
    tail_ms : float
        Longest echo path delay plus dispersion covered, ms (G.168 "tail length").
    fs : float
        Sampling rate in Hz (keyword only).
    frame_ms : float
        Frame length, ms: the delay of the output and the unit of adaptation. Shorter frames
        cost more per second of audio (32 ms frames about one and a half times as much).
    nlp : bool
        Initial state of the non-linear processor and comfort noise on every channel; change
        it per channel through `nlp`.
    seed : int
        Seed of the comfort-noise generator.

    Attributes
    ----------
    nlp : ndarray of bool, shape (channels,)
        Non-linear processor on (True) or off, per channel; assign to switch.
    frozen : ndarray of bool, shape (channels,)
        Adaptation frozen per channel: the filters keep cancelling with what they have learnt
        but learn nothing more; assign to freeze or thaw.
    frame : int
        Frame length in samples; the output lags ``rx`` by one frame (`delay`).
    partitions : int
        Partitions of `frame` taps covering the tail.
    gradient_frames : int
        Frames over which each adaptation step takes its gradient.

    Notes
    -----
    See the module docstring for the algorithm. The output does not depend on the block
    lengths given to `process`.
    """

    def __init__(
        self,
        channels: int,
        tail_ms: float = 64.0,
        *,
        fs: float = 8000.0,
        frame_ms: float = FRAME_MS,
        nlp: bool = True,
        seed: int = 0,
    ) -> None:
        if not isinstance(channels, int | np.integer) or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        if not 4000.0 <= fs <= 48000.0:
            raise ValueError(f"fs must be between 4000 and 48000 Hz, got {fs}")
        if not 4.0 <= tail_ms <= 500.0:
            raise ValueError(f"tail_ms must be between 4 and 500 ms, got {tail_ms}")
        self.channels = c = int(channels)
        self.fs = float(fs)
        self.tail_ms = float(tail_ms)
        if not 4.0 <= frame_ms <= tail_ms:
            raise ValueError(f"frame_ms must be between 4 ms and tail_ms={tail_ms}, got {frame_ms}")
        self.frame = b = BAND * max(1, round(fs * frame_ms / 1000.0 / BAND))
        self.partitions = p = math.ceil(round(tail_ms * fs / 1000.0) / b)
        self.nfft = n = 2 * b
        k = b + 1
        self.nlp = np.full(c, bool(nlp))
        self.frozen = np.zeros(c, bool)
        self.gradient_frames = q = max(1, round(GRADIENT_MS / 1000.0 * fs / b))
        self._ring = r = q + p - 1  # far-end windows needed: Q frames' echoes over P partitions
        self._window = np.zeros((c, n), np.float32)  # the last two frames of tx
        # Far-end spectra (and their powers) of the last Q + P - 1 windows and rx of the last
        # Q frames, newest first from slot `_slot`, written twice (slots s and s + R, when
        # there is one) so that the newest are always one contiguous view.
        self._spec = np.zeros((c, 2 * r - 1, k), np.complex64)
        self._power = np.zeros((c, 2 * r - 1, k), np.float32)
        self._rx = np.zeros((c, 2 * r - 1, b), np.float32)
        self._peak = np.zeros((c, p + 1), np.float32)  # |tx| peak per frame, newest first
        self._slot = 0
        self._frames = 0
        self._w = np.zeros((c, 2, p, k), np.complex64)  # [foreground, background]
        self._taps = np.zeros((c, 2, p, b), np.float32)  # the same in the time domain
        # Bands of BAND bins, the Nyquist bin with the last.
        bands = b // BAND
        self._band_of_bin = np.minimum(np.arange(k) // BAND, bands - 1)
        self._err_bands = np.zeros((c, bands), np.float32)
        self._noise_bands = np.zeros((c, bands), np.float32)  # 0: not learnt yet
        # Smoothed energies: the foreground's error, the background's, rx, and the foreground's
        # again over the frames where the background runs (to compare with its error).
        self._path = np.zeros((c, 4))
        self._hold = np.zeros((c, 2), np.int8)  # double talk: Geigel alone, any detector
        self._erle_acc = np.zeros((c, 2))  # rx and output energies over single talk
        self._level = np.full(c, sine_power(REGULARISATION_DBM0) * b)  # output noise energy
        self._gain = np.ones(c, np.float32)
        self._double_talk = np.zeros(c, bool)
        self._far = sine_power(FAR_DBM0) * b * p
        self._quiet = sine_power(QUIET_DBM0) * b * p
        self._floor = np.float32(sine_power(REGULARISATION_DBM0) * n * p)
        self._converged = 10.0 ** (CONVERGED_DB / 10.0)
        self._margin = 10.0 ** (-NLP_MARGIN_DB / 10.0)
        # Time constants and rates per frame.
        frame_s = b / fs
        self._noise_smoothing = np.float32(math.exp(-frame_s * 1000.0 / NOISE_SMOOTHING_MS))
        self._noise_rise = np.float32(10.0 ** (NOISE_RISE_DB_PER_S * frame_s / 10.0))
        self._hangover = max(1, math.ceil(HANGOVER_MS / 1000.0 / frame_s))
        self._path_smoothing = math.exp(-frame_s * 1000.0 / PATH_SMOOTHING_MS)
        self._erle_smoothing = math.exp(-frame_s * 1000.0 / ERLE_SMOOTHING_MS)
        self._ramp = (np.arange(1, b + 1, dtype=np.float32) / b)[None, :]
        self._conjugate = np.array([1.0, -1.0], np.float32)  # on (re, im) pairs
        self._padded = np.zeros((min(c, CHUNK), q, n), np.float32)  # errors, zeros before
        self._products = np.zeros((min(c, CHUNK), max(q, 2), k), np.complex64)
        self._misadjusted = 10.0 ** (-MISADJUSTED_DB / 10.0)
        rng = np.random.default_rng(seed)
        size = b * round(COMFORT_TABLE_S * fs / b)
        sos = sps.butter(6, (300.0, min(3400.0, 0.45 * fs)), btype="bandpass", fs=fs, output="sos")
        table = sps.sosfilt(sos, rng.standard_normal(size + b))[b:]
        self._comfort = (table / np.sqrt(np.mean(table * table))).astype(np.float32)
        # Stream buffers: input not yet a whole frame, output not yet handed out.
        self._in = np.zeros((2, c, b), np.float32)  # rx and tx of the frame being filled
        self._filled = 0
        self._out = np.zeros((c, b), np.float32)  # the last frame out, from sample `_filled`

    @property
    def delay(self) -> int:
        """Samples by which the output lags ``rx``: one frame."""
        return self.frame

    @property
    def erle_db(self) -> F64:
        """Echo return loss enhancement of the linear canceller per channel, dB, shape
        ``(channels,)``: ``rx`` power over output power in the recent frames where only the far
        end talked (0 until such frames have been seen)."""
        rx, out = self._erle_acc[:, 0], self._erle_acc[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            erle = 10.0 * np.log10(rx / out)
        return np.where(out > 0, erle, 0.0)

    @property
    def double_talk(self) -> Bools:
        """Whether each channel was in double talk (both ends talking) in the last frame."""
        return self._double_talk.copy()

    def reset(self, channels: ChannelIndex | None = None) -> None:
        """Forget what was learnt about the echo paths of `channels` (all by default), as when
        a line is connected to another party. Audio in flight is kept."""
        sel = slice(None) if channels is None else channels
        for state in (
            self._window,
            self._spec,
            self._power,
            self._rx,
            self._peak,
            self._w,
            self._taps,
            self._err_bands,
            self._noise_bands,
            self._path,
            self._hold,
            self._erle_acc,
            self._double_talk,
        ):
            state[sel] = 0
        self._level[sel] = sine_power(REGULARISATION_DBM0) * self.frame
        self._gain[sel] = 1.0

    def process(self, rx: npt.ArrayLike, tx: npt.ArrayLike) -> I16:
        """Cancel the echo of `tx` in `rx`.

        Parameters
        ----------
        rx : array_like, shape (channels, n)
            What the line sends back (echo plus near-end speech and noise), int16 units.
        tx : array_like, shape (channels, n)
            What was sent to the line over the same samples, int16 units.

        Returns
        -------
        ndarray of int16, shape (channels, n)
            ``rx`` with the echo removed, `delay` samples late.
        """
        d = np.asarray(rx)
        x = np.asarray(tx)
        for name, a in (("rx", d), ("tx", x)):
            if a.ndim != 2 or a.shape[0] != self.channels:
                raise ValueError(
                    f"{name} must have shape (channels={self.channels}, samples), got {a.shape}"
                )
        if d.shape != x.shape:
            raise ValueError(f"rx and tx must have the same shape, got {d.shape} and {x.shape}")
        n, b = d.shape[1], self.frame
        # int16 goes straight into the float32 frame buffers; anything else is saturated first.
        d32 = d if d.dtype == np.int16 else _samples(d)
        x32 = x if x.dtype == np.int16 else _samples(x)
        result = np.empty((self.channels, n), np.float32)
        at = 0
        while at < n:
            filled = self._filled
            take = min(b - filled, n - at)
            result[:, at : at + take] = self._out[:, filled : filled + take]
            self._in[0, :, filled : filled + take] = d32[:, at : at + take]
            self._in[1, :, filled : filled + take] = x32[:, at : at + take]
            self._filled = (filled + take) % b
            at += take
            if self._filled == 0:
                self._slot = (self._slot - 1) % self._ring
                for lo in range(0, self.channels, CHUNK):
                    rows = slice(lo, min(lo + CHUNK, self.channels))
                    self._out[rows] = self._frame(rows, self._in[0, rows], self._in[1, rows])
                self._frames += 1
        np.rint(result, out=result)
        np.clip(result, -32768.0, 32767.0, out=result)
        return result.astype(np.int16)

    def _frame(self, s: slice, d: F32, x: F32) -> F32:
        """One frame of the channels `s`: ``d`` is rx and ``x`` tx, both ``(c, B)``; returns the
        output frame."""
        b, p, j, n = self.frame, self.partitions, self._slot, self.nfft
        r, c = self._ring, d.shape[0]

        # The far end: spectrum of its last two frames, into the rings with rx.
        window = self._window[s]
        window[:, :b] = window[:, b:]
        window[:, b:] = x
        spec = sfft.rfft(window, axis=1)
        power = _power(spec)
        peak = np.maximum(x.max(axis=1), -x.min(axis=1))
        for ring, value in ((self._spec, spec), (self._power, power), (self._rx, d)):
            ring[s, j] = value
            if j < r - 1:
                ring[s, j + r] = value
        peaks = self._peak[s]  # this frame's and the P before
        peaks[:, 1:] = peaks[:, :-1]
        peaks[:, 0] = peak
        spectra = self._spec[s, j : j + p]
        # tx energy per partition's window, (c, P)
        window_energy = (
            power.sum(axis=1, keepdims=True) if p == 1 else self._power[s, j : j + p].sum(axis=2)
        ) / n
        tail_energy = window_energy.sum(axis=1)
        far = tail_energy > self._far
        quiet = tail_energy < self._quiet

        # The foreground's echo estimate makes the output.
        w = self._w[s]
        taps = self._taps[s]
        product = np.multiply(w[:, 0, 0], spec, out=self._products[:c, 0])
        for i in range(1, p):
            product += w[:, 0, i] * spectra[:, i]
        y_fg = sfft.irfft(product, n, axis=1)[:, b:]
        e_fg = d - y_fg
        fg_energy = _energy(e_fg, e_fg)
        rx_energy = _energy(d, d)
        echo_energy = _energy(y_fg, y_fg)
        cross = 0.5 * (rx_energy + echo_energy - fg_energy)  # d . y, as e = d - y

        # Double talk: Geigel on the residual, normalised cross-correlation with the echo
        # estimate; both only once the foreground cancels (before, the step does the job).
        acc = self._erle_acc[s]
        converged = acc[:, 0] > self._converged * acc[:, 1]
        residual_peak = np.maximum(e_fg.max(axis=1), -e_fg.min(axis=1))
        geigel = residual_peak > GEIGEL * peaks.max(axis=1)
        uncorrelated = (cross < NCC * rx_energy) & (echo_energy > self._level[s])
        hold = self._hold[s]
        hold -= hold > 0
        hold[far & converged & geigel, 0] = self._hangover
        hold[far & converged & (geigel | uncorrelated), 1] = self._hangover
        double_talk = far & (hold[:, 1] > 0)
        self._double_talk[s] = double_talk

        # The background runs on every frame while it is far from the path (the foreground's
        # ERLE under MISADJUSTED_DB, no near-end peaks), else on every STEADY_EVERY-th frame,
        # the chunks of channels in turn, to learn from the far end's speech or, while the
        # far end is silent, the line's noise.
        path = self._path[s]
        keep = self._path_smoothing
        live = far & ~self.frozen[s]
        misadjusted = live & (hold[:, 0] == 0)
        noise_floor = 4.0 * self._level[s]
        misadjusted &= path[:, 0] > self._misadjusted * path[:, 2] + noise_floor
        turn = (self._frames + s.start // CHUNK) % STEADY_EVERY == 0
        runs = misadjusted | ((quiet | live) if turn else False)
        rows = np.flatnonzero(runs)
        if rows.size:
            a: slice | npt.NDArray[np.intp] = slice(None) if rows.size == c else rows
            err_spec, bg_energy = self._background_error(s, a)
            # Noise floor of the error per band, learnt while the far end is silent.
            square = np.square(err_spec.view(np.float32))  # re^2, im^2 interleaved
            band_power = square[:, : 2 * b].reshape(square.shape[0], -1, 2 * BAND).sum(axis=2)
            band_power[:, -1] += square[:, 2 * b :].sum(axis=1)  # the Nyquist bin
            bands = self._err_bands[s][a]
            bands *= self._noise_smoothing
            bands += (1.0 - self._noise_smoothing) * band_power
            noise = self._noise_bands[s][a]
            tracked = np.where(noise > 0, np.minimum(bands, noise * self._noise_rise), bands)
            silent = quiet[a]
            noise[silent] = tracked[silent]
            if isinstance(a, np.ndarray):  # gathered copies
                self._err_bands[s][a] = bands
                self._noise_bands[s][a] = noise
            both = path[a][:, [1, 3]]
            both *= keep
            both += (1.0 - keep) * np.stack([bg_energy, fg_energy[a]], axis=1)
            path[rows[:, None], [1, 3]] = both
            # Only channels with something to learn adapt: the far end talks, the near end
            # does not, and the error stands above the noise floor somewhere.
            clean = 1.0 - NOISE_BIAS * noise / np.maximum(bands, np.float32(1e-3))
            learn = live[a] & (clean.max(axis=1) > 0.0)
            if learn.any():
                self._adapt(
                    s,
                    rows[learn],
                    clean[learn],
                    err_spec[learn],
                    bg_energy[learn],
                    misadjusted[rows][learn],
                )

        # Two echo-path models.
        path[:, 0] *= keep
        path[:, 0] += (1.0 - keep) * fg_energy
        path[:, 2] *= keep
        path[:, 2] += (1.0 - keep) * rx_energy
        # A foreground that adds echo instead of removing it has a wrong path (double talk
        # cannot do this: with a right path the error is the near end, less than rx): both
        # models start again from nothing, as fast as at the start of a call.
        wrong = live & (path[:, 0] > WRONG_PATH * path[:, 2])
        if wrong.any():
            w[wrong] = 0
            taps[wrong] = 0
            path[wrong, :2] = path[wrong, 2, None]
            path[wrong, 3] = path[wrong, 2]
            acc[wrong] = 0.0
        fresh = np.zeros(c, bool)
        fresh[rows] = True
        fresh &= live
        # Compared above the line's noise, which neither model can cancel.
        unreachable = (1.0 - COPY_RATIO) * self._level[s]
        copy = fresh & (path[:, 1] < COPY_RATIO * path[:, 3] + unreachable)
        if copy.any():
            w[copy, 0] = w[copy, 1]
            taps[copy, 0] = taps[copy, 1]
            path[copy, 0] = path[copy, 3] = path[copy, 1]
        back = fresh & (path[:, 1] > RESET_RATIO * path[:, 3])
        if back.any():
            w[back, 1] = w[back, 0]
            taps[back, 1] = taps[back, 0]
            path[back, 1] = path[back, 3]

        # ERLE over far-end single talk; the output's noise level while the far end is silent.
        single = far & ~double_talk
        keep = self._erle_smoothing
        acc[single] = keep * acc[single] + (1.0 - keep) * np.stack(
            [rx_energy[single], fg_energy[single]], axis=1
        )
        level = self._level[s]
        level[quiet] = np.minimum(0.5 * (level + fg_energy), level * self._noise_rise)[quiet]

        # Non-linear processor: residual echo replaced by comfort noise, faded over the frame.
        residual = fg_energy < self._margin * echo_energy + 2.0 * level
        target = (~(self.nlp[s] & far & ~double_talk & residual)).astype(np.float32)
        gain = self._gain[s]
        out: F32 = e_fg
        moving = target != gain
        comforted = (target == 0.0) & ~moving
        if moving.any() or comforted.any():
            at = (self._frames * b) % self._comfort.size
            table = self._comfort[at : at + b]
            scale = np.sqrt(level / b).astype(np.float32)[:, None]
            out[comforted] = table * scale[comforted]
            if moving.any():
                comfort = table * scale[moving]
                fade = gain[moving, None] + (target - gain)[moving, None] * self._ramp
                out[moving] = comfort + fade * (e_fg[moving] - comfort)
        gain[:] = target
        return out

    def _background_error(self, s: slice, a: slice | npt.NDArray[np.intp]) -> tuple[C64, F64]:
        """The background's error on this frame for the rows `a` of the channels `s`: its
        spectrum ``(rows, B + 1)`` (B zeros, then the error) and its energy ``(rows,)``."""
        b, p, j, n = self.frame, self.partitions, self._slot, self.nfft
        w = self._w[s, 1][a]
        spectra = self._spec[s, j : j + p][a]
        rows = w.shape[0]
        product = np.multiply(w[:, 0], spectra[:, 0], out=self._products[:rows, 0])
        for i in range(1, p):
            product += w[:, i] * spectra[:, i]
        estimate = sfft.irfft(product, n, axis=1)[:, b:]
        padded = self._padded[:rows, 0]
        error = np.subtract(self._rx[s, j][a], estimate, out=padded[:, b:])
        spectrum: C64 = sfft.rfft(padded, axis=1)
        return spectrum, _energy(error, error)

    def _adapt(
        self,
        s: slice,
        rows: npt.NDArray[np.intp],
        clean: F32,
        err_spec: C64,
        bg_energy: F64,
        again: Bools,
    ) -> None:
        """Adapt the background of the `rows` of the channels `s`: ``clean`` ``(rows, bands)``
        is the share of the error over the noise per band, `err_spec` and `bg_energy` the
        spectrum and energy of the background's error on this frame; the rows flagged `again`
        take a second step."""
        p, j, q = self.partitions, self._slot, self.gradient_frames
        a: slice | npt.NDArray[np.intp] = slice(None) if rows.size == self._w[s].shape[0] else rows
        loudest = 0.5 * (self._power[s, j : j + p][a].sum(axis=2) / self.nfft).max(axis=1)
        rate = MU * np.minimum(1.0, loudest / np.maximum(bg_energy, 1.0))
        rate *= np.where(self._hold[s, 0][a] > 0, GEIGEL_STEP, 1.0)
        step = np.clip(clean, 0.0, 1.0)[:, self._band_of_bin]
        # Normalised by the far end's power per bin over the same frames and partitions.
        recent_power = self._power[s, j : j + self._ring][a]
        norm = recent_power[:, :q].sum(axis=1)
        for i in range(1, p):
            norm += recent_power[:, i : i + q].sum(axis=1)
        norm += SPECTRAL_FLOOR * norm.mean(axis=1, keepdims=True) + self._floor
        step *= rate.astype(np.float32)[:, None]
        step /= norm
        errors = [err_spec[:, None]]
        if q > 1:
            errors.append(self._background_errors(s, a, 1, q - 1))
        self._update(s, a, step, errors)
        if again.any():
            twice = rows[again]
            self._update(s, twice, step[again], [self._background_errors(s, twice, 0, q)])

    def _background_errors(
        self, s: slice, a: slice | npt.NDArray[np.intp], first: int, count: int
    ) -> C64:
        """Spectra ``(rows, count, B + 1)`` of the background's errors on frames ``first`` to
        ``first + count - 1`` back from this one, with its current weights, for the rows `a`
        of the channels `s`."""
        b, p, j, n = self.frame, self.partitions, self._slot, self.nfft
        r = self._ring
        w = self._w[s, 1][a]
        recent = self._spec[s, j : j + r]
        rows = w.shape[0]
        products = self._products[:rows, :count]
        np.multiply(w[:, 0, None], recent[a, first : first + count], out=products)
        for i in range(1, p):
            products += w[:, i, None] * recent[a, first + i : first + i + count]
        estimate = sfft.irfft(products, n, axis=2)[:, :, b:]
        padded = self._padded[:rows, :count]
        np.subtract(self._rx[s, j + first : j + first + count][a], estimate, out=padded[:, :, b:])
        spectra: C64 = sfft.rfft(padded, axis=2)
        return spectra

    def _update(
        self, s: slice, a: slice | npt.NDArray[np.intp], step: F32, errors: list[C64]
    ) -> None:
        """One normalised-gradient step of the background of the rows `a` of the channels `s`
        over the frames whose error spectra `errors` holds (newest first, each piece
        ``(rows, frames, B + 1)``), with the per-bin `step` ``(rows, B + 1)``."""
        b, p, j, n = self.frame, self.partitions, self._slot, self.nfft
        r = self._ring
        recent = self._spec[s, j : j + r]
        # The gradient sum_q conj(X_q+p) E_q is the conjugate of sum_q X_q+p conj(E_q), whose
        # inverse transform is that of the latter read backwards: E is conjugated instead.
        cross = np.empty((step.shape[0], p, b + 1), np.complex64)
        for i in range(p):
            at = i
            for k, spectra in enumerate(errors):
                if i == 0:
                    np.conjugate(spectra, out=spectra)
                count = spectra.shape[1]
                term = (recent[a, at : at + count] * spectra).sum(axis=1)
                if k:
                    cross[:, i] += term
                else:
                    cross[:, i] = term
                at += count
        cross *= step[:, None]
        corr = sfft.irfft(cross, n, axis=2)
        # Constrained to B causal taps per partition, each tap's share of the step in
        # proportion to its weight (capped: a block update overshoots on a few taps).
        taps = self._taps[s, 1]
        weights = taps[a]
        share = np.abs(weights)
        scale = (1.0 - PROPORTIONATE) / (share.mean(axis=(1, 2)) + np.float32(1e-3))
        share *= scale.astype(np.float32)[:, None, None]
        share += np.float32(PROPORTIONATE)
        np.minimum(share, np.float32(SHARE_MAX), out=share)
        weights[:, :, 0] += corr[:, :, 0] * share[:, :, 0]
        weights[:, :, 1:] += corr[:, :, : n - b : -1] * share[:, :, 1:]
        if not isinstance(a, slice):  # a gathered copy, not a view
            taps[a] = weights
        self._w[s, 1][a] = sfft.rfft(weights, n, axis=2)


def _samples(a: npt.NDArray[Any]) -> F32:
    """int16 samples as float32; other dtypes are rounded and saturated to int16 first."""
    return (a if a.dtype == np.int16 else to_int16(a)).astype(np.float32)


def _power(spec: C64) -> F32:
    """``|spec|**2`` of a complex64 array."""
    square = np.square(spec.view(np.float32))
    out: F32 = square[..., 0::2] + square[..., 1::2]
    return out


def _energy(a: F32, b: F32) -> F64:
    """Row-wise dot products of two ``(c, n)`` arrays, as float64."""
    out: F64 = np.einsum("ij,ij->i", a, b).astype(np.float64)
    return out


def cancel_echo(
    rx: npt.ArrayLike,
    tx: npt.ArrayLike,
    *,
    fs: float = 8000.0,
    tail_ms: float = 64.0,
    nlp: bool = False,
) -> I16:
    """Cancel the echo of `tx` in `rx` over whole signals, output aligned with `rx`.

    Parameters
    ----------
    rx, tx : array_like, shape (n,) or (channels, n)
        What came back from the line and what was sent to it, int16 units.
    fs : float
        Sampling rate in Hz.
    tail_ms : float
        Echo tail covered, ms.
    nlp : bool
        Whether the non-linear processor and comfort noise act on the residual.

    Returns
    -------
    ndarray of int16, same shape as `rx`
    """
    d = np.asarray(rx)
    x = np.asarray(tx)
    if d.shape != x.shape or d.ndim not in (1, 2):
        raise ValueError(f"rx and tx must share a 1-D or 2-D shape, got {d.shape} and {x.shape}")
    d2 = d.reshape(-1, d.shape[-1])
    x2 = x.reshape(-1, x.shape[-1])
    ec = EchoCanceller(d2.shape[0], tail_ms, fs=fs, nlp=nlp)
    pad = np.zeros((d2.shape[0], ec.delay), np.int16)
    out = ec.process(np.concatenate([d2, pad], axis=1), np.concatenate([x2, pad], axis=1))
    return out[:, ec.delay :].reshape(d.shape)
