"""Audio files in and out: prompts, recordings and voicemail in the formats telephony uses.

Prompts arrive as WAV (PCM, A-law, μ-law, IMA ADPCM, GSM 6.10), MP3 or headerless Dialogic
VOX; recordings go out in whichever of those a site asks for. libsndfile (through
`soundfile`) does the container and codec work; this module decides the container from the
codec and the file name, brings every input to int16 ``(channels, samples)`` at the rate
the board runs at, and turns every way a file can be bad into one `AudioFileError` that
names the file and the problem, never a traceback from the C library.

Three things libsndfile does not do the way a telephone exchange expects:

* Its A-law and μ-law encoders round some negative samples differently from ITU-T G.711
  (127 and 381 of the 65,536 inputs). Writing therefore quantises with `boardcc.dsp.g711`
  first and hands libsndfile the decoded interval midpoints, which it maps back to exactly
  those codes; the codes on disk are G.711's.
* Its MP3 encoder corrupts stereo written as int16 (libsndfile PR #1106); MP3 is written
  from float32, which that bug does not touch.
* It reads a WAV file whose data stops before its header says (a recording cut off by a
  crash or a full disk) without complaint. `read_audio` checks the RIFF header itself and
  warns, or raises with ``strict=True``.
"""

from __future__ import annotations

import math
import os
import stat
import tempfile
import warnings
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
from scipy import signal as sps

from boardcc.dsp.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from boardcc.dsp.signals import to_int16

__all__ = [
    "Audio",
    "AudioFileError",
    "AudioFileWarning",
    "codecs",
    "read_audio",
    "write_audio",
]

I16 = npt.NDArray[np.int16]
F32 = npt.NDArray[np.float32]
PathLike = str | os.PathLike[str]

#: Rate of headerless A-law and μ-law files: G.711 is defined at 8000 Hz.
G711_RATE = 8000
#: Sampling rates an MPEG-1/2/2.5 Layer III stream can carry.
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)

# Headerless files: libsndfile cannot tell what they hold, so the name must.
_RAW_SUBTYPES = {
    ".alaw": "ALAW",
    ".al": "ALAW",
    ".ulaw": "ULAW",
    ".ul": "ULAW",
    ".mu": "ULAW",
    ".vox": "VOX_ADPCM",
}
# Files with a header, which libsndfile identifies from their content.
_HEADER_SUFFIXES = frozenset(
    {
        ".wav",
        ".wave",
        ".mp3",
        ".aif",
        ".aiff",
        ".aifc",
        ".au",
        ".snd",
        ".flac",
        ".ogg",
        ".oga",
        ".opus",
        ".caf",
        ".w64",
        ".rf64",
        ".voc",
        ".sph",
        ".nist",
        ".sd2",
        ".paf",
        ".pvf",
        ".svx",
        ".iff",
        ".htk",
        ".mat",
        ".sds",
        ".xi",
        ".avr",
        ".wve",
        ".sf",
        ".ircam",
    }
)
# libsndfile error codes for "this is not audio I know": unrecognised format, and a code
# whose text ("File does not exist or is not a regular file") misleads once we have
# checked that the file exists and is regular, since it is what garbage data produces.
_UNRECOGNISED_CODES = frozenset({1, 7})
# Block codecs pad their last block; the WAV `fact` chunk holds the true length, but
# libsndfile only uses it for MS ADPCM. For GSM 6.10 we trim to it. Not for IMA ADPCM:
# libsndfile writes the padded length there, halved again for stereo (4040 for 2 x 8080).
_FACT_TRIMMED_SUBTYPES = frozenset({"GSM610"})
# RIFF data size that means "length unknown" (a writer that streams), not "truncated".
_UNKNOWN_SIZE = 0xFFFFFFFF
# Largest read, in frames: a whole prompt in one go, a long recording in a few.
_READ_BLOCK = 1 << 20
# Errors the file layer can raise for a bad file, as opposed to a bug of ours.
_FILE_ERRORS = (sf.LibsndfileError, RuntimeError, TypeError, OSError, EOFError)


