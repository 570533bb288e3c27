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
tones hold half its energy (dial tone aside), each at least 5 %, and each stands out in its
group. A press long enough to count (40 ms) always covers one screened window whole.
Fine windows are judged in full only next to a candidate, or between two candidates close
enough to be one press with a dropout in it. Judgement waits two screening windows for the
candidates around a window to be known.

A key press starts after ``min_on_windows`` consecutive hits of the same digit and ends after
``min_off_windows`` consecutive fine windows without it; a shorter dropout is bridged, so a
press is never split in two, and a 40 ms pause always separates two presses. Digits are
reported when the press ends, with its first and last sample.

What it costs
-------------
Per block the cost is mostly numpy's fixed cost per call, so the work is laid out to need
few calls whatever the number of channels: samples wait in one int16 buffer (no copy of the
history per block); each screened window is turned to float32 and multiplied by the basis
where it lies; the arrays of the tests keep channels on their last axis, so that no
reduction runs over a short axis; a window is judged for all the channels near a candidate
in one pass of about fifty calls; and hits become presses in plain Python over lists, a
fraction of a microsecond each. See "How the DTMF receiver spends its time" in
docs/architecture.md for the figures.

References: ITU-T Q.23 (frequencies), Q.24 (reception), ETSI ES 201 235-3.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import as_strided

from boardcc.dsp.levels import sine_amplitude, sine_power
from boardcc.dsp.signals import to_int16

#: Candidate marks of one period, by channel; None when no channel has one.
Marks = list[npt.NDArray[np.bool_] | None]

ROW_FREQS = (697.0, 770.0, 852.0, 941.0)
COL_FREQS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")
DIGITS = "".join(KEYPAD)

# Frequency ratios of a note's overtones that a column/row pair could otherwise imitate.
_OVERTONE_RATIOS = np.array([3 / 2, 5 / 3, 2.0, 5 / 2])


#: without a candidate (a dropout) inside a press that is still judged in full.

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


