"""Music on hold (等待音乐): classes of music from folders, each decoded once for everyone.

A class is a folder of audio files (WAV in any codec, MP3, VOX ...; see
`boardcc.dsp.read_audio`), played in the order of their names with a second of quiet
between them, then again from the start. `load_class` decodes a folder once, at start; the
mixer stores it as one looping clip (`boardcc.media.Mixer.add_music`) and every channel
that listens to the class plays that clip from the same origin, so all held callers of a
class hear the same moment of it — one decode, one clip, and each tick one gather for all
listeners at once, whatever their number (`boardcc.dsp.players`).

A site that configures no class named ``default`` gets `builtin_tune` under that name, so
that queues and hold always have something to play.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from boardcc.dsp import AudioFileError, read_audio
from boardcc.dsp.levels import sine_amplitude

F32 = npt.NDArray[np.float32]

DEFAULT_CLASS = "default"
#: Files a class folder may hold (others, such as a README, are left alone).
MUSIC_SUFFIXES = frozenset({".wav", ".mp3", ".vox", ".alaw", ".ulaw", ".au", ".flac", ".ogg"})
#: Quiet between two pieces of a class.
GAP_S = 1.0


class MusicError(ValueError):
    """A music class that cannot be used: the folder, the file and the reason."""


def load_class(folder: str | Path, *, fs: int = 8000) -> F32:
    """Every music file of `folder`, by name, decoded at `fs` and joined (int16 scale).

    Raises
    ------
    MusicError
        If the folder is missing, holds no music file, or a file cannot be decoded.
    """
    path = Path(folder)
    if not path.is_dir():
        raise MusicError(f"music on hold: no folder {path} / 等待音乐目录不存在")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in MUSIC_SUFFIXES)
    if not files:
        raise MusicError(
            f"music on hold: {path} holds no music file ({', '.join(sorted(MUSIC_SUFFIXES))}) "
            "/ 目录中没有音乐文件"
        )
    gap = np.zeros(round(GAP_S * fs), np.float32)
    pieces: list[F32] = []
    for f in files:
        try:
            audio = read_audio(f, fs=fs)
        except AudioFileError as exc:
            raise MusicError(f"music on hold: {exc}") from None
        pieces += [audio.samples.astype(np.float32).mean(axis=0), gap]
    return np.concatenate(pieces)


def builtin_tune(*, fs: int = 8000, level_dbm0: float = -20.0) -> F32:
    """A quiet tune of single notes (never two at once, so that its echo cannot pass for a
    DTMF key; none near the 450 Hz of China's call-progress tones), 12.8 s long."""
    # A pentatonic phrase, answered an octave lower: C6 A5 G5 E5 D5 E5 G5 C5 ...
    notes = [1047, 880, 784, 659, 587, 659, 784, 523, 587, 659, 523, 587, 784, 659, 587, 523]
    beat = round(0.4 * fs)
    t = np.arange(beat) / fs
    envelope = np.minimum(1.0, t / 0.02) * np.exp(-3.0 * t)
    amplitude = sine_amplitude(level_dbm0)
    out = [
        (amplitude * envelope * np.sin(2 * np.pi * f * t)).astype(np.float32)
        for f in notes + notes[::-1]
    ]
    return np.concatenate(out)
