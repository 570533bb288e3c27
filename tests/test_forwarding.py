"""Call forwarding per station on the simulated board: site file, desk-phone codes, API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from boardcc.api import ApiClient, ApiError, ApiServer
from boardcc.cdr import Direction, Disposition
from boardcc.config import load_site
from boardcc.drivers.sim import HangUp, LiftHandset, Pause, Press, SimBoard, Speak
from boardcc.engine import Engine
from boardcc.forwarding import ForwardingError
from boardcc.machines import StationState
from tests.test_acd import MONDAY_10AM, Store, hears
from tests.test_api import drive

CALLER_HZ, ANSWER_HZ = 700.0, 1300.0


def site(**forward: dict[str, Any]) -> dict[str, Any]:
    stations: list[dict[str, Any]] = [
        {"channel": 3 + i, "extension": f"800{i + 1}"} for i in range(4)
    ]
    for s in stations:
        if s["extension"] in forward:
            s["forward"] = forward[s["extension"]]
    return {
        "trunk_groups": [{"name": "main", "channels": "0-2", "access_number": "400800888"}],
        "stations": stations,
        "inbound": [{"name": "all", "steps": [{"station": "8002"}]}],
    }


def make(config: dict[str, Any]) -> tuple[SimBoard, Engine, Store]:
    b = SimBoard(trunks=3, stations=4, seed=5)
    store = Store()
    return b, Engine(load_site(config), b, store=store, start_time=MONDAY_10AM), store


def call(b: SimBoard, station: int, number: str) -> None:
    b.phone(station).run(
        [LiftHandset(), Pause(1.0), Press(f"{number}#"), Speak(tone=CALLER_HZ, seconds=30.0)]
    )


def test_unconditional_forwarding_from_the_site_file_rings_the_target() -> None:
    b, engine, store = make(site(**{"8002": {"always": "8003"}}))
    with b:
        b.phone(5).auto_answer(1, [Speak(tone=ANSWER_HZ, seconds=4.0), HangUp()])
        call(b, 3, "8002")
        engine.run_for(8.0)
        assert not b.phone(4).ringing and engine.machines[4].state is StationState.IDLE
        t = engine.acd.seconds(engine.now)
        assert hears(b, 5, t - 3.0, t - 1.0, CALLER_HZ)  # 8003 talks with the caller
        engine.run_for(6.0)
    (cdr,) = store.last.values()
    assert cdr.direction is Direction.INTERNAL and cdr.disposition is Disposition.ANSWERED
    assert cdr.called == "8002" and cdr.extra["forwarded_to"] == "8003"


def test_busy_forwarding_set_by_feature_code_and_an_inbound_call() -> None:
    b, engine, store = make(site())
    with b:
        b.phone(4).run([LiftHandset(), Pause(1.0), Press("*728004#"), Pause(1.5), HangUp()])
        engine.run_for(4.0)
        assert engine.forwarding.json(4)["busy"] == "8004"
        assert hears(b, 4, 2.5, 3.2, 1000.0)  # the confirmation beeps
        b.phone(4).run([LiftHandset(), Pause(20.0), HangUp()])  # 8002 busy (off hook)
        b.phone(6).auto_answer(1, [Speak(tone=ANSWER_HZ, seconds=3.0), HangUp()])
        b.incoming_call(0, at=6.0, caller_id="13800000001", script=[Pause(20.0)])
        engine.run_for(6.0)
        assert engine.machines[6].state is StationState.CONNECTED  # 8004 took it
        engine.run_for(5.0)
    cdr = next(c for c in store.last.values() if c.direction is Direction.INBOUND)
    assert cdr.disposition is Disposition.ANSWERED and cdr.extra["forwarded_to"] == "8004"
    assert cdr.station == b.channels[6].name


def test_no_answer_forwarding_set_from_the_api_rings_the_target_after_n_seconds() -> None:
    b, engine, store = make(site(**{"8002": {"no_answer_s": 5}}))
    with b:
        engine.forwarding.set("8002", "no_answer", "8004")
        b.phone(6).auto_answer(1, [Speak(tone=ANSWER_HZ, seconds=3.0), HangUp()])
        call(b, 3, "8002")
        engine.run_for(5.0)
        assert b.phone(4).ringing and not b.phone(6).ringing
        engine.run_for(3.5)  # 8002 rang 5 s: 8004 rings instead
        assert not b.phone(4).ringing
        assert engine.machines[6].state is not StationState.IDLE
        engine.run_for(8.0)
    (cdr,) = store.last.values()
    assert cdr.disposition is Disposition.ANSWERED and cdr.extra["forwarded_to"] == "8004"


def test_a_forwarding_loop_stops_at_the_last_station_not_yet_visited() -> None:
    b, engine, store = make(site(**{"8002": {"always": "8003"}, "8003": {"always": "8002"}}))
    with b:
        call(b, 3, "8002")
        engine.run_for(4.0)
        assert b.phone(5).ringing and not b.phone(4).ringing  # 8002 -> 8003, not back
        b.phone(3).run([HangUp()])
        engine.run_for(2.0)
        # Forwarded to the caller's own phone: the chain stops before it.
        engine.forwarding.set("8003", "always", "8001")
        call(b, 3, "8002")
        engine.run_for(4.0)
        assert b.phone(5).ringing
        b.phone(3).run([HangUp()])
        engine.run_for(2.0)
    assert all(c.disposition is Disposition.ABANDONED for c in store.last.values())


def test_wrong_forwarding_is_refused_in_both_languages() -> None:
    b, engine, _ = make(site())
    with b:
        with pytest.raises(ForwardingError, match="no station 8009 / 没有分机 8009"):
            engine.forwarding.set("8009", "always", "8001")
        with pytest.raises(ForwardingError, match="cannot forward to itself / 不能前转到自己"):
            engine.forwarding.set("8001", "always", "8001")
        with pytest.raises(ForwardingError, match="前转类型无效"):
            engine.forwarding.set("8001", "sometimes", "8002")
        b.phone(3).run([LiftHandset(), Pause(1.0), Press("*718001#"), Pause(3.0), HangUp()])
        engine.run_for(6.0)
        assert hears(b, 3, 4.0, 5.5, 450.0)  # busy tone: refused
        assert engine.forwarding.json(3)["always"] is None
    with pytest.raises(ValueError, match="write numbers in quotes"):
        load_site(site(**{"8002": {"always": 8003}}))


def test_forwarding_from_the_api_and_a_call_that_follows_it() -> None:
    b, engine, store = make(site())

    async def main(url: str) -> tuple[dict[str, Any], str]:
        async with ApiClient(url) as api:
            set_ = await api.command("forward", station="8002", kind="always", target="8004")
            with pytest.raises(ApiError) as wrong:
                await api.command("forward", station="8002", kind="always", target="8002")
            return set_, str(wrong.value)

    with b, ApiServer(engine, port=0) as server:
        reply, wrong = asyncio.run(drive(engine, main(server.url)))
        assert reply["forward"]["always"] == "8004"
        assert "不能前转到自己" in wrong
        b.phone(6).auto_answer(1, [Speak(tone=ANSWER_HZ, seconds=2.0), HangUp()])
        call(b, 3, "8002")
        engine.run_for(10.0)
    (cdr,) = store.last.values()
    assert cdr.disposition is Disposition.ANSWERED and cdr.extra["forwarded_to"] == "8004"
