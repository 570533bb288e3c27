"""Random traffic never breaks the engine, and everything comes back to rest.

Hypothesis draws what callers, callees, desk phones and lines do and when (rings that are
answered or abandoned, hang-ups at any moment, handsets lifted and dropped, flashes, keys,
soft dials, lines cut and restored); the engine runs it on the simulated board. Whatever
happens, no exception escapes, no channel's handling fails, and once everybody has hung up
every channel is idle and no call is left open.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boardcc.config import load_site
from boardcc.drivers.sim import Callee, Flash, HangUp, LiftHandset, Pause, Press, SimBoard, Speak
from boardcc.engine import Engine

SITE: dict[str, Any] = {
    "trunk_groups": [{"name": "main", "channels": "0-1", "access_number": "400800888"}],
    "stations": [
        {"channel": 2, "extension": "8001", "group": "agents"},
        {"channel": 3, "extension": "8002", "group": "agents"},
    ],
    "inbound": [
        {"name": "all", "steps": [{"ring_group": {"stations": ["8001", "8002"]}}]},
    ],
    "outbound": [{"station_group": "agents", "trunk_group": "main"}],
    "timeouts": {
        "soft_dial_answer_s": 6,
        "station_ring_s": 6,
        "first_digit_s": 3,
        "interdigit_s": 1.5,
        "answer_wait_s": 8,
        "guard_s": 0.5,
    },
}

times = st.floats(min_value=0.0, max_value=12.0, allow_nan=False)
short = st.floats(min_value=0.1, max_value=4.0, allow_nan=False)

incoming = st.tuples(st.just("call"), times, st.integers(0, 1), short, st.booleans())
phone = st.tuples(
    st.just("phone"),
    times,
    st.integers(2, 3),
    st.lists(
        st.sampled_from(["lift", "drop", "flash", "dial_ext", "dial_out", "talk", "wait"]),
        min_size=1,
        max_size=5,
    ),
)
soft = st.tuples(st.just("soft"), times, st.sampled_from(["8001", "8002"]))
cut = st.tuples(st.just("cut"), times, st.integers(0, 1), short)
actions = st.lists(st.one_of(incoming, phone, soft, cut), max_size=8)


def phone_steps(words: list[str]) -> list[Any]:
    out: list[Any] = []
    for w in words:
        out += {
            "lift": [LiftHandset()],
            "drop": [HangUp()],
            "flash": [Flash(300)],
            "dial_ext": [Press("8002#", on_ms=80, off_ms=80)],
            "dial_out": [Press("995588#", on_ms=80, off_ms=80)],
            "talk": [Speak(tone=800, seconds=1.0)],
            "wait": [Pause(1.5)],
        }[w]
    return out


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
def test_random_traffic_ends_at_rest(plan: list[tuple[Any, ...]]) -> None:
    board = SimBoard(trunks=2, stations=2, seed=11)
    with board:
        board.directory["95588"] = Callee("answer", rings=1, script=(Speak(speech=1.5), HangUp()))
        engine = Engine(load_site(SITE), board)
        for item in plan:
            kind, at = item[0], item[1]
            if kind == "call":
                _, _, trunk, hold, hangs_up = item
                script = [Speak(tone=700, seconds=hold), HangUp()] if hangs_up else []
                board.incoming_call(trunk, at=at, script=script, give_up_s=6.0 + hold)
            elif kind == "phone":
                _, _, station, words = item
                board.phone(station).run(phone_steps(words), round(at * 8000))
            elif kind == "soft":
                _, _, ext = item
                board.at(at, lambda b, ext=ext: engine.submit(lambda: _soft(engine, ext)))
            else:
                _, _, trunk, down = item
                board.at(at, lambda b, t=trunk: b.disconnect(t))
                board.at(at + down, lambda b, t=trunk: b.reconnect(t))
        engine.run_for(16.0)
        # Everybody hangs up; lines come back.
        for t in (0, 1):
            board.reconnect(t)
            board.hang_up_far(t)
        for s in (2, 3):
            board.phone(s).auto_answer(0)
            board.phone(s).cancel()
            board.phone(s).replace(board.now)
        engine.run_for(25.0)
        for s in (2, 3):  # a phone that lifted itself after the first hang-up
            board.phone(s).replace(board.now)
        engine.run_for(12.0)
        assert engine.errors == 0, "a channel's handling failed"
        assert board.errors == []
        assert engine.idle(), engine.snapshot()


def _soft(engine: Engine, ext: str) -> None:
    with contextlib.suppress(ValueError):  # a busy station: the API reports it
        engine.dial(ext, "95588")
