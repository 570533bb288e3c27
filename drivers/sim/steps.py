"""What simulated people do: the steps of a caller's, callee's or desk-phone user's script.

A script is a list of steps run one after the other on the board's sample clock. Some steps
take time by themselves (speaking a file, pressing keys), some wait for a moment
(`Wait`) or for what the person hears (`WaitSound`, `WaitSilence`: "press 1 after the
greeting ends"), and some act on the line (`HangUp`, `LiftHandset`, `Flash`). The same steps
come from Python (``[WaitSilence(), Press("1"), HangUp()]``) and from YAML scenario files
(``- wait_silence``, ``- press: "1"``, ``- hang_up``); see docs/simulator.md.

Each step's `run` is a generator: it acts through the `Party` it is given and yields what
it waits for (`Until`, `Listen`, `Rings`); the party resumes it when that happens. Nothing
here runs per sample or per block unless the person is listening.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boardcc.drivers.sim.party import Party


# -- what a step can wait for ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Until:
    """Resume at sample `at` of the board clock."""

    at: int


@dataclass(frozen=True, slots=True)
class Listen:
    """Resume when the person hears sound (``silence_ms`` None) or, after hearing sound
    (if `after_sound`), `silence_ms` of quiet; or after `timeout_s` whatever happens."""

    level_dbm0: float
    timeout_s: float
    silence_ms: float | None = None
    after_sound: bool = True


@dataclass(frozen=True, slots=True)
class Rings:
    """Resume when the phone has rung `count` times (counting from when the step began)."""

    count: int
    timeout_s: float


Wait = Until | Listen | Rings
StepRun = Generator[Wait, int, None]


# -- the steps ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """Base of all steps."""

    def run(self, party: Party) -> StepRun:
        raise NotImplementedError
        yield  # pragma: no cover - makes this a generator


@dataclass(frozen=True, slots=True)
class Pause(Step):
    """Do nothing for `seconds` (YAML ``wait: 2.5``)."""

    seconds: float

    def run(self, party: Party) -> StepRun:
        yield Until(party.now + party.samples(self.seconds))


@dataclass(frozen=True, slots=True)
class Speak(Step):
    """Say something into the line and wait until it has been said.

    Exactly one source: `file` (any audio file `boardcc.dsp.read_audio` reads, WAV or
    VOX), `speech` (seconds of a generated speech-like signal: voiced syllables with a
    moving pitch and formants, so voice detectors see voice and DTMF receivers are not
    talked off), or `tone` (Hz, or a list of Hz sounded together, for `seconds`).
    """

    file: str | Path | None = None
    speech: float | None = None
    tone: float | tuple[float, ...] | None = None
    seconds: float = 1.0
    level_dbm0: float | None = None

    def __post_init__(self) -> None:
        given = [x is not None for x in (self.file, self.speech, self.tone)]
        if sum(given) != 1:
            raise ValueError("speak needs exactly one of file, speech, tone")

    def run(self, party: Party) -> StepRun:
        length = party.say(self)
        yield Until(party.now + length)


@dataclass(frozen=True, slots=True)
class Press(Step):
    """Press keys on the telephone, with a person's timing unless given.

    Each key sounds `on_ms` (default: random 70-130 ms) with `off_ms` after it (default:
    random 80-250 ms); spaces in `digits` are ignored, ``,`` is a one-second pause.
    """

    digits: str
    on_ms: float | None = None
    off_ms: float | None = None
    level_dbm0: float = -8.0

    def __post_init__(self) -> None:
        keys = self.digits.replace(" ", "")
        if not keys:
            raise ValueError("press needs at least one key")
        bad = [k for k in keys if k.upper() not in "0123456789*#ABCD,"]
        if bad:
            raise ValueError(f"not a telephone key: {bad[0]!r} in {self.digits!r}")

    def run(self, party: Party) -> StepRun:
        length = party.press(self)
        yield Until(party.now + length)


@dataclass(frozen=True, slots=True)
class WaitSound(Step):
    """Wait until something is heard above `level_dbm0` (or `timeout` seconds)."""

    timeout: float = 30.0
    level_dbm0: float = -40.0

    def run(self, party: Party) -> StepRun:
        yield Listen(self.level_dbm0, self.timeout)


@dataclass(frozen=True, slots=True)
class WaitSilence(Step):
    """Wait until `ms` of quiet follow something heard: the end of a greeting or a prompt."""

    ms: float = 800.0
    timeout: float = 60.0
    level_dbm0: float = -40.0
    after_sound: bool = True

    def run(self, party: Party) -> StepRun:
        yield Listen(self.level_dbm0, self.timeout, self.ms, self.after_sound)


@dataclass(frozen=True, slots=True)
class HangUp(Step):
    """Hang up: a caller or callee clears the call; a desk phone goes on hook."""

    def run(self, party: Party) -> StepRun:
        party.hang_up()
        return
        yield  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Fax(Step):
    """A calling fax machine: CNG (1100 Hz, 0.5 s on, 3 s off) for `seconds`."""

    seconds: float = 10.0

    def run(self, party: Party) -> StepRun:
        length = party.fax_tone(self.seconds)
        yield Until(party.now + length)


@dataclass(frozen=True, slots=True)
class LiftHandset(Step):
    """A desk phone's handset lifted (YAML ``off_hook``)."""

    def run(self, party: Party) -> StepRun:
        party.off_hook()
        return
        yield  # pragma: no cover


@dataclass(frozen=True, slots=True)
class ReplaceHandset(Step):
    """A desk phone's handset put down (YAML ``on_hook``)."""

    def run(self, party: Party) -> StepRun:
        party.on_hook()
        return
        yield  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Flash(Step):
    """A hook flash of `ms` (100-800 ms is a flash; longer is on hook, then off hook)."""

    ms: float = 400.0

    def run(self, party: Party) -> StepRun:
        yield from party.flash(self.ms)


@dataclass(frozen=True, slots=True)
class WaitRing(Step):
    """Wait until the desk phone has rung `count` times."""

    count: int = 1
    timeout: float = 120.0

    def run(self, party: Party) -> StepRun:
        yield Rings(self.count, self.timeout)


def Dial(digits: str, **timing: Any) -> Press:
    """Dial on a desk phone: the same as `Press`."""
    return Press(digits, **timing)


def Answer(after_rings: int = 1) -> list[Step]:
    """Let the phone ring `after_rings` times, then lift the handset."""
    return [WaitRing(after_rings), LiftHandset()]
