"""DTMF receiver conformance (boardcc.dsp.dtmf, SPEC D1), after ITU-T Q.24 and Mitel's tests.

The tone pairs come from `_pair`, written here from the ITU-T Q.23 frequencies and the dBm0
scale of `boardcc.dsp.levels`, not from `dtmf_tones` (which is checked on its own against a
direct DFT), so that a fault in the generator cannot hide one in the receiver. Every test has
a seeded generator of its own and draws random phases and random start offsets against the
receiver's 51-sample window grid. The receiver is batched across channels, so each test puts
its cases on separate channels of one or a few receiver calls.

Figures measured rather than required (weakest level decoded, lowest S/N, talk-off per hour,
timing errors) are printed: run with ``-s`` to see them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from boardcc.dsp.dtmf import DtmfEvent, DtmfReceiver, detect_dtmf, dtmf_tones
from boardcc.dsp.levels import level_dbm0, sine_amplitude, sine_power
from boardcc.dsp.signals import add_noise, to_int16
from tests.corpus import FS as CORPUS_FS
from tests.corpus import corpus_hours, talkoff_corpus

FS = 8000
MS = FS // 1000
#: Largest error allowed on a press's start and end (the issue: +-10 ms).
TIMING = 10 * MS
F64 = npt.NDArray[np.float64]

#: ITU-T Q.23: low (row) and high (column) group frequencies, the keypad, and each key's
#: (row, column) pair.
ROWS_HZ = (697.0, 770.0, 852.0, 941.0)
COLS_HZ = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
DIGITS = "".join(KEYS)
FREQS = {k: (ROWS_HZ[r], COLS_HZ[c]) for r, row in enumerate(KEYS) for c, k in enumerate(row)}
#: A press as sent: digit, first sample, sample after the last.
Truth = tuple[str, int, int]


@dataclass(frozen=True)
class Press:
    """One key press as sent: tone length, the silence after it, levels, frequency errors."""

    digit: str
    on_ms: float
    off_ms: float = 50.0
    row_dbm0: float = -10.0
    col_dbm0: float = -10.0
    row_error: float = 0.0
    col_error: float = 0.0


def _pair(
    row_hz: float,
    col_hz: float,
    ms: float,
    row_dbm0: float,
    col_dbm0: float,
    rng: np.random.Generator,
) -> F64:
    """Two sines at their levels in dBm0, each with a random phase, `ms` long (float64)."""
    t = np.arange(round(ms * MS)) / FS
    phase = rng.uniform(0.0, 2.0 * np.pi, size=2)
    row = sine_amplitude(row_dbm0) * np.sin(2 * np.pi * row_hz * t + phase[0])
    col = sine_amplitude(col_dbm0) * np.sin(2 * np.pi * col_hz * t + phase[1])
    return np.asarray(row + col, dtype=np.float64)


def _tone(p: Press, rng: np.random.Generator) -> F64:
    row, col = FREQS[p.digit]
    return _pair(
        row * (1 + p.row_error), col * (1 + p.col_error), p.on_ms, p.row_dbm0, p.col_dbm0, rng
    )


def _channel(presses: Sequence[Press], rng: np.random.Generator) -> tuple[F64, list[Truth]]:
    """Presses one after the other after 20 ms plus a random 0-101 samples of silence."""
    pos = 20 * MS + int(rng.integers(0, 102))
    pieces: list[F64] = [np.zeros(pos)]
    truth: list[Truth] = []
    for p in presses:
        tone = _tone(p, rng)
        off = np.zeros(round(p.off_ms * MS))
        truth.append((p.digit, pos, pos + tone.shape[0]))
        pieces += [tone, off]
        pos += tone.shape[0] + off.shape[0]
    return np.concatenate(pieces), truth


def _stack(signals: Sequence[F64], tail_ms: float = 100.0) -> F64:
    """Channels padded with silence to a common length plus `tail_ms`."""
    n = max(s.shape[0] for s in signals) + round(tail_ms * MS)
    out = np.zeros((len(signals), n))
    for i, s in enumerate(signals):
        out[i, : s.shape[0]] = s
    return out


def _by_channel(events: Sequence[DtmfEvent], channels: int) -> list[list[DtmfEvent]]:
    out: list[list[DtmfEvent]] = [[] for _ in range(channels)]
    for e in events:
        out[e.channel].append(e)
    return out


def _decode(x: npt.ArrayLike, **options: float) -> list[list[DtmfEvent]]:
    a = np.asarray(x)
    return _by_channel(detect_dtmf(to_int16(a), **options), a.shape[0])


@dataclass
class Report:
    """What `_compare` found: a line per channel that went wrong, and the timing errors
    (samples, event minus truth) of the presses that were right."""

    problems: list[str]
    start_errors: list[int]
    end_errors: list[int]

    def describe(self, limit: int = 12) -> str:
        more = len(self.problems) - limit
        lines = self.problems[:limit] + ([f"... and {more} more"] if more > 0 else [])
        return f"{len(self.problems)} channel(s) wrong:\n" + "\n".join(lines)


def _compare(
    found: Sequence[Sequence[DtmfEvent]],
    truths: Sequence[Sequence[Truth]],
    labels: Sequence[str],
    tolerance: int = TIMING,
) -> Report:
    """Each channel must give exactly its presses: same digits, one event per press, start
    and end within `tolerance` samples."""
    report = Report([], [], [])
    for ch, (events, truth, label) in enumerate(zip(found, truths, labels, strict=True)):
        got = [(e.digit, e.start, e.end) for e in events]
        ok = len(got) == len(truth) and all(
            g[0] == t[0] and abs(g[1] - t[1]) <= tolerance and abs(g[2] - t[2]) <= tolerance
            for g, t in zip(got, truth, strict=True)
        )
        if ok:
            report.start_errors += [g[1] - t[1] for g, t in zip(got, truth, strict=True)]
            report.end_errors += [g[2] - t[2] for g, t in zip(got, truth, strict=True)]
        else:
            report.problems.append(f"channel {ch} ({label}): sent {truth}, got {got}")
    return report


def _run(
    cases: Sequence[tuple[str, Sequence[Press]]], rng: np.random.Generator, **options: float
) -> Report:
    """Each case (label, presses) on a channel of its own, through one receiver."""
    built = [_channel(presses, rng) for _, presses in cases]
    found = _decode(_stack([s for s, _ in built]), **options)
    return _compare(found, [t for _, t in built], [label for label, _ in cases])


def _silent_channels(
    cases: Sequence[tuple[str, Sequence[Press]]], rng: np.random.Generator
) -> list[str]:
    """The labels of the cases that gave any event at all, with what they gave."""
    built = [_channel(presses, rng) for _, presses in cases]
    found = _decode(_stack([s for s, _ in built]))
    return [
        f"{label}: {[(e.digit, e.start, e.end) for e in events]}"
        for (label, _), events in zip(cases, found, strict=True)
        if events
    ]


# -- the test signal itself ------------------------------------------------------------------------


def test_pair_has_the_levels_and_frequencies_asked_for() -> None:
    rng = np.random.default_rng(1001)
    x = _pair(697.0, 1633.0, 1000.0, -10.0, -16.0, rng)
    assert level_dbm0(x) == pytest.approx(10 * np.log10(10**-1.0 + 10**-1.6), abs=0.02)
    spectrum = np.abs(np.fft.rfft(x)) * 2 / x.shape[0]  # 1 Hz bins over one second
    assert sorted(np.argsort(spectrum)[-2:].tolist()) == [697, 1633]
    assert spectrum[697] == pytest.approx(sine_amplitude(-10.0), rel=1e-6)
    assert spectrum[1633] == pytest.approx(sine_amplitude(-16.0), rel=1e-6)


# -- levels ----------------------------------------------------------------------------------------

LEVELS_DBM0 = [*range(-3, -36, -3), -36]


def test_every_digit_at_every_level_from_minus_3_to_minus_36_dbm0() -> None:
    rng = np.random.default_rng(1101)
    cases = [
        (f"{d} at {lv} dBm0", [Press(d, 50, 50, lv, lv)] * 3) for lv in LEVELS_DBM0 for d in DIGITS
    ]
    report = _run(cases, rng)
    assert not report.problems, report.describe()
    starts, ends = np.array(report.start_errors), np.array(report.end_errors)
    print(
        f"\nDTMF timing errors over {starts.size} presses (-3..-36 dBm0, 50/50 ms): "
        f"start {starts.min() / MS:+.1f}..{starts.max() / MS:+.1f} ms, "
        f"end {ends.min() / MS:+.1f}..{ends.max() / MS:+.1f} ms"
    )


def test_weakest_level_decoded_is_reported() -> None:
    rng = np.random.default_rng(1102)
    weakest = None
    for lv in range(-36, -56, -1):
        cases = [(f"{d} at {lv} dBm0", [Press(d, 50, 50, lv, lv)] * 3) for d in DIGITS]
        if _run(cases, rng).problems:
            break
        weakest = lv
    print(f"\nDTMF weakest level with every digit decoded (50/50 ms, 1 dB steps): {weakest} dBm0")
    assert weakest is not None


# -- frequency tolerance ---------------------------------------------------------------------------


def test_tones_up_to_1_5_percent_off_are_accepted() -> None:
    rng = np.random.default_rng(1201)
    errors = (-0.015, -0.0075, 0.0, 0.0075, 0.015)
    cases = [
        (
            f"{d} at {lv} dBm0, row {er:+.2%}, col {ec:+.2%}",
            [Press(d, 50, 50, lv, lv, er, ec)] * 2,
        )
        for lv in (-10, -25, -33)
        for er in errors
        for ec in errors
        for d in DIGITS
    ]
    report = _run(cases, rng)
    assert not report.problems, report.describe()


@pytest.mark.parametrize("group", ["row", "col"])
def test_a_tone_3_5_percent_or_more_off_is_rejected(group: str) -> None:
    rng = np.random.default_rng(1202 if group == "row" else 1203)
    cases = []
    for lv in (-10, -25, -33):
        for err in (-0.05, -0.04, -0.035, 0.035, 0.04, 0.05):
            er, ec = (err, 0.0) if group == "row" else (0.0, err)
            for d in DIGITS:
                presses = [Press(d, 50, 50, lv, lv, er, ec), Press(d, 150, 50, lv, lv, er, ec)]
                cases.append((f"{d} at {lv} dBm0, {group} {err:+.1%}", presses))
    wrong = _silent_channels(cases, rng)
    assert not wrong, f"{len(wrong)} off-frequency pairs taken for digits:\n" + "\n".join(
        wrong[:12]
    )


# -- twist -----------------------------------------------------------------------------------------


def _twisted(digit: str, strong_dbm0: float, twist_db: float, on_ms: float) -> Press:
    """`twist_db` is the column level minus the row level; the stronger tone is at
    `strong_dbm0`."""
    if twist_db <= 0:
        return Press(digit, on_ms, 50, strong_dbm0, strong_dbm0 + twist_db)
    return Press(digit, on_ms, 50, strong_dbm0 - twist_db, strong_dbm0)


# Digit 0 is 941 + 1336 Hz. 941 Hz is 3.4 bins of the 102-sample window from 1209 Hz, where
# its sidelobe (-22 dB) adds to 1336 Hz's own leakage (-14 dB): with the column 8 dB weaker,
# the 1209 Hz detector comes within 8 dB of the 1336 Hz one in about a window in six, which
# fails the 8 dB relative-peak test. 7-8 dB of reverse twist loses presses of 0 only.


@pytest.mark.parametrize(
    "digit",
    [d for d in DIGITS],
)
def test_twist_up_to_8_db_reverse_and_4_db_normal_is_accepted(digit: str) -> None:
    rng = np.random.default_rng(1300 + DIGITS.index(digit))
    cases = [
        (f"{digit}, strongest at {lv} dBm0, twist {tw:+} dB", [_twisted(digit, lv, tw, 50)] * 3)
        for lv in (-5, -15, -25)
        for tw in (-8, -7, -6, -4, -2, 2, 3, 4)
    ]
    report = _run(cases, rng)
    assert not report.problems, report.describe()


def test_twist_beyond_10_db_is_rejected() -> None:
    rng = np.random.default_rng(1320)
    cases = [
        (f"{d}, strongest at {lv} dBm0, twist {tw:+} dB", [_twisted(d, lv, tw, on)])
        for lv in (-4, -12, -20)
        for tw in (-12.0, -10.5, 10.5, 12.0)
        for on in (50, 150)
        for d in DIGITS
    ]
    wrong = _silent_channels(cases, rng)
    assert not wrong, f"{len(wrong)} over-twisted pairs taken for digits:\n" + "\n".join(wrong[:12])


# -- timing ----------------------------------------------------------------------------------------

OFFSETS = 30  # random start offsets per digit and level


def test_tones_of_40_ms_or_more_are_always_detected() -> None:
    rng = np.random.default_rng(1401)
    cases = [
        (f"{d} {on} ms at {lv} dBm0 #{k}", [Press(d, on, 50, lv, lv)])
        for on in (40, 45)
        for lv in (-5, -20, -33)
        for d in DIGITS
        for k in range(OFFSETS)
    ]
    report = _run(cases, rng)
    assert not report.problems, report.describe()


def test_tones_of_20_ms_or_less_are_never_detected() -> None:
    rng = np.random.default_rng(1402)
    cases = [
        (f"{d} {on} ms at {lv} dBm0 #{k}", [Press(d, on, 50, lv, lv)])
        for on in (20, 15, 10)
        for lv in (-3, -20, -33)
        for d in DIGITS
        for k in range(OFFSETS)
    ]
    wrong = _silent_channels(cases, rng)
    assert not wrong, f"{len(wrong)} short bursts taken for digits:\n" + "\n".join(wrong[:12])


def test_a_40_ms_pause_separates_two_presses_of_the_same_digit() -> None:
    rng = np.random.default_rng(1403)
    cases = []
    for lv in (-5, -20, -33):
        for d in DIGITS:
            for k in range(OFFSETS):
                first, second = rng.uniform(40, 100, size=2)
                presses = [Press(d, first, 40, lv, lv), Press(d, second, 50, lv, lv)]
                cases.append((f"{d} at {lv} dBm0 #{k}", presses))
    report = _run(cases, rng)
    assert not report.problems, report.describe()


# A 10 ms dropout that starts some 40-70 samples into an even screening window (102 samples
# at 204 k; only the even ones are screened) leaves that window no candidate, and its odd
# neighbours are never screened: the fine windows beside the dropout, which would still hit,
# are never evaluated, the press sees four windows without its digit and ends. About 2 % of
# dropouts at random positions split so; with every window evaluated, none do.


@pytest.mark.parametrize("resume", ["same phase", "new phase"])
def test_a_10_ms_dropout_never_splits_a_100_ms_tone(resume: str) -> None:
    """The tone either runs on under the dropout (a gated generator, a lost packet) or starts
    again with a new phase (a generator restarted, a bouncing key)."""
    rng = np.random.default_rng(1404 if resume == "same phase" else 1405)
    signals, truths, labels = [], [], []
    for d in DIGITS:
        for lead in range(160, 160 + 204):  # every alignment against the screening pairs
            pos, pieces, truth = lead, [np.zeros(lead)], []
            for lv in (-8, -18, -28, -33):
                tone = _tone(Press(d, 100, 0, lv, lv), rng)
                gap = int(rng.integers(10 * MS, 80 * MS))  # 10 ms of tone at least each side
                if resume == "new phase":
                    tone[gap:] = _tone(Press(d, 100, 0, lv, lv), rng)[gap:]
                tone[gap : gap + 10 * MS] = 0.0
                truth.append((d, pos, pos + tone.shape[0]))
                pieces += [tone, np.zeros(60 * MS)]
                pos += tone.shape[0] + 60 * MS
            signals.append(np.concatenate(pieces))
            truths.append(truth)
            labels.append(f"{d} lead {lead}")
    # A dropout near an end may cut that end off; what matters is one event per tone.
    split = []
    for events, truth, label in zip(_decode(_stack(signals)), truths, labels, strict=True):
        got = [(e.digit, e.start, e.end) for e in events]
        each = [sum(s < end and e > start for _, s, e in got) for _, start, end in truth]
        if len(got) != len(truth) or each != [1] * len(truth):
            split.append(f"{label}: sent {truth}, got {got}")
    assert not split, f"{len(split)} channel(s) wrong:\n" + "\n".join(split[:12])


# -- noise -----------------------------------------------------------------------------------------


def _noisy(
    cases: Sequence[tuple[str, Sequence[Press]]], snr_db: float, rng: np.random.Generator
) -> Report:
    """`_run` with white noise at `snr_db` in 300-3400 Hz against the power of the pair;
    every press of a case has the same levels."""
    built = [_channel(presses, rng) for _, presses in cases]
    x = _stack([s for s, _ in built])
    for i, (_, presses) in enumerate(cases):
        power = sine_power(presses[0].row_dbm0) + sine_power(presses[0].col_dbm0)
        x[i] = add_noise(x[i], snr_db, rng, signal_power=power)
    return _compare(_decode(x), [t for _, t in built], [label for label, _ in cases])


def test_every_digit_decodes_at_12_db_snr() -> None:
    rng = np.random.default_rng(1501)
    cases = [
        (f"{d} at {lv} dBm0 #{k}", [Press(d, 50, 50, lv, lv)] * 4)
        for lv in (-10, -20, -30)
        for d in DIGITS
        for k in range(3)
    ]
    report = _noisy(cases, 12.0, rng)
    assert not report.problems, report.describe()


def test_no_duplicate_under_noise() -> None:
    rng = np.random.default_rng(1502)
    cases = [
        (f"{d} at {lv} dBm0 #{k}", [Press(d, on, 60, lv, lv) for on in (150, 300, 600)])
        for lv in (-10, -25)
        for d in DIGITS
        for k in range(2)
    ]
    report = _noisy(cases, 12.0, rng)
    assert not report.problems, report.describe()


def test_lowest_snr_decoding_every_digit_is_12_db_or_better() -> None:
    rng = np.random.default_rng(1503)
    lowest = None
    for snr in range(20, 0, -1):
        cases = [
            (f"{d} at {lv} dBm0, {snr} dB S/N", [Press(d, 50, 50, lv, lv)] * 4)
            for lv in (-10, -20, -30)
            for d in DIGITS
        ]
        if _noisy(cases, snr, rng).problems:
            break
        lowest = snr
    print(f"\nDTMF lowest S/N with every digit decoded (192 presses, 1 dB steps): {lowest} dB")
    assert lowest is not None
    assert lowest <= 12


# -- dial tone under the digits --------------------------------------------------------------------

# The dial tone is taken out of the window energy before the energy share is tested, both
# in screening and in the full test; presses still decode with it 10 dB over the row tone,
# and go missing from +12 dB.


@pytest.mark.parametrize(
    "dial_over_row_db",
    [0.0, 6.0],
)
def test_china_dial_tone_under_the_digits(dial_over_row_db: float) -> None:
    rng = np.random.default_rng(1601 + int(dial_over_row_db))
    cases = [
        (f"{d} at {lv} dBm0, 450 Hz {dial_over_row_db:+} dB", [Press(d, 50, 50, lv, lv)] * 3)
        for lv in (-10, -20, -30)
        for d in DIGITS
    ]
    built = [_channel(presses, rng) for _, presses in cases]
    x = _stack([s for s, _ in built])
    t = np.arange(x.shape[1]) / FS
    for i, (_, presses) in enumerate(cases):
        amp = sine_amplitude(presses[0].row_dbm0 + dial_over_row_db)
        x[i] += amp * np.sin(2 * np.pi * 450.0 * t + rng.uniform(0, 2 * np.pi))
    report = _compare(_decode(x), [t for _, t in built], [label for label, _ in cases])
    assert not report.problems, report.describe()


# -- streaming -------------------------------------------------------------------------------------


def _two_channels(rng: np.random.Generator) -> tuple[F64, list[list[Truth]]]:
    """Different keying on each channel, one digit taking over from another without a pause
    on channel 0; channel 1 is still pressing 'D' when the signal ends."""
    a, ta = _channel(
        [
            Press("1", 60, 80, -12, -10),
            Press("A", 45, 45, -25, -24),
            Press("#", 120, 0),  # '5' takes over without a pause
            Press("5", 70, 300, -30, -30),
        ],
        rng,
    )
    b, tb = _channel(
        [
            Press("8", 90, 50, -6, -8),
            Press("8", 50, 60),
            Press("0", 50, 40, -20, -18),
            Press("*", 200, 70, -33, -33),
            Press("D", 150, 0, -15, -15),
        ],
        rng,
    )
    n = max(a.shape[0], b.shape[0])
    x = np.zeros((2, n))
    x[0, : a.shape[0]] = a
    x[1, n - b.shape[0] :] = b  # ends in the middle of 'D'
    shift = n - b.shape[0]
    return x, [ta, [(d, s + shift, e + shift) for d, s, e in tb]]


def _blocks(n: int, size: int | None, rng: np.random.Generator) -> Iterator[slice]:
    """Consecutive slices of `size` samples; random sizes 1-400 when `size` is 0; one slice
    of everything when None."""
    pos = 0
    while pos < n:
        step = n if size is None else int(rng.integers(1, 401)) if size == 0 else size
        yield slice(pos, min(n, pos + step))
        pos += step


@pytest.mark.parametrize("size", [1, 7, 51, 160, 1000, None, 0], ids=lambda s: f"block={s}")
def test_same_events_whatever_the_block_size(size: int | None) -> None:
    rng = np.random.default_rng(1701)
    x, truth = _two_channels(rng)
    pcm = to_int16(x)
    whole = detect_dtmf(pcm)
    # The held 'D' ends where the receiver stopped looking, which may be up to two of its
    # 102-sample windows short of the signal's end (they wait for the next block).
    *found, held = whole
    report = _compare(_by_channel(found, 2), [truth[0], truth[1][:-1]], ["ch 0", "ch 1"])
    assert not report.problems, report.describe()
    _, start, end = truth[1][-1]
    assert (held.channel, held.digit) == (1, "D")
    assert abs(held.start - start) <= TIMING
    assert end - 204 - TIMING <= held.end <= end

    rx = DtmfReceiver(2)
    streamed: list[DtmfEvent] = []
    for part in _blocks(pcm.shape[1], size, np.random.default_rng(1702)):
        events = rx.process(pcm[:, part])
        assert all(e.end <= part.stop for e in events)
        streamed += events
    assert rx.pressed == {1: "D"}
    streamed += rx.flush()
    assert streamed == whole
    keys = [(e.end, e.channel) for e in streamed]
    assert keys == sorted(keys), "events out of order of end sample"


def test_flush_ends_a_press_still_held() -> None:
    rng = np.random.default_rng(1705)
    x, truth = _channel([Press("7", 300, 0, -15, -15)], rng)
    rx = DtmfReceiver(1)
    assert rx.process(to_int16(x[None, :])) == []
    assert rx.pressed == {0: "7"}
    (event,) = rx.flush()
    _, start, end = truth[0]
    assert (event.channel, event.digit) == (0, "7")
    assert abs(event.start - start) <= TIMING
    assert end - 2 * TIMING <= event.end <= end  # as far as the receiver has seen
    assert rx.pressed == {}
    assert rx.flush() == []


def test_pressed_shows_a_held_digit() -> None:
    rng = np.random.default_rng(1703)
    on_at, off_at, n = 100 * MS, 400 * MS, 600 * MS
    x = np.zeros((3, n))
    x[0, on_at:off_at] = _tone(Press("5", 300, 0, -20, -20), rng)
    x[2, on_at:off_at] = _tone(Press("D", 300, 0, -28, -26), rng)
    rx = DtmfReceiver(3)
    latency = 80 * MS  # four windows to start or end a press, plus the screening delay
    for part in _blocks(n, 10 * MS, rng):
        rx.process(to_int16(x[:, part]))
        now = part.stop
        if now < on_at or now >= off_at + latency:
            assert rx.pressed == {}, f"at {now / MS} ms"
        elif on_at + latency <= now < off_at:
            assert rx.pressed == {0: "5", 2: "D"}, f"at {now / MS} ms"


def test_reset_forgets_everything() -> None:
    rng = np.random.default_rng(1704)
    a, ta = _channel([Press("9", 60, 60), Press("B", 80, 60, -20, -20)], rng)
    b, tb = _channel([Press("6", 70, 50, -30, -28)], rng)
    pcm = to_int16(_stack([a, b]))
    half_press = to_int16(np.stack([_tone(Press("3", 100, 0), rng)] * 2))

    rx = DtmfReceiver(2)
    assert rx.process(half_press) == []
    assert rx.pressed == {0: "3", 1: "3"}
    rx.reset()
    assert rx.pressed == {}
    assert rx.flush() == []
    # Afterwards it is a new receiver, samples counted from the reset.
    events = rx.process(pcm) + rx.flush()
    fresh = DtmfReceiver(2)
    assert events == fresh.process(pcm) + fresh.flush()
    report = _compare(_by_channel(events, 2), [ta, tb], ["channel 0", "channel 1"])
    assert not report.problems, report.describe()


# -- shapes, dtypes and errors ---------------------------------------------------------------------


def test_a_block_of_the_wrong_shape_is_refused_with_its_shape() -> None:
    rx = DtmfReceiver(2)
    with pytest.raises(ValueError, match=r"\(3, 100\)"):
        rx.process(np.zeros((3, 100), np.int16))
    with pytest.raises(ValueError, match=r"\(100,\)"):
        rx.process(np.zeros(100, np.int16))
    with pytest.raises(ValueError, match=r"\(2, 2, 100\)"):
        detect_dtmf(np.zeros((2, 2, 100), np.int16))


def test_float_input_is_rounded_to_int16() -> None:
    rng = np.random.default_rng(1801)
    x, truth = _channel([Press(d, 60, 60, -20, -20) for d in "4B*"], rng)
    pcm = to_int16(x)
    fuzzed = pcm + rng.uniform(-0.45, 0.45, size=pcm.shape)  # rounds back to `pcm`
    for block in (fuzzed, fuzzed.astype(np.float32)):
        rx = DtmfReceiver(1)
        events = rx.process(block[None, :]) + rx.flush()
        assert events == detect_dtmf(pcm)
    assert not _compare([detect_dtmf(fuzzed)], [truth], ["float"]).problems


def test_detect_dtmf_takes_one_channel_or_many() -> None:
    rng = np.random.default_rng(1802)
    x, truth = _channel([Press(d, 60, 60) for d in "2C0"], rng)
    pcm = to_int16(x)
    one = detect_dtmf(pcm)
    assert not _compare([one], [truth], ["1-D"]).problems
    many = detect_dtmf(np.stack([np.zeros_like(pcm), pcm, pcm]))
    assert [e for e in many if e.channel == 1] == [
        DtmfEvent(1, e.digit, e.start, e.end) for e in one
    ]
    assert [e for e in many if e.channel == 2] == [
        DtmfEvent(2, e.digit, e.start, e.end) for e in one
    ]
    assert not [e for e in many if e.channel == 0]


# -- the generator ---------------------------------------------------------------------------------


def _dft_magnitude(x: F64, freq: float) -> float:
    """Amplitude of the direct DFT of `x` at `freq` (the slow, obviously right reference)."""
    t = np.arange(x.shape[0]) / FS
    return float(np.abs(np.exp(-2j * np.pi * freq * t) @ x) * 2 / x.shape[0])


@pytest.mark.parametrize(
    ("level", "twist", "freq_error"),
    [(-10.0, 0.0, 0.0), (-25.0, -4.0, 0.0), (-6.0, 2.0, 0.02), (-20.0, 0.0, -0.015)],
)
def test_dtmf_tones_frequencies_and_levels(level: float, twist: float, freq_error: float) -> None:
    on, off = 1000.0, 100.0
    x = dtmf_tones(
        DIGITS, level_dbm0=level, twist_db=twist, on_ms=on, off_ms=off, freq_error=freq_error
    )
    assert x.dtype == np.int16
    period = round((on + off) * MS)
    for i, d in enumerate(DIGITS):
        seg = x[i * period : i * period + round(on * MS)].astype(np.float64)
        for nominal, dbm0 in zip(FREQS[d], (level, level + twist), strict=True):
            expected = nominal * (1 + freq_error)
            # The main lobe of a 1 s window is +-1 Hz wide; search its top within 0.8 Hz.
            peak = minimize_scalar(
                lambda f, s=seg: -_dft_magnitude(s, f),
                bounds=(expected - 0.8, expected + 0.8),
                method="bounded",
                options={"xatol": 1e-4},
            )
            assert peak.x == pytest.approx(expected, abs=0.01), (d, nominal)
            measured = 20 * np.log10(-peak.fun / sine_amplitude(dbm0))
            assert measured == pytest.approx(0.0, abs=0.05), (d, nominal)


def test_dtmf_tones_timing_and_pauses() -> None:
    x = dtmf_tones("1,a", on_ms=45, off_ms=55)
    on, off = 45 * MS, 55 * MS
    assert x.shape == (3 * (on + off),)
    np.testing.assert_array_equal(x[on : on + off], 0)  # off after each digit
    np.testing.assert_array_equal(x[on + off : 2 * (on + off)], 0)  # ',' is a pause
    np.testing.assert_array_equal(x[-off:], 0)
    for first in (0, 2 * (on + off)):
        burst = x[first : first + on].astype(np.float64)
        assert np.all(np.abs(burst).reshape(-1, 8).max(axis=1) > 0)  # on all the way
        assert level_dbm0(burst) == pytest.approx(-10.0 + 10 * np.log10(2), abs=0.1)
    np.testing.assert_array_equal(x[2 * (on + off) :], dtmf_tones("A", on_ms=45, off_ms=55))
    assert dtmf_tones("").shape == (0,)


def test_dtmf_tones_refuses_a_key_that_is_not_dtmf() -> None:
    for digits, key, position in (("12x4", "x", 2), ("E", "E", 0), ("#5?", "?", 2)):
        with pytest.raises(ValueError) as refused:
            dtmf_tones(digits)
        message = str(refused.value)
        # The generator upper-cases letters before it looks them up, and names the key so.
        assert f"'{key}' at position {position}".lower() in message.lower(), message
        assert repr(digits) in message, message


def test_dtmf_tones_decode() -> None:
    x = dtmf_tones(DIGITS + ",0", level_dbm0=-20, on_ms=50, off_ms=50)
    assert "".join(e.digit for e in detect_dtmf(x)) == DIGITS + "0"


# -- property --------------------------------------------------------------------------------------


@hypothesis_seed(1901)
@settings(max_examples=25, deadline=None)
@given(
    presses=st.lists(
        st.tuples(
            st.sampled_from(DIGITS),
            st.floats(45.0, 120.0),
            st.floats(45.0, 120.0),
            st.floats(-30.0, -5.0),
        ),
        min_size=1,
        max_size=10,
    ),
    phases=st.integers(0, 2**32 - 1),
)
def test_random_digit_strings_decode_exactly(
    presses: list[tuple[str, float, float, float]], phases: int
) -> None:
    rng = np.random.default_rng([1902, phases])
    x, truth = _channel([Press(d, on, off, lv, lv) for d, on, off, lv in presses], rng)
    report = _compare([detect_dtmf(to_int16(x))], [truth], ["random string"])
    assert not report.problems, report.describe()


# -- talk-off --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_talk_off_is_at_most_2_false_digits_per_hour() -> None:
    corpus = talkoff_corpus()
    assert CORPUS_FS == FS
    # The corpus runs at 17 alignments against the receiver's windows, one per channel,
    # in blocks of 10 s: channel j is the corpus delayed by shifts[j] samples.
    shifts = np.arange(0, 102, 6)
    most = int(shifts[-1])
    block = 10 * FS
    false: list[tuple[str, DtmfEvent]] = []
    for name, x in corpus.items():
        rx = DtmfReceiver(shifts.size)
        padded = np.concatenate([np.zeros(most, np.int16), x, np.zeros(most, np.int16)])
        n = x.shape[0] + most
        for start in range(0, n, block):
            stop = min(n, start + block)
            rows = [padded[most - s + start : most - s + stop] for s in shifts]
            false += [(name, e) for e in rx.process(np.stack(rows))]
        false += [(name, e) for e in rx.flush()]
    hours = corpus_hours(corpus) * shifts.size
    per_hour = len(false) / hours
    print(
        f"\nDTMF talk-off: {len(false)} false digits in {hours:.1f} h of speech and music "
        f"({shifts.size} window alignments of {corpus_hours(corpus):.1f} h) = "
        f"{per_hour:.2f} per hour; "
        + ", ".join(f"{n} {e.digit}@{(e.start - shifts[e.channel]) / FS:.2f}s" for n, e in false)
    )
    assert per_hour <= 2.0


# --- regressions ------------------------------------------------------------------------------


def test_fortran_ordered_and_strided_blocks_decode_like_contiguous_ones() -> None:
    x = dtmf_tones("123", level_dbm0=-15)
    both = np.stack([x, x])
    want = [(e.channel, e.digit) for e in detect_dtmf(both)]
    assert len(want) == 6
    assert [(e.channel, e.digit) for e in detect_dtmf(np.asfortranarray(both))] == want
    rx = DtmfReceiver(2)
    fortran = np.asfortranarray(both)
    got = [e for s in range(0, x.size, 204) for e in rx.process(fortran[:, s : s + 204])]
    assert [(e.channel, e.digit) for e in got + rx.flush()] == want


def test_non_finite_samples_are_refused_by_position() -> None:
    x = np.zeros((2, 300))
    x[1, 17] = np.nan
    with pytest.raises(ValueError, match=r"sample \(1, 17\) is nan"):
        DtmfReceiver(2).process(x)


def test_flush_ends_a_held_press_at_its_last_sample() -> None:
    x = dtmf_tones("5", level_dbm0=-15, on_ms=150, off_ms=0)  # 1200 samples, no silence after
    (event,) = detect_dtmf(x)
    assert abs(event.end - 1200) <= 51


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"channels": 0}, "channels"),
        ({"channels": 2.0}, "channels"),
        ({"channels": 1, "fs": float("nan")}, "fs"),
        ({"channels": 1, "freq_tolerance": 0.0}, "freq_tolerance"),
        ({"channels": 1, "dial_tone_hz": (5000.0,)}, "dial_tone_hz"),
        ({"channels": 1, "min_on_windows": 2.5}, "min_on_windows"),
    ],
)
def test_bad_receiver_settings_are_named(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        DtmfReceiver(**kwargs)  # type: ignore[arg-type]


def test_resetting_one_channel_leaves_the_others_alone() -> None:
    x = dtmf_tones("47", level_dbm0=-15, on_ms=80, off_ms=80)
    both = np.stack([x, x])
    rx = DtmfReceiver(2)
    half = 1280 + 600  # 40 samples before the end of the second press (1280..1920)
    events = rx.process(both[:, :half])
    rx.reset([1])
    events += rx.process(both[:, half:]) + rx.flush()
    assert [e.digit for e in events if e.channel == 0] == ["4", "7"]
    assert [e.digit for e in events if e.channel == 1] == ["4"]


@pytest.mark.parametrize("batch_ms", [20.0, 50.0, 100.0, 250.0])
def test_batching_gives_the_same_events_only_later(batch_ms: float) -> None:
    rng = np.random.default_rng(7)
    rows = []
    for i in range(8):
        keys = dtmf_tones("123A456B789C*0#D"[i : i + 6], on_ms=50 + 10 * i, off_ms=45 + 5 * i)
        rows.append(np.concatenate([np.zeros(333 * i, np.int16), keys, np.zeros(4000, np.int16)]))
    n = max(r.size for r in rows)
    x = np.stack([np.pad(r, (0, n - r.size)) for r in rows])
    x = to_int16(x + rng.normal(0.0, 30.0, x.shape))

    def run(receiver: DtmfReceiver) -> list[DtmfEvent]:
        out: list[DtmfEvent] = []
        for start in range(0, n, 160):
            out += receiver.process(x[:, start : start + 160])
        return sorted(out + receiver.flush(), key=lambda e: (e.channel, e.start))

    plain = run(DtmfReceiver(8))
    batched = run(DtmfReceiver(8, batch_ms=batch_ms))
    assert batched == plain and len(plain) == 48


def test_batch_ms_out_of_range_is_named() -> None:
    with pytest.raises(ValueError, match=r"batch_ms must be in \[0, 1000\], got 2000"):
        DtmfReceiver(1, batch_ms=2000)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_runs_of_hits_decode_like_single_hits(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Long blocks take consecutive hits of a digit as one run (dsp.dtmf.RUNS_FROM); that
    # must give exactly what taking them one by one gives, also where the receiver's rules
    # are on edge: one digit taking over from another with no pause, tones and pauses
    # around the 40 ms limits, foreign digits inside a pause, under noise.
    from boardcc.dsp import dtmf as module

    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(48):
        keys = "".join(rng.choice(list("0123456789*#ABCD"), size=12))
        on = rng.integers(15, 90, size=12)
        off = rng.choice([0, 0, 10, 20, 30, 40, 50, 80], size=12)
        parts = [
            dtmf_tones(k, on_ms=int(a), off_ms=int(b))
            for k, a, b in zip(keys, on, off, strict=True)
        ]
        rows.append(np.concatenate(parts))
    n = max(r.size for r in rows)
    x = np.stack([np.pad(r, (0, n - r.size)) for r in rows]).astype(float)
    x = to_int16(x + rng.normal(0.0, 300.0, x.shape))

    def decode(runs_from: int) -> list[DtmfEvent]:
        monkeypatch.setattr(module, "RUNS_FROM", runs_from)
        return detect_dtmf(x)

    by_runs, by_hits = decode(0), decode(10**9)
    assert by_runs == by_hits
    assert len(by_runs) > 48 * 5
