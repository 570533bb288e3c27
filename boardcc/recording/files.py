"""A recording file written a piece at a time, whole on disk after every piece.

`boardcc.dsp.write_audio` writes a file in one go; a call is recorded while it lasts, and
the engine may be killed at any moment, so a recording must be a playable file after every
piece written, not only once closed (DESIGN "Nothing lost"). libsndfile (through
`soundfile`) does the codecs; after each piece `RecordingFile.sync` has it rewrite the WAV
header (``SFC_UPDATE_HEADER_NOW``, libsndfile's documented command, sent through soundfile's
handle because soundfile has no method for it), so the sizes on disk cover what was written.
The data goes to the operating system with plain ``write`` calls (libsndfile keeps no stdio
buffer), so a kill -9 loses nothing written; only what the codec holds back for its next
block (under 65 ms for IMA ADPCM, 40 ms for GSM 6.10) is not yet there.

Headerless VOX needs no fix-up. MP3 is written at a constant bit rate: a variable-rate
stream's first frame is a Xing header that libsndfile fills in only at close, and until
then a reader takes the first frame's rate for the whole stream and stops at a quarter of
it; a constant-rate stream is read to its end whatever its header says. A-law and μ-law go
through `boardcc.dsp.g711` first, as in `write_audio`, so that the codes on disk are
G.711's.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
from soundfile import _ffi, _snd  # for SFC_UPDATE_HEADER_NOW, which soundfile does not wrap

from boardcc.dsp import AudioFileError, alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

I16 = npt.NDArray[np.int16]

#: libsndfile's command "write the header now, with the sizes so far" (sndfile.h).
SFC_UPDATE_HEADER_NOW = 0x1060

#: Codec -> libsndfile container and subtype.
CONTAINERS = {
    "pcm16": ("WAV", "PCM_16"),
    "alaw": ("WAV", "ALAW"),
    "ulaw": ("WAV", "ULAW"),
    "ima_adpcm": ("WAV", "IMA_ADPCM"),
    "gsm610": ("WAV", "GSM610"),
    "vox": ("RAW", "VOX_ADPCM"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}

# libsndfile's errors and the short write soundfile asserts against (a full disk).
WRITE_ERRORS = (sf.LibsndfileError, RuntimeError, OSError, AssertionError)


class RecordingFile:
    """One recording being written.

    Parameters
    ----------
    path : path
        The file; its folder must exist.
    codec : str
        One of `CONTAINERS`.
    channels : int
        1 (mono) or 2 (stereo).
    fs : int
        Sampling rate.

    Raises
    ------
    AudioFileError
        If the file cannot be created (no such folder, permissions, a full disk).
    """

    def __init__(self, path: str | os.PathLike[str], codec: str, channels: int, fs: int) -> None:
        container, subtype = CONTAINERS[codec]
        self.path = Path(path)
        self.codec, self.channels, self.fs = codec, channels, fs
        self.frames = 0  # samples per channel written
        # Both are needed: soundfile sets neither mode nor rate without a compression level.
        # 0.5 is 32 kbit/s at 8 kHz.
        extra: dict[str, object] = (
            {"bitrate_mode": "CONSTANT", "compression_level": 0.5} if codec == "mp3" else {}
        )
        try:
            self._file = sf.SoundFile(
                self.path,
                "w",
                samplerate=fs,
                channels=channels,
                format=container,
                subtype=subtype,
                **extra,
            )
        except WRITE_ERRORS as exc:
            raise AudioFileError(self.path, f"cannot create the recording: {_why(exc)}") from None

    def write(self, samples: I16) -> None:
        """Append ``(channels, n)`` int16 samples.

        Raises
        ------
        AudioFileError
            If the device refused them (a full disk); the file keeps what it had.
        """
        block = samples
        if self.codec == "alaw":
            block = alaw_decode(alaw_encode(block))
        elif self.codec == "ulaw":
            block = ulaw_decode(ulaw_encode(block))
        frames: npt.NDArray[np.generic] = block.T
        if self.codec == "mp3":  # libsndfile's int16 MP3 path garbles stereo (dsp.audio)
            frames = block.T * np.float32(1.0 / 32768.0)
        try:
            self._file.write(np.ascontiguousarray(frames))
        except WRITE_ERRORS as exc:
            raise AudioFileError(self.path, f"cannot write the recording: {_why(exc)}") from None
        self.frames += samples.shape[1]

    def sync(self) -> None:
        """Make the file on disk whole as far as written (the WAV header's sizes)."""
        if CONTAINERS[self.codec][0] == "WAV":
            _snd.sf_command(self._file._file, SFC_UPDATE_HEADER_NOW, _ffi.NULL, 0)

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def close(self) -> None:
        """Finish the file (the codec's last block, final header). Idempotent; a failure
        (the disk) is swallowed: what was synced stays readable."""
        if self._file.closed:
            return
        with contextlib.suppress(WRITE_ERRORS):
            self._file.close()


def _why(exc: BaseException) -> str:
    if isinstance(exc, sf.LibsndfileError):
        return exc.error_string
    if isinstance(exc, AssertionError):
        return "the device took fewer frames than given (disk full?) / 磁盘已满?"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
