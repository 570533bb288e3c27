"""Audio files: round trips through every codec, channels, resampling, and bad files."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from boardcc.dsp.audio import (
    Audio,
    AudioFileError,
    AudioFileWarning,
    codecs,
    read_audio,
    write_audio,
)
from boardcc.dsp.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from boardcc.dsp.levels import level_dbm0
from boardcc.dsp.signals import sines, to_int16

FS = 8000
N = 8000  # one second
LEVEL = -10.0  # dBm0 per tone
# Codecs take a few milliseconds to adapt; measure the steady part.
STEADY = slice(1000, 7000)

TONE = to_int16(sines([1000.0], N, fs=FS, level_dbm0=LEVEL))
TWO_TONE = to_int16(sines([697.0, 1209.0], N, fs=FS, level_dbm0=LEVEL))
SIGNALS = {"1k": (TONE, [1000.0]), "dtmf": (TWO_TONE, [697.0, 1209.0])}

# codec, suffix, level tolerance (dB), least S/N against the input (dB).
CODEC_CASES = [
    ("pcm16", ".wav", 0.0, math.inf),
    ("alaw", ".wav", 0.1, 30.0),
    ("alaw", ".alaw", 0.1, 30.0),
    ("ulaw", ".wav", 0.1, 30.0),
    ("ulaw", ".ul", 0.1, 30.0),
    ("ima_adpcm", ".wav", 0.5, 18.0),
    ("gsm610", ".wav", 1.0, 15.0),
    ("vox", ".vox", 0.5, 18.0),
    ("mp3", ".mp3", 0.3, 40.0),
]


def peak_freqs(x: npt.ArrayLike, k: int, *, fs: float = FS) -> list[float]:
    """The `k` strongest spectral peaks of `x`, in Hz, ascending."""
    a = np.asarray(x, dtype=np.float64)
    mag = np.abs(np.fft.rfft(a * np.hanning(a.size)))
    freqs = np.fft.rfftfreq(a.size, 1.0 / fs)
    local = np.nonzero((mag[1:-1] > mag[:-2]) & (mag[1:-1] >= mag[2:]))[0] + 1
    strongest = local[np.argsort(mag[local])[::-1][:k]]
    return sorted(float(f) for f in freqs[strongest])


def snr_db(reference: npt.NDArray[np.int16], y: npt.NDArray[np.int16]) -> float:
    ref = reference.astype(np.float64)
    err = y.astype(np.float64) - ref
    noise = float(np.mean(err * err))
    return math.inf if noise == 0 else 10.0 * math.log10(float(np.mean(ref * ref)) / noise)


def test_codec_names() -> None:
    assert codecs() == ("pcm16", "alaw", "ulaw", "ima_adpcm", "gsm610", "vox", "mp3")


@pytest.mark.parametrize("signal", list(SIGNALS))
@pytest.mark.parametrize(("codec", "suffix", "level_tol", "min_snr"), CODEC_CASES)
def test_round_trip(
    tmp_path: Path, codec: str, suffix: str, level_tol: float, min_snr: float, signal: str
) -> None:
    x, freqs = SIGNALS[signal]
    path = tmp_path / f"prompt{suffix}"
    write_audio(path, x, fs=FS, codec=codec)
    audio = read_audio(path)

    assert audio.fs == FS
    assert audio.source_fs == FS
    assert audio.channels == 1
    assert audio.samples.dtype == np.int16
    y = audio.samples[0]
    if codec == "ima_adpcm":
        # IMA ADPCM pads its last block of 505 samples; libsndfile's WAV keeps no true length.
        assert N <= y.size < N + 505
        y = y[:N]
    else:
        assert y.size == N
    assert abs(level_dbm0(y[STEADY]) - level_dbm0(x[STEADY])) <= level_tol
    assert peak_freqs(y[STEADY], len(freqs)) == pytest.approx(freqs, abs=1.5)
    if codec != "mp3":  # a perceptual codec: waveform S/N is not how it is judged
        assert snr_db(x[STEADY], y[STEADY]) >= min_snr


def test_pcm16_is_bit_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(-32768, 32768, size=(2, 1001), dtype=np.int16)
    write_audio(tmp_path / "noise.wav", x)
    audio = read_audio(tmp_path / "noise.wav")
    np.testing.assert_array_equal(audio.samples, x)
    assert (audio.format, audio.subtype) == ("WAV", "PCM_16")


@pytest.mark.parametrize(
    ("codec", "suffix", "encode", "decode", "subtype"),
    [
        ("alaw", ".wav", alaw_encode, alaw_decode, "ALAW"),
        ("alaw", ".al", alaw_encode, alaw_decode, "ALAW"),
        ("ulaw", ".wav", ulaw_encode, ulaw_decode, "ULAW"),
        ("ulaw", ".mu", ulaw_encode, ulaw_decode, "ULAW"),
    ],
)
def test_g711_files_hold_exactly_the_g711_codes(
    tmp_path: Path,
    codec: str,
    suffix: str,
    encode: Callable[[np.ndarray], np.ndarray],
    decode: Callable[[np.ndarray], np.ndarray],
    subtype: str,
) -> None:
    # Every int16 value, including those libsndfile's own encoder rounds differently.
    x = np.arange(-32768, 32768, dtype=np.int16)
    path = tmp_path / f"all{suffix}"
    write_audio(path, x, codec=codec)
    audio = read_audio(path)
    np.testing.assert_array_equal(audio.samples[0], decode(encode(x)))
    assert audio.subtype == subtype
    if suffix != ".wav":
        assert audio.format == "RAW"
        np.testing.assert_array_equal(np.fromfile(path, dtype=np.uint8), encode(x))


def test_float_samples_are_int16_units_rounded_and_saturated(tmp_path: Path) -> None:
    x = np.array([0.4, 0.6, -1.5, 1234.5, 40000.0, -40000.0])
    write_audio(tmp_path / "f.wav", x)
    assert read_audio(tmp_path / "f.wav").samples[0].tolist() == [0, 1, -2, 1234, 32767, -32768]


@pytest.mark.parametrize(
    ("codec", "suffix"),
    [("pcm16", ".wav"), ("alaw", ".wav"), ("ulaw", ".wav"), ("ima_adpcm", ".wav"), ("mp3", ".mp3")],
)
def test_one_row_per_channel(tmp_path: Path, codec: str, suffix: str) -> None:
    # For MP3 this is also the regression test for libsndfile's garbled int16 stereo.
    freqs = [500.0, 1000.0, 1500.0] if codec in ("pcm16", "alaw", "ulaw") else [500.0, 1500.0]
    x = np.stack([to_int16(sines([f], N, level_dbm0=LEVEL)) for f in freqs])
    path = tmp_path / f"multi{suffix}"
    write_audio(path, x, codec=codec)
    audio = read_audio(path)
    assert audio.channels == len(freqs)
    assert audio.frames >= N
    for row, f in zip(audio.samples, freqs, strict=True):
        assert peak_freqs(row[STEADY], 1) == pytest.approx([f], abs=1.5)
        assert level_dbm0(row[STEADY]) == pytest.approx(LEVEL, abs=0.5)
    if codec == "pcm16":
        np.testing.assert_array_equal(audio.samples, x)


@pytest.mark.parametrize("source_fs", [11025, 16000, 22050, 44100, 48000])
def test_resampling_to_8000_keeps_a_tone(tmp_path: Path, source_fs: int) -> None:
    n = source_fs  # one second
    x = to_int16(sines([1000.0], n, fs=source_fs, level_dbm0=LEVEL))
    write_audio(tmp_path / "wide.wav", x, fs=source_fs)
    audio = read_audio(tmp_path / "wide.wav", fs=FS)
    assert (audio.fs, audio.source_fs) == (FS, source_fs)
    assert audio.frames == math.ceil(n * FS / source_fs)
    y = audio.samples[0, STEADY]
    assert peak_freqs(y, 1) == pytest.approx([1000.0], abs=1.5)
    assert level_dbm0(y) == pytest.approx(LEVEL, abs=0.5)


def test_resampling_up(tmp_path: Path) -> None:
    write_audio(tmp_path / "line.wav", TONE)
    audio = read_audio(tmp_path / "line.wav", fs=16000)
    assert (audio.fs, audio.source_fs, audio.frames) == (16000, FS, 2 * N)
    y = audio.samples[0, 2000:14000]
    assert peak_freqs(y, 1, fs=16000) == pytest.approx([1000.0], abs=1.5)
    assert level_dbm0(y) == pytest.approx(LEVEL, abs=0.5)


def test_resampling_saturates(tmp_path: Path) -> None:
    # A full-scale square wave overshoots when band-limited; it must clip, not wrap.
    square = np.where(np.arange(N) % 16 < 8, 32767, -32768).astype(np.int16)
    write_audio(tmp_path / "sq.wav", square, fs=16000)
    y = read_audio(tmp_path / "sq.wav", fs=FS).samples[0]
    assert y.max() == 32767
    assert y.min() == -32768


def test_vox_rate_is_the_callers_to_give(tmp_path: Path) -> None:
    x = to_int16(sines([1000.0], 6000, fs=6000, level_dbm0=LEVEL))
    write_audio(tmp_path / "menu.vox", x, fs=6000, codec="vox")
    audio = read_audio(tmp_path / "menu.vox", vox_rate=6000)
    assert (audio.fs, audio.source_fs, audio.frames) == (FS, 6000, N)
    assert (audio.format, audio.subtype) == ("RAW", "VOX_ADPCM")
    assert peak_freqs(audio.samples[0, STEADY], 1) == pytest.approx([1000.0], abs=1.5)
    # Nothing in the file says 6000 Hz: read at 8000 Hz the tone comes out a third high.
    wrong = read_audio(tmp_path / "menu.vox")
    assert peak_freqs(wrong.samples[0, 1000:5000], 1) == pytest.approx([1333.3], abs=2.5)


def test_audio_properties(tmp_path: Path) -> None:
    write_audio(tmp_path / "a.wav", np.zeros((2, 4000), dtype=np.int16))
    audio = read_audio(tmp_path / "a.wav")
    assert isinstance(audio, Audio)
    assert (audio.channels, audio.frames, audio.duration) == (2, 4000, 0.5)
    assert audio.path == tmp_path / "a.wav"


# --- bad files -------------------------------------------------------------------------


def _wav_bytes(tmp_path: Path) -> bytes:
    write_audio(tmp_path / "good.wav", TONE)
    return (tmp_path / "good.wav").read_bytes()


def _read_error(path: Path, *, strict: bool = False) -> AudioFileError:
    with pytest.raises(AudioFileError) as info:
        read_audio(path, strict=strict)
    assert path.name in str(info.value)
    assert info.value.path == path
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    assert _read_error(tmp_path / "nothing.wav").reason == "file not found"


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "prompts.wav").mkdir()
    assert "directory" in _read_error(tmp_path / "prompts.wav").reason


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "blank.wav").write_bytes(b"")
    assert "empty" in _read_error(tmp_path / "blank.wav").reason


def test_truncated_in_data_reads_what_is_there_and_warns(tmp_path: Path) -> None:
    data = _wav_bytes(tmp_path)
    header = len(data) - 2 * N
    (tmp_path / "cut.wav").write_bytes(data[: header + 2 * 3000 + 1])
    with pytest.warns(AudioFileWarning, match=r"cut\.wav: truncated WAV data"):
        audio = read_audio(tmp_path / "cut.wav")
    np.testing.assert_array_equal(audio.samples[0], TONE[:3000])


def test_truncated_in_data_is_an_error_when_strict(tmp_path: Path) -> None:
    data = _wav_bytes(tmp_path)
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    err = _read_error(tmp_path / "cut.wav", strict=True)
    assert str(err).endswith(
        f"truncated WAV data (expected {2 * N} bytes, got {len(data) // 2 - 44})"
    )


@pytest.mark.parametrize("keep", [4, 12, 20, 36])
def test_truncated_in_header(tmp_path: Path, keep: int) -> None:
    (tmp_path / "stub.wav").write_bytes(_wav_bytes(tmp_path)[:keep])
    _read_error(tmp_path / "stub.wav")


def test_header_with_no_data_at_all(tmp_path: Path) -> None:
    # A header cut right where the data starts still says how much should follow.
    (tmp_path / "hollow.wav").write_bytes(_wav_bytes(tmp_path)[:44])
    with pytest.warns(AudioFileWarning, match="expected 16000 bytes, got 0"):
        assert read_audio(tmp_path / "hollow.wav").samples.shape == (1, 0)


def test_unknown_data_length_reads_to_the_end(tmp_path: Path) -> None:
    # Streaming writers put 0xFFFFFFFF in the data size; that is not truncation.
    data = bytearray(_wav_bytes(tmp_path))
    data[40:44] = b"\xff\xff\xff\xff"
    (tmp_path / "stream.wav").write_bytes(bytes(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(read_audio(tmp_path / "stream.wav").samples[0], TONE)


@pytest.mark.parametrize("name", ["noise.wav", "noise.mp3", "noise.aiff"])
def test_garbage(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(np.random.default_rng(3).bytes(4000))
    assert "not a recognisable" in _read_error(tmp_path / name).reason


@pytest.mark.parametrize("name", ["prompt.txt", "prompt.docx", "prompt"])
def test_unsupported_extension(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(_wav_bytes(tmp_path))  # good audio, wrong name
    assert "unsupported file type" in _read_error(tmp_path / name).reason


def test_audio_file_error_pickles() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(AudioFileError("line.wav", "empty file (0 bytes)")))
    assert (str(err), err.path, err.reason) == (
        "line.wav: empty file (0 bytes)",
        Path("line.wav"),
        "empty file (0 bytes)",
    )


# --- bad arguments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "samples", "codec", "fs", "match"),
    [
        ("a.wav", TONE, "g729", 8000, "'g729'"),
        ("a.wav", TONE, "vox", 8000, "'.wav'"),
        ("a.mp3", TONE, "pcm16", 8000, "'.mp3'"),
        ("a.alaw", TONE, "ulaw", 8000, "'.alaw'"),
        ("a", TONE, "pcm16", 8000, "no extension"),
        ("a.vox", np.stack([TONE, TONE]), "vox", 8000, "2 channels"),
        ("a.wav", TONE, "gsm610", 16000, "fs=16000"),
        ("a.wav", np.stack([TONE, TONE]), "gsm610", 8000, "2 channel"),
        ("a.mp3", TONE, "mp3", 6000, "fs=6000"),
        ("a.mp3", np.zeros((3, 10), np.int16), "mp3", 8000, "3 channels"),
        ("a.wav", np.zeros((3, 10), np.int16), "ima_adpcm", 8000, "3 channels"),
        ("a.mp3", np.zeros(0, np.int16), "mp3", 8000, "empty"),
        ("a.ul", TONE, "ulaw", 16000, "fs=16000"),
        ("a.wav", TONE, "pcm16", 0, "got 0"),
        ("a.wav", TONE, "pcm16", 8000.5, "8000.5"),
        ("a.wav", TONE.astype(np.int32), "pcm16", 8000, "int32"),
        ("a.wav", np.zeros((1, 2, 3), np.int16), "pcm16", 8000, r"\(1, 2, 3\)"),
        ("a.wav", np.zeros((0, 3), np.int16), "pcm16", 8000, r"\(0, 3\)"),
        ("a.wav", np.array([0.0, np.nan]), "pcm16", 8000, "NaN"),
    ],
)
def test_write_rejects(
    tmp_path: Path, name: str, samples: npt.ArrayLike, codec: str, fs: Any, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        write_audio(tmp_path / name, samples, fs=fs, codec=codec)
    assert not (tmp_path / name).exists()


def test_write_to_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match="does not exist"):
        write_audio(tmp_path / "no" / "such" / "out.wav", TONE)


def test_write_over_a_directory(tmp_path: Path) -> None:
    (tmp_path / "out.wav").mkdir()
    with pytest.raises(AudioFileError, match=r"out\.wav: is a directory"):
        write_audio(tmp_path / "out.wav", TONE)


@pytest.mark.parametrize(("fs", "vox_rate"), [(-8000, 8000), (8000, 0)])
def test_read_rejects_bad_rates(tmp_path: Path, fs: int, vox_rate: int) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        read_audio(tmp_path / "a.wav", fs=fs, vox_rate=vox_rate)


def test_libsndfile_alone_is_not_g711_exact(tmp_path: Path) -> None:
    # Why write_audio quantises A-law/μ-law itself: libsndfile's encoder rounds some
    # negative samples one step away from G.711. If this starts failing, the workaround in
    # write_audio can go.
    x = np.arange(-32768, 32768, dtype=np.int16)
    sf.write(tmp_path / "lib.al", x, FS, format="RAW", subtype="ALAW")
    assert np.count_nonzero(np.fromfile(tmp_path / "lib.al", dtype=np.uint8) != alaw_encode(x))


# --- regressions ------------------------------------------------------------------------------


def test_recording_never_closed_is_read_with_a_warning(tmp_path: Path) -> None:
    """A writer killed mid-call leaves 0 in the WAV sizes; the audio must still be read."""
    x = (np.random.default_rng(71).standard_normal(8000) * 1000).astype(np.int16)
    path = tmp_path / "killed.wav"
    write_audio(path, x)
    raw = bytearray(path.read_bytes())
    at = raw.index(b"data")
    raw[at + 4 : at + 8] = bytes(4)
    raw[4:8] = bytes(4)
    path.write_bytes(bytes(raw))
    with pytest.warns(AudioFileWarning, match="never closed"):
        audio = read_audio(path)
    np.testing.assert_array_equal(audio.samples[0], x)


def test_failed_write_leaves_the_old_file_alone(tmp_path: Path) -> None:
    x = (np.random.default_rng(72).standard_normal(800) * 1000).astype(np.int16)
    path = tmp_path / "keep.wav"
    write_audio(path, x)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"\(channels, samples\)"):
        write_audio(path, np.stack([x, x]).T)  # soundfile's (samples, channels) by mistake
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.wav"]


def test_vox_with_an_odd_number_of_samples(tmp_path: Path) -> None:
    x = (np.random.default_rng(73).standard_normal(1001) * 1000).astype(np.int16)
    write_audio(tmp_path / "odd.vox", x, codec="vox")
    assert read_audio(tmp_path / "odd.vox").samples.shape == (1, 1002)


def test_absurd_rates_are_refused(tmp_path: Path) -> None:
    write_audio(tmp_path / "a.wav", np.zeros(80, np.int16))
    with pytest.raises(ValueError, match="at most"):
        read_audio(tmp_path / "a.wav", fs=10**9)
