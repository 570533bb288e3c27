"""DTMF: a receiver batched across channels, and a generator.

A voice board decodes the keys callers press (SPEC D1). This receiver does it in software for
every channel at once, so that a board without hardware DTMF costs one small matrix product
per block rather than a Goertzel loop per channel.

How it works
------------
The signal is looked at through windows of 102 samples (12.75 ms at 8 kHz) every 51 samples
("fine" windows). 102 samples put the nulls of the rectangular window's response close to
the neighbouring DTMF frequencies, so each frequency's detector hardly sees the others (the
usual choice for Goertzel receivers).

A fine window *hits* digit ``d`` when all of these hold (ITU-T Q.24 and Mitel's practice):

- the strongest row and column tones are each above the minimum level;
- together they hold most of the window's energy once dial tone is taken out (speech and
  music spread theirs);
- each stands well above the other tones of its group;
- the twist (column level minus row level) is within limits;
- each tone's frequency, measured from the phase advance over the last four fine windows,
  is within ``freq_tolerance`` of nominal. Energy alone cannot do this: a 3.5 % error costs
  a 102-sample window only 1.4 dB. The measured offset also undoes that loss in the ratio
  and twist, so a tone 1.5 % off weighs as much as a true one;
- the two tones do not stand in a simple ratio (3:2, 5:3, 2:1, 5:2), as a musical note and
  its overtones do; a DTMF pair, even with both tones 1.5 % off, stays clear of these.

Judging every fine window of every channel would cost numpy calls per window, so most are
never judged. Every other non-overlapping 102-sample window is *screened* with one matrix
product for the whole block of channels: it is a candidate when its strongest row and column
tones hold 45 % of its energy (dial tone aside), each at least 5 %, and each stands out in
its group. A press long enough to count (40 ms) always covers one screened window whole.
Fine windows are judged in full only next to a candidate, or between two candidates close
enough to be one press with a dropout in it. Judgement waits two screening windows for the
candidates around a window to be known.

A key press starts after ``min_on_windows`` consecutive hits of the same digit and ends after
``min_off_windows`` consecutive fine windows without it; a shorter dropout is bridged, so a
press is never split in two, and a 40 ms pause always separates two presses. Digits are
reported when the press ends, with its first and last sample. Per-channel Python runs only
for channels with hits, once per run of hits.

References: ITU-T Q.23 (frequencies), Q.24 (reception), ETSI ES 201 235-3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import as_strided

from boardcc.dsp.levels import sine_amplitude, sine_power
from boardcc.dsp.signals import to_int16

I64 = npt.NDArray[np.int64]
I16 = npt.NDArray[np.int16]
F32 = npt.NDArray[np.float32]

ROW_FREQS = (697.0, 770.0, 852.0, 941.0)
COL_FREQS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")
DIGITS = "".join(KEYPAD)

# Frequency ratios of a note's overtones that a column/row pair could otherwise imitate.
_OVERTONE_RATIOS = np.array([3 / 2, 5 / 3, 2.0, 5 / 2])

#: Screening windows a window's judgement waits for, and the widest run of screening windows
#: without a candidate (a dropout) inside a press that is still judged in full.
LOOKAHEAD = 2
GAP = 2

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
        the channel's stream; each within about one 51-sample hop of the truth (the tests
        see -6 to +4 ms).
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
        relative_peak_db: float = 6.0,
        normal_twist_db: float = 7.0,
        reverse_twist_db: float = 9.0,
        freq_tolerance: float = 0.025,
        dial_tone_hz: Sequence[float] = (450.0,),
        min_on_windows: int = 4,
        min_off_windows: int = 4,
    ) -> None:
        if not isinstance(channels, int | np.integer) or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        if not 6000 <= fs < 1e6:
            raise ValueError(f"fs must be at least 6000 Hz for DTMF, got {fs}")
        if not 0.0 < freq_tolerance < 0.1:
            raise ValueError(f"freq_tolerance must be in (0, 0.1), got {freq_tolerance}")
        for f in dial_tone_hz:
            if not 0.0 < f < fs / 2:
                raise ValueError(f"dial_tone_hz must lie between 0 and fs/2, got {f}")
        if not 0.0 < energy_ratio <= 1.0:
            raise ValueError(f"energy_ratio must be in (0, 1], got {energy_ratio}")
        if not all(isinstance(k, int) and k >= 1 for k in (min_on_windows, min_off_windows)):
            raise ValueError(
                f"min_on_windows and min_off_windows must be >= 1, "
                f"got {min_on_windows}, {min_off_windows}"
            )
        self.channels = channels
        self.fs = float(fs)
        self.hop = round(51 * fs / 8000.0)
        self.window = 2 * self.hop
        freqs = list(ROW_FREQS) + list(COL_FREQS) + [float(f) for f in dial_tone_hz]
        self._nf = nf = len(freqs)
        t = np.arange(self.window)[:, None] / fs
        phase = 2.0 * np.pi * np.asarray(freqs)[None, :] * t
        self._basis = np.hstack([np.cos(phase), -np.sin(phase)]).astype(np.float32)
        # Screening looks at the DTMF frequencies only: 16 columns suit BLAS best.
        self._screen_basis = np.ascontiguousarray(
            self._basis[:, list(range(8)) + list(range(nf, nf + 8))]
        )
        self._dial_basis = np.ascontiguousarray(
            self._basis[:, [i for i in range(8, nf)] + [i for i in range(nf + 8, 2 * nf)]]
        )
        self._min_energy = np.float32(sine_power(min_level_dbm0) * self.window)
        self._ratio = np.float32(energy_ratio)
        # Screening: a screening window is a candidate when its strongest row and column
        # tones together hold 45 % of its energy and each at least 5 %. Any key press
        # long enough to count covers a whole screening window, where even a pair at the
        # edge of the frequency tolerance in noise holds well over half; the windows
        # around it are reached through the candidate's neighbours (see `_hits`).
        self._screen_share = np.float32(0.45 * self.window / 2.0)
        self._screen_each = np.float32(0.05 * self.window / 2.0)
        self._screen_peak = np.float32(10.0 ** ((relative_peak_db - 1.0) / 10.0))
        self._rel_peak = np.float32(10.0 ** (relative_peak_db / 10.0))
        self._normal_twist = np.float32(10.0 ** (normal_twist_db / 10.0))
        self._reverse_twist = np.float32(10.0 ** (reverse_twist_db / 10.0))
        f8 = np.asarray(freqs[:8])
        self._max_offset = freq_tolerance * f8
        self._nominal = f8
        self._group_base = np.array([0, 4])
        # Half-window basis: first-half and second-half parts of the window basis.
        self._half_basis = np.hstack([self._basis[: self.hop], self._basis[self.hop :]])
        self._half_offsets = np.arange(-4, 2)
        # The four fine windows (newest first) behind an evaluation, counted from the
        # oldest of a candidate's five.
        self._window_back = np.array([3, 2, 1, 0])[None, :, None]
        # Phase a tone at exactly the nominal frequency advances by between two windows.
        self._advance = np.exp(-2j * np.pi * f8 * self.hop / fs)
        self._hz_per_radian = fs / (2.0 * np.pi * self.hop)
        self.min_on = min_on_windows
        self.min_off = min_off_windows
        # Windows are judged LOOKAHEAD screening windows late, once the candidates around
        # them are known. Kept from earlier calls: the samples of the last four screening
        # windows (a judged window's fine windows reach two back), the candidate marks of
        # the last LOOKAHEAD + GAP windows, and what has not yet made a whole window.
        self._history = 4 * self.window
        self._hist = np.zeros((channels, self._history), np.int16)
        self._pending = np.zeros((channels, 0), np.int16)
        self._marks = np.zeros((channels, LOOKAHEAD + GAP), bool)
        self._screened = 0  # screening windows screened
        # Per-channel press state: the press under way (digit or -1, first window, last
        # window that hit) and the run of identical hits that may start the next one.
        self._active = np.full(channels, -1, np.int64)
        self._press_first = np.zeros(channels, np.int64)
        self._last_hit = np.zeros(channels, np.int64)
        self._run_digit = np.full(channels, -1, np.int64)
        self._run_len = np.zeros(channels, np.int64)
        self._run_first = np.zeros(channels, np.int64)
        self._run_last = np.full(channels, -10, np.int64)

    @property
    def pressed(self) -> dict[int, str]:
        """Digits held down right now, by channel (a press that has started, not ended)."""
        return {int(ch): DIGITS[self._active[ch]] for ch in np.flatnonzero(self._active >= 0)}

    def reset(self, channels: Sequence[int] | None = None) -> None:
        """Forget everything about `channels` (all by default), as if their streams started
        again; a press under way there is dropped without an event. The other channels
        carry on undisturbed, so a line that hangs up can be reset mid-stream."""
        if channels is None:
            self._hist[:] = 0
            self._pending = np.zeros((self.channels, 0), np.int16)
            self._screened = 0
            rows: slice | list[int] = slice(None)
        else:
            rows = list(channels)
            self._hist[rows] = 0
            self._pending[rows] = 0
        self._marks[rows] = False
        self._active[rows] = -1
        self._press_first[rows] = 0
        self._last_hit[rows] = 0
        self._run_digit[rows] = -1
        self._run_len[rows] = 0
        self._run_first[rows] = 0
        self._run_last[rows] = -10

    def process(self, block: npt.ArrayLike) -> list[DtmfEvent]:
        """Take the next samples, shape ``(channels, n)``; return the presses that ended.

        Samples are int16; other dtypes are rounded and saturated to int16 first.
        """
        x = np.asarray(block)
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(
                f"block must have shape (channels={self.channels}, samples), got {x.shape}"
            )
        # Rows of samples must be contiguous: the windows are strided views of them.
        x = np.ascontiguousarray(to_int16(x))
        data = np.concatenate([self._pending, x], axis=1) if self._pending.shape[1] else x
        n = self.window
        count = data.shape[1] // n
        used = count * n
        self._pending = data[:, used:].copy()
        if count == 0:
            return []
        first = self._screened
        self._screened += count
        marks = np.concatenate([self._marks, self._screen(data, count, first)], axis=1)
        self._marks = marks[:, count:]
        events = self._judge(marks, data[:, :used], first - LOOKAHEAD)
        events += self._end_quiet(2 * (self._screened - LOOKAHEAD) - 1)
        events.sort(key=lambda e: (e.end, e.channel))
        return events

    def flush(self) -> list[DtmfEvent]:
        """End of the streams: judge the windows still waiting, report the presses still
        held as if they ended now, and start afresh."""
        # Silence completes the last partial window, so a press held to the end of the
        # stream is judged up to its last sample.
        events = []
        if self._pending.shape[1]:
            pad = self.window - self._pending.shape[1]
            events = self.process(np.zeros((self.channels, pad), np.int16))
        ahead = np.zeros((self.channels, LOOKAHEAD), bool)
        marks = np.concatenate([self._marks, ahead], axis=1)
        empty = np.zeros((self.channels, 0), np.int16)
        events += self._judge(marks, empty, self._screened - LOOKAHEAD)
        events += [self._end(int(c)) for c in np.flatnonzero(self._active >= 0)]
        events.sort(key=lambda e: (e.end, e.channel))
        self.reset()
        return events

    def _judge(self, marks: npt.NDArray[np.bool_], data: I16, first: int) -> list[DtmfEvent]:
        """Judge the windows from `first` on whose neighbourhoods `marks` now covers, then
        debounce the hits; `data` holds the samples from window `first + LOOKAHEAD` on."""
        count = marks.shape[1] - LOOKAHEAD - GAP
        hist = self._hist
        if data.shape[1] >= self._history:
            self._hist = data[:, data.shape[1] - self._history :].copy()
        elif data.shape[1]:
            self._hist = np.concatenate([hist[:, data.shape[1] :], data], axis=1)
        if not marks.any():  # the usual case: nothing on any line looks like DTMF
            return []
        ch, w, d = self._hits(hist, data, marks, first, count)
        return self._debounce(ch, w, d) if ch.size else []

    # -- per window: which digit, if any ------------------------------------------------
    #
    # Two grids of 102-sample windows. Screening windows follow each other without
    # overlap; screening window s covers samples [102 s, 102 s + 102). Fine windows are
    # 51 samples apart; fine window q covers [51 (q - 1), 51 (q + 1)), so fine window
    # 2 s + 1 is screening window s and fine window 2 s straddles s - 1 and s.
    #
    # Only even screening windows are screened: a press long enough to count (40 ms)
    # always covers one of them whole. A screening window has its fine windows judged in
    # full when a candidate is next to it, or when candidates lie on both sides of it no
    # more than GAP windows away (a dropout inside a press). Within a press every fine
    # window is judged.

    def _screen(self, data: I16, count: int, first: int) -> npt.NDArray[np.bool_]:
        """Candidate marks, shape (channels, count), for the `count` screening windows in
        `data`, the first of which has stream index `first`; odd windows are never marked."""
        nch = self.channels
        n = self.window
        j0 = first % 2  # local index of the first even screening window
        k = (count - j0 + 1) // 2
        marks = np.zeros((nch, count), bool)
        if k == 0:
            return marks
        item = data.itemsize
        screened = as_strided(
            data[:, j0 * n :], shape=(nch, k, n), strides=(data.strides[0], 2 * n * item, item)
        ).astype(np.float32)
        rows = screened.reshape(nch * k, n)
        spec = rows @ self._screen_basis
        energy = np.einsum("ij,ij->i", rows, rows)
        sq = spec * spec
        p = sq[:, :8] + sq[:, 8:]  # tone energies, rows then columns
        top = np.maximum(np.maximum(p[:, 0::4], p[:, 1::4]), np.maximum(p[:, 2::4], p[:, 3::4]))
        pair = top[:, 0] + top[:, 1]
        cand = (np.minimum(top[:, 0], top[:, 1]) >= self._screen_each * energy) & (
            energy >= self._min_energy
        )
        share = pair >= self._screen_share * energy
        # Dial tone under the digits takes a share of the energy: where that may be why
        # the pair falls short, measure it and leave it out.
        short = np.flatnonzero(cand & ~share)
        if short.size and self._dial_basis.shape[1]:
            dial = rows[short] @ self._dial_basis
            rest = energy[short] - np.sum(dial * dial, axis=1) * np.float32(2.0 / n)
            share[short] = pair[short] >= self._screen_share * rest
        cand &= share
        # Each tone must also stand out in its group (less strictly than in the full test,
        # which looks at the same window): speech rarely does, a key press always does.
        maybe = np.flatnonzero(cand)
        if maybe.size:
            group = p[maybe].reshape(-1, 2, 4)
            near = group * self._screen_peak >= top[maybe][:, :, None]  # the top one, at least
            cand[maybe] = np.all(np.count_nonzero(near, axis=2) == 1, axis=1)
        marks[:, j0 : j0 + 2 * k : 2] = cand.reshape(nch, k)
        return marks

    def _hits(
        self, hist: I16, data: I16, marks: npt.NDArray[np.bool_], first: int, count: int
    ) -> tuple[I64, I64, I64]:
        """Channel, fine window index and digit index of every fine window that hits among
        those of screening windows `first` ... `first + count - 1`, in channel order, then
        window order. `marks` holds the candidates of windows `first - GAP` to
        `first + count + LOOKAHEAD`; `hist` the four windows before `data`, which starts at
        window `first + LOOKAHEAD`."""
        nch = self.channels
        n, nf, hop = self.window, self._nf, self.hop
        lo, hi = GAP, GAP + count
        near = marks[:, lo - 1 : hi - 1] | marks[:, lo:hi] | marks[:, lo + 1 : hi + 1]
        before = marks[:, lo - 2 : hi - 2] | marks[:, lo - 1 : hi - 1]
        after = marks[:, lo + 1 : hi + 1] | marks[:, lo + 2 : hi + 2]
        judge = near | (before & after)
        if first < 0:
            judge[:, : min(-first, count)] = False  # before the stream started
        ci, si = np.nonzero(judge)
        if ci.size == 0:
            return ci, si, si
        # Each evaluated screening window s gives fine windows 2 s and 2 s + 1, each with
        # the three fine windows before it (for the phase advance): five fine windows over
        # the six half-windows (51 samples) h = 2 s - 4 ... 2 s + 1, counted here from the
        # start of `data`, the first eight of which are in the history. Fine window j is
        # the sum of half-window j taken as a first half and half-window j + 1 taken as a
        # second half.
        half = 2 * (si - LOOKAHEAD)[:, None] + self._half_offsets  # (m, 6)
        early = half < 0
        item = data.itemsize
        halves_in_data = data.shape[1] // hop
        if halves_in_data:
            by_half = as_strided(
                data,
                shape=(nch, halves_in_data, hop),
                strides=(data.strides[0], hop * item, item),
            )
            rows_new = by_half[ci[:, None], np.maximum(half, 0)]
        else:
            rows_new = np.empty((ci.size, 6, hop), np.int16)
        ei, ej = np.nonzero(early)
        if ei.size:
            rows_new[ei, ej] = hist.reshape(nch, 8, hop)[ci[ei], half[ei, ej] + 8]
        halves = rows_new.reshape(-1, hop).astype(np.float32)
        hspec = (halves @ self._half_basis).reshape(ci.size, 6, 2, 2 * nf)
        henergy = np.einsum("ij,ij->i", halves, halves).reshape(ci.size, 6)
        fspec = hspec[:, :5, 0] + hspec[:, 1:, 1]  # (m, 5, 2 nf)
        fenergy = henergy[:, :5] + henergy[:, 1:]
        # Evaluation e = 2 i + k is fine window 2 s_i + k: fine windows 3 + k (now) back
        # to k of candidate i.
        now_spec = fspec[:, 3:5].reshape(2 * ci.size, 2 * nf)
        now_energy = fenergy[:, 3:5].reshape(-1)
        chan = np.repeat(ci, 2)
        fine_q = (2 * (si + first))[:, None] + np.arange(2)

        sq = now_spec * now_spec
        now = (sq[:, :8] + sq[:, nf : nf + 8]).reshape(-1, 2, 4)  # (evaluation, group, tone)
        best = now.argmax(axis=2)  # (evaluation, group): row, column
        ordered = np.sort(now, axis=2)
        top = ordered[:, :, 3] * np.float32(2.0 / n)
        ok = np.all(top >= self._min_energy, axis=1)
        ok &= np.all(ordered[:, :, 3] >= self._rel_peak * ordered[:, :, 2], axis=1)

        # The other tone of the pair leaks into each detector a little and beats with it,
        # so a single window misjudges both level and phase by up to a dB and a few Hz.
        # Frequency (from the phase advance between windows) and twist are therefore
        # taken over the last four fine windows.
        fr = best + self._group_base  # (evaluation, 2) frequency indices
        cand = np.repeat(np.arange(ci.size), 2)[:, None, None]
        back = np.tile(np.arange(2), ci.size)[:, None, None]
        win = back + self._window_back  # (evaluation, 4, 1): fine windows, newest first
        z = fspec[cand, win, fr[:, None, :]] + 1j * fspec[cand, win, fr[:, None, :] + nf]
        advance = np.sum(z[:, :-1] * np.conj(z[:, 1:]), axis=1)
        level = np.sum(z.real**2 + z.imag**2, axis=1) * (2.0 / n)
        offset = np.angle(advance * self._advance[fr]) * self._hz_per_radian
        ok &= np.all(np.abs(offset) <= self._max_offset[fr], axis=1)
        # A musical note and its overtones stand in simple ratios; a DTMF pair, even with
        # both tones 1.5 % off, stays more than 1 % away from these.
        ratio = (self._nominal[fr[:, 1]] + offset[:, 1]) / (self._nominal[fr[:, 0]] + offset[:, 0])
        ok &= np.all(np.abs(ratio[:, None] / _OVERTONE_RATIOS - 1.0) > 0.005, axis=1)

        # Undo what the window's response costs a tone that is off its nominal frequency,
        # so that a tone 1.5 % off weighs as much as a true one in the ratio and twist.
        x = np.pi * offset / self.fs + 1e-9
        gain = np.maximum((np.sin(n * x) / (n * np.sin(x))) ** 2, 0.1)
        level /= gain
        ok &= level[:, 1] <= self._normal_twist * level[:, 0]
        ok &= level[:, 0] <= self._reverse_twist * level[:, 1]
        dial = np.sum(sq[:, 8:nf] + sq[:, nf + 8 :], axis=1) * (2.0 / n)
        ok &= np.sum(top / gain, axis=1) >= self._ratio * (now_energy - dial)

        sel = np.flatnonzero(ok)
        return chan[sel], fine_q.reshape(-1)[sel], best[sel, 0] * 4 + best[sel, 1]

    # -- per channel: from hits to key presses ------------------------------------------

    def _end(self, ch: int) -> DtmfEvent:
        """Close the press under way on `ch` and describe it."""
        start = max(0, (int(self._press_first[ch]) + 1) * self.hop - self.window)
        end = (int(self._last_hit[ch]) + 1) * self.hop
        event = DtmfEvent(ch, DIGITS[self._active[ch]], start, end)
        self._active[ch] = -1
        return event

    def _debounce(self, ch: I64, w: I64, d: I64) -> list[DtmfEvent]:
        # Hits come in runs: the same digit in consecutive windows. A channel whose hits in
        # this block are a single run, either continuing the press under way or with no
        # press under way, is updated in bulk; that is nearly every channel in every
        # block. The others go run by run through `_run`, which defines the rules.
        new_run = np.r_[True, (ch[1:] != ch[:-1]) | (d[1:] != d[:-1]) | (w[1:] != w[:-1] + 1)]
        runs = np.flatnonzero(new_run)
        ends = np.r_[runs[1:], ch.size]
        c, digit, first, last = ch[runs], d[runs], w[runs], w[ends - 1]
        size = ends - runs
        alone = np.r_[True, c[1:] != c[:-1]] & np.r_[c[1:] != c[:-1], True]
        active = self._active[c]
        idle = alone & (active < 0)
        going = alone & (active == digit) & (first - self._last_hit[c] <= self.min_off)
        bulk = idle | going

        cb, db, fb, lb = c[bulk], digit[bulk], first[bulk], last[bulk]
        extend = (self._run_digit[cb] == db) & (self._run_last[cb] == fb - 1)
        self._run_len[cb] = np.where(extend, self._run_len[cb], 0) + size[bulk]
        self._run_first[cb] = np.where(extend, self._run_first[cb], fb)
        self._run_digit[cb] = db
        self._run_last[cb] = lb
        self._last_hit[cb] = np.where(idle[bulk], self._last_hit[cb], lb)
        begin = idle[bulk] & (self._run_len[cb] >= self.min_on)
        cs = cb[begin]
        self._active[cs] = db[begin]
        self._press_first[cs] = self._run_first[cs]
        self._last_hit[cs] = lb[begin]

        events: list[DtmfEvent] = []
        for r in np.flatnonzero(~bulk).tolist():
            events += self._run(int(c[r]), int(digit[r]), int(first[r]), int(last[r]))
        return events

    def _run(self, ch: int, d: int, first: int, last: int) -> list[DtmfEvent]:
        """Hits of digit `d` on channel `ch` in every window from `first` to `last`.

        The rules: a press starts when `min_on` consecutive windows hit the same digit,
        from the first of them; it ends at its last hit once `min_off` windows in a row
        have not hit its digit, or when another digit has hit `min_on` windows in a row.
        """
        events = []
        active = int(self._active[ch])
        if active >= 0 and first - int(self._last_hit[ch]) > self.min_off:
            events.append(self._end(ch))
            active = -1
        if d == self._run_digit[ch] and first == self._run_last[ch] + 1:
            self._run_len[ch] += last - first + 1
        else:
            self._run_digit[ch] = d
            self._run_len[ch] = last - first + 1
            self._run_first[ch] = first
        self._run_last[ch] = last
        if active == d:
            self._last_hit[ch] = last
        elif self._run_len[ch] >= self.min_on:
            if active >= 0:  # another digit took over without a pause long enough to see
                events.append(self._end(ch))
            self._active[ch] = d
            self._press_first[ch] = self._run_first[ch]
            self._last_hit[ch] = last
        elif active >= 0 and last - int(self._last_hit[ch]) > self.min_off:
            events.append(self._end(ch))
        return events

    def _end_quiet(self, last_window: int) -> list[DtmfEvent]:
        """End the presses that have seen `min_off` windows without their digit."""
        if self._active.max() < 0:
            return []
        quiet = (self._active >= 0) & (last_window - self._last_hit >= self.min_off)
        return [self._end(int(c)) for c in np.flatnonzero(quiet)]


def detect_dtmf(x: npt.ArrayLike, *, fs: float = 8000.0, **options: Any) -> list[DtmfEvent]:
    """Every key press in a whole signal, shape ``(n,)`` or ``(channels, n)``.

    Keyword options are those of :class:`DtmfReceiver`.
    """
    a = np.asarray(x)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"signal must be 1-D or (channels, samples), got shape {a.shape}")
    rx = DtmfReceiver(a.shape[0], fs=fs, **options)
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
    on = round(on_ms * fs / 1000.0)
    off = round(off_ms * fs / 1000.0)
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
