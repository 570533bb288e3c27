"""DTMF: a receiver batched across channels, and a generator.

A voice board decodes the keys callers press (SPEC D1). This receiver does it in software for
every channel at once, so that a board without hardware DTMF costs one small matrix product
per block rather than a Goertzel loop per channel.

How it works
------------
The signal is looked at through windows of 102 samples (12.75 ms at 8 kHz) every 51 samples.
102 samples put the nulls of the rectangular window's response close to the neighbouring
DTMF frequencies, so each frequency's detector hardly sees the others (the same choice as
ITU-T Q.24 practice and most Goertzel receivers). The windows' spectra at the eight DTMF
frequencies (and at the local dial tone, see below) come from :class:`SlidingDft`.

A window *hits* digit ``d`` when all of these hold (ITU-T Q.24 and Mitel's test practice):

- the strongest row and column tones are each above the minimum level;
- together they hold most of the window's energy (speech and music spread theirs);
- each is well above the other tones of its group;
- the twist (column level minus row level) is within limits;
- each tone's frequency, measured from the phase advance between consecutive windows, is
  within ``freq_tolerance`` of nominal. Energy alone cannot do this: a 3.5 % error costs a
  102-sample window only 1.4 dB.

A key press starts after ``min_on_windows`` consecutive hits of the same digit and ends after
``min_off_windows`` consecutive windows without it; a shorter dropout is bridged, so a press
is never split in two, and a 40 ms pause always separates two presses. Digits are reported
when the press ends, with its first and last sample.

Dial tone under the digits (a caller keying before the dial tone stops) would otherwise eat
into the energy ratio; its power is measured at the dial-tone frequencies and taken out of
the window energy first.

References: ITU-T Q.23 (frequencies), Q.24 (reception), ETSI ES 201 235-3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from boardcc.dsp.levels import sine_amplitude, sine_power
from boardcc.dsp.signals import to_int16
from boardcc.dsp.sliding import SlidingDft, Windows

ROW_FREQS = (697.0, 770.0, 852.0, 941.0)
COL_FREQS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")
DIGITS = "".join(KEYPAD)

_DIGIT_POS = {d: (r, c) for r, row in enumerate(KEYPAD) for c, d in enumerate(row)}


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    """One key press.

    Attributes
    ----------
    channel : int
        Channel index within the receiver's block.
    digit : str
        One of ``0123456789*#ABCD``.
    start, end : int
        First sample of the press and the sample after its last, counted from the start of
        the channel's stream.
    """

    channel: int
    digit: str
    start: int
    end: int

    def duration(self, fs: float = 8000.0) -> float:
        """Length of the press in seconds."""
        return (self.end - self.start) / fs


class DtmfReceiver:
    """Streaming DTMF receiver for many channels at once.

    Parameters
    ----------
    channels : int
        Number of channels in each block.
    fs : float
        Sampling rate in Hz (keyword only).
    min_level_dbm0 : float
        Weakest tone (each of the pair) accepted, dBm0.
    energy_ratio : float
        Share of the window energy the two tones must hold.
    relative_peak_db : float
        How far each tone must stand above the others of its group.
    normal_twist_db, reverse_twist_db : float
        Largest accepted excess of the column (high) tone over the row (low) tone, and of
        the row tone over the column tone.
    freq_tolerance : float
        Largest accepted relative frequency error of each tone.
    dial_tone_hz : sequence of float
        Dial-tone frequencies removed from the energy before the ratio test (China: 450).
    min_on_windows, min_off_windows : int
        Hits that start a press; misses that end it (windows are 51 samples apart at 8 kHz).
    """

    def __init__(
        self,
        channels: int,
        *,
        fs: float = 8000.0,
        min_level_dbm0: float = -43.0,
        energy_ratio: float = 0.75,
        relative_peak_db: float = 8.0,
        normal_twist_db: float = 7.0,
        reverse_twist_db: float = 9.0,
        freq_tolerance: float = 0.025,
        dial_tone_hz: Sequence[float] = (450.0,),
        min_on_windows: int = 4,
        min_off_windows: int = 4,
    ) -> None:
        if fs < 6000:
            raise ValueError(f"fs must be at least 6000 Hz for DTMF, got {fs}")
        if not 0.0 < energy_ratio <= 1.0:
            raise ValueError(f"energy_ratio must be in (0, 1], got {energy_ratio}")
        if min_on_windows < 1 or min_off_windows < 1:
            raise ValueError(
                f"min_on_windows and min_off_windows must be >= 1, "
                f"got {min_on_windows}, {min_off_windows}"
            )
        self.channels = channels
        self.fs = float(fs)
        self.hop = round(51 * fs / 8000.0)
        self.window = 2 * self.hop
        freqs = list(ROW_FREQS) + list(COL_FREQS) + [float(f) for f in dial_tone_hz]
        self._dft = SlidingDft(channels, freqs, fs=fs, hop=self.hop, window_hops=2)
        self._n_dial = len(dial_tone_hz)
        self._min_energy = np.float32(sine_power(min_level_dbm0) * self.window)
        self._ratio = np.float32(energy_ratio)
        # A tone at the edge of the frequency tolerance loses up to half its energy in a
        # 102-sample window; screening must not throw it away before it is corrected.
        self._screen_ratio = np.float32(energy_ratio * 0.45)
        self._rel_peak = np.float32(10.0 ** (relative_peak_db / 10.0))
        self._normal_twist = np.float32(10.0 ** (normal_twist_db / 10.0))
        self._reverse_twist = np.float32(10.0 ** (reverse_twist_db / 10.0))
        self._tolerance = freq_tolerance
        f8 = np.asarray(freqs[:8])
        # Phase a tone at exactly the nominal frequency advances by between two windows.
        self._advance = np.exp(-2j * np.pi * f8 * self.hop / fs)
        self._hz_per_radian = fs / (2.0 * np.pi * self.hop)
        self._freqs = f8
        self.min_on = min_on_windows
        self.min_off = min_off_windows
        # Spectra of the last windows of the previous call, for the phase advance.
        self._pairs = 3
        self._prev = np.zeros((channels, self._pairs, 8), np.complex128)
        self._windows_done = 0
        # Per-channel press state, plain lists: touched only for channels with hits.
        self._run_digit: list[int] = []
        self._run_len: list[int] = []
        self._run_start: list[int] = []
        self._run_last: list[int] = []
        self._active: dict[int, list[int]] = {}  # channel -> [digit, first window, last hit]
        self.reset()

    @property
    def pressed(self) -> dict[int, str]:
        """Digits held down right now, by channel (a press that has started, not ended)."""
        return {ch: DIGITS[st[0]] for ch, st in self._active.items()}

    def reset(self) -> None:
        """Forget everything, as if the streams started again."""
        self._dft.reset()
        self._prev[:] = 0.0
        self._windows_done = 0
        n = self.channels
        self._run_digit, self._run_len = [-1] * n, [0] * n
        self._run_start, self._run_last = [0] * n, [-10] * n
        self._active.clear()

    def process(self, block: npt.ArrayLike) -> list[DtmfEvent]:
        """Take the next samples, shape ``(channels, n)``; return the presses that ended."""
        win = self._dft.process(block)
        events: list[DtmfEvent] = []
        if win.count:
            hits = self._hits(win)
            events = self._debounce(hits, win.first)
        self._windows_done = win.first + win.count
        events += self._close_quiet(self._windows_done - 1)
        events.sort(key=lambda e: (e.end, e.channel))
        return events

    def flush(self) -> list[DtmfEvent]:
        """End of the streams: report the presses still held, as if they ended now."""
        events = [self._event(ch, st) for ch, st in self._active.items()]
        self._active.clear()
        events.sort(key=lambda e: (e.end, e.channel))
        return events

    # -- per window: which digit, if any ------------------------------------------------

    def _hits(self, win: Windows) -> list[tuple[int, int, int]]:
        """(channel, stream window index, digit index) for every window that hits."""
        power = win.tone_energy()
        rows, cols = power[:, :, 0:4], power[:, :, 4:8]
        rmax = rows.max(axis=2)
        cmax = cols.max(axis=2)
        energy = win.energy
        if self._n_dial:
            energy = energy - power[:, :, 8:].sum(axis=2)
        # Screening, cheap and for every window: loose enough to let through any window
        # the full test below could accept.
        mask = (rmax >= self._min_energy) & (cmax >= self._min_energy)
        mask &= (rmax + cmax) >= self._screen_ratio * energy
        ci, wi = np.nonzero(mask)
        if ci.size == 0:
            self._keep_spectra(win)
            return []

        r = rows[ci, wi]
        c = cols[ci, wi]
        ri = r.argmax(axis=1)
        cj = c.argmax(axis=1)
        k = np.arange(ci.size)
        rp = r[k, ri]
        cp = c[k, cj]
        r[k, ri] = 0.0
        c[k, cj] = 0.0
        ok = rp >= self._rel_peak * r.max(axis=1)
        ok &= cp >= self._rel_peak * c.max(axis=1)

        # The other tone of the pair leaks into each detector a little and beats with it,
        # so a single window misjudges both level and phase by up to a dB and a few Hz.
        # Frequency (from the phase advance between windows) and twist are therefore
        # taken over the last few windows.
        hist = self._pairs
        spec = np.concatenate([self._prev, win.re[:, :, :8] + 1j * win.im[:, :, :8]], axis=1)
        fr = np.stack([ri, cj + 4], axis=1)  # (n, 2) frequency indices
        at = wi + hist  # index in spec of each hit window
        advance = np.zeros(fr.shape, np.complex128)
        later = spec[ci[:, None], at[:, None], fr]
        level = np.abs(later) ** 2
        for i in range(1, hist + 1):
            earlier = spec[ci[:, None], (at - i)[:, None], fr]
            advance += later * np.conj(earlier)
            level += np.abs(earlier) ** 2
            later = earlier
        offset_hz = np.angle(advance * self._advance[fr]) * self._hz_per_radian
        ok &= np.all(np.abs(offset_hz) <= self._tolerance * self._freqs[fr], axis=1)

        # Undo what the window's response costs a tone that is off its nominal frequency,
        # so that a tone 1.5 % off weighs as much as a true one in the ratio and twist.
        gain = self._response(offset_hz)
        level /= gain
        ok &= level[:, 1] <= self._normal_twist * level[:, 0]
        ok &= level[:, 0] <= self._reverse_twist * level[:, 1]
        ok &= (rp / gain[:, 0] + cp / gain[:, 1]) >= self._ratio * energy[ci, wi]

        self._keep_spectra(win)
        digit = ri * 4 + cj
        sel = np.nonzero(ok)[0]
        first = win.first
        return list(
            zip(
                ci[sel].tolist(),
                (wi[sel] + first).tolist(),
                digit[sel].tolist(),
                strict=True,
            )
        )

    def _response(self, offset_hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Power response of the rectangular window to a sine `offset_hz` off its bin."""
        x = np.pi * offset_hz / self.fs
        n = self.window
        with np.errstate(invalid="ignore", divide="ignore"):
            g = np.sin(n * x) / (n * np.sin(x))
        return np.asarray(np.where(np.abs(x) < 1e-9, 1.0, g * g), dtype=np.float64)

    def _keep_spectra(self, win: Windows) -> None:
        """Keep the spectra of the last windows for the next call's phase advance."""
        n = win.count
        new = win.re[:, -self._pairs :, :8] + 1j * win.im[:, -self._pairs :, :8]
        if n >= self._pairs:
            self._prev = new.astype(np.complex128)
        else:
            self._prev = np.concatenate([self._prev[:, n:], new], axis=1)

    # -- per channel: from hits to key presses ------------------------------------------

    def _event(self, ch: int, st: list[int]) -> DtmfEvent:
        digit, first_win, last_win = st
        start = max(0, (first_win + 1) * self.hop - self.window)
        return DtmfEvent(ch, DIGITS[digit], start, (last_win + 1) * self.hop)

    def _debounce(self, hits: list[tuple[int, int, int]], first: int) -> list[DtmfEvent]:
        events: list[DtmfEvent] = []
        run_digit, run_len = self._run_digit, self._run_len
        run_start, run_last = self._run_start, self._run_last
        active = self._active
        for ch, w, d in hits:
            st = active.get(ch)
            if st is not None and w - st[2] > self.min_off:
                events.append(self._event(ch, st))
                del active[ch]
                st = None
            if d == run_digit[ch] and w == run_last[ch] + 1:
                run_len[ch] += 1
            else:
                run_digit[ch] = d
                run_len[ch] = 1
                run_start[ch] = w
            run_last[ch] = w
            if st is not None:
                if d == st[0]:
                    st[2] = w
                elif run_len[ch] >= self.min_on:
                    # Another digit took over without a pause long enough to see.
                    events.append(self._event(ch, st))
                    active[ch] = [d, run_start[ch], w]
            elif run_len[ch] >= self.min_on:
                active[ch] = [d, run_start[ch], w]
        return events

    def _close_quiet(self, last_window: int) -> list[DtmfEvent]:
        """End the presses that have seen `min_off` windows without their digit."""
        done = [ch for ch, st in self._active.items() if last_window - st[2] >= self.min_off]
        return [self._event(ch, self._active.pop(ch)) for ch in done]


