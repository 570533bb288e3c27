"""Make boardcc/samples/prompts/*.wav, the prompts of the sample site file.

`boardcc init` copies them next to the site file it writes, where an installer replaces
them with the site's own recordings. Each is a short espeak-ng greeting, Mandarin then
English, at a level a telephone line carries well (-18 dBm0), stored as 8 kHz mono A-law
WAV: the format voice boards play, and half the size of 16-bit PCM. Run from the
repository root with espeak-ng installed:

    .venv/bin/python scripts/make_prompts.py
"""

from __future__ import annotations

import subprocess
from io import BytesIO
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
from scipy.signal import resample_poly

from boardcc.dsp.audio import write_audio
from boardcc.dsp.levels import level_dbm0
from boardcc.dsp.signals import to_int16

FS = 8000
OUT = Path(__file__).resolve().parent.parent / "boardcc" / "samples" / "prompts"

#: Prompt name: what it says, in Mandarin and in English.
PROMPTS = {
    "welcome": ("您好，欢迎致电。", "Hello, welcome."),
    "closed": ("现在已下班，请稍后再拨。", "We are closed. Please call later."),
}


def speech(text: str, voice: str, dbm0: float) -> npt.NDArray[np.float64]:
    """`text` spoken by espeak-ng's `voice` at 8 kHz, at `dbm0`, without the silence
    espeak-ng puts around it (the pauses are set in `main`)."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "180", "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    data, rate = sf.read(BytesIO(wav), dtype="float64")
    x = np.asarray(resample_poly(data, FS, rate), dtype=np.float64)
    heard = np.flatnonzero(np.abs(x) > 1e-3)
    x = x[heard[0] : heard[-1] + 1]
    gain: float = 10 ** ((dbm0 - level_dbm0(x)) / 20)
    return x * gain


def silence(seconds: float) -> npt.NDArray[np.float64]:
    return np.zeros(int(seconds * FS))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (chinese, english) in PROMPTS.items():
        parts = [
            silence(0.2),
            speech(chinese, "cmn", -18),
            silence(0.5),
            speech(english, "en-us", -18),
            silence(0.2),
        ]
        audio = np.concatenate(parts)
        path = OUT / f"{name}.wav"
        write_audio(path, to_int16(audio), fs=FS, codec="alaw")
        print(f"wrote {path} ({len(audio) / FS:.1f} s)")


if __name__ == "__main__":
    main()
