"""SPEC A4 on the desk phone: an agent logged in at a station dials and takes internal calls
only as the agent's permissions allow, exactly as from the API."""

from __future__ import annotations

from typing import Any

from boardcc.drivers.sim import HangUp, LiftHandset, Pause, Press
from boardcc.machines import TrunkState
from tests.test_acd import agent, login_all, make, site

LOCAL_ONLY = ["answer_queue", "dial_internal", "dial_local"]


def config(**rights: list[str]) -> dict[str, Any]:
    c = site()
    c["agents"] = [
        agent(
            job, f"800{job[-1]}", permissions=rights.get(f"a{job}", c["agents"][0]["permissions"])
        )
        for job in ("1001", "1002")
    ]
    c["outbound"] = [{"trunk_group": "main", "prefix": "9", "hunting": "sequential"}]
    return c


def dial(b: Any, ch: int, number: str) -> None:
    """Lift, dial, listen 3 s, hang up (about 6 s in all for 12 digits)."""
    b.phone(ch).run([LiftHandset(), Pause(0.5), Press(f"{number}#"), Pause(3.0), HangUp()])


def seized(engine: Any) -> bool:
    return any(engine.machines[t].state is not TrunkState.IDLE for t in range(3))


def test_the_desk_phone_dials_only_what_the_agent_may() -> None:
    b, engine, store, _ = make(config(a1001=LOCAL_ONLY))
    with b:
        login_all(engine, "1001")
        dial(b, 3, "902112345678")  # national: 1001 lacks dial_national
        engine.run_for(5.0)
        assert engine.machines[3].state.name == "WAIT_HANGUP"  # busy tone
        assert not seized(engine)
        engine.run_for(2.0)
        assert engine.machines[3].state.name == "IDLE"
        assert not store.last  # no call was placed, so no record of one
        dial(b, 3, "988123456")  # local: allowed
        engine.run_for(5.0)
        assert seized(engine)


def test_the_same_number_is_dialled_by_an_agent_with_the_right_and_by_no_agent() -> None:
    b, engine, _, _ = make(config(a1001=[*LOCAL_ONLY, "dial_national"]))
    with b:
        login_all(engine, "1001")
        dial(b, 3, "902112345678")
        engine.run_for(5.0)
        assert seized(engine)
    b, engine, _, _ = make(config(a1001=LOCAL_ONLY))
    with b:  # not logged in: the station's own outbound rule decides, not an agent's rights
        dial(b, 3, "902112345678")
        engine.run_for(5.0)
        assert seized(engine)


def test_an_agent_without_answer_internal_is_not_rung_by_an_internal_call() -> None:
    b, engine, store, _ = make(config(a1002=LOCAL_ONLY))
    with b:
        login_all(engine, "1002")
        dial(b, 3, "8002")  # 8001 (no agent) calls 8002, where 1002 is logged in
        engine.run_for(4.0)
        assert engine.machines[3].state.name == "WAIT_HANGUP"  # busy tone
        assert engine.machines[4].state.name == "IDLE"  # never rang
        engine.run_for(2.0)
        assert [c.disposition.value for c in store.last.values()] == ["busy"]
        engine.acd.logout(engine.acd.agents["1002"])
        dial(b, 3, "8002")  # nobody logged in there now: it rings
        engine.run_for(4.0)
        assert engine.machines[4].state.name == "RINGING"


def test_stopping_the_engine_offers_no_more_calls() -> None:
    # The agent's phone rings for one caller, a second waits: when the engine stops, ending
    # the first call frees the agent, who must not be rung for the caller whose call ends
    # next.
    from boardcc.drivers.sim import Speak

    b, engine, store, events = make()
    with b:
        login_all(engine, "1001")
        for trunk in (0, 1):
            b.incoming_call(trunk, at=0.5 + trunk, script=[Speak(tone=700.0, seconds=60.0)])
        engine.run_for(8.0)
        assert engine.acd.agents["1001"].state.value == "ringing"
        assert len(engine.acd.waiting) == 2
        before = len(events)
        engine.shutdown()
        assert not [e for e in events[before:] if e.get("event") == "offer"]
        assert engine.machines[3].state.name == "IDLE"
        assert [c.disposition.value for c in store.last.values()] == ["engine_stopped"] * 2
