"""Call-progress, fax and voice-activity detection for every channel at once (SPEC D3).

Why: on an analog trunk the exchange's busy tone is often the only sign that the far end hung
up (外线忙音复位), outbound calls learn how they went from ringback, busy and congestion, and
fax must be told from voice. A false busy drops a live caller, so the detector is strict
about what counts as a tone and exact about cadence, and it runs for hundreds of channels on
one core.

How it works, every 5 ms hop over 20 ms windows:

1. Screening, vectorised over channels and windows. A `SlidingDft` gives each window's
   spectrum at the plan's few frequencies. The components are fitted jointly by least
   squares: the Gram matrix of the window's sines undoes the leakage between close pairs
   such as 440 and 480 Hz, which one 20 ms window cannot resolve on its own. Each
   component's frequency offset comes from its phase advance between consecutive windows,
   and its amplitude is corrected for the window's response at that offset. A window
   carries a *signal* (a set of frequencies that one or more plan tones share) when every
   component is above the plan's minimum level, within its frequency tolerance and the
   allowed twist, and the components together hold at least `energy_ratio` of the window's
   energy. Failing that, a window is voice-active when its level is above the voice
   threshold, else quiet. Each window gets one code: quiet, voice or a signal.

   Offsets are measured only where a signal may be: first every window is put to the level
   and energy tests as they would stand with the largest correction a signal's tolerance
   allows, which every window carrying the signal passes. On trunks in conversation hardly
   any window gets through (tone bursts do), so the cost per window is a few products.

2. Per-channel state machines in Python, visited only when a channel's code changes or one
   of its timers falls due; every decision is taken at a window index, so the events do not
   depend on how the stream is cut into blocks. Talk spurts, where a channel in voice only
   switches between voice and quiet and nothing can be decided, are followed array-wide.

   * Segments: runs of a signal, drop-outs of up to `bridge_ms` bridged, shorter than
     `min_on_ms` ignored. While a tone fills part of a window the energy ratio is the
     fraction it fills, so the ratio of the first and last windows of a run places the
     tone's start and end to within a few milliseconds.
   * Cadence, per signal: the on- and off-periods since an anchor are matched against every
     plan tone sharing the signal, at every phase of its pattern, within
     ``duration * (1 +/- cadence_tolerance_pct / 100) +/- cadence_tolerance_ms``. An
     off-period must also be `off_quieter_db` quieter than the on-period before it: music
     and speech have no silent gaps at a tone's rhythm. Another plan tone, or voice about as
     loud as the tone (the callee answering during ringback), breaks an off-period at once.
     A tone is declared when it is the only plan tone still consistent and it has shown
     `cycles` on-periods followed by `quiet_after_ms` of quiet (continuous tones: when they
     have lasted `confirm_ms`, which a plan must set longer than any on-period of a
     cadenced tone on the same frequencies). It ends when its cadence breaks; the "off"
     event is then dated at the end of its last on-period. When nothing fits, the anchor
     moves forward one on/off pair at a time.
   * Voice: windows above the threshold, gaps shorter than the hangover bridged, declared
     after `min_ms` of activity. A window with a signal in it resets a voice burst not yet
     declared, and a tone segment ends a declared one, so voice is not reported while a
     plan tone is present.

Plans are YAML files (`plans/*.yaml`: ``cn`` by default, ``us``, ``eu``), loaded and validated
by `load_plan`.

References: ITU-T E.180 and its Supplement 2 (tones in national networks), ITU-T T.30 (CNG),
ITU-T V.25 (CED / answer tone).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import yaml

from boardcc.dsp.levels import sine_power
from boardcc.dsp.signals import cadenced, to_int16
from boardcc.dsp.sliding import SlidingDft, Windows

__all__ = [
    "DetectionSettings",
    "PlanTone",
    "ToneDetector",
    "ToneEvent",
    "TonePlan",
    "VoiceSettings",
    "available_plans",
    "detect_tones",
    "load_plan",
    "plan_tone",
]

F64 = npt.NDArray[np.float64]
I16 = npt.NDArray[np.int16]

#: Hop between windows and window length, in seconds and hops (5 ms and 20 ms).
HOP_SECONDS = 0.005
WINDOW_HOPS = 4
#: Name of the voice-activity events; no plan tone may use it.
VOICE = "voice"
#: Distinct frequencies of a plan closer than this cannot be fitted apart in one window.
MIN_FREQ_SPACING_HZ = 30.0
_FREQ_TOLERANCE_HZ = 10.0
_NEVER = 1 << 62
#: Slack of the screening's thresholds, for its float32 arithmetic.
_SCREEN_MARGIN = 0.05
_WRAP = 1 << 64


# --------------------------------------------------------------------------------------
# Plans


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """How strict the detector is; a plan's ``detection:`` section overrides these.

    Attributes
    ----------
    min_level_dbm0 : float
        Lowest level of each component of a tone, in dBm0.
    energy_ratio : float
        Share of a window's energy that a signal's components must hold together (the
        rest is noise, speech or music).
    max_twist_db : float
        Largest level difference between the components of a multi-frequency tone.
    freq_tolerance_hz : float
        Default largest frequency offset of a component; a tone may set its own.
    cadence_tolerance_pct, cadence_tolerance_ms : float
        An on- or off-period of nominal length ``d`` matches when it lies within
        ``d * (1 -/+ pct / 100) -/+ ms``.
    off_quieter_db : float
        How much quieter than the on-period before it an off-period must be.
    quiet_after_ms : float
        A cadenced tone is only declared once the off-period after its last on-period has
        been quiet this long (or the next on-period has started): a burst followed by more
        sound is a note or a vowel, not a tone.
    bridge_ms : float
        Drop-outs of a tone up to this long do not end its on-period.
    min_on_ms : float
        Shorter bursts of a signal are ignored.
    """

    min_level_dbm0: float = -42.0
    energy_ratio: float = 0.75
    max_twist_db: float = 10.0
    freq_tolerance_hz: float = _FREQ_TOLERANCE_HZ
    cadence_tolerance_pct: float = 10.0
    cadence_tolerance_ms: float = 30.0
    off_quieter_db: float = 6.0
    quiet_after_ms: float = 100.0
    bridge_ms: float = 30.0
    min_on_ms: float = 40.0

    def bounds_ms(self, duration_ms: float) -> tuple[float, float]:
        """Shortest and longest period that matches a nominal `duration_ms`."""
        pct = self.cadence_tolerance_pct / 100.0
        lo = duration_ms * (1.0 - pct) - self.cadence_tolerance_ms
        hi = duration_ms * (1.0 + pct) + self.cadence_tolerance_ms
        return max(lo, 0.0), hi


@dataclass(frozen=True, slots=True)
class VoiceSettings:
    """Energy-based voice activity; a plan's ``voice:`` section overrides these.

    Attributes
    ----------
    threshold_dbm0 : float
        Windows (20 ms) at or above this level are active.
    min_ms : float
        Active windows of one burst (gaps within the hangover bridged) must add up to this
        long before voice is reported.
    hangover_ms : float
        Voice ends after this long without activity.
    """

    threshold_dbm0: float = -40.0
    min_ms: float = 80.0
    hangover_ms: float = 300.0


@dataclass(frozen=True, slots=True)
class PlanTone:
    """One tone of a plan.

    Attributes
    ----------
    name : str
        Event name, e.g. ``"busy"``.
    freqs : tuple of float
        Frequencies sounded together, in Hz.
    cadence_ms : tuple of float
        ``(on, off, on, off, ...)``, repeated; empty for a continuous tone.
    cycles : int
        On-periods that must match before a cadenced tone is declared.
    confirm_ms : float
        How long a continuous tone must last before it is declared (0 for cadenced tones).
    freq_tolerance_hz : float
        Largest frequency offset of each component.
    """

    name: str
    freqs: tuple[float, ...]
    cadence_ms: tuple[float, ...] = ()
    cycles: int = 1
    confirm_ms: float = 0.0
    freq_tolerance_hz: float = _FREQ_TOLERANCE_HZ

    @property
    def continuous(self) -> bool:
        return not self.cadence_ms


@dataclass(frozen=True, slots=True)
class TonePlan:
    """A country's tones and the detector settings that go with them (see `load_plan`).

    Attributes
    ----------
    name, description : str
    tones : tuple of PlanTone
    detection : DetectionSettings
    voice : VoiceSettings
    source : str
        File the plan was read from.
    """

    name: str
    tones: tuple[PlanTone, ...]
    description: str = ""
    detection: DetectionSettings = field(default_factory=DetectionSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    source: str = ""

    def tone(self, name: str) -> PlanTone:
        """The tone called `name`; ValueError if the plan has none."""
        for t in self.tones:
            if t.name == name:
                return t
        known = ", ".join(t.name for t in self.tones)
        raise ValueError(f"tone plan {self.name!r} has no tone {name!r}; it has {known}")


_DETECTION_RANGES: dict[str, tuple[float, float]] = {
    "min_level_dbm0": (-80.0, 3.14),
    "energy_ratio": (0.3, 1.0),
    "max_twist_db": (0.0, 40.0),
    # Beyond 30 Hz the 20 ms window has lost 8 dB and the correction would amplify noise.
    "freq_tolerance_hz": (0.5, 30.0),
    "cadence_tolerance_pct": (0.0, 50.0),
    "cadence_tolerance_ms": (0.0, 500.0),
    "off_quieter_db": (0.0, 40.0),
    "quiet_after_ms": (0.0, 1000.0),
    "bridge_ms": (10.0, 200.0),
    "min_on_ms": (10.0, 2000.0),
}
_VOICE_RANGES: dict[str, tuple[float, float]] = {
    "threshold_dbm0": (-80.0, 3.14),
    "min_ms": (5.0, 5000.0),
    "hangover_ms": (0.0, 10000.0),
}
_TONE_KEYS = ("freqs", "cadence_ms", "cycles", "confirm_ms", "freq_tolerance_hz")
_PLAN_KEYS = ("name", "description", "detection", "voice", "tones")


class _PlanReader:
    """A parsed plan file, with the line of every key for error messages."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines: dict[tuple[str, ...], int] = {}
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data: object = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{source}:{mark.line + 1}" if mark is not None else source
            problem = getattr(exc, "problem", None) or str(exc)
            raise ValueError(f"{where}: not valid YAML: {problem}") from None
        if root is not None:
            self._index(root, ())

    def _index(self, node: Any, path: tuple[str, ...]) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = (*path, str(key.value))
                if sub in self.lines:
                    raise self.error(
                        sub,
                        f"given twice (first at line {self.lines[sub]}, "
                        f"again at line {key.start_mark.line + 1})",
                    )
                self.lines[sub] = key.start_mark.line + 1
                self._index(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, (*path, str(i)))

    def error(self, path: Sequence[str], problem: str) -> ValueError:
        p = tuple(path)
        while p and p not in self.lines:
            p = p[:-1]
        line = self.lines.get(p)
        where = f"{self.source}:{line}" if line is not None else self.source
        key = ".".join(path) if path else "(top level)"
        return ValueError(f"{where}: {key}: {problem}")

    def mapping(
        self, value: object, path: Sequence[str], allowed: Sequence[str]
    ) -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.error(path, f"must be a mapping, got {_kind(value)}")
        out: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise self.error(path, f"keys must be names, got {key!r}")
            if allowed and key not in allowed:
                raise self.error((*path, key), f"unknown key; expected one of {', '.join(allowed)}")
            out[key] = item
        return out

    def number(self, value: object, path: Sequence[str], lo: float, hi: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(path, f"must be a number, got {_kind(value)} {value!r}")
        v = float(value)
        if not (lo <= v <= hi):
            raise self.error(path, f"must be between {lo:g} and {hi:g}, got {value!r}")
        return v

    def positive(self, value: object, path: Sequence[str]) -> float:
        v = self.number(value, path, -math.inf, math.inf)
        if not 0 < v < math.inf:
            raise self.error(path, f"must be positive, got {value!r}")
        return v

    def numbers(self, value: object, path: Sequence[str]) -> list[float]:
        if not isinstance(value, list):
            raise self.error(path, f"must be a list of numbers, got {_kind(value)}")
        return [self.positive(v, (*path, str(i))) for i, v in enumerate(value)]


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def _settings(
    reader: _PlanReader, raw: object, key: str, ranges: dict[str, tuple[float, float]]
) -> dict[str, float]:
    if raw is None:
        return {}
    section = reader.mapping(raw, (key,), tuple(ranges))
    return {k: reader.number(v, (key, k), *ranges[k]) for k, v in section.items()}


def _read_tone(reader: _PlanReader, name: str, raw: object, det: DetectionSettings) -> PlanTone:
    if not name:
        raise reader.error(("tones",), "tone names must not be empty")
    path = ("tones", name)
    if name == VOICE:
        raise reader.error(path, f"{VOICE!r} is reserved for voice-activity events")
    spec = reader.mapping(raw, path, _TONE_KEYS)
    if "freqs" not in spec:
        raise reader.error(path, "missing key 'freqs' (the tone's frequencies in Hz)")
    raw_freqs = spec["freqs"]
    freqs = reader.numbers(
        raw_freqs if isinstance(raw_freqs, list) else [raw_freqs], (*path, "freqs")
    )
    if not 1 <= len(freqs) <= 4 or len(set(freqs)) != len(freqs):
        raise reader.error((*path, "freqs"), f"must be 1 to 4 distinct frequencies, got {freqs}")
    cadence = reader.numbers(spec.get("cadence_ms", []) or [], (*path, "cadence_ms"))
    if len(cadence) % 2:
        raise reader.error(
            (*path, "cadence_ms"),
            f"must alternate on and off periods (an even count), got {cadence}",
        )
    for i, period in enumerate(cadence):
        what, shortest = (
            ("min_on_ms", det.min_on_ms) if i % 2 == 0 else ("bridge_ms", det.bridge_ms)
        )
        if period <= shortest:
            raise reader.error(
                (*path, "cadence_ms", str(i)),
                f"{period:g} ms is too short to be seen (the plan's {what} is {shortest:g})",
            )
    tol = det.freq_tolerance_hz
    if "freq_tolerance_hz" in spec:
        lo, hi = _DETECTION_RANGES["freq_tolerance_hz"]
        tol = reader.number(spec["freq_tolerance_hz"], (*path, "freq_tolerance_hz"), lo, hi)
    if cadence:
        if "confirm_ms" in spec:
            raise reader.error((*path, "confirm_ms"), "only continuous tones take confirm_ms")
        cycles = spec.get("cycles", 1)
        if isinstance(cycles, bool) or not isinstance(cycles, int) or not 1 <= cycles <= 100:
            raise reader.error(
                (*path, "cycles"), f"must be a whole number from 1 to 100, got {cycles!r}"
            )
        return PlanTone(name, tuple(freqs), tuple(cadence), cycles, 0.0, tol)
    if "cycles" in spec:
        raise reader.error((*path, "cycles"), "a continuous tone has no cycles; use confirm_ms")
    if "confirm_ms" not in spec:
        raise reader.error(path, "a continuous tone (no cadence_ms) needs confirm_ms")
    confirm = reader.positive(spec["confirm_ms"], (*path, "confirm_ms"))
    return PlanTone(name, tuple(freqs), (), 1, confirm, tol)


def _check_plan(reader: _PlanReader, tones: Sequence[PlanTone], det: DetectionSettings) -> None:
    distinct = sorted({f for t in tones for f in t.freqs})
    for lo, hi in itertools.pairwise(distinct):
        if hi - lo < MIN_FREQ_SPACING_HZ:
            raise reader.error(
                ("tones",),
                f"frequencies {lo:g} and {hi:g} Hz are closer than {MIN_FREQ_SPACING_HZ:g} Hz; "
                "one 20 ms window cannot fit them apart",
            )
    for i, a in enumerate(tones):
        for b in tones[i + 1 :]:
            if sorted(a.freqs) != sorted(b.freqs):
                continue
            if a.continuous and b.continuous:
                raise reader.error(
                    ("tones", b.name), f"same frequencies as {a.name!r}, both continuous"
                )
            if a.continuous or b.continuous:
                cont, cad = (a, b) if a.continuous else (b, a)
                longest = max(det.bounds_ms(d)[1] for d in cad.cadence_ms[0::2])
                if cont.confirm_ms <= longest:
                    raise reader.error(
                        ("tones", cont.name, "confirm_ms"),
                        f"must exceed the longest on-period of {cad.name!r} on the same "
                        f"frequencies ({longest:g} ms with the cadence tolerance), got "
                        f"{cont.confirm_ms:g}",
                    )
            elif _alike(a.cadence_ms, b.cadence_ms, det):
                raise reader.error(
                    ("tones", b.name, "cadence_ms"),
                    f"cannot be told from {a.name!r}: same frequencies and every period of the "
                    "cadences overlaps within the cadence tolerance",
                )


def _alike(a: Sequence[float], b: Sequence[float], det: DetectionSettings) -> bool:
    """Whether cadences `a` and `b` match each other at some phase, period by period."""
    n = len(a) * len(b) // math.gcd(len(a), len(b))
    for shift in range(0, len(b), 2):
        for i in range(n):
            lo_a, hi_a = det.bounds_ms(a[i % len(a)])
            lo_b, hi_b = det.bounds_ms(b[(i + shift) % len(b)])
            if hi_a < lo_b or hi_b < lo_a:
                break
        else:
            return True
    return False


def _parse_plan(source: str, text: str, default_name: str) -> TonePlan:
    reader = _PlanReader(source, text)
    top = reader.mapping(reader.data, (), _PLAN_KEYS)
    name = top.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise reader.error(("name",), f"must be non-empty text, got {name!r}")
    description = top.get("description", "")
    if not isinstance(description, str):
        raise reader.error(("description",), f"must be text, got {_kind(description)}")
    det = DetectionSettings(
        **_settings(reader, top.get("detection"), "detection", _DETECTION_RANGES)
    )
    voice = VoiceSettings(**_settings(reader, top.get("voice"), "voice", _VOICE_RANGES))
    if "tones" not in top:
        raise reader.error((), "missing key 'tones'")
    raw_tones = reader.mapping(top["tones"], ("tones",), ())
    if not raw_tones:
        raise reader.error(("tones",), "a plan needs at least one tone")
    tones = [_read_tone(reader, k, v, det) for k, v in raw_tones.items()]
    _check_plan(reader, tones, det)
    return TonePlan(name, tuple(tones), description, det, voice, source)


def available_plans() -> list[str]:
    """Names of the plans shipped with boardcc (``plans/*.yaml``)."""
    folder = resources.files("boardcc.dsp").joinpath("plans")
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


@functools.cache
def _shipped_plan(name: str) -> TonePlan:
    res = resources.files("boardcc.dsp").joinpath("plans", f"{name}.yaml")
    return _parse_plan(f"plans/{name}.yaml", res.read_text(encoding="utf-8"), name)


def load_plan(plan: str | Path | TonePlan) -> TonePlan:
    """A validated tone plan.

    Parameters
    ----------
    plan : str, Path or TonePlan
        The name of a shipped plan (``"cn"``, ``"us"``, ``"eu"``), the path of a YAML plan
        file (anything with a ``/`` or ending in ``.yaml``/``.yml``), or a plan (returned as
        is).

    Returns
    -------
    TonePlan

    Raises
    ------
    ValueError
        Unknown plan name, unreadable file, or a plan file with a problem; the message
        names the file, line, key and problem.
    """
    if isinstance(plan, TonePlan):
        return plan
    text = str(plan)
    if isinstance(plan, Path) or "/" in text or text.endswith((".yaml", ".yml")):
        path = Path(text)
        try:
            content = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"{path}: cannot read tone plan: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{path}: not a tone plan (not UTF-8 text at byte {exc.start})"
            ) from None
        return _parse_plan(str(path), content, path.stem)
    if text not in available_plans():
        shipped = ", ".join(available_plans())
        raise ValueError(
            f"unknown tone plan {text!r}; shipped plans are {shipped} (or give a YAML file)"
        )
    return _shipped_plan(text)


