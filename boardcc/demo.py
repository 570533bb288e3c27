"""The demo site: the simulated board with generated callers and agents at work.

`boardcc run` with no site file runs this: twenty trunks in two groups and four agent desk
phones (a site like seed 003), callers arriving at random on the simulated exchange (with
caller ID, a few of them giving up before anyone answers), and agents who answer after a
ring or two, talk for a while and hang up — so the channel table, the monitor API and the
CDR store have real traffic to show. Arrivals are a Poisson process at `calls_per_minute`,
seeded, scheduled a minute ahead on the board's own clock.

Calls go through two queues (docs/acd.md): the service line to agents 1001-1003 (longest
idle first), the care line to agent 1004 with 1003 joining after 20 s (tiers). The agents'
password is made at random for each run (there is no default password): `log_in_agents`
logs them in at their desk phones, and API clients of the demo cannot log in as them.
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np

from boardcc.acd.passwords import hash_password
from boardcc.drivers.sim import HangUp, Pause, SimBoard, Speak

TRUNKS, STATIONS = 20, 4
_PASSWORD = secrets.token_urlsafe(16)  # this run's only; never shown
_RIGHTS = ["answer_queue", "answer_internal", "dial_internal", "dial_local", "pickup", "grab"]

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
    "agents": [
        {
            "job": f"100{i + 1}",
            "name": f"Agent {i + 1}",
            "password": hash_password(_PASSWORD),
            "station": f"800{i + 1}",
            "groups": ["service"] if i < 3 else ["care"],
            "permissions": _RIGHTS,
        }
        for i in range(STATIONS)
    ],
    "queues": [
        {"name": "service", "groups": ["service"], "strategy": "longest_idle", "wrap_up_s": 3},
        {
            "name": "care",
            "members": ["1004", {"agent": "1003", "tier": 2}],
            "tier_wait_s": 20,
            "wrap_up_s": 3,
        },
    ],
    "inbound": [
        {"name": "service", "access_number": "400800888", "steps": [{"queue": "service"}]},
        {"name": "care", "access_number": "400800999", "steps": [{"queue": "care"}]},
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


def log_in_agents(engine: Any) -> None:
    """Log the demo's agents in at their desk phones, ready."""
    for job in engine.acd.agents:
        engine.acd.login(job, _PASSWORD, None, "phone")


def demo_board(seed: int = 1) -> SimBoard:
    """The demo's simulated board: 20 trunks, 4 stations, a little noise on the lines.

    The board runs as fast as it is read; the engine's clock paces it.
    """
    board = SimBoard(trunks=TRUNKS, stations=STATIONS, seed=seed, record_heard="none")
    for t in range(TRUNKS):
        board.impair(t, noise_dbm0=-65.0)
    return board
