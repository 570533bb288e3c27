"""Transfers and conferences to outside numbers on the simulated board (boardcc.acd.outside).

A queued caller (700 Hz, trunk 0) talks to agent 1001 (1300 Hz, desk phone on channel 3);
the agent consults, conferences or transfers the outside number 88123456 (keyed ``9``
first, the outbound rule's prefix), which the simulated exchange behind the next free trunk
routes to a scripted callee (1900 Hz). Every test checks who hears whom, the agents' state,
the lines, and the CDRs of the call and of its outside leg.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boardcc.acd.agent import AgentError
from boardcc.cdr import Cdr, Direction, Disposition, HungUpBy
from boardcc.config import load_site
from boardcc.drivers.sim import (
    Callee,
    Flash,
    HangUp,
    LiftHandset,
    Pause,
    Press,
    SimBoard,
    Speak,
)
from boardcc.engine import Engine
from boardcc.machines import StationState, TrunkState
from boardcc.store import CdrStore
from boardcc.store.queue_events import QueueEventLog, find_queue_events
from tests.test_acd import ALL_RIGHTS, CALLER_HZ, MONDAY_10AM, login_all, make, site
from tests.test_acd_control import AGENT, THIRD, hears

NUMBER = "88123456"  # the outside party
KEYED = "9" + NUMBER  # as the agent keys it (outside-line prefix 9)


def outside_site(*, rights: list[str] | None = None, ring_s: float = 12.0) -> dict[str, Any]:
    config: dict[str, Any] = site()
    config["outbound"] = [{"trunk_group": "main", "prefix": "9", "hunting": "sequential"}]
    config["acd"] = {"transfer_ring_s": ring_s}
    for a in config["agents"]:
        a["permissions"] = rights if rights is not None else [*ALL_RIGHTS, "transfer_outside"]
    return config


def callee(kind: str = "answer", *script: Any, rings: int = 1) -> Callee:
    return Callee(kind, rings=rings, script=script or (Speak(tone=THIRD, seconds=120.0),))


def start(
    config: dict[str, Any] | None = None, agent_script: list[Any] | None = None
) -> tuple[SimBoard, Engine, Any, list[dict[str, Any]]]:
    """The caller on trunk 0 talking to agent 1001 (6 s in), who then runs `agent_script`."""
    b, engine, store, events = make(config or outside_site())
    b.phone(3).auto_answer(1, [Speak(tone=AGENT, seconds=3.0), *(agent_script or [])])
    login_all(engine, "1001")
    b.incoming_call(0, at=0.5, caller_id="13800000000", script=[Speak(tone=CALLER_HZ, seconds=120)])
    return b, engine, store, events


def talking(b: SimBoard, engine: Engine) -> None:
    """Agent and caller talk (the agent keeps speaking from here)."""
    engine.run_for(6.0)
    assert engine.acd.agents["1001"].state.value == "in_call"
    b.phone(3).run([Speak(tone=AGENT, seconds=120.0)])
    engine.run_for(1.0)


def leg_cdr(store: Any, call_id: str) -> Cdr:
    (leg,) = [c for c in store.last.values() if c.extra.get("leg_of") == call_id]
    return leg


def transfers(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "queue" and e["event"] == "transfer"]


def test_consult_transfer_to_an_outside_number_from_the_desk_phone() -> None:
    b, engine, store, events = start(
        agent_script=[Flash(), Pause(1.0), Press(KEYED + "#"), Speak(tone=AGENT, seconds=120)]
    )
    with b:
        b.directory[NUMBER] = callee()
        engine.run_for(10.5)
        # The caller is on hold (music) while the outside line is dialled on trunk 1.
        assert engine.acd.agents["1001"].state.value == "on_hold"
        assert engine.machines[1].state in (TrunkState.SELECTED, TrunkState.DIALLED)
        engine.run_for(7.5)
        assert [c.number for c in b.trunk(1).calls] == [NUMBER]  # the prefix went
        assert engine.machines[1].state is TrunkState.CONNECTED
        # Agent and outside party talk; the caller hears neither.
        assert hears(b, 3, THIRD) and hears(b, 1, AGENT)
        assert not hears(b, 0, AGENT) and not hears(b, 0, THIRD)
        snap = {a["job"]: a for a in engine.snapshot()["agents"]}
        assert snap["1001"]["consult"] == NUMBER
        call = engine.call_of[0]
        b.phone(3).run([HangUp()])  # 完成
        engine.run_for(1.5)
        assert engine.acd.agents["1001"].state.value == "wrap_up"  # kept across the transfer
        engine.run_for(2.0)
        # Trunk to trunk: caller and outside party hear each other.
        assert hears(b, 0, THIRD, 1.5) and hears(b, 1, CALLER_HZ, 1.5)
        assert call.answered_by == 1 and call.cdr.extra["transfers"] == f"1001->{NUMBER}"
        (moved,) = transfers(events)
        assert (moved["target"], moved["mode"], moved["queue"]) == (NUMBER, "consult", "service")
        # The outside party hangs up: busy tone on its line ends the call, both trunks free.
        b.trunk(1).far_hang_up(b.now)
        engine.run_for(6.0)
        assert 0 not in engine.call_of and engine.idle()
    main, leg = store.last[call.cdr.call_id], leg_cdr(store, call.cdr.call_id)
    assert (main.disposition, main.hung_up_by) == (Disposition.ANSWERED, HungUpBy.CALLEE)
    assert main.extra["outside"] == NUMBER and main.extra["outside_leg"] == leg.call_id
    assert leg.direction is Direction.OUTBOUND and leg.called == NUMBER
    assert (leg.caller, leg.trunk, leg.extra["agent"]) == ("8001", "sim/1", "1001")
    assert (leg.disposition, leg.hung_up_by) == (Disposition.ANSWERED, HungUpBy.CALLEE)
    assert leg.answered is not None and leg.ended is not None


@pytest.mark.parametrize("sign", ["busy", "reversal"])
def test_blind_transfer_to_outside_from_the_api_then_the_caller_hangs_up(sign: str) -> None:
    config = outside_site()
    config["trunk_groups"][0]["far_end_gone"] = [sign, "line_lost"]
    b, engine, store, events = start(config)
    with b:
        b.trunk(0).far_hangup = [sign]  # how the caller's exchange shows the hang-up
        b.directory[NUMBER] = callee()
        talking(b, engine)
        agent = engine.acd.agents["1001"]
        engine.acd.control.transfer(agent, KEYED, "blind")
        assert agent.state.value == "wrap_up"
        engine.run_for(1.0)
        assert engine.machines[3].state is StationState.WAIT_HANGUP  # the agent is out
        b.phone(3).run([HangUp()])
        engine.run_for(3.0)
        engine.run_for(10.0)
        assert engine.machines[0].state is engine.machines[1].state is TrunkState.CONNECTED
        assert hears(b, 0, THIRD) and hears(b, 1, CALLER_HZ)
        call = engine.call_of[0]
        (moved,) = transfers(events)
        assert (moved["target"], moved["mode"]) == (NUMBER, "blind")
        b.trunk(0).far_hang_up(b.now)  # the caller hangs up: busy tone or a reversal
        engine.run_for(6.0)
        assert engine.idle()
        assert b.trunk(1).call is not None and b.trunk(1).call.cleared_by == "board"
    main, leg = store.last[call.cdr.call_id], leg_cdr(store, call.cdr.call_id)
    assert main.disposition is Disposition.ANSWERED and main.hung_up_by is HungUpBy.CALLER
    assert leg.disposition is Disposition.ANSWERED and leg.hung_up_by is HungUpBy.CALLER


@pytest.mark.parametrize("kind", ["busy", "no_answer"])
def test_an_outside_party_busy_or_not_answering_gives_the_caller_back(kind: str) -> None:
    b, engine, store, _ = start()
    with b:
        b.directory[NUMBER] = callee(kind)
        talking(b, engine)
        agent = engine.acd.agents["1001"]
        engine.acd.control.transfer(agent, KEYED, "consult")
        engine.run_for(2.0)
        assert agent.state.value == "on_hold" and not hears(b, 0, AGENT, 1.0)
        engine.run_for(14.0)  # busy at once; no answer within transfer_ring_s (12 s)
        assert agent.state.value == "in_call"
        assert hears(b, 0, AGENT, 1.0) and hears(b, 3, CALLER_HZ, 1.0)
        assert engine.acd.control.consult_json(agent)["consult"] is None
        call = engine.call_of[0]
        assert call.outside is None and 1 not in engine.call_of
        engine.run_for(2.0)
        assert engine.machines[1].state is TrunkState.IDLE
    leg = leg_cdr(store, call.cdr.call_id)
    assert leg.disposition == kind and leg.answered is None and leg.ended is not None


def test_the_outside_party_hanging_up_during_the_consultation_brings_the_caller_back() -> None:
    b, engine, store, _ = start()
    with b:
        b.directory[NUMBER] = callee("answer", Speak(tone=THIRD, seconds=6.0), HangUp())
        talking(b, engine)
        agent = engine.acd.agents["1001"]
        engine.acd.control.transfer(agent, KEYED, "consult")
        engine.run_for(8.0)
        assert engine.machines[1].state is TrunkState.CONNECTED and hears(b, 3, THIRD, 1.0)
        engine.run_for(10.0)  # it hangs up; its exchange sends busy tone
        assert agent.state.value == "in_call" and hears(b, 0, AGENT, 1.0)
        call = engine.call_of[0]
    leg = leg_cdr(store, call.cdr.call_id)
    assert (leg.disposition, leg.hung_up_by) == (Disposition.ANSWERED, HungUpBy.CALLEE)


def test_three_way_conference_with_an_outside_party_then_reconnect() -> None:
    b, engine, store, events = start()
    with b:
        b.directory[NUMBER] = callee()
        talking(b, engine)
        agent = engine.acd.agents["1001"]
        control = engine.acd.control
        control.conference(agent, KEYED)
        with pytest.raises(AgentError, match="not answered yet"):
            control.complete(agent, "conference")
        engine.run_for(10.0)
        control.complete(agent, "conference")  # 会议|完成
        engine.run_for(3.0)
        assert agent.state.value == "in_call"
        assert hears(b, 0, AGENT) and hears(b, 0, THIRD)
        assert hears(b, 3, CALLER_HZ) and hears(b, 3, THIRD)
        assert hears(b, 1, CALLER_HZ) and hears(b, 1, AGENT)
        control.reconnect(agent)  # 接回: the outside party is let go
        engine.run_for(3.0)
        assert hears(b, 0, AGENT, 1.5) and not hears(b, 0, THIRD, 1.5)
        assert engine.machines[1].state in (TrunkState.WAIT_HANGUP, TrunkState.IDLE)
        call = engine.call_of[0]
        assert transfers(events) == []  # a conference the agent stays in moves nobody
    leg = leg_cdr(store, call.cdr.call_id)
    assert (leg.disposition, leg.hung_up_by) == (Disposition.ANSWERED, HungUpBy.CALLER)


def test_the_agent_leaving_a_conference_with_an_outside_party_hands_the_caller_over() -> None:
    b, engine, _, events = start(
        agent_script=[Flash(), Pause(1.0), Press(KEYED + "#"), Speak(tone=AGENT, seconds=120)]
    )
    with b:
        b.directory[NUMBER] = callee()
        engine.run_for(20.0)
        b.phone(3).run([Press("*3"), Speak(tone=AGENT, seconds=3.0), HangUp()])
        engine.run_for(3.0)
        assert hears(b, 1, CALLER_HZ, 1.0) and hears(b, 0, THIRD, 1.0)  # three-way
        assert hears(b, 0, AGENT, 1.0) and hears(b, 1, AGENT, 1.0)
        engine.run_for(1.5)  # the agent hung up: caller and outside party carry on
        assert engine.acd.agents["1001"].state.value == "wrap_up"
        engine.run_for(1.5)
        assert hears(b, 0, THIRD, 1.0) and hears(b, 1, CALLER_HZ, 1.0)
        assert not hears(b, 0, AGENT, 1.0)
        assert [e["mode"] for e in transfers(events)] == ["conference"]


def test_a_failed_blind_transfer_rings_the_agent_back() -> None:
    b, engine, _, _ = start()
    with b:
        b.directory[NUMBER] = callee("busy")
        talking(b, engine)
        agent = engine.acd.agents["1001"]
        engine.acd.control.transfer(agent, KEYED, "blind")
        b.phone(3).run([HangUp()])
        engine.run_for(10.0)  # busy: the agent's phone rings with the caller, lifted at once
        assert agent.state.value == "in_call" and engine.call_of[3] is engine.call_of[0]
        b.phone(3).run([Speak(tone=AGENT, seconds=30.0)])
        engine.run_for(3.0)
        assert hears(b, 0, AGENT, 1.5) and hears(b, 3, CALLER_HZ, 1.5)


def test_refusals_leave_the_caller_with_the_agent() -> None:
    config = outside_site(rights=[*ALL_RIGHTS])  # no dial_national, no transfer_outside
    config["trunk_groups"] = [
        {"name": "main", "channels": "0-1", "access_number": "400800888"},
        {"name": "out", "channels": "2"},
    ]
    config["outbound"][0]["trunk_group"] = "out"
    b, engine, _, _ = start(config)
    with b:
        talking(b, engine)
        agent = engine.acd.agents["1001"]
        control = engine.acd.control
        refusals = {
            "12345": "not an extension or agent here; outside numbers start with 9 / 转移目标无效",
            "9012345678": "lacks 'dial_national' / 座席 1001 无权限: 拨打国内电话",
            KEYED: "lacks 'transfer_outside' / 座席 1001 无权限: 呼叫转外线",
        }
        for target, message in refusals.items():
            with pytest.raises(AgentError, match=message):
                control.transfer(agent, target, "blind")
        b.disconnect(2)  # the one outside line is down: no free trunk
        engine.run_for(1.0)
        with pytest.raises(AgentError, match="no free trunk in out / 无空闲外线"):
            control.transfer(agent, KEYED, "consult")
        engine.run_for(2.0)
        assert agent.state.value == "in_call" and hears(b, 0, AGENT, 1.5)
        # From the phone: busy tone, then the caller is back by itself.
        b.phone(3).run([Flash(), Pause(1.0), Press(KEYED + "#"), Speak(tone=AGENT, seconds=60)])
        engine.run_for(3.0)
        assert agent.state.value == "on_hold"
        engine.run_for(3.0)
        assert agent.state.value == "in_call" and hears(b, 0, AGENT, 1.0)


def test_without_transfer_outside_hanging_up_in_a_consultation_ends_the_call() -> None:
    b, engine, store, events = start(outside_site(rights=[*ALL_RIGHTS]))
    with b:
        b.directory[NUMBER] = callee()
        talking(b, engine)
        agent = engine.acd.agents["1001"]
        engine.acd.control.transfer(agent, KEYED, "consult")  # consulting is dialling
        engine.run_for(10.0)
        call = engine.call_of[0]
        with pytest.raises(AgentError, match="transfer_outside"):
            engine.acd.control.complete(agent, "transfer")
        b.phone(3).run([HangUp()])
        engine.run_for(6.0)
        assert engine.idle() and transfers(events) == []
    assert store.last[call.cdr.call_id].disposition is Disposition.ANSWERED
    assert leg_cdr(store, call.cdr.call_id).ended is not None


def test_an_outside_leg_open_when_the_engine_stops_is_closed_with_the_call() -> None:
    b, engine, store, _ = start()
    with b:
        b.directory[NUMBER] = callee()
        talking(b, engine)
        engine.acd.control.transfer(engine.acd.agents["1001"], KEYED, "consult")
        engine.run_for(8.0)
        call = engine.call_of[0]
        engine.shutdown()
        assert engine.machines[1].state is not TrunkState.CONNECTED
    leg = leg_cdr(store, call.cdr.call_id)
    assert leg.disposition is Disposition.ENGINE_STOPPED and leg.ended is not None
    assert store.last[call.cdr.call_id].disposition is Disposition.ENGINE_STOPPED


def test_both_legs_and_the_transfer_reach_the_database(tmp_path: Path) -> None:
    b = SimBoard(trunks=3, stations=4, seed=3)
    with CdrStore(tmp_path / "cdr.db") as store:
        engine = Engine(load_site(outside_site()), b, store=store, start_time=MONDAY_10AM)
        log = QueueEventLog(store.engine)
        log.attach(engine)
        with b:
            b.directory[NUMBER] = callee("answer", Speak(tone=THIRD, seconds=8.0), HangUp())
            b.phone(3).auto_answer(1, [Speak(tone=AGENT, seconds=3.0), HangUp()])
            login_all(engine, "1001")
            b.incoming_call(0, at=0.5, caller_id="13800000000", script=[Pause(60.0)])
            engine.run_for(3.0)
            engine.acd.control.transfer(engine.acd.agents["1001"], KEYED, "blind")
            engine.run_for(25.0)  # answered, 8 s of talk, hung up: the caller's line too
            assert engine.idle()
        log.close()
        store.flush()
        (main,) = store.find(direction=Direction.INBOUND)
        (leg,) = store.find(direction=Direction.OUTBOUND)
        (moved,) = [e for e in find_queue_events(store.engine) if e["event"] == "transfer"]
    assert (main.disposition, main.hung_up_by) == (Disposition.ANSWERED, HungUpBy.CALLEE)
    assert main.extra["outside_leg"] == leg.call_id and leg.extra["leg_of"] == main.call_id
    assert (leg.called, leg.trunk, leg.disposition) == (NUMBER, "sim/1", Disposition.ANSWERED)
    assert leg.duration_s is not None and 8.0 < leg.duration_s < 12.0  # talk + busy tone
    assert (moved["call_id"], moved["agent"], moved["queue"]) == (main.call_id, "1001", "service")
    assert moved["data"] == {"target": NUMBER, "mode": "blind"}


def test_send_digits_during_an_outside_consultation_go_to_the_outside_party() -> None:
    from boardcc.dsp import detect_dtmf

    b, engine, _, _ = start()
    with b:
        b.directory[NUMBER] = callee()
        talking(b, engine)
        agent = engine.acd.agents["1001"]
        engine.acd.control.transfer(agent, KEYED, "consult")
        engine.run_for(8.0)
        t0 = b.now / 8000
        engine.acd.control.send_digits(agent, "1234#")
        engine.run_for(3.0)
        t1 = b.now / 8000
        keys = "".join(d.digit for d in detect_dtmf(b.heard(1, t0, t1)))
        assert keys == "1234#"  # the outside party heard them, the held caller did not
        assert detect_dtmf(b.heard(0, t0, t1)) == []
        assert hears(b, 1, AGENT, 1.0)  # then the agent again


# -- random call control with an outside party -------------------------------------------

PHONE = {
    "flash": [Flash(300)],
    "dial_out": [Press(KEYED + "#", on_ms=80, off_ms=80)],
    "star3": [Press("*3", on_ms=80, off_ms=80)],
    "drop": [HangUp()],
    "lift": [LiftHandset()],
}
API = {
    "blind": lambda c, a: c.transfer(a, KEYED, "blind"),
    "consult": lambda c, a: c.transfer(a, KEYED, "consult"),
    "conference": lambda c, a: c.conference(a, KEYED),
    "complete": lambda c, a: c.complete(a, "transfer"),
    "conference_complete": lambda c, a: c.complete(a, "conference"),
    "reconnect": lambda c, a: c.reconnect(a),
    "retrieve": lambda c, a: c.retrieve(a),
    "hang_up": lambda c, a: c.hang_up(a),
    "send_digits": lambda c, a: c.send_digits(a, "12"),
}
moves = st.lists(
    st.tuples(st.floats(0.0, 20.0, allow_nan=False), st.sampled_from([*PHONE, *API])),
    max_size=8,
)


def _api(engine: Engine, what: str) -> None:
    with contextlib.suppress(AgentError):  # refused in this state: the engine says why
        API[what](engine.acd.control, engine.acd.agents["1001"])


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(["answer", "busy", "no_answer"]),
    talk_s=st.floats(1.0, 20.0, allow_nan=False),
    hold_s=st.floats(4.0, 30.0, allow_nan=False),
    opening=st.sampled_from(["blind", "consult", "conference", "phone"]),
    plan=moves,
)
def test_random_control_of_outside_legs_leaves_no_line_or_record_open(
    kind: str, talk_s: float, hold_s: float, opening: str, plan: list[tuple[float, str]]
) -> None:
    """Whatever the agent does (phone or API) while the outside party answers, is busy or
    never answers, and whoever hangs up when: no channel fails, no agent is left reserved
    or ringing, and at the end every line is at rest and every CDR closed, legs included."""
    b, engine, store, _ = make(outside_site(ring_s=8.0))
    with b:
        b.directory[NUMBER] = callee(kind, Speak(tone=THIRD, seconds=talk_s), HangUp())
        b.phone(3).auto_answer(1, [Speak(tone=AGENT, seconds=60.0)])
        login_all(engine, "1001")
        script = [Speak(tone=CALLER_HZ, seconds=hold_s), HangUp()]
        b.incoming_call(0, at=0.5, caller_id="13800000000", script=script)
        first = [(0.0, "flash"), (1.0, "dial_out")] if opening == "phone" else [(0.0, opening)]
        for at, what in first + plan:
            if what in PHONE:
                b.phone(3).run(PHONE[what], round((6.0 + at) * 8000))
            else:
                b.at(6.0 + at, lambda _, w=what: engine.submit(lambda: _api(engine, w)))
        for _ in range(50):
            engine.run_for(0.5)
            assert engine.errors == 0
            for a in engine.acd.agents.values():
                if a.state.value in ("reserved", "ringing"):
                    assert a.call_id in engine.calls
        for t in (0, 1, 2):
            b.hang_up_far(t)
        b.phone(3).auto_answer(0)
        b.phone(3).cancel()
        b.phone(3).replace(b.now)
        engine.run_for(15.0)
        b.phone(3).replace(b.now)
        engine.run_for(5.0)
        assert engine.errors == 0
        assert engine.idle(), engine.snapshot()
        assert not engine.acd.control.outside.legs and not engine.acd.control.sessions
        assert engine.acd.agents["1001"].state.value == "idle"
    assert all(c.disposition is not Disposition.OPEN for c in store.last.values())
    assert all(c.ended is not None for c in store.last.values())
