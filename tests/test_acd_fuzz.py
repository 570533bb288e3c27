"""Random agent commands, hang-ups and hook flashes never leave the ACD in a bad state.

Hypothesis draws callers (who hang up at any moment), desk-phone users (lifting, dropping,
flashing, keying feature codes and extensions, two of them headset agents whose phones
stand by off hook) and agent commands through the engine
(status, hold, transfers, conferences, also to an outside number, pickup, grab, supervisors),
at random times. After
every step: no agent is reserved or ringing without a call, no queued caller is lost (every
waiting caller's call is open), and no channel's handling failed. Once everybody has hung
up: every channel idle, no call open, nobody waiting, every agent idle, and every call the
engine announced ended with its record closed (in the store as in the events).
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from boardcc.acd.agent import AgentError, AgentState, AgentStatus
from boardcc.cdr import Disposition
from boardcc.config import load_site
from boardcc.drivers.sim import Callee, Flash, HangUp, LiftHandset, Pause, Press, SimBoard, Speak
from boardcc.engine import Engine
from boardcc.machines import StationState
from tests.test_acd import ALL_RIGHTS, HASH, PASSWORD, Store, agent

STATION = 3  # the first desk phone's channel (after three trunks); a plan names 0 to 2
SITE: dict[str, Any] = {
    "trunk_groups": [
        {"name": "main", "channels": "0-1", "access_number": "400800888"},
        {"name": "out", "channels": "2"},  # so that outside transfers find a line
    ],
    "stations": [{"channel": STATION + i, "extension": f"800{i + 1}"} for i in range(3)],
    "agents": [
        agent(f"100{i + 1}", f"800{i + 1}", permissions=[*ALL_RIGHTS, "transfer_outside"]) | more
        for i, more in enumerate(
            # 1002 and 1003 wear headsets (长摘机): off hook they stand by; 1003 auto-answers.
            [{}, {"headset": True}, {"headset": True, "auto_answer": True}]
        )
    ],
    "queues": [
        {
            "name": "service",
            "groups": ["service"],
            "ring_s": 4,
            "wrap_up_s": 1,
            "max_wait_s": 30,
            "callback_key": "2",
            "leave_key": "0",
            "leave_to": [{"hang_up": True}],
        }
    ],
    "inbound": [{"name": "all", "steps": [{"queue": "service"}]}],
    "outbound": [{"trunk_group": "out"}],
    "acd": {"max_missed_offers": 2},
    "timeouts": {"soft_dial_answer_s": 5, "station_ring_s": 5, "interdigit_s": 1.5},
}
assert HASH
OUTSIDE = "12345678"  # answers after a ring, talks 4 s and hangs up

times = st.floats(min_value=0.0, max_value=10.0, allow_nan=False)
short = st.floats(min_value=0.1, max_value=5.0, allow_nan=False)
incoming = st.tuples(st.just("call"), times, st.integers(0, 1), short, st.sampled_from("n02"))
phone = st.tuples(
    st.just("phone"),
    times,
    st.integers(0, 2),
    st.lists(
        st.sampled_from(
            [
                "lift",
                "drop",
                "flash",
                "dial_ext",
                "dial_out",
                "login",
                "ready",
                "star3",
                "wait",
                "answer_key",
            ]
        ),
        min_size=1,
        max_size=5,
    ),
)
COMMANDS = [
    "ready",
    "not_ready",
    "hold",
    "retrieve",
    "blind",
    "consult",
    "complete",
    "conference",
    "conference_complete",
    "reconnect",
    "outside_blind",
    "outside_consult",
    "outside_conference",
    "pickup",
    "grab",
    "listen",
    "barge",
    "hang_up",
    "force_release",
    "logout",
    "answer",
]
command = st.tuples(st.just("command"), times, st.integers(0, 2), st.sampled_from(COMMANDS))
actions = st.lists(st.one_of(incoming, phone, command), max_size=10)


def phone_steps(words: list[str]) -> list[Any]:
    out: list[Any] = []
    for w in words:
        out += {
            "lift": [LiftHandset()],
            "drop": [HangUp()],
            "flash": [Flash(300)],
            "dial_ext": [Press("8002#", on_ms=80, off_ms=80)],
            "dial_out": [Press(f"9{OUTSIDE}#", on_ms=80, off_ms=80)],
            "login": [Press(f"*11003#{PASSWORD}#", on_ms=80, off_ms=80)],
            "ready": [Press("*2#", on_ms=80, off_ms=80)],
            "star3": [Press("*3", on_ms=80, off_ms=80)],
            "wait": [Pause(1.5)],
            "answer_key": [Press("#", on_ms=80, off_ms=80)],
        }[w]
    return out


def run_command(engine: Engine, job: str, name: str) -> None:
    acd, control = engine.acd, engine.acd.control
    a = acd.agents[job]
    other = "1002" if job != "1002" else "1001"
    calls = list(acd.waiting)
    with contextlib.suppress(AgentError):  # refused in this state: the engine says why
        {
            "ready": lambda: acd.set_status(a, AgentStatus.READY),
            "not_ready": lambda: acd.set_status(a, AgentStatus.NOT_READY, "小休"),
            "hold": lambda: control.hold(a),
            "retrieve": lambda: control.retrieve(a),
            "blind": lambda: control.transfer(a, "8003", "blind"),
            "consult": lambda: control.transfer(a, f"agent:{other}", "consult"),
            "complete": lambda: control.complete(a, "transfer"),
            "conference": lambda: control.conference(a, "8003"),
            "conference_complete": lambda: control.complete(a, "conference"),
            "reconnect": lambda: control.reconnect(a),
            "outside_blind": lambda: control.transfer(a, f"9{OUTSIDE}", "blind"),
            "outside_consult": lambda: control.transfer(a, f"9{OUTSIDE}", "consult"),
            "outside_conference": lambda: control.conference(a, f"9{OUTSIDE}"),
            "pickup": lambda: control.pickup(a, "8001"),
            "grab": lambda: control.grab(a, calls[0] if calls else "none"),
            "listen": lambda: control.monitor(a, other, "listen"),
            "barge": lambda: control.monitor(a, other, "barge"),
            "hang_up": lambda: control.hang_up(a),
            "force_release": lambda: control.force_release(a, other),
            "logout": lambda: acd.logout(a),
            "answer": lambda: control.answer(a),
        }[name]()


def check(engine: Engine) -> None:
    assert engine.errors == 0, "a channel's handling failed"
    for a in engine.acd.agents.values():
        if a.state in (AgentState.RESERVED, AgentState.RINGING):
            assert a.call_id in engine.calls, f"agent {a.job} {a.state} without a call"
    for w in engine.acd.waiting.values():
        assert w.callback or w.call_id in engine.calls, "a queued caller was lost"
    for ch, m in engine.machines.items():  # a call offered in standby has its call
        if m.state is StationState.OFFERED:
            assert ch in engine.call_of, f"station {ch} offered without a call"


@pytest.mark.slow
# Derandomized: CI runs the same 30 plans every time (random runs found the two examples
# below; to explore further, run it locally with derandomize=False).
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(actions)
# Found by hypothesis: a callback re-offered on the ring-out notice of the agent's last
# offer lost its ring timer to the leaving state's cancel, and the phone rang for ever.
@example(
    [
        ("call", 0.0, 0, 0.1, "n"),
        ("phone", 0.0, 0, ["lift"]),
        ("call", 6.13, 0, 2.15, "n"),
        ("command", 0.0, 0, "ready"),
        ("call", 6.13, 1, 2.15, "2"),
    ]
)
# Found by hypothesis: a not-ready code with other keys after it (*3*11003#...) failed the
# channel instead of being refused.
@example([("phone", 0.0, 0, ["lift", "star3", "login"])])
# Found by hypothesis: a callback request offered to a phone in standby is dialled at once,
# and with no free trunk its call was over before the offer had finished.
@example(
    [
        ("call", 0.0, 1, 1.7, "2"),
        ("call", 2.4, 0, 4.0, "2"),
        ("call", 3.3, 0, 2.5, "n"),
        ("phone", 3.6, 1, ["flash"]),
        ("call", 5.3, 0, 2.5, "n"),
        ("call", 6.3, 0, 1.3, "n"),
        ("call", 9.7, 0, 3.5, "n"),
    ]
)
# Headset: a call offered to 1002 standing by, answered from the API, then one answered
# with the key, a flash and a target refused.
@example(
    [
        ("command", 0.0, 0, "not_ready"),
        ("call", 0.0, 0, 5.0, "n"),
        ("command", 3.5, 1, "answer"),
        ("call", 9.0, 1, 3.0, "n"),
        ("phone", 12.0, 1, ["answer_key", "flash", "dial_ext"]),
    ]
)
def test_random_agents_and_callers_never_leave_anyone_stuck(plan: list[tuple[Any, ...]]) -> None:
    board = SimBoard(trunks=3, stations=3, seed=7)
    store = Store()
    with board:
        engine = Engine(load_site(SITE), board, store=store)
        seen: dict[str, list[str]] = {}  # every call the engine announced, and its events
        engine.subscribe(
            lambda e: (
                seen.setdefault(e["call_id"], []).append(e["event"])
                if e["type"] == "call"
                else None
            )
        )
        board.directory[OUTSIDE] = Callee(
            "answer", rings=1, script=(Speak(tone=1900, seconds=4.0), HangUp())
        )
        for job in ("1001", "1002"):
            engine.acd.login(job, PASSWORD, None, "api")
        for s in (STATION, STATION + 1):
            board.phone(s).auto_answer(2, [Speak(tone=1300, seconds=3.0)])
        board.phone(STATION + 1).off_hook()  # 1002's headset: standing by
        for item in plan:
            kind, at = item[0], item[1]
            if kind == "call":
                _, _, trunk, hold, key = item
                script = [Pause(hold)] + ([Press(key)] if key != "n" else []) + [HangUp()]
                board.incoming_call(trunk, at=at, caller_id="1380000000", script=script)
            elif kind == "phone":
                _, _, station, words = item
                board.phone(STATION + station).run(phone_steps(words), round(at * 8000))
            else:
                _, _, k, name = item
                job = f"100{k + 1}"
                board.at(
                    at, lambda b, j=job, n=name: engine.submit(lambda: run_command(engine, j, n))
                )
        for _ in range(40):
            engine.run_for(0.4)
            check(engine)
        # Everybody hangs up.
        for t in (0, 1, 2):
            board.hang_up_far(t)
        for s in (STATION, STATION + 1, STATION + 2):
            board.phone(s).auto_answer(0)
            board.phone(s).cancel()
            board.phone(s).replace(board.now)
        for _ in range(30):
            engine.run_for(1.0)
            check(engine)
        for s in (STATION, STATION + 1, STATION + 2):
            board.phone(s).replace(board.now)
        engine.acd.waiting = {k: w for k, w in engine.acd.waiting.items() if not w.callback}
        engine.run_for(10.0)
        check(engine)
        assert engine.idle(), engine.snapshot()
        assert not engine.acd.waiting
        assert all(a.state is AgentState.IDLE for a in engine.acd.agents.values())
        assert all(c.disposition is not Disposition.OPEN for c in store.last.values())
        # Every call the engine saw (not only those stored) ended, with its record closed.
        assert set(store.last) <= set(seen)
        for call_id, kinds in seen.items():
            assert kinds[0] == "start" and kinds[-1] == "end", (call_id, kinds)
            cdr = store.last[call_id]
            assert cdr.disposition is not Disposition.OPEN and cdr.ended is not None, cdr
