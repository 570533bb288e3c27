"""A simulated person on the far end of a channel, running a script of steps.

The party turns steps into things on the board: clips played into the channel's receive
side (what the board hears from them), waits scheduled on the sample clock, ears opened
on what the board sends them. Subclasses say what hanging up, lifting the handset and
flashing mean for them: a caller or callee clears through the exchange (`exchange`), a
desk-phone user works the phone's hook (`phone`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from boardcc.drivers.events import DigitReceived
from boardcc.drivers.sim.steps import Listen, Press, Rings, Speak, Step, StepRun, Until, Wait

if TYPE_CHECKING:
    from boardcc.drivers.sim.board import SimBoard


class ScriptError(Exception):
    """A step that this kind of party cannot do (a caller lifting a handset)."""


class Party:
    """Runs one script at a time for one channel's far end.

    Parameters
    ----------
    sim : SimBoard
        The board it is attached to.
    channel : int
        The channel whose far end this is.
    role : str
        For messages: ``"caller"``, ``"callee"``, ``"phone"``.
    """

    allowed: frozenset[str] = frozenset()

    def __init__(self, sim: SimBoard, channel: int, role: str) -> None:
        self.sim, self.channel, self.role = sim, channel, role
        self.now = sim.now
        self._script: StepRun | None = None
        self._generation = 0
        self._plays: list[int] = []

    # -- running a script -------------------------------------------------------------------

    def check(self, steps: Sequence[Step]) -> None:
        """Refuse a script with steps this party cannot take, before it starts."""
        for i, step in enumerate(steps):
            name = type(step).__name__
            if name not in self.allowed:
                raise ScriptError(
                    f"step {i + 1} ({name}) is not something a {self.role} can do; "
                    f"a {self.role} can: {', '.join(sorted(self.allowed))}"
                )

    def run(self, steps: Sequence[Step], at: int | None = None) -> None:
        """Start `steps` at sample `at` (default: now), replacing any script running."""
        self.check(steps)
        self.cancel()
        self._script = self._steps(list(steps))
        gen = self._generation
        self.sim.schedule(self.sim.now if at is None else at, lambda t: self._start(gen, t))

    @property
    def busy(self) -> bool:
        """A script is running."""
        return self._script is not None

    def cancel(self) -> None:
        """Stop the script and everything it is saying."""
        self._generation += 1
        if self._script is not None:
            self._script.close()
            self._script = None
        self.sim.stop_hearing(self.channel)
        self.silence()

    def silence(self) -> None:
        """Stop everything this party is saying."""
        if self._plays:
            self.sim.players.stop(*self._plays)
            self._plays.clear()

    def _steps(self, steps: list[Step]) -> StepRun:
        for step in steps:
            yield from step.run(self)

    def _start(self, generation: int, t: int) -> None:
        if generation == self._generation and self._script is not None:
            self.now = t
            self._advance(generation, None)

    def _resume(self, generation: int, t: int) -> None:
        if generation == self._generation and self._script is not None:
            self.now = t
            self._advance(generation, t)

    def _advance(self, generation: int, value: int | None) -> None:
        script = self._script
        assert script is not None
        try:
            wait: Wait = script.send(value) if value is not None else next(script)
        except StopIteration:
            if generation == self._generation:
                self._script = None
            return
        if generation != self._generation:
            return
        if isinstance(wait, Until):
            self.sim.schedule(max(wait.at, self.now), lambda t: self._resume(generation, t))
        elif isinstance(wait, Listen):
            self.sim.hear_for(self.channel, wait, self.now, lambda t: self._resume(generation, t))
        elif isinstance(wait, Rings):
            self.wait_rings(wait, lambda t: self._resume(generation, t))

    # -- what steps do ----------------------------------------------------------------------

    def samples(self, seconds: float) -> int:
        return round(seconds * self.sim.fs)

    def say(self, step: Speak) -> int:
        clip = self.sim.sounds.speak(step)
        if step.speech is not None:
            length = self.samples(step.speech)
            play = self.sim.players.start(self.channel, clip, self.now, loop=True, duration=length)
        else:
            length = clip[1]
            play = self.sim.players.start(self.channel, clip, self.now)
        self._plays.append(play)
        return length

    def press(self, step: Press) -> int:
        if not self.sim.audio:  # a signalling-only board decodes the keys itself
            return self._keys_as_events(step)
        clip = self.sim.sounds.keys(step, self.sim.rng)
        self._plays.append(self.sim.players.start(self.channel, clip, self.now))
        return clip[1]

    def _keys_as_events(self, step: Press) -> int:
        """Each key as a `DigitReceived` when it ends; the keys' length in samples."""
        at = self.now
        for key in step.digits.replace(" ", ""):
            if key == ",":
                at += self.samples(1.0)
                continue
            on = step.on_ms if step.on_ms is not None else self.sim.rng.uniform(70, 130)
            off = step.off_ms if step.off_ms is not None else self.sim.rng.uniform(80, 250)
            at += self.samples(on / 1000.0)
            event = DigitReceived(self.channel, at, key.upper())
            self.sim.schedule(at, lambda _t, e=event: self.sim.emit(e))
            at += self.samples(off / 1000.0)
        return at - self.now

    def fax_tone(self, seconds: float) -> int:
        clip = self.sim.sounds.fax_cng()
        length = self.samples(seconds)
        pid = self.sim.players.start(self.channel, clip, self.now, loop=True)
        self._plays.append(pid)
        self.sim.schedule(self.now + length, lambda t: self.sim.players.stop(pid))
        return length

    def hang_up(self) -> None:
        raise ScriptError(f"a {self.role} cannot hang up")

    def off_hook(self) -> None:
        raise ScriptError(f"a {self.role} has no handset")

    def on_hook(self) -> None:
        raise ScriptError(f"a {self.role} has no handset")

    def flash(self, ms: float) -> StepRun:
        raise ScriptError(f"a {self.role} has no hook to flash")
        yield  # pragma: no cover

    def wait_rings(self, wait: Rings, resume: object) -> None:
        raise ScriptError(f"a {self.role} has no ringer")


FAR_END_STEPS = frozenset({"Pause", "Speak", "Press", "WaitSound", "WaitSilence", "HangUp", "Fax"})
PHONE_STEPS = FAR_END_STEPS - {"Fax"} | {"LiftHandset", "ReplaceHandset", "Flash", "WaitRing"}
