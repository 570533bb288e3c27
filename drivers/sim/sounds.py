"""The sounds of the simulated far ends, made once and kept in the clip bank.

Exchange tones come from the board's tone plan (China's 450 Hz plan by default) as one
cadence period that loops; keys from `boardcc.dsp.dtmf_tones` with a person's timing;
caller ID from the caller-ID generators; speech either from audio files or generated:
voiced syllables (a glottal pulse train whose pitch moves, through two formant
resonators, under a syllable envelope with pauses), which a voice detector takes for voice
and which does not talk off a DTMF receiver.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy import signal as sps

from boardcc.drivers.sim.steps import Press, Speak
from boardcc.dsp import (
    caller_id_dtmf,
    caller_id_fsk,
    dtmf_tones,
    load_plan,
    read_audio,
    sine_amplitude,
)
from boardcc.dsp.players import Bank
from boardcc.dsp.signals import cadenced, sines

if TYPE_CHECKING:
    from boardcc.drivers.sim.exchange import CallerIdSpec

F64 = npt.NDArray[np.float64]
Clip = tuple[int, int]

TONE_LEVEL_DBM0 = -10.0  # exchange tones
SPEECH_LEVEL_DBM0 = -18.0  # active speech level of a caller
SPEECH_VARIANTS = 8  # distinct generated utterances, cycled
UTTERANCE_S = 12.0  # each; longer speech repeats it


class Sounds:
    """Clips for one board, stored in its `Bank` and reused by key."""

    def __init__(self, bank: Bank, plan: str, fs: int) -> None:
        self.bank, self.fs = bank, fs
        self.plan = load_plan(plan)
        self._speech_turn = 0

    def samples(self, seconds: float) -> int:
        return max(1, round(seconds * self.fs))

    # -- exchange ---------------------------------------------------------------------------

    def plan_tone(self, name: str) -> Clip:
        """One loopable period of a tone of the plan (a second of a continuous tone)."""

        def make() -> F64:
            tone = self.plan.tone(name)
            period = sum(tone.cadence_ms) if tone.cadence_ms else 1000.0
            return cadenced(
                tone.freqs, tone.cadence_ms, period, fs=self.fs, level_dbm0=TONE_LEVEL_DBM0
            )

        return self.bank.cached(("plan", name), make)

    def not_in_service(self) -> Clip:
        """Special information tone (950/1400/1800 Hz, ITU-T E.180) then an announcement."""

        def make() -> F64:
            n = self.samples(0.330)
            gap = np.zeros(self.samples(0.030))
            parts: list[F64] = []
            for f in (950.0, 1400.0, 1800.0):
                parts += [sines([f], n, fs=self.fs, level_dbm0=-14.0), gap]
            parts += [np.zeros(self.samples(0.5)), speech_like(2.5, 11, self.fs)]
            parts.append(np.zeros(self.samples(1.0)))
            return np.concatenate(parts)

        return self.bank.cached(("sit",), make)

    def answering_machine(self, greeting_s: float) -> Clip:
        """A greeting, then the beep after which it records."""

        def make() -> F64:
            beep = sines([1000.0], self.samples(0.5), fs=self.fs, level_dbm0=-10.0)
            pause = np.zeros(self.samples(0.3))
            return np.concatenate([speech_like(greeting_s, 23, self.fs), pause, beep])

        return self.bank.cached(("machine", round(greeting_s, 2)), make)

    def fax_ced(self) -> Clip:
        """An answering fax: 2100 Hz for 3.3 s (ITU-T V.25)."""
        return self.bank.cached(
            ("ced",), lambda: sines([2100.0], self.samples(3.3), fs=self.fs, level_dbm0=-12.0)
        )

    def fax_cng(self) -> Clip:
        """One period of a calling fax's CNG: 1100 Hz, 0.5 s on, 3 s off (ITU-T T.30)."""
        return self.bank.cached(
            ("cng",),
            lambda: cadenced([1100.0], [500.0, 3000.0], 3500.0, fs=self.fs, level_dbm0=-10.0),
        )

    def caller_id(self, spec: CallerIdSpec) -> Clip:
        """The caller-ID signal for a `CallerIdSpec` (Bell 202 or V.23 FSK, or DTMF)."""
        if spec.mode == "dtmf":
            x = caller_id_dtmf(
                spec.number or None,
                absence=None if spec.number else (spec.absence or "O"),
                fs=self.fs,
            )
        else:
            x = caller_id_fsk(
                number=spec.number or None,
                name=spec.name,
                datetime=spec.datetime,
                number_absence=None if spec.number else (spec.absence or "O"),
                standard="v23" if spec.mode == "v23" else spec.standard,
                format=spec.format,
                fs=self.fs,
            )
        return self.bank.add(x)

    # -- people -----------------------------------------------------------------------------

    def speak(self, step: Speak) -> Clip:
        """The clip a `Speak` step says."""
        level = step.level_dbm0
        if step.file is not None:
            path = Path(step.file)

            def from_file() -> F64:
                audio = read_audio(path, fs=self.fs)
                x = audio.samples.astype(np.float64).mean(axis=0)
                return x if level is None else _at_level(x, level)

            return self.bank.cached(("file", str(path.resolve()), level), from_file)
        if step.speech is not None:
            # Speech of any length is one of a few stored utterances, repeated: a thousand
            # callers talking for random times must not store a thousand recordings.
            variant = self._speech_turn % SPEECH_VARIANTS
            self._speech_turn += 1

            def speech() -> F64:
                x = speech_like(UTTERANCE_S, variant, self.fs)
                return x if level is None else _at_level(x, level)

            return self.bank.cached(("speech", variant, level), speech)
        tone = step.tone
        freqs = tuple(tone) if isinstance(tone, tuple) else (float(tone or 0.0),)

        def make_tone() -> F64:
            n = self.samples(step.seconds)
            return sines(freqs, n, fs=self.fs, level_dbm0=-10.0 if level is None else level)

        return self.bank.cached(("tone", freqs, round(step.seconds, 3), level), make_tone)

    def keys(self, step: Press, rng: np.random.Generator) -> Clip:
        """The clip of a `Press` step: each key with its own timing and twist."""
        parts: list[npt.NDArray[np.int16]] = []
        for key in step.digits.replace(" ", ""):
            if key == ",":
                parts.append(np.zeros(self.fs, np.int16))
                continue
            on = step.on_ms if step.on_ms is not None else float(rng.uniform(70, 130))
            off = step.off_ms if step.off_ms is not None else float(rng.uniform(80, 250))
            twist = float(rng.uniform(0.0, 3.0))  # telephones send the column tone louder
            parts.append(
                dtmf_tones(
                    key,
                    fs=self.fs,
                    level_dbm0=step.level_dbm0,
                    twist_db=twist,
                    on_ms=on,
                    off_ms=off,
                )
            )
        if not parts:
            raise ValueError(f"press needs at least one key, got {step.digits!r}")
        return self.bank.add(np.concatenate(parts))