class AudioFileError(Exception):
    """An audio file that cannot be read or written.

    Parameters
    ----------
    path : str or path-like
        The file concerned.
    reason : str
        What is wrong with it, in words an operator can act on.

    Attributes
    ----------
    path : pathlib.Path
    reason : str
    """

    def __init__(self, path: PathLike, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{os.fspath(path)}: {reason}")

    def __reduce__(self) -> tuple[type[AudioFileError], tuple[Path, str]]:
        return type(self), (self.path, self.reason)


class AudioFileWarning(UserWarning):
    """A file that could be read, but not all of it (e.g. a WAV truncated in its data)."""


@dataclass(frozen=True, slots=True)
class Audio:
    """The samples of an audio file and where they came from.

    Attributes
    ----------
    samples : ndarray, shape (channels, n), int16
        One row per channel, at `fs`.
    fs : int
        Sampling rate of `samples` in Hz (the rate asked for).
    source_fs : int
        Sampling rate of the file in Hz.
    format : str
        libsndfile container name: ``"WAV"``, ``"MP3"``, ``"RAW"`` (headerless), ...
    subtype : str
        libsndfile codec name: ``"PCM_16"``, ``"ALAW"``, ``"ULAW"``, ``"IMA_ADPCM"``,
        ``"GSM610"``, ``"VOX_ADPCM"``, ``"MPEG_LAYER_III"``, ...
    path : pathlib.Path
        The file read.
    """

    samples: I16
    fs: int
    source_fs: int
    format: str
    subtype: str
    path: Path

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        """Samples per channel."""
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.fs


@dataclass(frozen=True, slots=True)
class _Codec:
    """How one codec name is written: libsndfile subtype per allowed file suffix."""

    description: str
    containers: dict[str, tuple[str, str]]  # suffix -> (libsndfile format, subtype)


def _wav(subtype: str) -> dict[str, tuple[str, str]]:
    return {".wav": ("WAV", subtype), ".wave": ("WAV", subtype)}


_CODECS: dict[str, _Codec] = {
    "pcm16": _Codec("16-bit linear PCM", _wav("PCM_16")),
    "alaw": _Codec(
        "G.711 A-law",
        _wav("ALAW") | {s: ("RAW", "ALAW") for s, t in _RAW_SUBTYPES.items() if t == "ALAW"},
    ),
    "ulaw": _Codec(
        "G.711 μ-law",
        _wav("ULAW") | {s: ("RAW", "ULAW") for s, t in _RAW_SUBTYPES.items() if t == "ULAW"},
    ),
    "ima_adpcm": _Codec("IMA ADPCM", _wav("IMA_ADPCM")),
    "gsm610": _Codec("GSM 06.10 full rate", _wav("GSM610")),
    "vox": _Codec("Dialogic VOX ADPCM (headerless)", {".vox": ("RAW", "VOX_ADPCM")}),
    "mp3": _Codec("MPEG Layer III", {".mp3": ("MP3", "MPEG_LAYER_III")}),
}


def codecs() -> tuple[str, ...]:
    """Names accepted by ``write_audio(..., codec=...)``."""
    return tuple(_CODECS)


#: Highest rate accepted anywhere: far above telephony, low enough that a typo cannot ask
#: for a resampled signal larger than memory.
MAX_RATE = 384_000


def _check_rate(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"{name} must be a positive integer rate in Hz, got {value!r}")
    if value > MAX_RATE:
        raise ValueError(f"{name} must be at most {MAX_RATE} Hz, got {value}")


def _check_readable(path: Path) -> None:
    """Raise AudioFileError unless `path` is a non-empty regular file we may open."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise AudioFileError(path, "file not found") from None
    except OSError as e:
        raise AudioFileError(path, f"cannot access file ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise AudioFileError(path, "is a directory, not an audio file")
    if not stat.S_ISREG(st.st_mode):
        raise AudioFileError(path, "not a regular file")
    if st.st_size == 0:
        raise AudioFileError(path, "empty file (0 bytes)")
    try:
        with path.open("rb"):
            pass
    except OSError as e:
        raise AudioFileError(path, f"cannot open file ({e.strerror})") from None


@dataclass(frozen=True, slots=True)
class _RiffData:
    """What a WAV header says about its data chunk, and what the file really holds."""

    declared: int
    present: int
    fact_frames: int | None
    header_at: int  # file offset of the data chunk's header


def _riff_data(path: Path) -> _RiffData | None:
    """Walk the chunks of a RIFF/WAVE file up to `data`; None if it is not one or has none.

    Only what libsndfile hides is looked at: the declared and present size of the data, and
    the frame count in `fact`. Everything else about the header is left to libsndfile.
    """
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WAVE":
            return None
        fact_frames = None
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            length = int.from_bytes(chunk[4:], "little")
            if chunk[:4] == b"fact" and length >= 4:
                fact_frames = int.from_bytes(f.read(4), "little")
            elif chunk[:4] == b"data":
                return _RiffData(length, size - pos - 8, fact_frames, pos)
            pos += 8 + length + (length & 1)
    return None


def _wav_problem(riff: _RiffData) -> str | None:
    if riff.declared == _UNKNOWN_SIZE:
        return None
    if riff.declared == 0 and riff.present > 0:
        return (
            f"WAV header declares no data but {riff.present} bytes follow "
            "(a recording that was never closed?)"
        )
    if riff.declared > riff.present:
        return f"truncated WAV data (expected {riff.declared} bytes, got {riff.present})"
    return None


def _unclosed_copy(path: Path, riff: _RiffData) -> Path:
    """A temporary copy of a WAV file whose writer never filled in the sizes, with the
    sizes set to what the file holds, so libsndfile reads the data that is there."""
    data = bytearray(path.read_bytes())
    data[4:8] = (len(data) - 8).to_bytes(4, "little")
    data[riff.header_at + 4 : riff.header_at + 8] = riff.present.to_bytes(4, "little")
    fd, name = tempfile.mkstemp(suffix=".wav")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return Path(name)


def _open_error(path: Path, label: str, e: Exception) -> AudioFileError:
    if isinstance(e, sf.LibsndfileError):
        if e.code in _UNRECOGNISED_CODES:
            return AudioFileError(path, f"not a recognisable {label} file (unknown or damaged)")
        return AudioFileError(path, f"damaged {label} file: {e.error_string}")
    return AudioFileError(path, f"cannot read {label} file: {e}")


def _read_all(handle: sf.SoundFile) -> F32:
    """Every frame of an open file as float32 ``(channels, n)``, in [-1, 1) for PCM.

    Read in blocks until one comes back short, because libsndfile cannot seek in some files
    (GSM 6.10 WAV) and so will not say in advance how much one read should take.
    """
    size = min(max(int(handle.frames), 1024), _READ_BLOCK)
    blocks = []
    while True:
        block = handle.read(size, dtype="float32", always_2d=True)
        blocks.append(block)
        if block.shape[0] < size:
            break
    return np.ascontiguousarray(np.concatenate(blocks).T)


def read_audio(
    path: PathLike, *, fs: int = 8000, vox_rate: int = 8000, strict: bool = False
) -> Audio:
    """Read an audio file as int16 ``(channels, n)`` at `fs`.

    Files with a header (WAV in any codec libsndfile decodes, MP3, AIFF, AU, FLAC, ...)
    are recognised by their content. Headerless files are recognised by their suffix:
    ``.vox`` is Dialogic VOX ADPCM, mono, at `vox_rate`; ``.alaw``/``.al`` and
    ``.ulaw``/``.ul``/``.mu`` are G.711, mono, at 8000 Hz.

    Parameters
    ----------
    path : str or path-like
        The file.
    fs : int
        Rate to return, in Hz (keyword only). Other rates are resampled with a polyphase
        filter (`scipy.signal.resample_poly`, ratio reduced by the gcd), then rounded and
        saturated to int16.
    vox_rate : int
        Rate of ``.vox`` files, in Hz (keyword only). Dialogic VOX carries no header;
        6000 and 8000 Hz are the usual rates.
    strict : bool
        Raise on a WAV file whose data is shorter than its header says, rather than read
        the samples present and warn with `AudioFileWarning` (keyword only).

    Returns
    -------
    Audio

    Raises
    ------
    AudioFileError
        If the file is missing, a directory, empty, of an unknown type, unrecognisable or
        damaged (or truncated, with `strict`). The message names the file and the problem.
    ValueError
        If `fs` or `vox_rate` is not a positive integer.

    Warns
    -----
    AudioFileWarning
        A WAV file truncated in its data, read as far as it goes.
    """
    _check_rate("fs", fs)
    _check_rate("vox_rate", vox_rate)
    p = Path(path)
    _check_readable(p)
    suffix = p.suffix.lower()
    raw_subtype = _RAW_SUBTYPES.get(suffix)
    if raw_subtype is None and suffix not in _HEADER_SUFFIXES:
        known = ", ".join(sorted(_HEADER_SUFFIXES | _RAW_SUBTYPES.keys()))
        shown = repr(suffix) if suffix else "(no extension)"
        raise AudioFileError(p, f"unsupported file type {shown}; known types: {known}")
    label = suffix[1:].upper()

    try:
        riff = _riff_data(p) if raw_subtype is None else None
    except OSError as e:
        raise AudioFileError(p, f"cannot read {label} file ({e.strerror})") from None
    problem = _wav_problem(riff) if riff is not None else None
    if problem is not None and strict:
        raise AudioFileError(p, problem)

    # A recording whose writer was killed before it filled in the sizes is still read.
    unclosed = riff is not None and riff.declared == 0 and riff.present > 0
    source = _unclosed_copy(p, riff) if unclosed and riff is not None else p
    try:
        try:
            if raw_subtype is not None:
                rate = vox_rate if raw_subtype == "VOX_ADPCM" else G711_RATE
                handle = sf.SoundFile(
                    source, samplerate=rate, channels=1, format="RAW", subtype=raw_subtype
                )
            else:
                handle = sf.SoundFile(source)
        except _FILE_ERRORS as e:
            raise _open_error(p, label, e) from None
        try:
            with handle:
                source_fs = int(handle.samplerate)
                data = _read_all(handle)
                file_format, subtype = str(handle.format), str(handle.subtype)
        except (*_FILE_ERRORS, ValueError) as e:
            raise AudioFileError(p, f"cannot decode {label} data: {e}") from None
    finally:
        if source != p:
            with suppress(OSError):
                source.unlink()

    if problem is not None:
        warnings.warn(
            f"{os.fspath(path)}: {problem}; read the {data.shape[1]} frames present",
            AudioFileWarning,
            stacklevel=2,
        )
    if (
        riff is not None
        and riff.fact_frames is not None
        and subtype in _FACT_TRIMMED_SUBTYPES
        and 0 < riff.fact_frames < data.shape[1]
    ):
        data = data[:, : riff.fact_frames]

    scaled = data * np.float32(32768.0)
    if source_fs != fs:
        g = math.gcd(fs, source_fs)
        scaled = sps.resample_poly(scaled, fs // g, source_fs // g, axis=1)
    return Audio(
        samples=to_int16(scaled),
        fs=fs,
        source_fs=source_fs,
        format=file_format,
        subtype=subtype,
        path=p,
    )


def _as_block(samples: npt.ArrayLike) -> I16:
    """`samples` as int16 ``(channels, n)``; floats are in int16 units, rounded, saturated."""
    a = np.asarray(samples)
    if a.ndim not in (1, 2):
        raise ValueError(f"samples must have shape (n,) or (channels, n), got shape {a.shape}")
    if a.ndim == 1:
        a = a[np.newaxis, :]
    if a.shape[0] == 0:
        raise ValueError(f"samples must have at least one channel, got shape {a.shape}")
    if a.dtype == np.int16:
        return a.astype(np.int16, copy=False)
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(
            f"samples must be int16 or floating point (in int16 units), got dtype {a.dtype}"
        )
    if not np.all(np.isfinite(a)):
        raise ValueError("samples contain NaN or infinity")
    return np.asarray(to_int16(a), dtype=np.int16)


def _check_combination(codec: str, container: str, channels: int, fs: int, n: int) -> None:
    """Refuse what the codec or container cannot hold, before any file is created."""
    if channels > n and channels > 2:
        raise ValueError(
            f"samples have {channels} channels of {n} samples each; pass (channels, samples), "
            "not (samples, channels)"
        )
    if container == "RAW" and channels != 1:
        raise ValueError(f"codec {codec!r} writes headerless mono files, got {channels} channels")
    if container == "RAW" and n == 0:
        raise ValueError(f"a headerless {codec} file cannot hold an empty signal")
    if container == "RAW" and codec in ("alaw", "ulaw") and fs != G711_RATE:
        raise ValueError(
            f"headerless {codec} files are read back at {G711_RATE} Hz, got fs={fs}; "
            "resample first or write a .wav"
        )
    if codec == "ima_adpcm" and channels > 2:
        raise ValueError(f"IMA ADPCM WAV holds mono or stereo, got {channels} channels")
    if codec == "gsm610" and (fs != 8000 or channels != 1):
        raise ValueError(f"GSM 06.10 needs 8000 Hz mono, got fs={fs} with {channels} channel(s)")
    if codec == "mp3":
        if fs not in MP3_RATES:
            rates = ", ".join(str(r) for r in MP3_RATES)
            raise ValueError(f"MP3 cannot carry fs={fs}; it supports {rates} Hz")
        if channels > 2:
            raise ValueError(f"MP3 holds mono or stereo, got {channels} channels")
        if n == 0:
            raise ValueError("MP3 cannot hold an empty signal (libsndfile writes a 0-byte file)")


def write_audio(
    path: PathLike, samples: npt.ArrayLike, *, fs: int = 8000, codec: str = "pcm16"
) -> None:
    """Write samples to an audio file in one of the telephony codecs.

    The container follows from the codec and the suffix of `path`:

    ========== ===================================================
    codec      file
    ========== ===================================================
    pcm16      WAV (``.wav``)
    alaw       WAV (``.wav``), or headerless (``.alaw``, ``.al``)
    ulaw       WAV (``.wav``), or headerless (``.ulaw``, ``.ul``, ``.mu``)
    ima_adpcm  WAV (``.wav``)
    gsm610     WAV (``.wav``), 8000 Hz mono only
    vox        headerless Dialogic VOX (``.vox``), mono only
    mp3        MP3 (``.mp3``), mono or stereo, MPEG rates only
    ========== ===================================================

    A-law and μ-law codes are those of ITU-T G.711 (see `boardcc.dsp.g711`). A ``.vox``
    file does not record its rate: read it back with ``vox_rate=fs``.

    Parameters
    ----------
    path : str or path-like
        The file to create or replace.
    samples : array_like, shape (n,) or (channels, n)
        int16, or floating point in int16 units (rounded and saturated).
    fs : int
        Sampling rate in Hz (keyword only).
    codec : str
        One of `codecs()` (keyword only).

    Raises
    ------
    ValueError
        For an unknown codec, a suffix the codec cannot be written to, a bad shape or
        dtype, or a combination the codec cannot hold (e.g. VOX with two channels, GSM 6.10
        at 16000 Hz, MP3 at 6000 Hz). Nothing is written.
    AudioFileError
        If the file cannot be created or written (missing folder, permissions, disk full).
    """
    spec = _CODECS.get(codec)
    if spec is None:
        raise ValueError(f"unknown codec {codec!r}; supported: {', '.join(_CODECS)}")
    _check_rate("fs", fs)
    p = Path(path)
    suffix = p.suffix.lower()
    target = spec.containers.get(suffix)
    if target is None:
        allowed = ", ".join(spec.containers)
        shown = repr(suffix) if suffix else "(no extension)"
        raise ValueError(f"codec {codec!r} cannot be written to a {shown} file; use {allowed}")
    container, subtype = target
    block = _as_block(samples)
    channels, n = block.shape
    _check_combination(codec, container, channels, int(fs), n)
    if codec == "alaw":
        block = alaw_decode(alaw_encode(block))
    elif codec == "ulaw":
        block = ulaw_decode(ulaw_encode(block))

    if p.is_dir():
        raise AudioFileError(p, "is a directory")
    if not p.parent.is_dir():
        raise AudioFileError(p, f"folder {os.fspath(p.parent)!r} does not exist")
    if codec == "vox" and n % 2:
        # VOX packs two samples a byte; libsndfile writes whole bytes only.
        block = np.concatenate([block, np.zeros((channels, 1), block.dtype)], axis=1)
    # libsndfile 1.2.2 garbles stereo MP3 written from int16 (it copies half the bytes it
    # should: libsndfile PR #1106), so MP3 goes through its float path, which is sound.
    frames = block.T if codec != "mp3" else block.T * np.float32(1.0 / 32768.0)
    # Written beside the target and renamed over it, so a failure never destroys what
    # was there before.
    fd, name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=p.suffix, dir=p.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            handle = sf.SoundFile(
                tmp, "w", samplerate=int(fs), channels=channels, format=container, subtype=subtype
            )
        except _FILE_ERRORS as e:
            detail = e.error_string if isinstance(e, sf.LibsndfileError) else str(e)
            raise AudioFileError(p, f"cannot create {spec.description} file: {detail}") from None
        try:
            with handle:
                handle.write(frames)
        # soundfile asserts that every frame was written: short of a full disk, a short
        # write means the device refused the data.
        except (*_FILE_ERRORS, AssertionError) as e:
            reason = str(e) or "the device took fewer frames than given (disk full?)"
            raise AudioFileError(p, f"cannot write {spec.description} data: {reason}") from None
        os.replace(tmp, p)
    finally:
        with suppress(OSError):
            tmp.unlink()