#: Samples are held in a buffer of this many periods (two screening windows each) beyond a
#: batch, small enough to stay in cache at 20 ms blocks; the oldest still needed move back
#: to its start when it fills. It grows to take a longer block whole, up to the most.
BUFFER_PERIODS = 8
MOST_BUFFER_PERIODS = 48
#: Steps of the table of window gains over a phase error of 0 to pi per hop.
GAIN_STEPS = 16384
#: Above this many hits in one pass, runs of hits are found with numpy first.
RUNS_FROM = 256


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
    batch_ms : float
        Audio gathered before it is analysed, in ms (keyword only). By default a block is
        analysed as soon as it completes a 25.5 ms period (two 102-sample windows). A
        batch of several periods shares numpy's fixed cost per call across them, at the
        price of reporting digits, and showing them in `pressed`, up to `batch_ms` later.
        The events themselves are the same.
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
        batch_ms: float = 0.0,
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
        if not 0.0 <= batch_ms <= 1000.0:
            raise ValueError(f"batch_ms must be in [0, 1000], got {batch_ms}")
        self.channels = channels = int(channels)
        self.fs = float(fs)
        self.hop = hop = round(51 * fs / 8000.0)
        self.window = n = 2 * hop
        self._period = 2 * n
        self.min_on = min_on_windows
        self.min_off = min_off_windows
        self.batch_ms = float(batch_ms)
        self._batch = max(1, math.ceil(batch_ms * fs / 1000.0 / self._period - 1e-9))
        freqs = np.array([*ROW_FREQS, *COL_FREQS, *dial_tone_hz])
        self._nf = nf = freqs.size
        phase = 2.0 * np.pi * freqs[None, :] * (np.arange(n)[:, None] / fs)
        cos, sin = np.cos(phase), -np.sin(phase)
        # Screening: cosines, then sines, of the DTMF frequencies (16 columns, which BLAS
        # multiplies a quarter faster than 18); dial tone apart, only for the windows whose
        # tones stand out, scaled so that its squares add up to the dial tone's energy.
        # Kept as rows (16, n): the product comes out with windows on its last axis.
        self._screen_basis = np.vstack([cos[:, :8].T, sin[:, :8].T]).astype(np.float32)
        dial = np.sqrt(2.0 / n) * np.hstack([cos[:, 8:], sin[:, 8:]])
        self._dial_basis = dial.astype(np.float32)
        self._dial_ones = np.ones(dial.shape[1], np.float32)
        # Judging: cosine and sine of each frequency side by side, so that the product
        # reads as one complex64 spectrum per window.
        self._fine_basis = np.stack([cos, sin], axis=2).reshape(n, 2 * nf).astype(np.float32)
        # Phase a tone at exactly the nominal frequency advances by between two fine
        # windows; the spectra of the seven windows judged together are turned back by
        # it, so that what is left between two windows is the tone's frequency error.
        advance = np.exp(-2j * np.pi * freqs * hop / fs)
        self._unturn = (advance[:, None] ** np.arange(7)).astype(np.complex64)[:, :, None]

        # Powers below are |X|^2 of a window's spectrum: a sine of mean square P gives
        # P n / 2 at its frequency, and P n of energy.
        # Screening: a screening window is a candidate when its strongest row and column
        # tones together hold half its energy and each at least 5 %. Any key press long
        # enough to count covers a whole screening window that the full test accepts, and
        # there the pair holds 0.6 or more even 1.5 % off, with 4 dB of twist, at 9 dB S/N
        # (the full test asks 0.75 once the frequency error is undone); the windows around
        # it are reached through the candidate's neighbours (see `_judge`). Not less than
        # half: speech passes 0.45 twice as often, and a period with any candidate on the
        # board is judged.
        self._screen_near = np.float32(10.0 ** (-(relative_peak_db - 1.0) / 10.0))
        self._near = np.float32(10.0 ** (-relative_peak_db / 10.0))
        # Per tone: nominal frequency, largest accepted phase error per hop (radians).
        radians_per_hz = 2.0 * np.pi * hop / fs
        self._nominal = freqs[:8]
        self._tolerance = freq_tolerance * freqs[:8] * radians_per_hz
        self._hz_per_radian = 1.0 / radians_per_hz
        # Window gain of a tone whose phase drifts by a per hop from its nominal frequency's
        # (a / hop radians per sample): (sin a / (n sin(a / n)))^2, tabulated as its
        # inverse, at most 10.
        a = np.linspace(0.0, np.pi, GAIN_STEPS + 1) + 1e-9
        gain = (np.sin(a) / (n * np.sin(a / n))) ** 2
        self._inverse_gain = (1.0 / np.maximum(gain, 0.1)).astype(np.float32)
        self._gain_step = np.float32(GAIN_STEPS / np.pi)
        ratio = energy_ratio * n / 2.0
        # The tests that are linear in a window's figures, each a row of weights that must
        # reach a bound, so that one matrix product tests them all.
        # Screening, on (row tone, column tone, energy, dial tone energy): each tone at
        # least 5 % of the energy, the energy over the least level, the two tones half of
        # the energy once dial tone is left out.
        each, share = 0.05 * n / 2.0, 0.5 * n / 2.0
        self._screen_tests = np.array(
            [[1, 0, -each, 0], [0, 1, -each, 0], [0, 0, 1, 0], [1, 1, -share, share]],
            np.float32,
        )
        self._screen_bounds = np.array(
            [[0], [0], [sine_power(min_level_dbm0) * n], [0]], np.float32
        )
        # Full test, on (row and column power, both after undoing the frequency error,
        # both levels over four windows likewise, energy, dial tone power): each tone at
        # least the least level; twist, the row level times the first, and the column level
        # times the second, must reach the other; the two tones hold `energy_ratio` of the
        # energy once dial tone is left out.
        normal, reverse = 10.0 ** (normal_twist_db / 10.0), 10.0 ** (reverse_twist_db / 10.0)
        self._full_tests = np.array(
            [
                [1, 0, 0, 0, 0, 0, 0, 0],
                [0, 1, 0, 0, 0, 0, 0, 0],
                [0, 0, 0, 0, normal, -1, 0, 0],
                [0, 0, 0, 0, -1, reverse, 0, 0],
                [0, 0, 1, 1, 0, 0, -ratio, energy_ratio],
            ],
            np.float32,
        )
        min_power = sine_power(min_level_dbm0) * n * n / 2.0
        self._full_bounds = np.array([[min_power], [min_power], [0], [0], [0]], np.float32)
        # Overtone ratios, each widened by 0.5 % either way: a ratio that falls between
        # the edges of an interval (an odd number of edges below it) is too close.
        self._overtone_edges = np.sort(
            np.concatenate([_OVERTONE_RATIOS * 0.995, _OVERTONE_RATIOS * 1.005])
        )

        self._allocate(BUFFER_PERIODS + self._batch)
        self._no_marks = np.zeros((1, channels), bool)
        self._seven = np.arange(7)[:, None]
        # Of the seven fine windows judged together, the four behind evaluation e
        # (fine window 4 j + e), oldest first: (1, window, evaluation, 1).
        self._back = (np.arange(4)[:, None] + np.arange(4))[None, :, :, None]
        self._group_base = np.array([0, 4])[:, None, None]
        self._offset_cache: dict[int, npt.NDArray[np.intp]] = {}
        self._no_pairs = np.zeros(0, np.intp)
        self._ones = np.ones(n, np.float32)  # sums of squares as matrix products
        self._restart()
        # Per-channel press state, as Python lists (touched one hit at a time): the
        # press under way (digit or -1, first window, last window that hit), and the run
        # of identical hits in consecutive windows that may start the next one.
        self._active = [-1] * channels
        self._press_first = [0] * channels
        self._last_hit = [0] * channels
        self._run_digit = [-1] * channels
        self._run_first = [0] * channels
        self._run_last = [-10] * channels
        self._holding: set[int] = set()  # channels with a press under way

    def _allocate(self, periods: int) -> None:
        """A buffer of `periods` periods for the samples, empty."""
        # Samples as they came, channel by channel; buffer column i holds stream sample
        # `_origin + i`. The stream starts `_period` samples in, after silence, so that the
        # first windows judged see zeros before it. One period to spare at the end lets
        # the screening windows of the last periods be read as whole periods.
        n, hop = self.window, self.hop
        self._capacity = periods * self._period
        self._buf = np.zeros((self.channels, self._capacity + self._period), np.int16)
        # Fine window v of this view starts at buffer column v * hop.
        item = self._buf.itemsize
        self._fine_view = as_strided(
            self._buf,
            shape=(self.channels, (self._buf.shape[1] - n) // hop + 1, n),
            strides=(self._buf.strides[0], hop * item, item),
            writeable=False,
        )

    def _restart(self) -> None:
        """Start the streams again at sample 0."""
        self._buf[:, : self._period] = 0
        self._origin = -self._period
        self._end = 0  # samples received
        self._screened = 0  # periods screened
        self._judged = 0  # periods judged
        # Candidate marks of periods `_judged - 1` to `_screened - 1`, each None when no
        # channel has one.
        self._marks: Marks = [None]

    @property
    def pressed(self) -> dict[int, str]:
        """Digits held down right now, by channel (a press that has started, not ended)."""
        return {ch: DIGITS[self._active[ch]] for ch in sorted(self._holding)}

    def reset(self, channels: Sequence[int] | None = None) -> None:
        """Forget everything about `channels` (all by default), as if their streams started
        again; a press under way there is dropped without an event. The other channels
        carry on undisturbed, so a line that hangs up can be reset mid-stream."""
        if channels is None:
            self._restart()
            rows = list(range(self.channels))
        else:
            rows = [int(c) for c in channels]
            self._buf[rows] = 0
            for marks in self._marks:
                if marks is not None:
                    marks[rows] = False
        for c in rows:
            self._active[c] = -1
            self._press_first[c] = 0
            self._last_hit[c] = 0
            self._run_digit[c] = -1
            self._run_first[c] = 0
            self._run_last[c] = -10
            self._holding.discard(c)

    def process(self, block: npt.ArrayLike) -> list[DtmfEvent]:
        """Take the next samples, shape ``(channels, n)``; return the presses that ended.

        Samples are int16; other dtypes are rounded and saturated to int16 first.
        """
        x = np.asarray(block)
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(
                f"block must have shape (channels={self.channels}, samples), got {x.shape}"
            )
        if x.dtype != np.int16:
            x = to_int16(x)
        events: list[DtmfEvent] = []
        done, total = 0, x.shape[1]
        while done < total:
            at = self._end - self._origin
            if at + total - done > self._capacity:
                at = self._make_room(total - done)
            take = min(self._capacity - at, total - done)
            self._buf[:, at : at + take] = x[:, done : done + take]
            self._end += take
            done += take
            events += self._analyse()
        if len(events) > 1:
            events.sort(key=lambda e: (e.end, e.channel))
        return events

    def _make_room(self, wanted: int) -> int:
        """Move the samples still needed (from the first fine window of the first period
        not judged) to the start of the buffer, in a larger one if `wanted` more would not
        fit and the buffer may grow; return where the next sample goes."""
        keep = (self._judged - 1) * self._period - self._origin
        held = self._end - self._origin - keep
        periods = -(-(held + wanted) // self._period)
        most = MOST_BUFFER_PERIODS + self._batch
        old = self._buf
        if periods > self._capacity // self._period and self._capacity < most * self._period:
            self._allocate(min(periods, most))
        self._buf[:, :held] = old[:, keep : keep + held]
        self._origin += keep
        return held

    def flush(self) -> list[DtmfEvent]:
        """End of the streams: judge the windows still waiting, report the presses still
        held as if they ended now, and start afresh."""
        # Silence completes the last partial window, so a press held to the end of the
        # stream is judged up to its last sample.
        events = []
        partial = self._end % self.window
        if partial:
            events = self.process(np.zeros((self.channels, self.window - partial), np.int16))
        events += self._analyse(force=True)
        if self._screened > self._judged:
            # The last period screened, as if none followed; its second window only if
            # the stream covers it.
            last_fine = 2 * (self._end // self.window) - 1
            events += self._judge([*self._marks, None], last_fine)
        events += [self._end_press(c) for c in sorted(self._holding)]
        events.sort(key=lambda e: (e.end, e.channel))
        self.reset()
        return events

    def _analyse(self, force: bool = False) -> list[DtmfEvent]:
        """Screen the periods whose screening window is now whole, and judge those whose
        next period is screened; unless `force`, only once a batch is waiting."""
        screened = max(0, (self._end - self.window) // self._period + 1)
        if screened - self._screened < (1 if force else self._batch):
            return []
        self._marks += self._screen(self._screened, screened - self._screened)
        self._screened = screened
        if screened - 1 <= self._judged:
            return []
        events = self._judge(self._marks, None)
        self._marks = self._marks[-2:]
        self._judged = screened - 1
        if self._holding:
            events += self._end_quiet(4 * self._judged - 1)
        return events

    # -- per window: which digit, if any ------------------------------------------------
    #
    # Two grids of 102-sample windows. Screening windows follow each other without
    # overlap; screening window s covers samples [102 s, 102 s + 102). Fine windows are
    # 51 samples apart; fine window q covers [51 (q - 1), 51 (q + 1)), so fine window
    # 2 s + 1 is screening window s and fine window 2 s straddles s - 1 and s.
    #
    # Only even screening windows are screened: a press long enough to count (40 ms)
    # always covers one of them whole. Screening windows 2 j and 2 j + 1 make period j.
    # A screening window has its fine windows judged in full when a candidate is next to
    # it, or when candidates lie on both sides of it no more than two windows away (a
    # dropout inside a press): in periods, window 2 j + 1 when period j or j + 1 has a
    # candidate, window 2 j when period j has one or both j - 1 and j + 1 do. Period j is
    # judged once period j + 1 is screened.

    def _screen(self, first: int, count: int) -> Marks:
        """Candidate marks (channels,) of periods `first` ... `first + count - 1`, None for
        a period where no channel has one."""
        nch, n, period = self.channels, self.window, self._period
        a = first * period - self._origin
        # The screening windows, channel by channel: (channels * count, window).
        windows = self._buf[:, a : a + count * period].reshape(nch, count, period)[:, :, :n]
        flat = windows.astype(np.float32).reshape(nch * count, n)
        sq = self._screen_basis @ flat.T  # (columns, windows)
        np.square(sq, out=sq)
        p = (sq[:8] + sq[8:16]).reshape(2, 4, -1)  # tone powers: group, tone, window
        top = p.max(axis=1)
        # Each tone must stand out in its group (less strictly than in the full test,
        # which looks at the same window): speech rarely does, a key press always does.
        # The top tone is always near itself, so both stand out when two are near in all.
        near = p >= top[:, None] * self._screen_near
        maybe = (near.sum(axis=(0, 1)) == 2).nonzero()[0]
        marks: Marks = [None] * count
        if maybe.size == 0:
            return marks
        # The linear tests on (row tone, column tone, energy, dial tone energy): dial tone
        # under the digits takes a share of the energy, which is left out.
        figures = np.empty((4, maybe.size), np.float32)
        top.take(maybe, axis=1, out=figures[:2])
        rows = flat.take(maybe, axis=0)
        np.matmul(np.square(rows), self._ones, out=figures[2])
        dial = rows @ self._dial_basis
        np.matmul(np.square(dial), self._dial_ones, out=figures[3])
        ok = (self._screen_tests @ figures >= self._screen_bounds).all(axis=0)
        found = maybe.compress(ok)
        if found.size == 0:
            return marks
        mark = np.zeros((nch, count), bool)
        mark.ravel()[found] = True
        if count == 1:
            return [mark[:, 0]]
        for j in set((found % count).tolist()):
            marks[j] = mark[:, j]
        return marks

    def _judge(self, marks: Marks, last_fine: int | None) -> list[DtmfEvent]:
        """Judge the periods from `_judged` on, given `marks` from the period before them
        to the one after; fine windows after `last_fine` are left out."""
        if all(m is None for m in marks):  # the usual case: nothing looks like DTMF
            return []
        n = self.window
        first_window = self._judged - self._origin // self._period  # in periods of _buf
        if len(marks) == 3:
            # One period (the usual case at short blocks): no stacking, and the window
            # starts are plain numbers.
            ci, early = self._pairs(*marks)
            m = ci.size
            periods: int | npt.NDArray[np.intp] = self._judged  # the same for all pairs
            starts = self._seven + (4 * first_window - 4)
        else:
            none = self._no_marks
            stacked = np.stack([none[0] if m is None else m for m in marks])
            before, now, after = stacked[:-2], stacked[1:-1], stacked[2:]
            later = now | after  # (periods, channels): second window judged
            earlier = now | (before & after)  # first window judged
            ci, pi = later.T.nonzero()  # channel by channel, periods in order
            m = ci.size
            periods = self._judged + pi
            early = earlier[pi, ci]
            starts = 4 * (pi + first_window) - 4 + self._seven
        if m == 0:
            return []
        # The seven fine windows 4 j - 3 ... 4 j + 3 of period j: the four evaluated
        # (4 j ... 4 j + 3) and the three before them, each evaluation taking the three
        # before it for the phase advance.
        rows = self._fine_view[ci, starts].astype(np.float32)  # (7, pairs, n)
        spec = rows.reshape(7 * m, n) @ self._fine_basis
        z = np.ascontiguousarray(spec.view(np.complex64).T).reshape(self._nf, 7, m)
        power = np.abs(z)
        np.square(power, out=power)
        # The figures of the linear tests, each (evaluation, pair): row and column tone
        # power, the same after undoing the frequency error, their levels over the last
        # four windows likewise, the energy, the dial tone power.
        figures = np.empty((8, 4, m), np.float32)
        now_rows = rows[3:].reshape(4 * m, n)
        np.matmul(np.square(now_rows), self._ones, out=figures[6].reshape(4 * m))
        power[8:, 3:].sum(axis=0, out=figures[7])

        # Checks, each (evaluation, pair); an evaluation hits when all hold: 0-4 the linear
        # tests, 5 each tone stands out, 6 the window is judged, 7-8 frequency, 9 overtones.
        checks = np.empty((10, 4, m), bool)
        tones = power[:8, 3:].reshape(2, 4, 4, m)  # group, tone, evaluation, pair
        top = tones.max(axis=1, out=figures[0:2])
        near = tones >= top[:, None] * self._near
        np.equal(near.sum(axis=(0, 1)), 2, out=checks[5])
        checks[6] = True
        if early is not True:
            checks[6, :2] = early  # an array, or False
        if last_fine is not None:
            checks[6] &= 4 * periods + np.arange(4)[:, None] <= last_fine

        # The other tone of the pair leaks into each detector a little and beats with it,
        # so a single window misjudges both level and phase by up to a dB and a few Hz.
        # Frequency (from the phase advance between windows) and twist are therefore
        # taken over the last four fine windows.
        best = tones.argmax(axis=1)  # (group, evaluation, pair)
        tone = best + self._group_base
        z *= self._unturn
        # Flat positions in (frequency, window, pair) arrays: group, window, evaluation, pair.
        at = tone[:, None] * (7 * m) + self._offsets(m)
        zs = z.ravel()[at]
        turn = (zs[:, 1:] * zs[:, :-1].conj()).sum(axis=1)
        angle = np.arctan2(turn.imag, turn.real)  # phase error per hop, radians
        error = np.abs(angle)
        np.less_equal(error, self._tolerance[tone], out=checks[7:9])
        # A musical note and its overtones stand in simple ratios; a DTMF pair, even with
        # both tones 1.5 % off, stays more than 1 % away from these.
        f = self._nominal[tone] + angle * self._hz_per_radian
        below = self._overtone_edges.searchsorted(f[1] / f[0])
        np.equal(below & 1, 0, out=checks[9])
        # Undo what the window's response costs a tone that is off its nominal frequency,
        # so that a tone 1.5 % off weighs as much as a true one in the ratio and twist.
        lift = self._inverse_gain[(error * self._gain_step).astype(np.intp)]
        np.multiply(top, lift, out=figures[2:4])
        np.multiply(power.ravel()[at].sum(axis=1), lift, out=figures[4:6])
        tested = self._full_tests @ figures.reshape(8, 4 * m)
        np.greater_equal(tested, self._full_bounds, out=checks[:5].reshape(5, 4 * m))

        p, e = np.logical_and.reduce(checks, axis=0).T.nonzero()
        if p.size == 0:
            return []
        digit = (best[0] * 4 + best[1])[e, p]
        # Hits in channel order, then window order.
        window = 4 * (periods if isinstance(periods, int) else periods[p]) + e
        channel = ci[p]
        if p.size <= RUNS_FROM:
            q = window.tolist()
            return self._debounce(channel.tolist(), digit.tolist(), q, q)
        # Many hits (long blocks): consecutive windows of a channel hitting the same digit
        # are taken as one run, so that the loop below turns once per run.
        new = np.empty(p.size, bool)
        new[0] = True
        np.not_equal(channel[1:], channel[:-1], out=new[1:])
        new[1:] |= digit[1:] != digit[:-1]
        new[1:] |= window[1:] != window[:-1] + 1
        first = new.nonzero()[0]
        last = np.append(first[1:] - 1, p.size - 1)
        return self._debounce(
            channel[first].tolist(),
            digit[first].tolist(),
            window[first].tolist(),
            window[last].tolist(),
        )

    def _pairs(
        self,
        before: npt.NDArray[np.bool_] | None,
        now: npt.NDArray[np.bool_] | None,
        after: npt.NDArray[np.bool_] | None,
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_] | bool]:
        """For one period judged between `before` and `after`: the channels whose second
        window is judged (a candidate now or next), and whether their first is (a
        candidate now, or on both sides); True when it is for all."""
        if now is None:
            later = after
            earlier = None if before is None or after is None else before & after
        else:
            later = now if after is None else now | after
            earlier = now if before is None or after is None else now | (before & after)
        if later is None:  # only the period before has candidates
            return self._no_pairs, False
        ci = later.nonzero()[0]
        if earlier is later:
            return ci, True
        if earlier is None:
            return ci, False
        return ci, earlier[ci]

    def _offsets(self, m: int) -> npt.NDArray[np.intp]:
        """Flat offsets in a (frequency, window, pair) array of `m` pairs of the four
        windows behind each evaluation: (1, window, evaluation, pair), cached by `m`."""
        offsets = self._offset_cache.get(m)
        if offsets is None:
            offsets = self._back * m + np.arange(m)
            self._offset_cache[m] = offsets
        return offsets

    # -- per channel: from hits to key presses ------------------------------------------

    def _end_press(self, ch: int) -> DtmfEvent:
        """Close the press under way on `ch` and describe it."""
        start = max(0, (self._press_first[ch] + 1) * self.hop - self.window)
        end = (self._last_hit[ch] + 1) * self.hop
        event = DtmfEvent(ch, DIGITS[self._active[ch]], start, end)
        self._active[ch] = -1
        self._holding.discard(ch)
        return event

    def _debounce(
        self, channel: list[int], digit: list[int], first: list[int], last: list[int]
    ) -> list[DtmfEvent]:
        """Take runs of hits one by one, in channel order and then window order: run i is
        of digit `digit[i]` on channel `channel[i]` in every fine window from `first[i]` to
        `last[i]` (a run may be a single hit).

        The rules: a press starts when `min_on` consecutive windows hit the same digit,
        from the first of them; it ends at its last hit once `min_off` windows in a row
        have not hit its digit, or when another digit has hit `min_on` windows in a row.
        Hits of the digit of the press under way leave the run alone: it only matters
        to start a press, and any other hit after them starts a new one anyway. Taking a
        run whole gives the events that taking its hits one by one gives: a press may end
        a run later (a run of another digit that does not start a press leaves it be, and
        the next run ends it), but with the same last hit, within the same call.
        """
        events = []
        active, last_hit = self._active, self._last_hit
        run_digit, run_first, run_last = self._run_digit, self._run_first, self._run_last
        # A run this many windows past its first has hit `min_on` windows.
        reach, min_off = self.min_on - 1, self.min_off
        for ch, d, q0, q1 in zip(channel, digit, first, last, strict=True):
            a = active[ch]
            if a >= 0 and q0 - last_hit[ch] > min_off:
                events.append(self._end_press(ch))
                a = -1
            if a == d:  # the press goes on
                last_hit[ch] = q1
                continue
            if run_digit[ch] != d or run_last[ch] != q0 - 1:
                run_digit[ch] = d
                run_first[ch] = q0
            run_last[ch] = q1
            if q1 - run_first[ch] >= reach:
                if a >= 0:  # another digit took over without a pause long enough to see
                    events.append(self._end_press(ch))
                active[ch] = d
                self._press_first[ch] = run_first[ch]
                last_hit[ch] = q1
                self._holding.add(ch)
        return events

    def _end_quiet(self, last_window: int) -> list[DtmfEvent]:
        """End the presses that have seen `min_off` windows without their digit."""
        last, last_hit = last_window - self.min_off, self._last_hit
        quiet = [c for c in self._holding if last_hit[c] <= last]
        return [self._end_press(c) for c in sorted(quiet)]


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
