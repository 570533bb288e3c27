"""Streaming DFT at a handful of frequencies over sliding windows, batched across channels.

Detectors for DTMF and call-progress tones only need the spectrum at a few known
frequencies. The classic answer is one Goertzel filter per frequency, run sample by
sample; in numpy that loop would be hopeless. Instead the signal is cut into sub-blocks of
`hop` samples and every sub-block of every channel is multiplied by one small basis matrix
(one BLAS call for the whole block of channels). A window of `window_hops` sub-blocks is then
the sum of its sub-blocks' products, each taken against the basis shifted to its place in
the window: overlapping windows for the price of one product per hop and window position,
with no sample-by-sample loop in Python.

Window `k` (counted from the start of the stream) ends at sample `(k + 1) * hop` and covers
the `window_hops * hop` samples before it; samples before the stream started count as
zero. The spectrum is referenced to the first sample of the window:

    X_k(f) = sum_{m=0}^{N-1} x[(k + 1 - W) * hop + m] * exp(-2j pi f m / fs)

Results depend only on the samples, never on how the stream was cut into blocks.

Layout: the samples are turned time-major, ``(hop, sub-blocks, channels)``, as they are
converted to float32, so the product is one contiguous matrix product and every sum of
sub-blocks runs over whole rows of channels. `Windows` shows the results as
``(channels, windows, ...)`` views of those time-major arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Windows:
    """Spectra of the windows completed by one call of :meth:`SlidingDft.process`.

    Attributes
    ----------
    spectrum : ndarray, shape (channels, windows, 2 * freqs), float32
        Real parts of the window DFT at each frequency, then the imaginary parts. A view:
        ``spectrum.transpose(2, 1, 0)`` is C-contiguous.
    energy : ndarray, shape (channels, windows), float32
        Sum of squares of the window's samples (int16 units squared). A view:
        ``energy.T`` is C-contiguous.
    first : int
        Stream index of the first window in these arrays.
    """

    spectrum: F32
    energy: F32
    first: int

    @property
    def count(self) -> int:
        return int(self.energy.shape[1])

    @property
    def re(self) -> F32:
        return self.spectrum[:, :, : self.spectrum.shape[2] // 2]

    @property
    def im(self) -> F32:
        return self.spectrum[:, :, self.spectrum.shape[2] // 2 :]


class SlidingDft:
    """DFT at fixed frequencies over windows of ``window_hops * hop`` samples, every ``hop``.

    Parameters
    ----------
    channels : int
        Number of channels processed together.
    freqs : sequence of float
        Frequencies in Hz.
    fs : float
        Sampling rate in Hz (keyword only).
    hop : int
        Samples between successive windows.
    window_hops : int
        Window length in hops.
    """

    def __init__(
        self,
        channels: int,
        freqs: Sequence[float],
        *,
        fs: float,
        hop: int,
        window_hops: int,
    ) -> None:
        if channels < 1:
            raise ValueError(f"channels must be at least 1, got {channels}")
        if hop < 1 or window_hops < 1:
            raise ValueError(f"hop and window_hops must be positive, got {hop}, {window_hops}")
        f = np.asarray(freqs, dtype=np.float64)
        if f.ndim != 1 or f.size == 0 or np.any(f <= 0) or np.any(f >= fs / 2):
            raise ValueError(f"freqs must lie strictly between 0 and fs/2={fs / 2}, got {freqs}")
        self.channels = channels
        self.freqs = f
        self.fs = float(fs)
        self.hop = hop
        self.window_hops = window_hops
        self.window = hop * window_hops
        nf = f.size
        # Basis rows, one block per position j of a sub-block inside the window:
        # [cos(w (n + j hop)), -sin(w (n + j hop))], n = 0 .. hop-1.
        n = np.arange(hop, dtype=np.float64)[None, :]
        blocks = []
        for j in range(window_hops):
            phase = 2.0 * np.pi * f[:, None] * (n + j * hop) / fs
            blocks += [np.cos(phase), -np.sin(phase)]
        self._basis = np.ascontiguousarray(np.vstack(blocks), dtype=np.float32)
        self._nf = nf
        self._pending = np.zeros((channels, 0), dtype=np.float32)
        # For windows that straddle two calls: at each position j, the products of the last
        # window_hops - 1 - j sub-blocks, (2 * freqs, sub-block, channel), and the energies
        # of the last window_hops - 1 sub-blocks (oldest first). Zero before the stream.
        self._hist = [
            np.zeros((2 * nf, window_hops - 1 - j, channels), np.float32)
            for j in range(window_hops - 1)
        ]
        self._hist_energy = np.zeros((window_hops - 1, channels), np.float32)
        self._samples = np.zeros((hop, 0, channels), np.float32)
        self._next = 0

    def reset(self) -> None:
        """Forget all history, as if the stream started again."""
        self._pending = np.zeros((self.channels, 0), dtype=np.float32)
        for h in self._hist:
            h[:] = 0.0
        self._hist_energy[:] = 0.0
        self._next = 0

    def process(self, x: npt.ArrayLike) -> Windows:
        """Take the next samples of every channel, shape ``(channels, n)``; return the windows
        they complete."""
        a = np.asarray(x)
        if a.ndim != 2 or a.shape[0] != self.channels:
            raise ValueError(
                f"block must have shape (channels={self.channels}, samples), got {a.shape}"
            )
        hop, w, nf, channels = self.hop, self.window_hops, self._nf, self.channels
        have = self._pending.shape[1]
        nsub = (have + a.shape[1]) // hop
        used = nsub * hop
        first = self._next
        self._next += nsub
        take = used - have
        if take >= 0:
            if have:
                joined = np.empty((channels, used), np.float32)
                joined[:, :have] = self._pending
                joined[:, have:] = a[:, :take]
            else:
                joined = a[:, :used]
            self._pending = np.array(a[:, take:], dtype=np.float32)
        else:
            joined = self._pending[:, :used]
            self._pending = np.concatenate([self._pending[:, used:], a.astype(np.float32)], axis=1)
        # Time-major sub-blocks, converted to float32 in the same pass as the transpose.
        if self._samples.shape[1] != nsub:
            self._samples = np.empty((hop, nsub, channels), np.float32)
        samples = self._samples
        samples[...] = joined.reshape(channels, nsub, hop).transpose(2, 1, 0)
        cols = samples.reshape(hop, nsub * channels)
        prod = (self._basis @ cols).reshape(w, 2 * nf, nsub, channels)
        sub_energy = np.einsum("ij,ij->j", cols, cols).reshape(nsub, channels)
        # Window m ends with sub-block m; its sub-block at position j (of w) is m - (w-1-j),
        # which for the first windows lies in earlier calls (kept in _hist, oldest first).
        spectrum = prod[w - 1].copy()
        energy = sub_energy.copy()
        for j in range(w - 1):
            lag = w - 1 - j
            hist = self._hist[j]
            if nsub > lag:
                spectrum[:, lag:] += prod[j, :, : nsub - lag]
                energy[lag:] += sub_energy[: nsub - lag]
            k = min(lag, nsub)
            spectrum[:, :k] += hist[:, :k]
            energy[:k] += self._hist_energy[w - 1 - lag : w - 1 - lag + k]
            if nsub >= lag:
                self._hist[j] = prod[j, :, nsub - lag :].copy()
            else:
                self._hist[j] = np.concatenate([hist[:, nsub:], prod[j]], axis=1)
        if w > 1:
            keep = w - 1
            if nsub >= keep:
                self._hist_energy = sub_energy[nsub - keep :].copy()
            else:
                self._hist_energy = np.concatenate([self._hist_energy[nsub:], sub_energy], axis=0)
        return Windows(spectrum.transpose(2, 1, 0), energy.T, first)