def plan_tone(
    plan: str | Path | TonePlan,
    name: str,
    duration_ms: float,
    *,
    fs: float = 8000.0,
    level_dbm0: float = -10.0,
) -> I16:
    """The tone `name` of `plan` with its cadence, as an exchange would send it.

    Parameters
    ----------
    plan : str, Path or TonePlan
        See `load_plan`.
    name : str
        Tone name, e.g. ``"busy"``.
    duration_ms : float
        Length of the result; the cadence starts with an on-period at sample 0.
    fs : float
        Sampling rate in Hz.
    level_dbm0 : float
        Level of each frequency component, in dBm0 (as tone plans specify them).

    Returns
    -------
    ndarray, shape (round(duration_ms * fs / 1000),), int16
    """
    tone = load_plan(plan).tone(name)
    out: I16 = to_int16(
        cadenced(tone.freqs, tone.cadence_ms, duration_ms, fs=fs, level_dbm0=level_dbm0)
    )
    return out


# --------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True, slots=True)
class ToneEvent:
    """A tone (or voice) starting or ending on a channel.

    Attributes
    ----------
    channel : int
    name : str
        Plan tone name, or ``"voice"``.
    kind : {"on", "off"}
    sample : int
        Stream sample index where the tone started (``"on"``) or ended (``"off"``).
    detected : int
        Stream sample index at which the detector could decide (end of the deciding window).
    cycles : int
        On-periods matched so far (``"on"``) or in all (``"off"``); 1 for continuous tones,
        0 for voice.
    """

    channel: int
    name: str
    kind: Literal["on", "off"]
    sample: int
    detected: int
    cycles: int


