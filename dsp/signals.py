"""Test and line signals: sines at a level, cadenced tones, band-limited noise at an S/N.

Used by the simulated board to make what an exchange or a telephone would send, and by
tests and benchmarks to build conformance signals. Levels are in dBm0 (see `levels`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import signal as sps

from boardcc.dsp.levels import sine_amplitude

F64 = npt.NDArray[np.float64]


def to_int16(x: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """Round and saturate to int16, as a codec would; int16 input passes unchanged.

    Raises
    ------
    ValueError
        If a sample is NaN or infinite (naming the first one) or complex.
    """
    a = np.asarray(x)
    if a.dtype == np.int16:
        return a
    if np.iscomplexobj(a):
        raise ValueError(f"samples must be real, got dtype {a.dtype}")
    f = a.astype(np.float64, copy=False)
    bad = ~np.isfinite(f)
    if bad.any():
        where = tuple(int(i[0]) for i in np.nonzero(bad))
        raise ValueError(f"sample {where} is {f[where]}: samples must be finite")
    return np.clip(np.rint(f), -32768, 32767).astype(np.int16)


def sines(
    freqs: Sequence[float],
    n: int,
    *,
    fs: float = 8000.0,
    level_dbm0: float | Sequence[float] = -10.0,
    phase: float | Sequence[float] = 0.0,
) -> F64:
    """Sum of sines, each at its own level in dBm0, `n` samples long (float64)."""
    f = np.atleast_1d(np.asarray(freqs, dtype=np.float64))
    lv = np.broadcast_to(np.asarray(level_dbm0, dtype=np.float64), f.shape)
    ph = np.broadcast_to(np.asarray(phase, dtype=np.float64), f.shape)
    t = np.arange(n, dtype=np.float64) / fs
    out = np.zeros(n)
    for fi, li, pi in zip(f, lv, ph, strict=True):
        out += sine_amplitude(float(li)) * np.sin(2 * np.pi * fi * t + pi)
    return out


def cadenced(
    freqs: Sequence[float],
    pattern_ms: Sequence[float],
    total_ms: float,
    *,
    fs: float = 8000.0,
    level_dbm0: float | Sequence[float] = -10.0,
) -> F64:
    """A tone switched on and off by `pattern_ms` = (on, off, on, off, ...), repeated to
    `total_ms`. An empty pattern means continuous."""
    n = round(total_ms * fs / 1000.0)
    tone = sines(freqs, n, fs=fs, level_dbm0=level_dbm0)
    if not pattern_ms:
        return tone
    for i, ms in enumerate(pattern_ms):
        if round(ms * fs / 1000.0) < 1:
            raise ValueError(f"pattern_ms[{i}] = {ms} is shorter than one sample at {fs} Hz")
    gate = np.zeros(n, dtype=bool)
    pos, on, i = 0, True, 0
    while pos < n:
        length = round(pattern_ms[i % len(pattern_ms)] * fs / 1000.0)
        if on:
            gate[pos : pos + length] = True
        pos += length
        on = not on
        i += 1
    return tone * gate


def band_noise(
    n: int,
    rng: np.random.Generator,
    *,
    fs: float = 8000.0,
    band: tuple[float, float] | None = (300.0, 3400.0),
) -> F64:
    """Gaussian noise of unit mean square within `band` (white over the whole band when
    `band` is None)."""
    x = rng.standard_normal(n)
    if band is not None:
        sos = sps.butter(8, band, btype="bandpass", fs=fs, output="sos")
        x = sps.sosfilt(sos, x)
    rms = np.sqrt(np.mean(x * x))
    return np.asarray(x / rms if rms > 0 else x, dtype=np.float64)


def add_noise(
    x: npt.ArrayLike,
    snr_db: float,
    rng: np.random.Generator,
    *,
    fs: float = 8000.0,
    band: tuple[float, float] = (300.0, 3400.0),
    signal_power: float | None = None,
) -> F64:
    """Add white noise so that the signal-to-noise ratio measured in `band` is `snr_db`.

    The noise is white over the whole band 0..fs/2; its power is set so that the part
    falling inside `band` is `snr_db` below `signal_power` (by default the mean square of
    `x` where it is non-zero, i.e. the power of the tone while it is on).
    """
    a = np.asarray(x, dtype=np.float64)
    if signal_power is None:
        on = a[a != 0]
        signal_power = float(np.mean(on * on)) if on.size else 0.0
    white = rng.standard_normal(a.shape)
    in_band_fraction = (band[1] - band[0]) / (fs / 2.0)
    noise_power = signal_power / 10.0 ** (snr_db / 10.0) / in_band_fraction
    return np.asarray(a + white * np.sqrt(noise_power), dtype=np.float64)
