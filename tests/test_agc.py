"""Automatic gain control: weak and loud talkers to the target level, no clipped sample
whatever comes, silence and line noise left alone, streaming.

Speech comes from the talk-off corpus (``tests.corpus``), scaled to an active level measured
here the way ITU-T P.56 does in spirit: the mean power of the 20 ms frames that carry speech
(within 35 dB of the loudest), pauses left out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from boardcc.dsp.agc import CEILING, Agc, apply_agc
from boardcc.dsp.levels import level_dbm0, power_dbm0, sine_amplitude, sine_power
from boardcc.dsp.signals import band_noise, to_int16
from tests.corpus import FS, talkoff_corpus

F64 = npt.NDArray[np.float64]
I16 = npt.NDArray[np.int16]

FRAME = 160
SEED = 7730


def active_frames(x: F64) -> npt.NDArray[np.bool_]:
    """20 ms frames of `x` within 35 dB of its loudest."""
    frames = x[: x.size // FRAME * FRAME].reshape(-1, FRAME)
    power = np.mean(frames * frames, axis=1)
    return np.asarray(power > power.max() * 10.0 ** (-35.0 / 10.0))


def active_level(x: F64, active: npt.NDArray[np.bool_]) -> float:
    """Mean power of the frames marked `active`, dBm0."""
    frames = x[: active.size * FRAME].reshape(-1, FRAME)
    return float(power_dbm0(np.mean(frames[active] ** 2)))


def talker(seconds: float, dbm0: float, rng: np.random.Generator) -> F64:
    """Corpus speech at an active level of `dbm0` (its line noise scaled with it)."""
    corpus = talkoff_corpus()
    x = corpus[("speech_cmn", "speech_en")[int(rng.integers(2))]]
    n = round(seconds * FS)
    start = int(rng.integers(x.size - n)) // FRAME * FRAME
    s = x[start : start + n].astype(np.float64)
    return s * 10.0 ** ((dbm0 - active_level(s, active_frames(s))) / 20.0)


def level_out(x: F64, *, agc: Agc | None = None, **options: float) -> F64:
    """`x` through an AGC (made with `options`) in 20 ms blocks, its delay undone."""
    a = agc if agc is not None else Agc(1, **options)
    x16 = to_int16(x)[None, :]
    pad = np.zeros((1, a.delay), np.int16)
    stream = np.concatenate([x16, pad], axis=1)
    pieces = [a.process(stream[:, s : s + FRAME]) for s in range(0, stream.shape[1], FRAME)]
    return np.concatenate(pieces, axis=1)[0, a.delay :].astype(np.float64)


# --- levels ---------------------------------------------------------------------------------


def test_weak_speech_comes_up_to_the_target() -> None:
    """Speech at -40 dBm0 is at -15 dBm0 +- 2 dB once it has talked for a second (with a
    maximum gain that allows the 25 dB)."""
    rng = np.random.default_rng(SEED)
    for _ in range(4):
        x = talker(6.0, -40.0, rng)
        y = level_out(x, max_gain_db=30.0)
        active = active_frames(x)
        after = active.copy()
        after[: FS // FRAME] = False  # the first second
        got = active_level(y, after)
        assert abs(got - (-15.0)) <= 2.0, got


def test_gain_stops_at_the_maximum() -> None:
    """By default the gain stops at +20 dB: speech at -40 dBm0 comes out at -20 dBm0."""
    rng = np.random.default_rng(SEED + 1)
    x = talker(6.0, -40.0, rng)
    y = level_out(x)
    after = active_frames(x)
    after[: FS // FRAME] = False
    assert abs(active_level(y, after) - (-20.0)) <= 2.0


@pytest.mark.parametrize("dbm0", [-30.0, -20.0, -5.0])
def test_other_talkers_reach_the_target(dbm0: float) -> None:
    rng = np.random.default_rng(SEED + 2)
    x = talker(6.0, dbm0, rng)
    y = level_out(x)
    after = active_frames(x)
    after[: FS // FRAME] = False
    assert abs(active_level(y, after) - (-15.0)) <= 2.0


def test_channels_are_independent() -> None:
    """Four channels at four levels, processed together, each to the target."""
    rng = np.random.default_rng(SEED + 3)
    levels = (-35.0, -25.0, -15.0, -8.0)
    x = np.stack([talker(6.0, lv, rng) for lv in levels])
    agc = Agc(len(levels))
    pad = np.zeros((len(levels), agc.delay), np.int16)
    y = agc.process(np.concatenate([to_int16(x), pad], axis=1))[:, agc.delay :]
    for ch in range(len(levels)):
        after = active_frames(x[ch])
        after[: FS // FRAME] = False
        assert abs(active_level(y[ch].astype(np.float64), after) - (-15.0)) <= 2.0, ch


# --- no clipping ------------------------------------------------------------------------------


def burst(n: int, rng: np.random.Generator) -> F64:
    """Full-scale trouble: a clipped shout (noise saturated at full scale) and a sine at
    +3 dBm0, 0.5 s each."""
    half = n // 2
    shout = np.clip(rng.standard_normal(half) * 40000.0, -32768, 32767)
    tone = sine_amplitude(3.0) * np.sin(2 * np.pi * 1000.0 * np.arange(n - half) / FS)
    return np.concatenate([shout, tone])


@pytest.mark.parametrize("max_gain_db", [20.0, 30.0])
def test_loud_burst_after_weak_speech_clips_no_sample(max_gain_db: float) -> None:
    """A quiet caller has the gain up to its maximum when a full-scale burst arrives: the
    limiter keeps every sample under full scale (no 破音)."""
    rng = np.random.default_rng(SEED + 4)
    x = np.concatenate([talker(3.0, -45.0, rng), burst(FS, rng), talker(2.0, -45.0, rng)])
    y = level_out(x, max_gain_db=max_gain_db)
    assert np.max(np.abs(y)) <= CEILING
    assert not np.any((y >= 32767) | (y <= -32768))


def test_full_scale_input_clips_no_sample() -> None:
    rng = np.random.default_rng(SEED + 5)
    x = burst(4 * FS, rng)
    y = level_out(x)
    assert np.max(np.abs(y)) <= CEILING


# --- silence and noise ------------------------------------------------------------------------


def test_silence_stays_silence() -> None:
    y = level_out(np.zeros(3 * FS))
    assert not np.any(y)


@pytest.mark.parametrize("noise_dbm0", [-70.0, -55.0, -40.0])
def test_line_noise_is_not_pumped_up(noise_dbm0: float) -> None:
    """A line with only noise on it comes out no louder than it went in."""
    rng = np.random.default_rng(SEED + 6)
    x = np.sqrt(sine_power(noise_dbm0)) * band_noise(10 * FS, rng)
    y = level_out(x)
    assert level_dbm0(y) <= noise_dbm0 + 0.5


def test_pauses_are_not_pumped_up() -> None:
    """Between a weak caller's sentences the line noise gets the speech gain (20 dB) and no
    more: it stays 25 dB under the target."""
    rng = np.random.default_rng(SEED + 7)
    noise = np.sqrt(sine_power(-65.0)) * band_noise(9 * FS, rng)
    x = noise.copy()
    x[: 3 * FS] += talker(3.0, -35.0, rng)
    x[6 * FS :] += talker(3.0, -35.0, rng)
    y = level_out(x)
    pause = y[round(3.2 * FS) : 6 * FS]
    assert level_dbm0(pause) <= -65.0 + 20.0 + 0.5


# --- streaming and controls -------------------------------------------------------------------


@pytest.mark.parametrize("blocks", [[1], [37], [160, 1, 513], [8000]])
def test_output_does_not_depend_on_block_lengths(blocks: list[int]) -> None:
    rng = np.random.default_rng(SEED + 8)
    x = to_int16(
        np.stack([talker(2.0, -38.0, rng), np.concatenate([talker(1.0, -20, rng), burst(FS, rng)])])
    )
    whole = Agc(2).process(x)
    agc = Agc(2)
    pieces, at, i = [], 0, 0
    while at < x.shape[1]:
        step = blocks[i % len(blocks)]
        pieces.append(agc.process(x[:, at : at + step]))
        at += step
        i += 1
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), whole)


def test_apply_agc_is_the_stream_aligned() -> None:
    rng = np.random.default_rng(SEED + 9)
    x = talker(3.0, -30.0, rng)
    np.testing.assert_array_equal(apply_agc(to_int16(x)), level_out(x).astype(np.int16))
    two = apply_agc(np.stack([to_int16(x), to_int16(x)]))
    assert two.shape == (2, x.size)


def test_reset_forgets_the_gain() -> None:
    rng = np.random.default_rng(SEED + 10)
    agc = Agc(2)
    agc.process(to_int16(np.stack([talker(3.0, -35.0, rng), talker(3.0, -35.0, rng)])))
    assert np.all(agc.gain_db > 15.0)
    agc.reset(1)
    assert agc.gain_db[0] > 15.0 and agc.gain_db[1] == 0.0


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="channels"):
        Agc(0)
    with pytest.raises(ValueError, match="max_gain_db"):
        Agc(1, max_gain_db=-3.0)
    with pytest.raises(ValueError, match="attack_ms"):
        Agc(1, attack_ms=0.0)
    with pytest.raises(ValueError, match="shape"):
        Agc(2).process(np.zeros((3, 10), np.int16))