# --------------------------------------------------------------------------------------
# Per-channel logic (Python, run only for channels with something happening)


@dataclass(frozen=True, slots=True)
class _Rule:
    """A plan tone in samples, as the cadence matcher uses it."""

    name: str
    continuous: bool
    confirm: int
    cycles: int
    periods: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class _Rules:
    """Everything the per-channel state machines need, in samples and windows."""

    hop: int
    window: int
    known: int  # a window with a signal in it has the tone up to at least its start + this
    bridge: int  # windows
    min_on: int  # samples
    quiet_factor: float
    quiet_after: int  # samples
    voice_min: int  # windows
    hangover: int  # windows
    by_signal: tuple[tuple[_Rule, ...], ...]


def _mismatch(
    rule: _Rule, marks: list[int], gap_ok: list[bool], open_len: int, open_ok: bool
) -> tuple[int, list[int]]:
    """Index of the first period that does not fit `rule` at its best phase (``len(marks)``
    when all fit), and the longest allowed length of the open period at each phase that
    fits. `gap_ok` and `open_ok` say which off-periods were quiet."""
    n = len(marks)
    if rule.continuous:
        return (1 if n > 1 else n), []
    best = 0
    limits: list[int] = []
    size = len(rule.periods)
    for phase in range(0, size, 2):
        i = 0
        while i < n - 1:
            lo, hi = rule.periods[(phase + i) % size]
            if not lo <= marks[i + 1] - marks[i] <= hi or not gap_ok[i]:
                break
            i += 1
        if i == n - 1:
            limit = rule.periods[(phase + i) % size][1]
            if open_len <= limit and open_ok:
                i = n
                limits.append(limit)
        best = max(best, i)
    return best, limits


