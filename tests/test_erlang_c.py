"""The ACD against Erlang C: 20 agents at 85 % load for 8 simulated hours (issue 8).

Poisson arrivals, exponential talk times, no wrap-up, no abandons, on the simulated board
in its signalling-only mode (``SimBoard(audio=False)``: no audio made, detected or mixed)
with 1 s engine blocks, so the same engine, machines and ACD run 8 hours in seconds.

How the measurement maps to the M/M/N model:

- a caller's **wait** is from joining the queue to the offer that was answered (the
  moment an agent is taken for the call); the ring before the agent lifts is service;
- an agent's **service time** is from that offer to the hang-up: the talk time drawn
  plus the ring (the phone rings at the end of the engine's block, about half a block);
  the load A of the formula is the arrival rate times that mean, both measured;
- the queue starts empty, so the first half hour is a warm-up whose calls do not count.

``python -m pytest -s tests/test_erlang_c.py`` prints the figures.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
import pytest

from boardcc.acd.erlang import erlang_c, fcfs_waits, mean_wait, wait_within
from boardcc.acd.passwords import hash_password
from boardcc.config import load_site
from boardcc.drivers.sim import HangUp, Pause, SimBoard
from boardcc.drivers.sim.exchange import LineState
from boardcc.engine import Engine

AGENTS, TRUNKS, LOAD, TALK_S = 20, 100, 17.0, 180.0
WARM_S, HOURS, TARGET_S, BLOCK = 1800.0, 8.0, 20.0, 8000
PASSWORD = "4321"


def site() -> dict[str, Any]:
    password = hash_password(PASSWORD, n=2**10)
    return {
        "trunk_groups": [{"name": "main", "channels": f"0-{TRUNKS - 1}"}],
        "stations": [{"channel": TRUNKS + i, "extension": f"8{i + 1:03d}"} for i in range(AGENTS)],
        "agents": [
            {
                "job": f"1{i + 1:03d}",
                "password": password,
                "station": f"8{i + 1:03d}",
                "groups": ["service"],
                "permissions": ["answer_queue"],
            }
            for i in range(AGENTS)
        ],
        "queues": [
            {"name": "service", "groups": ["service"], "wrap_up_s": 0.0, "max_length": 1000}
        ],
        "inbound": [{"name": "all", "steps": [{"queue": "service"}]}],
    }


def figures(waits: list[float]) -> tuple[float, float]:
    """Service level (waited <= TARGET_S) and mean wait."""
    return sum(w <= TARGET_S for w in waits) / len(waits), statistics.fmean(waits)


def run(seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    rate = LOAD / TALK_S  # calls a second
    end = WARM_S + HOURS * 3600.0
    arrivals = np.cumsum(rng.exponential(1.0 / rate, int(end * rate * 1.2) + 100))
    arrivals = arrivals[arrivals < end]
    talks = rng.exponential(TALK_S, arrivals.size)  # the k-th caller's talk time
    started = time.process_time()
    board = SimBoard(trunks=TRUNKS, stations=AGENTS, block=BLOCK, audio=False, seed=seed)
    engine = Engine(load_site(site()), board)
    order: dict[str, int] = {}  # call id: its place in the order of joining (of ringing in)
    joined: dict[str, float] = {}
    offered: dict[str, float] = {}
    answered: dict[str, float] = {}
    blocked: list[float] = []

    def seen(e: dict[str, Any]) -> None:
        if e["type"] != "queue":
            return
        cid, t = e["call_id"], e["t"]
        if e["event"] == "join":
            joined[cid] = t
            order[cid] = len(order)
        elif e["event"] == "offer":
            offered[cid] = t
        elif e["event"] == "answer":
            answered[cid] = t
            # The agent talks for this caller's talk time, then hangs up.
            phone = board.phone(TRUNKS + int(e["agent"]) - 1001)
            phone.run([HangUp()], at=round((t + talks[order[cid]]) * board.fs))

    def ring_in(b: SimBoard) -> None:
        free = [n for n, line in b.lines.items() if line.state is LineState.IDLE]
        free = [n for n in free if not b.lines[n].board_offhook]
        if not free:
            blocked.append(b.seconds(b.now))
            return
        b.incoming_call(free[0], script=[Pause(end + 3600.0)])

    engine.subscribe(seen)
    with board:
        for i in range(AGENTS):
            board.phone(TRUNKS + i).auto_answer(1, [Pause(end + 3600.0)])
            engine.acd.login(f"1{i + 1:03d}", PASSWORD, None, "api")
        for t in arrivals:
            board.at(float(t), ring_in)
        engine.run_for(end + 900.0)  # and a quarter of an hour to serve the last callers
        cpu = time.process_time() - started
        assert not board.errors, board.errors[:3]
        assert not blocked, blocked[:3]
        assert not engine.acd.waiting
    assert len(order) == arrivals.size == len(answered)
    rings = [answered[c] - offered[c] for c in order]
    waits = [offered[c] - joined[c] for c in order]
    ideal = fcfs_waits([joined[c] for c in order], list(talks + rings), AGENTS)
    counted = [k for k, c in enumerate(order) if WARM_S <= joined[c] < end]
    service = TALK_S + statistics.fmean(rings)
    load = rate * service
    sl, wait = figures([waits[k] for k in counted])
    sl_ideal, wait_ideal = figures([ideal[k] for k in counted])
    return {
        "calls": len(counted),
        "load": load,
        "ring": statistics.fmean(rings),
        "talk": float(np.mean(talks)),
        "sl": sl,
        "sl_ideal": sl_ideal,
        "sl_theory": wait_within(AGENTS, load, TARGET_S, service),
        "wait": wait,
        "wait_ideal": wait_ideal,
        "wait_theory": mean_wait(AGENTS, load, service),
        "p_wait_theory": erlang_c(AGENTS, load),
        "cpu": cpu,
    }


@pytest.mark.slow
def test_the_acd_agrees_with_erlang_c() -> None:
    r = run(seed=1)
    print(
        f"\nErlang C, {AGENTS} agents, {HOURS:g} h after a {WARM_S / 60:g} min warm-up, "
        f"{r['calls']:.0f} calls, A = {r['load']:.3f} Erl (mean talk {TALK_S:g} s + ring "
        f"{r['ring']:.2f} s; drawn talk mean {r['talk']:.1f} s), CPU {r['cpu']:.1f} s\n"
        f"  P(wait <= {TARGET_S:g} s): ACD {r['sl']:.4f}, ideal FCFS queue on the same calls "
        f"{r['sl_ideal']:.4f}, Erlang C {r['sl_theory']:.4f}\n"
        f"  mean wait:          ACD {r['wait']:.2f} s, ideal {r['wait_ideal']:.2f} s, "
        f"Erlang C {r['wait_theory']:.2f} s"
    )
    assert r["calls"] > 2500
    assert abs(r["sl"] - r["sl_ideal"]) <= 0.02
    assert r["wait"] == pytest.approx(r["wait_ideal"], rel=0.10)