def _at_level(x: F64, level_dbm0: float) -> F64:
    """Scale so the active (non-silent) part has mean power `level_dbm0`."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    active = np.abs(x) > 1e-3 * peak
    power = float(np.mean(x[active] ** 2)) if active.any() else 0.0
    if power <= 0.0:
        return x
    target = sine_amplitude(level_dbm0) ** 2 / 2.0
    return x * np.sqrt(target / power)


@lru_cache(maxsize=64)
def _speech_cached(seconds: float, variant: int, fs: int) -> F64:
    rng = np.random.default_rng(1000 + variant)
    n = max(1, round(seconds * fs))
    t = np.arange(n) / fs
    # Pitch: a slow intonation contour plus jitter, 90-220 Hz.
    f0 = 140.0 + 45.0 * np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * t + rng.uniform(0, 6))
    f0 += np.cumsum(rng.normal(0.0, 0.4, n))
    f0 = np.clip(f0, 90.0, 220.0)
    phase = np.cumsum(f0) / fs
    pulses = (phase % 1.0) - 0.5  # sawtooth: every harmonic, falling 6 dB/octave
    x = pulses.copy()
    for formant, bw in ((rng.uniform(450, 750), 90.0), (rng.uniform(1100, 1900), 120.0)):
        r = np.exp(-np.pi * bw / fs)
        a = [1.0, -2 * r * np.cos(2 * np.pi * formant / fs), r * r]
        x = x + 0.8 * sps.lfilter([1.0 - r], a, pulses)
    # Syllables of 120-300 ms with short gaps, in phrases with longer pauses.
    env = np.zeros(n)
    pos = 0
    while pos < n:
        syl = round(rng.uniform(0.12, 0.30) * fs)
        m = min(syl, n - pos)
        env[pos : pos + m] = np.sin(np.pi * np.arange(m) / syl) ** 0.7
        pos += syl + round(rng.uniform(0.03, 0.08) * fs)
        if rng.uniform() < 0.15:
            pos += round(rng.uniform(0.25, 0.5) * fs)
    sos = sps.butter(4, (200.0, 3400.0), btype="bandpass", fs=fs, output="sos")
    y = sps.sosfilt(sos, x * env)
    return _at_level(y, SPEECH_LEVEL_DBM0)


def speech_like(seconds: float, variant: int, fs: int) -> F64:
    """`seconds` of a generated speech-like signal at -18 dBm0 active level."""
    return _speech_cached(round(float(seconds), 3), int(variant), int(fs))
