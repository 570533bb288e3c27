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
  ``2B``. The far end's spectra of the last ``P`` frames sit in a ring; each frame costs one FFT
  of the new far-end window, a complex multiply over ``(P, B + 1)`` bins and one inverse FFT per
  echo-path model, one FFT of the error, and the update below. Every step is one numpy call for
  a block of channels (arrays ``(channels, P, B + 1)``, complex64); Python runs per frame,
  never per sample or per channel.
* **Frame length.** 64 ms by default (``B = 512`` at 8 kHz, one partition for a 64 ms tail).
  numpy's cost is per call and per FFT, so longer frames are cheaper per second of audio (32 ms
  frames cost about one and a half times as much, see ``bench/test_echo_bench.py``) and
  converge about as fast. The price is delay: the output lags ``rx`` by one frame (`delay`).
* **Update.** Normalised LMS per frequency bin: the gradient ``conj(X_p) E`` is divided by the
  far end's power in that bin summed over the partitions, plus a floor of a tenth of its mean
  over the bins so that bins the far end hardly excites do not gather noise. It is then
  constrained to the ``B`` causal taps of each partition on every frame (an inverse FFT,
  truncation, an FFT): the cheaper unconstrained or alternately constrained variants converge
  visibly slower on speech. The constraint happens in the time domain, where each tap gets a
  share of the step in proportion to the size of its weight (the improved proportionate NLMS
  of Benesty & Gay 2002, the share capped at three times the mean because a block update
  would overshoot on a few taps): a line echo is a short burst somewhere in the tail, and the
  taps that hold it learn faster, speech or not.
* **Step size.** ``MU * min(1, Ex / Ee) * max(0, 1 - N / |E|^2)`` per band of 8 bins. The
  first factor holds back while the error is louder than the far end can make it (a near-end
  talker before the filter knows the path). The second is the share of the error that stands
  over the near end's noise ``N``, learnt per band while the far end is silent (with a margin):
  the step shrinks as the residual echo sinks into the noise, as the optimal step of Valin
  (2007) does, so that the filter stops wandering in the noise and converges below it.
