"""Make boardcc/samples/line-sample.wav, the line recording `./run` decodes.

What a trunk hears on a short inbound call: caller ID as a Chinese exchange sends it between
the first and second ring (Bell 202 FSK, MDMF), then, once answered, the IVR greeting
(espeak-ng, Mandarin then English), the caller keying 1 0 0 8 6 #, a pause, ringback while
the call is transferred, some talk, and busy tone once the far end hangs up (how a Chinese
exchange tells an analog trunk the caller is gone). Stored as 8 kHz A-law WAV so that the
sample also exercises a telephony codec. Run from the repository root with espeak-ng installed:

    .venv/bin/python scripts/make_sample.py
"""

from __future__ import annotations

import subprocess
from io import BytesIO
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from boardcc.dsp.audio import write_audio
from boardcc.dsp.callerid import caller_id_fsk
from boardcc.dsp.dtmf import dtmf_tones
from boardcc.dsp.levels import level_dbm0
from boardcc.dsp.signals import add_noise, to_int16
from boardcc.dsp.tones import plan_tone

FS = 8000
OUT = Path(__file__).resolve().parent.parent / "boardcc" / "samples" / "line-sample.wav"


def speech(text: str, voice: str, dbm0: float) -> np.ndarray:
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "150", "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    x, rate = sf.read(BytesIO(wav), dtype="float64")
    x = resample_poly(x, FS, rate)
    return x * 10 ** ((dbm0 - level_dbm0(x)) / 20)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * FS))


def main() -> None:
    parts = [
        silence(0.3),
        caller_id_fsk(
            number="13812345678",
            name="ZHANG SAN",
            datetime="11221530",
            standard="bell202",
            format="mdmf",
            level_dbm0=-14,
        ).astype(float),
        silence(1.5),
        speech("您好，欢迎致电。", "cmn", -18),
        silence(0.3),
        speech("Welcome. Please enter your account number.", "en-us", -18),
        silence(0.8),
        dtmf_tones("100", level_dbm0=-12, twist_db=2, on_ms=90, off_ms=110).astype(float),
        silence(0.25),
        dtmf_tones("86#", level_dbm0=-14, twist_db=1, on_ms=70, off_ms=130).astype(float),
        silence(1.0),
        plan_tone("cn", "ringback", 5500, level_dbm0=-16).astype(float),
        speech("喂，你好。", "cmn", -20),
        silence(0.6),
        plan_tone("cn", "busy", 3500, level_dbm0=-15).astype(float),
    ]
    line = np.concatenate(parts)
    line = add_noise(line, 45, np.random.default_rng(2026), signal_power=1.0e6)
    write_audio(OUT, to_int16(line), fs=FS, codec="alaw")
    print(f"wrote {OUT} ({len(line) / FS:.1f} s)")


if __name__ == "__main__":
    main()