def detect_dtmf(x: npt.ArrayLike, *, fs: float = 8000.0, **options: float) -> list[DtmfEvent]:
    """Every key press in a whole signal, shape ``(n,)`` or ``(channels, n)``.

    Keyword options are those of :class:`DtmfReceiver`.
    """
    a = np.asarray(x)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"signal must be 1-D or (channels, samples), got shape {a.shape}")
    rx = DtmfReceiver(a.shape[0], fs=fs, **options)  # type: ignore[arg-type]
    return rx.process(a) + rx.flush()


def dtmf_tones(
    digits: str,
    *,
    fs: float = 8000.0,
    level_dbm0: float = -10.0,
    twist_db: float = 0.0,
    on_ms: float = 60.0,
    off_ms: float = 60.0,
    freq_error: float = 0.0,
) -> npt.NDArray[np.int16]:
    """DTMF for `digits`, each `on_ms` long followed by `off_ms` of silence.

    Parameters
    ----------
    digits : str
        Keys from ``0123456789*#ABCD`` (letters in either case); ``,`` is a pause of
        ``on_ms + off_ms``.
    level_dbm0 : float
        Level of the low-group (row) tone, dBm0.
    twist_db : float
        Level of the high-group (column) tone relative to the row tone, dB.
    freq_error : float
        Relative frequency error applied to both tones (for conformance tests).
    """
    on = int(round(on_ms * fs / 1000.0))
    off = int(round(off_ms * fs / 1000.0))
    t = np.arange(on) / fs
    a_row = sine_amplitude(level_dbm0)
    a_col = sine_amplitude(level_dbm0 + twist_db)
    parts: list[npt.NDArray[np.float64]] = []
    for i, key in enumerate(digits.upper()):
        if key == ",":
            parts.append(np.zeros(on + off))
            continue
        pos = _DIGIT_POS.get(key)
        if pos is None:
            raise ValueError(f"not a DTMF key: {key!r} at position {i} of {digits!r}")
        fr = ROW_FREQS[pos[0]] * (1.0 + freq_error)
        fc = COL_FREQS[pos[1]] * (1.0 + freq_error)
        tone = a_row * np.sin(2 * np.pi * fr * t) + a_col * np.sin(2 * np.pi * fc * t)
        parts += [tone, np.zeros(off)]
    if not parts:
        return np.zeros(0, np.int16)
    return to_int16(np.concatenate(parts))