* **Two echo-path models** (Ochiai, Araseki & Ogihara 1977; the foreground/background pair of
  speexdsp's MDF). The *background* filter adapts; the *foreground* filter makes the output and
  only changes by copying the background, when the background's error has been clearly smaller
  over the last few frames. Double talk that slips past the detectors corrupts the background,
  never the output; when the background's error grows far beyond the foreground's, it is put
  back to the foreground.
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
CHUNK = 64

#: Largest normalised step of the background filter.
MU = 1.0
#: Share of the step spread evenly over the taps; the rest goes to each tap in proportion to
#: the size of its weight (IPNLMS, Benesty & Gay 2002), up to SHARE_MAX times the mean.
PROPORTIONATE = 0.25
SHARE_MAX = 3.0
#: Floor of the step normaliser, relative to the mean bin power of the far end.
SPECTRAL_FLOOR = 0.1
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
NOISE_BIAS = 12.0
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
        self._window = np.zeros((c, n), np.float32)  # the last two frames of tx
        # Far-end spectra (and their powers) of the last P windows, newest first from slot
        # `_slot`, written twice (slots s and s + P, when there is one) so that the P newest
        # are always one contiguous view.
        self._spec = np.zeros((c, 2 * p - 1, k), np.complex64)
        self._power = np.zeros((c, 2 * p - 1, k), np.float32)
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
        self._path = np.zeros((c, 2))  # smoothed error energies, foreground and background
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
        self._padded = np.zeros((min(c, CHUNK), n), np.float32)  # the error, zeros before
        rng = np.random.default_rng(seed)
        size = b * round(COMFORT_TABLE_S * fs / b)
        sos = sps.butter(6, (300.0, min(3400.0, 0.45 * fs)), btype="bandpass", fs=fs, output="sos")
        table = sps.sosfilt(sos, rng.standard_normal(size + b))[b:]
        self._comfort = (table / np.sqrt(np.mean(table * table))).astype(np.float32)
        # Stream buffers: input not yet a whole frame, output not yet handed out.
        self._rx_in = np.zeros((c, 0), np.float32)
        self._tx_in = np.zeros((c, 0), np.float32)
        self._out = np.zeros((c, b), np.float32)

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
        d_all = np.concatenate([self._rx_in, _samples(d)], axis=1)
        x_all = np.concatenate([self._tx_in, _samples(x)], axis=1)
        frames = d_all.shape[1] // b
        have = self._out.shape[1]
        out = np.empty((self.channels, have + frames * b), np.float32)
        out[:, :have] = self._out
        for f in range(frames):
            cols = slice(f * b, (f + 1) * b)
            self._slot = (self._slot - 1) % self.partitions
            for lo in range(0, self.channels, CHUNK):
                rows = slice(lo, min(lo + CHUNK, self.channels))
                out[rows, have + f * b : have + (f + 1) * b] = self._frame(
                    rows, d_all[rows, cols], x_all[rows, cols]
                )
            self._frames += 1
        self._rx_in = d_all[:, frames * b :]
        self._tx_in = x_all[:, frames * b :]
        self._out = out[:, n:]
        return np.clip(np.rint(out[:, :n]), -32768.0, 32767.0).astype(np.int16)

    def _frame(self, s: slice, d: F32, x: F32) -> F32:
        """One frame of the channels `s`: ``d`` is rx and ``x`` tx, both ``(c, B)``; returns the
        output frame."""
        b, p, j, n = self.frame, self.partitions, self._slot, self.nfft

        # The far end: spectrum of its last two frames, into the rings.
        window = self._window[s]
        window[:, :b] = window[:, b:]
        window[:, b:] = x
        spec = sfft.rfft(window, axis=1)
        power = _power(spec)
        peak = np.maximum(x.max(axis=1), -x.min(axis=1))
        for ring, value in ((self._spec, spec), (self._power, power)):
            ring[s, j] = value
            if j < p - 1:
                ring[s, j + p] = value
        peaks = self._peak[s]  # this frame's and the P before
        peaks[:, 1:] = peaks[:, :-1]
        peaks[:, 0] = peak
        spectra = self._spec[s, j : j + p]
        powers = self._power[s, j : j + p]
        window_energy = powers.sum(axis=2) / n  # (c, p): tx energy per partition's window
        tail_energy = window_energy.sum(axis=1)
        far = tail_energy > self._far
        quiet = tail_energy < self._quiet

        # Echo estimates of both models and their errors.
        w = self._w[s]
        products = w * spectra[:, None]
        echo_spec = products[:, :, 0] if p == 1 else products.sum(axis=2)
        estimate = sfft.irfft(echo_spec, n, axis=2)[:, :, b:]
        y_fg = estimate[:, 0]
        e_fg = d - y_fg
        padded = self._padded[: d.shape[0]]  # the background's error, after B zeros
        e_bg = np.subtract(d, estimate[:, 1], out=padded[:, b:])
        err_spec = sfft.rfft(padded, axis=1)
        energy = np.stack([_energy(e_fg, e_fg), _energy(e_bg, e_bg)], axis=1)  # (c, 2)
        rx_energy = _energy(d, d)
        echo_energy = _energy(y_fg, y_fg)
        cross = 0.5 * (rx_energy + echo_energy - energy[:, 0])  # d . y, as e = d - y

        # Noise floor of the error per band, learnt while the far end is silent.
        square = np.square(err_spec.view(np.float32))  # re^2, im^2 interleaved
        band_power = square[:, : 2 * b].reshape(square.shape[0], -1, 2 * BAND).sum(axis=2)
        band_power[:, -1] += square[:, 2 * b :].sum(axis=1)  # the Nyquist bin
        bands = self._err_bands[s]
        bands *= self._noise_smoothing
        bands += (1.0 - self._noise_smoothing) * band_power
        noise = self._noise_bands[s]
        tracked = np.where(noise > 0, np.minimum(bands, noise * self._noise_rise), bands)
        noise[quiet] = tracked[quiet]

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

        # Only channels with something to learn adapt: the far end talks, the near end does
        # not, and the error stands above the noise floor somewhere.
        taps = self._taps[s]
        clean = 1.0 - NOISE_BIAS * noise / np.maximum(bands, np.float32(1e-3))
        adapt = far & ~self.frozen[s] & (clean.max(axis=1) > 0.0)
        rows = np.flatnonzero(adapt)
        if rows.size:
            # Gathered when they are not all of them.
            a = slice(None) if rows.size == adapt.size else rows
            loudest = 0.5 * window_energy[a].max(axis=1)
            rate = MU * np.minimum(1.0, loudest / np.maximum(energy[a, 1], 1.0))
            rate *= np.where(hold[a, 0] > 0, GEIGEL_STEP, 1.0)
            clean = np.clip(clean[a], 0.0, 1.0)[:, self._band_of_bin]
            norm = powers[a].sum(axis=1)
            norm += SPECTRAL_FLOOR * norm.mean(axis=1, keepdims=True) + self._floor
            clean *= rate.astype(np.float32)[:, None]
            clean /= norm
            # The gradient conj(X) E is the conjugate of X conj(E), whose inverse transform is
            # that of X conj(E) read backwards: no conjugate of the (c, P, K) array is needed.
            # conj(E) times the step, in place on E's real and imaginary parts.
            step = err_spec[a] if isinstance(a, np.ndarray) else err_spec
            step.view(np.float32).reshape(*clean.shape, 2)[...] *= (
                clean[:, :, None] * self._conjugate
            )
            corr = sfft.irfft(spectra[a] * step[:, None, :], n, axis=2)
            # Constrained to B causal taps per partition, each tap's share of the step in
            # proportion to its weight (capped: a block update overshoots on a few taps).
            weights = taps[a, 1]
            share = np.abs(weights)
            scale = (1.0 - PROPORTIONATE) / (share.mean(axis=(1, 2)) + np.float32(1e-3))
            share *= scale.astype(np.float32)[:, None, None]
            share += np.float32(PROPORTIONATE)
            np.minimum(share, np.float32(SHARE_MAX), out=share)
            weights[:, :, 0] += corr[:, :, 0] * share[:, :, 0]
            weights[:, :, 1:] += corr[:, :, : n - b : -1] * share[:, :, 1:]
            if not isinstance(a, slice):  # a gathered copy, not a view
                taps[a, 1] = weights
            w[a, 1] = sfft.rfft(weights, n, axis=2)

        # Two echo-path models.
        path = self._path[s]
        path *= self._path_smoothing
        path += (1.0 - self._path_smoothing) * energy
        live = far & ~self.frozen[s]
        copy = live & (path[:, 1] < COPY_RATIO * path[:, 0])
        if copy.any():
            w[copy, 0] = w[copy, 1]
            taps[copy, 0] = taps[copy, 1]
            path[copy, 0] = path[copy, 1]
        back = live & (path[:, 1] > RESET_RATIO * path[:, 0])
        if back.any():
            w[back, 1] = w[back, 0]
            taps[back, 1] = taps[back, 0]
            path[back, 1] = path[back, 0]

        # ERLE over far-end single talk; the output's noise level while the far end is silent.
        single = far & ~double_talk
        keep = self._erle_smoothing
        acc[single] = keep * acc[single] + (1.0 - keep) * np.stack(
            [rx_energy[single], energy[single, 0]], axis=1
        )
        level = self._level[s]
        level[quiet] = np.minimum(0.5 * (level + energy[:, 0]), level * self._noise_rise)[quiet]

        # Non-linear processor: residual echo replaced by comfort noise, faded over the frame.
        residual = energy[:, 0] < self._margin * echo_energy + 2.0 * level
        target = (~(self.nlp[s] & far & ~double_talk & residual)).astype(np.float32)
        gain = self._gain[s]
        out: F32 = e_fg
        if not (np.all(target == 1.0) and np.all(gain == 1.0)):
            at = (self._frames * b) % self._comfort.size
            comfort = self._comfort[at : at + b] * np.sqrt(level / b).astype(np.float32)[:, None]
            fade = gain[:, None] + (target - gain)[:, None] * self._ramp
            out = comfort + fade * (e_fg - comfort)
        gain[:] = target
        return out


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
