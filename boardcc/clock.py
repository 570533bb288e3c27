"""The engine's clocks: virtual for tests and simulation, real time for a live site.

The engine asks the clock for the time of the next tick and waits for it. The virtual
clock never waits: time jumps to the deadline, so an hour of traffic takes as long as the
CPU needs. The real-time clock sleeps until the deadline and counts the ticks that began
late (a board with its own clock, such as DAHDI, also paces reads; then the clock mostly
measures lateness).
"""

from __future__ import annotations

import time


class VirtualClock:
    """Time that moves only when the engine says so."""

    realtime = False

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self.late = 0

    def now(self) -> float:
        return self._now

    def wait_until(self, deadline: float) -> None:
        self._now = max(self._now, deadline)


class RealtimeClock:
    """Wall-clock time (monotonic), with deadline scheduling and a count of late ticks.

    Parameters
    ----------
    tolerance_s : float
        A tick that starts more than this after its deadline counts as late.
    """

    realtime = True

    def __init__(self, tolerance_s: float = 0.005) -> None:
        self._origin = time.monotonic()
        self.tolerance_s = tolerance_s
        self.late = 0
        self.worst_late_s = 0.0

    def now(self) -> float:
        return time.monotonic() - self._origin

    def wait_until(self, deadline: float) -> None:
        delay = deadline - self.now()
        if delay > 0:
            time.sleep(delay)
        elif -delay > self.tolerance_s:
            self.late += 1
            self.worst_late_s = max(self.worst_late_s, -delay)


Clock = VirtualClock | RealtimeClock