_Found = tuple[Literal["on", "off"], str, int, int]


class _Cadence:
    """Cadence matching of one signal on one channel.

    `marks` holds the sample boundaries of the periods since the anchor, starting with an
    on-period's start; the last period is always open (on when the count is odd).
    """

    __slots__ = (
        "confirmed",
        "gap_cum",
        "gap_ok",
        "gap_window",
        "limits",
        "marks",
        "on_mean",
        "open_ok",
        "trimmed",
    )

    def __init__(self) -> None:
        self.marks: list[int] = []
        self.gap_ok: list[bool] = []
        self.open_ok = True  # False once another tone or loud voice broke the open off-period
        self.confirmed: _Rule | None = None
        self.trimmed = 0
        self.limits: list[tuple[int, bool]] = []
        self.on_mean = 0.0
        self.gap_cum = 0
        self.gap_window = -1

    def open_on(self, start: int, quiet: bool) -> None:
        if self.marks:
            self.gap_ok.append(quiet and self.open_ok)
        self.marks.append(start)
        self.open_ok = True

    def close_on(self, end: int) -> None:
        if self.marks:
            self.gap_ok.append(True)
            self.marks.append(end)
        self.open_ok = True

    def evaluate(
        self, rules: tuple[_Rule, ...], bound: int, quiet_after: int, tail_quiet: bool
    ) -> list[_Found]:
        """Update with the open period known to last until `bound`; return the tone events
        as ``(kind, name, sample, cycles)``. `tail_quiet` tells whether an open off-period
        has been quiet so far, and `quiet_after` how long it must be before a tone whose
        last on-period it follows is declared."""
        out: list[_Found] = []
        marks, gap_ok = self.marks, self.gap_ok
        self.limits = []
        while marks:
            n = len(marks)
            open_len = bound - marks[-1]
            if self.confirmed is not None:
                rule = self.confirmed
                j, limits = _mismatch(rule, marks, gap_ok, open_len, self.open_ok)
                if j == n:
                    self.limits = [(lim, True) for lim in limits]
                    self._trim(len(rule.periods))
                    break
                end = marks[j] if j % 2 else marks[j - 1]
                out.append(("off", rule.name, end, self.trimmed + (j + 1) // 2))
                self.confirmed = None
                self.trimmed = 0
                keep = j if j % 2 == 0 else j + 1
                del marks[:keep]
                del gap_ok[:keep]
                continue
            fits = []
            for rule in rules:
                j, limits = _mismatch(rule, marks, gap_ok, open_len, self.open_ok)
                if j == n:
                    fits.append(rule)
                    self.limits += [(lim, True) for lim in limits]
                    if rule.continuous and n == 1:
                        self.limits.append((rule.confirm, False))
            if not fits:
                del marks[:2]
                del gap_ok[:2]
                continue
            if len(fits) == 1:
                rule = fits[0]
                if rule.continuous:
                    ready = n == 1 and open_len >= rule.confirm
                else:
                    ready = n // 2 >= rule.cycles
                    if ready and n % 2 == 0:
                        ready = open_len >= quiet_after and tail_quiet
                        if open_len < quiet_after:
                            self.limits.append((quiet_after, False))
                if ready:
                    self.confirmed = rule
                    out.append(("on", rule.name, marks[0], 1 if rule.continuous else n // 2))
                    _, limits = _mismatch(rule, marks, gap_ok, open_len, self.open_ok)
                    self.limits = [(lim, True) for lim in limits]
            break
        return out

    def _trim(self, size: int) -> None:
        # A confirmed tone can run for minutes: keep two periods of its pattern. Dropping a
        # whole pattern keeps every phase where it was.
        if size and len(self.marks) > 2 * size + 2:
            del self.marks[:size]
            del self.gap_ok[:size]
            self.trimmed += size // 2


class _Rows:
    """Window ratios and cumulative energies of every channel around a block, one row per
    window from window `base` on, one column per channel."""

    __slots__ = ("base", "cums", "ratios")

    def __init__(self, base: int, ratios: F64, cums: npt.NDArray[np.int64]) -> None:
        self.base = base
        self.ratios = ratios
        self.cums = cums

    def ratio(self, c: int, k: int) -> float:
        return float(self.ratios[k - self.base, c])

    def cum(self, c: int, k: int) -> int:
        return int(self.cums[k - self.base, c])


_QUIET, _ACTIVE = 0, 1  # window codes; a signal s has code s + 2


class _Channel:
    """Segments, cadence and voice activity of one channel, driven window by window."""

    __slots__ = (
        "cadence",
        "deadline",
        "index",
        "rules",
        "run_code",
        "run_cum1",
        "run_cum4",
        "run_ratio",
        "run_start",
        "seg_cum1",
        "seg_cum4",
        "seg_first",
        "seg_last",
        "seg_last_cum",
        "seg_last_ratio",
        "seg_real",
        "seg_signal",
        "seg_start",
        "voice_count",
        "voice_cum",
        "voice_first",
        "voice_last",
        "voice_on",
    )

    def __init__(self, index: int, rules: _Rules) -> None:
        self.index = index
        self.rules = rules
        # The run of equal window codes the stream is in; the ratio and energies are set
        # only by runs of a signal, the only runs that open segments.
        self.run_code = _QUIET
        self.run_start = 0
        self.run_ratio = 0.0
        self.run_cum1 = 0  # cumulative energy one window before the run
        self.run_cum4 = 0  # ... and four windows before it
        # The open segment of a signal, if any (seg_signal < 0: none).
        self.seg_signal = -1
        self.seg_start = 0
        self.seg_first = 0
        self.seg_real = False
        self.seg_last = 0
        self.seg_last_ratio = 0.0
        self.seg_last_cum = 0
        self.seg_cum1 = 0
        self.seg_cum4 = 0
        self.cadence: dict[int, _Cadence] = {}
        self.voice_on = False
        self.voice_first = -1  # first window of a burst not yet declared (-1: none)
        self.voice_count = 0  # its active windows before the current run
        self.voice_cum = 0  # cumulative energy before it
        self.voice_last = 0
        self.deadline = _NEVER

    def _end(self, k: int) -> int:
        return (k + 1) * self.rules.hop

    def step(self, k: int, code: int, rows: _Rows, out: list[ToneEvent]) -> None:
        """Bring the channel to window `k`, where a new run of `code` starts (-1: none)."""
        r = self.rules
        if code >= 0:
            self._new_run(k, code, rows)
        if (
            self.seg_signal >= 0
            and self.run_code != self.seg_signal + 2
            and k > self.seg_last + r.bridge
        ):
            self._close_segment(rows)
            if self.run_code >= 2:
                self._open_segment()
        if (
            self.seg_signal >= 0
            and not self.seg_real
            and self._known(k) - self.seg_start >= r.min_on
        ):
            self._make_real(k, out)
        self._voice(k, rows, out)
        for s in list(self.cadence):
            m = self.cadence[s]
            found = m.evaluate(
                r.by_signal[s], self._bound(s, k)[0], r.quiet_after, self._tail_quiet(m, k, rows)
            )
            for kind, name, sample, cycles in found:
                out.append(ToneEvent(self.index, name, kind, sample, self._end(k), cycles))
            if not m.marks:
                del self.cadence[s]
        self.deadline = self._next_deadline(k)

    def _new_run(self, k: int, code: int, rows: _Rows) -> None:
        c = self.index
        if self.seg_signal >= 0 and self.run_code == self.seg_signal + 2:
            self.seg_last = k - 1
            self.seg_last_ratio = rows.ratio(c, k - 1)
            self.seg_last_cum = rows.cum(c, k - 1)
        self._new_voice_run(k, code, rows)
        if code >= 2:
            self.run_ratio = rows.ratio(c, k)
            self.run_cum1 = rows.cum(c, k - 1)
            self.run_cum4 = rows.cum(c, k - 4)
            if self.seg_signal < 0:
                self._open_segment()
            if not self.voice_on:
                self.voice_first = -1

    def _new_voice_run(self, k: int, code: int, rows: _Rows) -> None:
        """Start the run of `code` at window `k`, as voice activity sees it."""
        if self.run_code == _ACTIVE:
            self.voice_last = k - 1
            self.voice_count += k - self.run_start
        self.run_code = code
        self.run_start = k
        if code == _ACTIVE and not self.voice_on and self.voice_first < 0:
            self.voice_first = k
            self.voice_count = 0
            self.voice_cum = rows.cum(self.index, k - 1)

    def _open_segment(self) -> None:
        w = self.rules.window
        self.seg_signal = self.run_code - 2
        self.seg_first = self.run_start
        # Samples before the stream count as silence: no tone starts there.
        self.seg_start = max(self._end(self.run_start) - int(min(self.run_ratio, 1.0) * w), 0)
        self.seg_real = False
        self.seg_cum1 = self.run_cum1
        self.seg_cum4 = self.run_cum4

    def _known(self, k: int) -> int:
        """Sample up to which the open segment's tone is known to last."""
        last = k if self.run_code == self.seg_signal + 2 else self.seg_last
        return self._end(last) - self.rules.window + self.rules.known

    def _close_segment(self, rows: _Rows) -> None:
        s = self.seg_signal
        self.seg_signal = -1
        m = self.cadence.get(s)
        if not self.seg_real or m is None:
            return
        w = self.rules.window
        m.close_on(self._end(self.seg_last) - w + int(min(self.seg_last_ratio, 1.0) * w))
        count = self.seg_last - self.seg_first + 1
        m.on_mean = ((self.seg_last_cum - self.seg_cum1) % _WRAP) / count
        # The off-period's energy is measured over windows wholly after the tone: from four
        # windows after its last one.
        m.gap_window = self.seg_last + 3
        m.gap_cum = rows.cum(self.index, m.gap_window)

    def _tail_quiet(self, m: _Cadence, k: int, rows: _Rows) -> bool:
        """Whether the open off-period of `m` has been quiet up to window `k`."""
        if len(m.marks) % 2 or m.gap_window < 0 or k <= m.gap_window or self.seg_signal >= 0:
            return False
        gap_mean = ((rows.cum(self.index, k) - m.gap_cum) % _WRAP) / (k - m.gap_window)
        return gap_mean * self.rules.quiet_factor <= m.on_mean

    def _make_real(self, k: int, out: list[ToneEvent]) -> None:
        self.seg_real = True
        s = self.seg_signal
        m = self.cadence.setdefault(s, _Cadence())
        quiet = True
        gap_end = self.seg_first - 4  # last window wholly before the tone
        if m.marks and m.gap_window >= 0 and gap_end > m.gap_window:
            gap_mean = ((self.seg_cum4 - m.gap_cum) % _WRAP) / (gap_end - m.gap_window)
            quiet = gap_mean * self.rules.quiet_factor <= m.on_mean
        m.open_on(self.seg_start, quiet)
        # Another tone in the off-period of a cadence breaks it.
        for other, o in self.cadence.items():
            if other != s and len(o.marks) % 2 == 0:
                o.open_ok = False
        if self.voice_on:
            last = k if self.run_code == _ACTIVE else self.voice_last
            end = self._end(last) - self.rules.window + self.rules.hop // 2
            out.append(
                ToneEvent(self.index, VOICE, "off", min(end, self.seg_start), self._end(k), 0)
            )
        self.voice_on = False
        self.voice_first = -1

    def _bound(self, s: int, k: int) -> tuple[int, int | None]:
        """How far the open period of signal `s` is known to reach at window `k`, and, if it
        grows with `k` as ``(k + 1) * hop + offset``, that offset."""
        r = self.rules
        if len(self.cadence[s].marks) % 2:  # an on-period is open
            if self.run_code == s + 2:
                return self._known(k), r.known - r.window
            return self._known(k), None
        if self.seg_signal == s:  # a burst of s that may start the next on-period
            return self.seg_start, None
        if self.run_code == s + 2:  # s is back but waits for another signal's segment to end
            return self._end(self.run_start) - r.window, None
        return self._end(k) - r.window, -r.window

    def _voice(self, k: int, rows: _Rows, out: list[ToneEvent]) -> None:
        r = self.rules
        if not self.voice_on and self.voice_first >= 0:
            if self.run_code == _ACTIVE:
                if self.voice_count + k - self.run_start + 1 >= r.voice_min:
                    self.voice_on = True
                    start = self._end(self.voice_first) - r.hop // 2
                    out.append(ToneEvent(self.index, VOICE, "on", start, self._end(k), 0))
                    # Voice about as loud as a tone, in its off-period (the callee answering
                    # during ringback), ends the cadence now rather than at its timeout. Its
                    # level is measured from where the tone has wholly left the window.
                    for m in self.cadence.values():
                        if m.marks and len(m.marks) % 2 == 0:
                            since, cum = self.voice_first - 1, self.voice_cum
                            if since < m.gap_window:
                                since, cum = m.gap_window, m.gap_cum
                            if k > since:
                                loud = ((rows.cum(self.index, k) - cum) % _WRAP) / (k - since)
                                m.open_ok &= loud * r.quiet_factor <= m.on_mean
            elif k - self.voice_last > r.hangover:
                self.voice_first = -1
        if self.voice_on and self.run_code != _ACTIVE and k - self.voice_last > r.hangover:
            self.voice_on = False
            self.voice_first = -1
            end = self._end(self.voice_last) - r.window + r.hop // 2
            out.append(ToneEvent(self.index, VOICE, "off", end, self._end(k), 0))

    def _next_deadline(self, k: int) -> int:
        r = self.rules
        h = r.hop
        due = _NEVER
        if self.seg_signal >= 0:
            if self.run_code != self.seg_signal + 2:
                due = min(due, self.seg_last + r.bridge + 1)
            elif not self.seg_real:
                due = min(due, -(-(r.min_on + self.seg_start + r.window - r.known) // h) - 1)
        for s, m in self.cadence.items():
            offset = self._bound(s, k)[1]
            if offset is None:
                continue
            for limit, strict in m.limits:
                # (k' + 1) * hop + offset - start > limit (strict) or >= limit
                x = limit + m.marks[-1] - offset
                due = min(due, x // h if strict else -(-x // h) - 1)
        return max(min(due, self._voice_due()), k + 1)

    def voice_only(
        self, at: list[int], codes: list[int], last: int, rows: _Rows, out: list[ToneEvent]
    ) -> None:
        """Bring the channel to window `last` through new runs of `codes` starting at
        windows `at`, when only voice activity has anything to do: no segment, no cadence
        and no signal in the block (a trunk in a call, the common case). What `step` would
        do at each run and deadline, without a call each: `_new_voice_run`, `_voice` and
        `_voice_due` in one loop."""
        r = self.rules
        hop, hangover, voice_min = r.hop, r.hangover, r.voice_min
        run_code, run_start, on = self.run_code, self.run_start, self.voice_on
        first, count, voice_last = self.voice_first, self.voice_count, self.voice_last
        due = self.deadline
        i = 0
        while True:
            if i < len(at) and at[i] <= due:
                k = at[i]
                if run_code == _ACTIVE:
                    voice_last = k - 1
                    count += k - run_start
                run_code, run_start = codes[i], k
                if run_code == _ACTIVE and not on and first < 0:
                    first, count = k, 0
                    self.voice_cum = rows.cum(self.index, k - 1)
                i += 1
            elif due <= last:
                k = due
            else:
                break
            active = run_code == _ACTIVE
            if on:
                if not active and k - voice_last > hangover:
                    on, first = False, -1
                    end = (voice_last + 1) * hop - r.window + hop // 2
                    out.append(ToneEvent(self.index, VOICE, "off", end, (k + 1) * hop, 0))
            elif first >= 0:
                if not active:
                    if k - voice_last > hangover:
                        first = -1
                elif count + k - run_start + 1 >= voice_min:
                    on = True
                    start = (first + 1) * hop - hop // 2
                    out.append(ToneEvent(self.index, VOICE, "on", start, (k + 1) * hop, 0))
            due = _NEVER
            if on or first >= 0:
                if not active:
                    due = voice_last + hangover + 1
                elif not on:
                    due = run_start + voice_min - count - 1
            due = max(due, k + 1)
        self.run_code, self.run_start, self.voice_on = run_code, run_start, on
        self.voice_first, self.voice_count, self.voice_last = first, count, voice_last
        self.deadline = due

    def _voice_due(self) -> int:
        """Window at which voice activity is next declared or ends, if nothing changes."""
        if self.voice_first >= 0 or self.voice_on:
            if self.run_code != _ACTIVE:
                return self.voice_last + self.rules.hangover + 1
            if not self.voice_on:
                return self.run_start + self.rules.voice_min - self.voice_count - 1
        return _NEVER


class _Spurts:
    """Talk spurts, array-wide.

    A channel with voice declared and nothing else going on (no segment, no cadence: it
    is *talking*) mostly switches between voice and quiet windows, syllable by syllable.
    While no signal shows and its hangover outlasts the block, no switch can decide
    anything: it only moves where the channel's run starts, its last voice window and its
    deadline. For talking channels those are kept here as well, moved for a whole block
    at once, and copied into the channel's state when it is next visited. (Its voice count
    is left alone: it only counts while a burst is waiting to be declared.)
    """

    __slots__ = ("behind", "run_code", "run_start", "talking", "voice_last")

    def __init__(self, channels: int) -> None:
        self.talking = np.zeros(channels, bool)
        self.behind = np.zeros(channels, bool)  # this holds the channel's newer state
        self.run_code = np.zeros(channels, np.int16)
        self.run_start = np.zeros(channels, np.int64)
        self.voice_last = np.zeros(channels, np.int64)

    def advance(
        self,
        changed: npt.NDArray[np.bool_],
        code: npt.NDArray[np.int16],
        signal: npt.NDArray[np.bool_],
        first: int,
        hangover: int,
        deadline: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.bool_]:
        """Move the talking channels that only switch between voice and quiet in a block
        of windows from `first` on (rows of `changed` and `code`), deadlines included;
        return which."""
        count = len(changed)
        take = self.talking & ~signal & changed.any(axis=0) & (deadline >= first + count)
        if count > hangover or not take.any():
            take[:] = False
            return take
        # The last run starts at the last change; if it is quiet, the voice before it ended
        # just before. (While a channel is in voice its last voice window is not used.)
        start = (changed * np.arange(1, count + 1, dtype=np.int32)[:, None]).max(axis=0)
        start += first - 1
        now = code[-1]
        quiet = take & (now == _QUIET)
        np.copyto(self.run_start, start, where=take)
        np.copyto(self.run_code, now, where=take)
        np.copyto(self.voice_last, start - 1, where=quiet)
        np.copyto(deadline, _NEVER, where=take)
        np.copyto(deadline, start + hangover, where=quiet)
        self.behind |= take
        return take

    def catch_up(self, state: _Channel, deadline: int) -> None:
        c = state.index
        state.run_code = int(self.run_code[c])
        state.run_start = int(self.run_start[c])
        state.voice_last = int(self.voice_last[c])
        state.deadline = deadline
        self.behind[c] = False

    def note(self, visited: npt.NDArray[np.intp], states: list[_Channel]) -> None:
        """Take the state of channels just visited."""
        talking, run_code, run_start, voice_last = [], [], [], []
        for c in visited.tolist():
            state = states[c]
            talking.append(state.voice_on and state.seg_signal < 0 and not state.cadence)
            run_code.append(state.run_code)
            run_start.append(state.run_start)
            voice_last.append(state.voice_last)
        self.talking[visited] = talking
        self.run_code[visited] = run_code
        self.run_start[visited] = run_start
        self.voice_last[visited] = voice_last


# --------------------------------------------------------------------------------------
# The detector


class ToneDetector:
    """Streaming call-progress, fax and voice detector, vectorised over channels.

    Parameters
    ----------
    channels : int
        Number of channels processed together.
    plan : str, Path or TonePlan
        Tone plan (see `load_plan`); China's by default.
    fs : float
        Sampling rate in Hz (keyword only).

    Notes
    -----
    Call `process` with blocks of any length; the events are the same however the stream
    is cut. A tone that has not ended when the stream stops has no ``"off"`` event.

    Examples
    --------
    >>> det = ToneDetector(2, "cn")
    >>> busy = plan_tone("cn", "busy", 2500)
    >>> [(e.channel, e.name, e.kind, e.sample) for e in det.process(np.stack([busy, 0 * busy]))]
    [(0, 'busy', 'on', 0)]
    """

    def __init__(
        self, channels: int, plan: str | Path | TonePlan = "cn", *, fs: float = 8000.0
    ) -> None:
        self.plan = load_plan(plan)
        self.channels = channels
        self.fs = float(fs)
        hop = round(HOP_SECONDS * fs)
        window = hop * WINDOW_HOPS
        freqs = sorted({f for t in self.plan.tones for f in t.freqs})
        if freqs[-1] >= fs / 2:
            raise ValueError(
                f"{self.plan.source}: tone frequency {freqs[-1]:g} Hz is not below "
                f"fs/2 = {fs / 2:g}"
            )
        self._dft = SlidingDft(channels, freqs, fs=fs, hop=hop, window_hops=WINDOW_HOPS)
        self._hop = hop
        self._window = window
        nf = len(freqs)
        self._nf = nf

        # Least-squares fit of [cos, -sin] at every frequency over one window (the DFT's
        # basis, phase referenced to the window start).
        m = np.arange(window, dtype=np.float64)[:, None]
        w = 2.0 * np.pi * np.asarray(freqs)[None, :] / fs
        basis = np.hstack([np.cos(w * m), -np.sin(w * m)])
        gram = basis.T @ basis
        self._fit = np.linalg.inv(gram).T
        # The phase a component at its nominal frequency advances by between windows, to
        # take off (as cos, sin of minus the advance, one row per frequency).
        advance = 2.0 * np.pi * np.asarray(freqs)[:, None] * hop / fs
        self._back_cos = np.cos(advance)
        self._back_sin = -np.sin(advance)

        det = self.plan.detection
        keys: list[tuple[float, ...]] = []
        for t in self.plan.tones:
            key = tuple(sorted(t.freqs))
            if key not in keys:
                keys.append(key)
        # The signals' tests, one row per signal and one column per frequency (per fitted
        # coefficient for the Gram matrices); a frequency outside a signal passes its tests.
        self._min_energy = window * sine_power(det.min_level_dbm0)
        ns = len(keys)
        member = np.zeros((ns, nf), bool)
        tolerance = np.full((ns, nf), np.inf)
        grams = np.zeros((ns, 2 * nf, 2 * nf))
        least_power = np.full((ns, nf), -np.inf)
        least_share = np.zeros(ns)
        by_signal: list[tuple[_Rule, ...]] = []
        per_sample = fs / 1000.0
        for s, key in enumerate(keys):
            members = [t for t in self.plan.tones if tuple(sorted(t.freqs)) == key]
            comps = [freqs.index(f) for f in key]
            coef = comps + [nf + c for c in comps]
            member[s, comps] = True
            tolerance[s, comps] = max(t.freq_tolerance_hz for t in members)
            sub = gram[np.ix_(coef, coef)]
            grams[np.ix_([s], coef, coef)] = sub[None]
            # Screening: a window whose components are within the tolerance has lost at
            # most `loss` of their power to the window response, and c'G c' is at most
            # eig_max(G) |c'|^2 (`loud` and `energy_ratio` below).
            a = tolerance[s, comps[0]] * np.pi * window / fs
            loss = (math.sin(a) / a) ** 2 * (1.0 - _SCREEN_MARGIN)
            least_power[s, comps] = self._min_energy * 2.0 / window * loss
            least_share[s] = det.energy_ratio * loss / float(np.linalg.eigvalsh(sub)[-1])
            rules = []
            for t in members:
                periods = tuple(
                    (math.ceil(lo * per_sample), math.floor(hi * per_sample))
                    for lo, hi in (det.bounds_ms(d) for d in t.cadence_ms)
                )
                rules.append(
                    _Rule(
                        t.name,
                        t.continuous,
                        math.ceil(t.confirm_ms * per_sample),
                        t.cycles,
                        periods,
                    )
                )
            by_signal.append(tuple(rules))
        self._member = member[:, :, None]
        self._tolerance = tolerance[:, :, None]
        self._grams = grams.reshape(ns * 2 * nf, 2 * nf)
        self._fit32 = self._fit.astype(np.float32)
        self._least_power = least_power[:, :, None].astype(np.float32)
        self._least_share = least_share[:, None].astype(np.float32)
        self._least_comp = np.where(member, self._min_energy, -np.inf)[:, :, None]
        self._share = member.astype(np.float32)
        self._several = bool((member.sum(axis=1) > 1).any())
        # The window response is only undone within the largest tolerance of a frequency.
        self._cap = np.where(member, tolerance, 0.0).max(axis=0)[:, None]

        self._voice_energy = window * sine_power(self.plan.voice.threshold_dbm0)
        self._twist = 10.0 ** (det.max_twist_db / 10.0)
        self._ratio = det.energy_ratio
        bridge = math.ceil(det.bridge_ms * per_sample / hop)
        self._rules = _Rules(
            hop=hop,
            window=window,
            known=int(det.energy_ratio * window),
            bridge=bridge,
            min_on=math.ceil(det.min_on_ms * per_sample),
            quiet_factor=10.0 ** (det.off_quieter_db / 10.0),
            quiet_after=math.ceil(det.quiet_after_ms * per_sample),
            voice_min=math.ceil(self.plan.voice.min_ms * per_sample / hop),
            hangover=math.ceil(self.plan.voice.hangover_ms * per_sample / hop),
            by_signal=tuple(by_signal),
        )
        # Windows of history kept per channel: segment boundaries look back over a bridge
        # and four windows more.
        self._depth = bridge + 6
        # The spectrum of the last window of the previous block, (2 * freqs, channels).
        self._spectrum_last = np.zeros((2 * nf, channels), np.float32)
        # History by window (rows) and channel (columns): the last window's code, ratios
        # and cumulative energies as far back as segments look.
        self._code = np.zeros((1, channels), np.int16)
        self._ratio_hist = np.zeros((self._depth, channels))
        self._cum = np.zeros((self._depth, channels), np.int64)
        self._deadline = np.full(channels, _NEVER, np.int64)
        self._state = [_Channel(c, self._rules) for c in range(channels)]
        self._spurts = _Spurts(channels)

    def process(self, block: npt.ArrayLike) -> list[ToneEvent]:
        """Take the next samples of every channel; return the events they complete.

        Parameters
        ----------
        block : array_like, shape (channels, n), int16
            Any `n`, including 0.

        Returns
        -------
        list of ToneEvent
            In the order they were decided (then by channel).
        """
        a = np.asarray(block)
        if a.ndim != 2 or a.shape[0] != self.channels:
            raise ValueError(
                f"block must have shape (channels={self.channels}, samples), got {a.shape}"
            )
        w = self._dft.process(to_int16(a))
        if w.count == 0:
            return []
        code, ratio, energy = self._screen(w)
        depth = self._depth
        ratios = np.concatenate([self._ratio_hist, ratio])
        cums = np.empty(ratios.shape, np.int64)
        cums[:depth] = self._cum
        # A running total, window by window: np.cumsum along windows is several times slower.
        for j in range(w.count):
            np.add(cums[depth + j - 1], energy[j], out=cums[depth + j])
        self._ratio_hist = ratios[-depth:].copy()
        self._cum = cums[-depth:].copy()
        codes = np.concatenate([self._code, code])
        self._code = code[-1:].copy()

        changed = codes[1:] != codes[:-1]
        last = w.first + w.count - 1
        signal = code.max(axis=0) >= 2
        spurts = self._spurts
        moved = spurts.advance(changed, code, signal, w.first, self._rules.hangover, self._deadline)
        visit = np.flatnonzero((changed.any(axis=0) & ~moved) | (self._deadline <= last))
        # Windows where each channel's code changes and the new codes, channel by channel.
        where_c, where_w = np.nonzero(changed.T)
        at = (where_w + w.first).tolist()
        new = code[where_w, where_c].tolist()
        lows = np.searchsorted(where_c, visit).tolist()
        highs = np.searchsorted(where_c, visit, side="right").tolist()
        rows = _Rows(w.first - depth, ratios, cums)
        events: list[ToneEvent] = []
        for c, low, high, any_signal, behind in zip(
            visit.tolist(),
            lows,
            highs,
            signal[visit].tolist(),
            spurts.behind[visit].tolist(),
            strict=True,
        ):
            state = self._state[c]
            if behind:
                spurts.catch_up(state, int(self._deadline[c]))
            if not any_signal and state.seg_signal < 0 and not state.cadence:
                state.voice_only(at[low:high], new[low:high], last, rows, events)
                self._deadline[c] = state.deadline
                continue
            for k, new_code in zip(at[low:high], new[low:high], strict=True):
                while state.deadline < k:
                    state.step(state.deadline, -1, rows, events)
                state.step(k, new_code, rows, events)
            while state.deadline <= last:
                state.step(state.deadline, -1, rows, events)
            self._deadline[c] = state.deadline
        spurts.note(visit, self._state)
        events.sort(key=lambda e: (e.detected, e.channel))
        return events

    def _screen(self, w: Windows) -> tuple[npt.NDArray[np.int16], F64, npt.NDArray[np.int64]]:
        """Window codes, the energy ratio of each window's signal, and window energies, by
        window (rows) and channel (columns)."""
        nf, channels = self._nf, self.channels
        shape = (w.count, channels)
        # Frequency-major: (2 * freqs, windows * channels).
        spectrum = w.spectrum.transpose(2, 1, 0).reshape(2 * nf, -1)
        energy = w.energy.T.reshape(-1).astype(np.float64)
        code = (energy >= self._voice_energy).astype(np.int16)
        best = np.zeros(energy.shape)

        # Most windows (speech, silence) cannot carry any signal. Tests that every window
        # carrying one passes, whatever its frequency offsets, leave the few that need the
        # offsets measured. They run in float32: its error in the power of a component
        # stays below 2e-4 even for frequencies 30 Hz apart with 40 dB of twist, well within
        # the thresholds' margin.
        fit = self._fit32 @ spectrum
        power = fit[:nf] ** 2 + fit[nf:] ** 2
        maybe = self._share @ power >= self._least_share * np.maximum(w.energy.T.reshape(-1), 1.0)
        maybe &= (power >= self._least_power).all(axis=1)
        idx = np.flatnonzero(maybe.any(axis=0))
        if idx.size:
            # Each window's fit in float64, and that of the window before it: in this block,
            # or the last of the previous one. (np.take keeps the gathered columns
            # contiguous, as fancy indexing would not.)
            before = np.take(spectrum, idx - channels, axis=1)
            early = idx < channels
            before[:, early] = self._spectrum_last[:, idx[early]]
            now = self._fit @ np.take(spectrum, idx, axis=1).astype(np.float64)
            label, best[idx] = self._signal_of(
                now, self._fit @ before.astype(np.float64), energy[idx]
            )
            code[idx] = np.where(label > 0, label, code[idx])
        self._spectrum_last = spectrum[:, -channels:].copy()
        return (
            code.reshape(shape),
            best.reshape(shape),
            np.rint(energy).astype(np.int64).reshape(shape),
        )

    def _signal_of(self, coef: F64, prev: F64, energy: F64) -> tuple[npt.NDArray[np.int16], F64]:
        """Label (signal + 2, or 0 for none) and energy ratio of windows with fitted
        coefficients `coef`, shape (2 * freqs, windows), after windows with `prev`, and of
        energy `energy`, shape (windows,)."""
        nf = self._nf
        re, im, prev_re, prev_im = coef[:nf], coef[nf:], prev[:nf], prev[nf:]
        # Phase turned since the window before, beyond the nominal advance: the angle of
        # z * conj(prev) * exp(-1j * advance), in real arithmetic.
        dot = re * prev_re + im * prev_im
        cross = im * prev_re - re * prev_im
        turn = np.arctan2(
            dot * self._back_sin + cross * self._back_cos,
            dot * self._back_cos - cross * self._back_sin,
        )
        offset = np.abs(turn) * (self.fs / (2.0 * np.pi * self._hop))
        # Undo the window's response at the measured offset, sin(a) / a to within 1e-4.
        a = np.maximum(np.minimum(offset, self._cap) * (np.pi * self._window / self.fs), 1e-9)
        gain = np.sin(a) / a
        c = coef / np.concatenate([gain, gain])
        comp = (c[:nf] ** 2 + c[nf:] ** 2) * (self._window / 2.0)

        # By signal (rows) and window (columns).
        count, signals = len(energy), len(self._member)
        quad = (self._grams @ c).reshape(signals, 2 * nf, count) * c
        ratio = quad.sum(axis=1) * (1.0 / np.maximum(energy, 1.0))
        fails = (offset > self._tolerance) | (comp < self._least_comp)
        ok = (ratio >= self._ratio) & ~fails.any(axis=1)
        if self._several:
            top = np.where(self._member, comp, -np.inf).max(axis=1)
            low = np.where(self._member, comp, np.inf).min(axis=1)
            ok &= top <= self._twist * low
        # The signal that fills most of the window (the first of equals).
        pick = np.where(ok, ratio, -1.0).argmax(axis=0)
        cols = np.arange(count)
        found = ok[pick, cols]
        label = np.where(found, pick + 2, 0).astype(np.int16)
        return label, np.where(found, ratio[pick, cols], 0.0)


def detect_tones(
    x: npt.ArrayLike, *, fs: float = 8000.0, plan: str | Path | TonePlan = "cn"
) -> list[ToneEvent]:
    """Tones, fax tones and voice in a whole signal.

    Parameters
    ----------
    x : array_like, shape (n,) or (channels, n), int16
    fs : float
        Sampling rate in Hz.
    plan : str, Path or TonePlan
        See `load_plan`.

    Returns
    -------
    list of ToneEvent
        As `ToneDetector.process` gives them; a 1-D signal is channel 0.
    """
    a = np.asarray(x)
    if a.ndim not in (1, 2):
        raise ValueError(f"x must be 1-D or (channels, samples), got shape {a.shape}")
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    det = ToneDetector(a2.shape[0], plan, fs=fs)
    # Ten-second pieces keep memory bounded; the result does not depend on the cut.
    step = int(10 * fs)
    events: list[ToneEvent] = []
    for start in range(0, a2.shape[1], step):
        events += det.process(a2[:, start : start + step])
    return events
