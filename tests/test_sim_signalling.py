"""The simulated board's signalling-only mode (``SimBoard(audio=False)``): no audio, the
far ends' signals reported as decoded events, and the engine running on it."""

from __future__ import annotations

import numpy as np
import pytest

from boardcc.acd.passwords import hash_password
from boardcc.config import load_site
from boardcc.drivers.errors import CommandError
from boardcc.drivers.events import BusyToneDetected, CallerIdReceived, DigitReceived, RingOn
from boardcc.drivers.sim import HangUp, Pause, Press, SimBoard, WaitSilence
from boardcc.engine import Engine
from boardcc.machines import TrunkState


def test_signals_arrive_as_events_and_the_blocks_are_silence() -> None:
    with SimBoard(trunks=2, stations=1, audio=False, block=800) as b:
        caps = b.capabilities
        assert (caps.audio, caps.hardware_dtmf, caps.caller_id) == (False, True, True)
        b.incoming_call(
            0,
            at=0.5,
            caller_id={"number": "13812345678", "name": "ZHANG SAN"},
            script=[Press("12#", on_ms=100, off_ms=100), Pause(1.0), HangUp()],
        )
        seen = []
        for _ in range(30):  # 3 s
            assert not np.any(b.read())
            b.write(np.full((3, 800), 1000, np.int16))  # dropped: nobody hears it
            seen += b.events()
        cid = [e for e in seen if isinstance(e, CallerIdReceived)]
        first_ring_off = 0.5 + 1.0
        assert [(e.number, e.name) for e in cid] == [("13812345678", "ZHANG SAN")]
        assert cid[0].at / 8000 > first_ring_off + 0.5  # after the message, like FSK
        assert sum(isinstance(e, RingOn) for e in seen) == 1
        b.offhook(0)
        for _ in range(60):
            b.read()
            b.write(np.zeros((3, 800), np.int16))
            seen += b.events()
        keys = [e for e in seen if isinstance(e, DigitReceived)]
        assert [k.digit for k in keys] == ["1", "2", "#"]
        assert [k.at - keys[0].at for k in keys] == [0, 1600, 3200]  # 100 ms on + 100 ms off
        (busy,) = [e for e in seen if isinstance(e, BusyToneDetected)]
        hung_up = b.trunk(0).call
        assert hung_up is not None and hung_up.cleared_by == "far"
        assert busy.at - hung_up.ended == 2400  # the busy tone's 300 ms after the clear
        assert not b.errors
        with pytest.raises(CommandError, match="does not record"):
            b.heard(0)  # nothing to record: no audio


def test_a_step_that_listens_is_refused_on_a_board_with_no_audio() -> None:
    with SimBoard(trunks=1, stations=0, audio=False) as b:
        b.incoming_call(0, at=0.1, script=[WaitSilence()])
        b.at(2.0, lambda board: board.offhook(0))
        b.advance(3.0)
        assert len(b.errors) == 1 and "need audio" in b.errors[0]


def test_the_engine_runs_a_queued_call_with_no_audio() -> None:
    site = {
        "trunk_groups": [{"name": "main", "channels": "0-1"}],
        "stations": [{"channel": 2, "extension": "8001"}],
        "agents": [
            {
                "job": "1001",
                "password": hash_password("4321", n=2**10),
                "station": "8001",
                "groups": ["service"],
                "permissions": ["answer_queue"],
            }
        ],
        "queues": [{"name": "service", "groups": ["service"], "wrap_up_s": 0.0}],
        "inbound": [{"name": "all", "steps": [{"queue": "service"}]}],
    }
    b = SimBoard(trunks=2, stations=1, audio=False, block=4000)
    engine = Engine(load_site(site), b)
    with b:
        engine.acd.login("1001", "4321", None, "api")
        b.phone(2).auto_answer(1, [Pause(600.0)])
        b.incoming_call(0, at=1.0, caller_id="13900001111", script=[Pause(20.0), HangUp()])
        engine.run_for(10.0)
        assert engine.machines[0].state is TrunkState.CONNECTED
        engine.run_for(30.0)
        # The caller's clear came as the board's busy-tone event: the trunk is free again.
        assert engine.machines[0].state is TrunkState.IDLE
        assert b.trunk(0).call is not None and b.trunk(0).call.cleared_by == "far"
        assert not engine.calls and not b.errors
