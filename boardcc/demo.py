"""The demo site: the simulated board with generated callers and agents at work.

`boardcc run` with no site file runs this: twenty trunks in two groups and four agent desk
phones (a site like seed 003), callers arriving at random on the simulated exchange (with
caller ID, a few of them giving up before anyone answers), and agents who answer after a
ring or two, talk for a while and hang up — so the channel table, the monitor API and the
CDR store have real traffic to show. Arrivals are a Poisson process at `calls_per_minute`,
seeded, scheduled a minute ahead on the board's own clock.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from boardcc.drivers.sim import HangUp, Pause, SimBoard, Speak

TRUNKS, STATIONS = 20, 4

DEMO_SITE: dict[str, Any] = {
    "site": "demo",
    "trunk_groups": [
        {"name": "service", "channels": "0-9", "access_number": "400800888"},
        {"name": "care", "channels": "10-19", "access_number": "400800999"},
    ],
    "stations": [
        {"channel": 20 + i, "extension": f"800{i + 1}", "group": "agents", "name": f"Agent {i + 1}"}
        for i in range(STATIONS)
    ],
    "inbound": [
        {
            "name": "service",
            "access_number": "400800888",
            "steps": [{"ring_group": {"stations": ["8001", "8002", "8003"], "strategy": "all"}}],
        },
        {
            "name": "care",
            "access_number": "400800999",
            "steps": [{"station": "8004"}, {"station": "8003"}],
        },
    ],
    "outbound": [{"station_group": "agents", "trunk_group": "service", "hunting": "round_robin"}],
}


class Traffic:
    """Random callers on the trunks and busy agents on the stations of a `SimBoard`.

    Parameters
    ----------
    board : SimBoard
    calls_per_minute : float
        Mean arrival rate over all trunks.
    seed : int
    """

    def __init__(self, board: SimBoard, calls_per_minute: float = 12.0, *, seed: int = 1) -> None:
        self.board = board
        self.rate = calls_per_minute / 60.0
        self.rng = np.random.default_rng(seed)
        self.scheduled_until = 0.0
        self.offered = 0
        for ch in board.of_kind("station"):
            rings = int(self.rng.integers(1, 3))
            talk = float(self.rng.uniform(8.0, 30.0))
            board.phone(ch).auto_answer(rings, [Speak(speech=talk), Pause(1.0), HangUp()])
        self.plan_ahead(60.0)

    def plan_ahead(self, seconds: float) -> None:
        """Schedule arrivals up to `seconds` past the board's clock (call it now and then)."""
        horizon = self.board.now / self.board.fs + seconds
        t = max(self.scheduled_until, self.board.now / self.board.fs)
        trunks = self.board.of_kind("trunk")
        while True:
            t += float(self.rng.exponential(1.0 / self.rate)) if self.rate > 0 else horizon
            if t >= horizon:
                break
            trunk = int(self.rng.choice(trunks))
            number = "13" + "".join(str(d) for d in self.rng.integers(0, 10, 9))
            hold = float(self.rng.uniform(5.0, 40.0))
            patience = float(self.rng.uniform(8.0, 40.0))
            self.board.incoming_call(
                trunk,
                at=t,
                caller_id={"number": number},
                script=[Speak(speech=hold), Pause(2.0), HangUp()],
                give_up_s=patience,
            )
            self.offered += 1
        self.scheduled_until = horizon


def demo_board(seed: int = 1) -> SimBoard:
    """The demo's simulated board: 20 trunks, 4 stations, a little noise on the lines.

    The board runs as fast as it is read; the engine's clock paces it.
    """
    board = SimBoard(trunks=TRUNKS, stations=STATIONS, seed=seed, record_heard="none")
    for t in range(TRUNKS):
        board.impair(t, noise_dbm0=-65.0)
    return board
