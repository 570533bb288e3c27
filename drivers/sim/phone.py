"""A desk phone on a simulated station port, and the agent who uses it.

The board powers and rings the phone; the phone lifts and replaces its handset, flashes,
dials (DTMF into the station's receive side), speaks, and hears what the board sends it
(recorded by the board, so tests can check by DSP what an agent heard: ring-back, a
prompt, the caller's voice). A phone can run one script at a time, and can be told to
answer every ring by itself (`auto_answer`), like an agent waiting for calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from boardcc.drivers.events import HookFlash, OffHook, OnHook
from boardcc.drivers.sim import steps
from boardcc.drivers.sim.party import PHONE_STEPS, Party
from boardcc.drivers.sim.steps import Rings, Step, StepRun, Until

if TYPE_CHECKING:
    from boardcc.drivers.sim.board import SimBoard

FLASH_MIN_MS, FLASH_MAX_MS = 100.0, 800.0  # what the port reports as a flash, not a hang-up


class DeskPhone(Party):
    """The phone on station `channel`.

    Attributes
    ----------
    offhook : bool
        The handset is lifted.
    powered : bool
        The board feeds it talk battery (`Board.feed_power`).
    ringing : bool
        The board is ringing it.
    rings : int
        Rings heard since it was created.
    """

    allowed = PHONE_STEPS

    def __init__(self, sim: SimBoard, channel: int) -> None:
        super().__init__(sim, channel, "phone")
        self.offhook = False
        self.powered = True
        self.ringing = False
        self.rings = 0
        self._cadence: tuple[int, ...] = ()
        self._ring_gen = 0
        self._ring_waits: list[tuple[int, float, int, Callable[[int], None]]] = []
        self._auto: tuple[int, tuple[Step, ...]] | None = None
        self._auto_waiting = False  # an auto-answer script is waiting for rings

    # -- the hook ---------------------------------------------------------------------------

    def off_hook(self) -> None:
        self.lift(self.now)

    def on_hook(self) -> None:
        self.replace(self.now)

    def hang_up(self) -> None:
        self.replace(self.now)

    def lift(self, t: int) -> None:
        """Lift the handset at sample `t`."""
        if self.offhook:
            return
        self.offhook = True
        self._auto_waiting = False
        self.sim.set_mic(self.channel, True)
        if self.ringing:
            self._stop_ringing()  # ring trip
        if self.powered:
            self.sim.emit(OffHook(self.channel, t))

    def replace(self, t: int) -> None:
        """Put the handset down at sample `t`."""
        if not self.offhook:
            return
        self.offhook = False
        self.sim.set_mic(self.channel, False)
        self.silence()
        if self.powered:
            self.sim.emit(OnHook(self.channel, t))

    def flash(self, ms: float) -> StepRun:
        if not self.offhook:
            return
        down = self.now
        self.offhook = False
        self.sim.set_mic(self.channel, False)
        yield Until(down + self.samples(ms / 1000.0))
        self.offhook = True
        self.sim.set_mic(self.channel, True)
        if not self.powered:
            return
        if FLASH_MIN_MS <= ms <= FLASH_MAX_MS:
            self.sim.emit(HookFlash(self.channel, self.now))
        else:
            self.sim.emit(OnHook(self.channel, down))
            self.sim.emit(OffHook(self.channel, self.now))

    # -- ringing (driven by the board's ring commands) --------------------------------------

    def start_ringing(self, cadence: tuple[int, ...], t: int) -> None:
        if self.offhook or not self.powered:
            return  # an off-hook phone trips the ring at once; an unpowered one cannot ring
        self._cadence = cadence
        self.ringing = True
        self._ring_gen += 1
        if self._auto is not None and not self.busy:
            # Started first, so it is already counting when the first ring sounds.
            after, talk = self._auto
            self.run([steps.WaitRing(after), steps.LiftHandset(), *talk], t)
            self._auto_waiting = True
        self._ring_cycle(self._ring_gen, t)

    def stop_ringing(self) -> None:
        """The board stopped ringing: an agent about to answer does not lift the handset."""
        self._stop_ringing()
        if self._auto_waiting:
            self.cancel()

    def _stop_ringing(self) -> None:
        self.ringing = False
        self._ring_gen += 1

    def _ring_cycle(self, gen: int, t: int) -> None:
        if gen != self._ring_gen:
            return
        pos = t
        for i in range(0, len(self._cadence), 2):
            self.sim.schedule(pos, lambda t2: self._ring(gen, t2))
            pos += self.sim.ms(self._cadence[i] + self._cadence[i + 1])
        self.sim.schedule(pos, lambda t2: self._ring_cycle(gen, t2))

    def _ring(self, gen: int, t: int) -> None:
        if gen != self._ring_gen:
            return
        self.rings += 1
        waits, self._ring_waits = self._ring_waits, []
        for target, deadline, wgen, resume in waits:
            if self.rings >= target:
                resume(t)
            elif t < deadline:
                self._ring_waits.append((target, deadline, wgen, resume))

    def cancel(self) -> None:
        super().cancel()
        self._ring_waits.clear()
        self._auto_waiting = False

    def wait_rings(self, wait: Rings, resume: object) -> None:
        assert callable(resume)
        target = self.rings + wait.count
        deadline = self.now + self.samples(wait.timeout_s)
        self._ring_waits.append((target, deadline, self._generation, resume))
        self.sim.schedule(deadline, lambda t: self._ring_timeout(target, deadline, t))

    def _ring_timeout(self, target: int, deadline: int, t: int) -> None:
        for entry in list(self._ring_waits):
            if entry[0] == target and entry[1] == deadline:
                self._ring_waits.remove(entry)
                entry[3](t)

    # -- behaviour --------------------------------------------------------------------------

    def auto_answer(self, after_rings: int = 1, talk: Sequence[Step] = ()) -> None:
        """Answer every ring after `after_rings` rings, then run `talk` (an agent at work).

        ``auto_answer(0)`` switches it off.
        """
        self.check(talk)
        self._auto = (after_rings, tuple(talk)) if after_rings > 0 else None

    def heard(self) -> object:
        """Everything this phone heard (int16), from the board's recording."""
        return self.sim.heard(self.channel)
