"""The engine end to end on the simulated board: calls as people would notice them.

Every test drives the engine on the virtual clock with simulated callers, callees and desk
phones, and checks what was heard (by DSP on the audio each far end recorded), what the
line did, and the CDRs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from boardcc.cdr import Cdr, Direction, Disposition, HungUpBy
from boardcc.config import load_site
from boardcc.drivers.sim import (
    Callee,
    HangUp,
    LiftHandset,
    Pause,
    Press,
    SimBoard,
    Speak,
)
from boardcc.dsp import detect_tones, level_dbm0, write_audio
from boardcc.engine import Engine
from boardcc.machines import StationState, TrunkState

FS = 8000
MONDAY_10AM = dt.datetime(2026, 1, 5, 10, 0, 0)
SUNDAY_10AM = dt.datetime(2026, 1, 4, 10, 0, 0)

SITE: dict[str, Any] = {
    "trunk_groups": [
        {"name": "main", "channels": "0-1", "access_number": "400800888"},
        {"name": "care", "channels": "2", "access_number": "400800999"},
    ],
    "stations": [
        {"channel": 3, "extension": "8001", "group": "agents"},
        {"channel": 4, "extension": "8002", "group": "agents"},
        {"channel": 5, "extension": "8003", "group": "lobby"},
    ],
    "periods": {
        "workdays": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:30", "end": "17:30"}
    },
    "inbound": [
        {"name": "care", "access_number": "400800999", "steps": [{"station": "8002"}]},
        {
            "name": "service",
            "trunk_group": "main",
            "period": "workdays",
            "steps": [{"station": "8001"}],
        },
        {"name": "closed", "steps": [{"hang_up": True}]},
    ],
    "outbound": [
        {
            "station_group": "agents",
            "trunk_group": "main",
            "hunting": "sequential",
            "barred": ["00"],
            "rewrite": [{"match": "^0", "prepend": "17909"}],
        }
    ],
}


class Store:
    """Collects CDRs as the engine hands them over (the real store has its own tests)."""

    def __init__(self) -> None:
        self.puts: list[Cdr] = []

    def put(self, cdr: Cdr) -> None:
        self.puts.append(cdr)

    def final(self) -> list[Cdr]:
        last: dict[str, Cdr] = {}
        for c in self.puts:
            last[c.call_id] = c
        return list(last.values())


def make(site: dict[str, Any] | None = None, start: dt.datetime = MONDAY_10AM, **board: Any):
    config = load_site(site or SITE)
    b = SimBoard(**({"trunks": 3, "stations": 3, "seed": 5} | board))
    store = Store()
    engine = Engine(config, b, store=store, start_time=start)
    return b, engine, store


def tones(x: np.ndarray) -> list[str]:
    return [e.name for e in detect_tones(x) if e.kind == "on"]


def peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x.astype(float) * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / FS)[np.argmax(spec)])


def test_inbound_call_reaches_the_agent_and_both_hear_each_other() -> None:
    b, engine, store = make()
    with b:
        b.phone(3).auto_answer(2, [Speak(tone=1300, seconds=4.0), Pause(2.0), HangUp()])
        b.incoming_call(
            0,
            at=0.5,
            caller_id={"number": "13812345678", "name": "ZHANG SAN"},
            script=[Speak(tone=700, seconds=30.0)],
        )
        engine.run_for(8.5)
        assert engine.machines[0].state is TrunkState.CONNECTED
        assert engine.machines[3].state is StationState.CONNECTED
        engine.run_for(10.0)
        assert engine.idle()
    (cdr,) = store.final()
    assert (cdr.direction, cdr.caller, cdr.caller_name, cdr.called) == (
        Direction.INBOUND,
        "13812345678",
        "ZHANG SAN",
        "400800888",
    )
    assert (cdr.trunk, cdr.station, cdr.disposition, cdr.hung_up_by) == (
        "sim/0",
        "sim/3",
        Disposition.ANSWERED,
        HungUpBy.CALLEE,
    )
    assert cdr.route == "rule service: station"
    assert cdr.duration_s == pytest.approx(6.0, abs=0.1)
    agent = b.heard(3)
    caller = b.heard(0)
    answered = b.trunk(0).calls[0].answered
    assert answered is not None
    # The caller's tone reaches the agent's phone, and the agent's voice goes back.
    assert peak_hz(agent[answered + 800 : answered + 8800]) == pytest.approx(700, abs=3)
    assert peak_hz(caller[answered + 800 : answered + 8800]) == pytest.approx(1300, abs=3)
    assert level_dbm0(agent[answered + 800 : answered + 8800]) == pytest.approx(-10, abs=0.5)


def test_the_caller_hears_the_prompt_then_ringback_while_the_agent_is_rung(
    tmp_path: Path,
) -> None:
    hello = np.rint(np.sin(2 * np.pi * 500 * np.arange(2 * FS) / FS) * 6000).astype(np.int16)
    write_audio(tmp_path / "hello.wav", hello)
    site = SITE | {
        "inbound": [{"name": "service", "steps": [{"play": "hello"}, {"station": "8001"}]}],
        "prompts": {"hello": str(tmp_path / "hello.wav")},
    }
    b, engine, _ = make(site)
    with b:
        b.phone(3).auto_answer(3, [Pause(2.0), HangUp()])
        b.incoming_call(0, at=0.0, script=[Pause(60.0)])
        engine.run_for(25.0)
    heard = b.heard(0)
    found = tones(heard)
    assert found[:1] == ["voice"]  # the prompt (a 500 Hz tone: not a plan tone)
    assert "ringback" in found


def test_site_file_prompts_need_a_known_name() -> None:
    from boardcc.yamlfile import ConfigFileError

    with pytest.raises(ConfigFileError, match="no prompt named 'hello'"):
        load_site(SITE | {"inbound": [{"name": "x", "steps": [{"play": "hello"}]}]})


def test_caller_hangs_up_busy_tone_ends_the_call_and_the_agent_hears_busy() -> None:
    b, engine, store = make()
    with b:
        b.phone(3).auto_answer(1, [Speak(tone=1300, seconds=30.0)])
        b.incoming_call(0, at=0.0, caller_id="13900001111", script=[Pause(3.0), HangUp()])
        engine.run_for(16.0)
        assert engine.machines[0].state is TrunkState.IDLE
        assert engine.machines[3].state is StationState.WAIT_HANGUP
        b.phone(3).run([HangUp()])
        engine.run_for(1.0)
        assert engine.idle()
    (cdr,) = store.final()
    assert (cdr.disposition, cdr.hung_up_by) == (Disposition.ANSWERED, HungUpBy.CALLER)
    assert "busy" in tones(b.heard(3))  # the agent's phone, left off hook


def test_caller_gives_up_before_anyone_answers() -> None:
    b, engine, store = make()
    with b:
        b.incoming_call(0, at=0.0, give_up_s=12.0)
        engine.run_for(25.0)
        assert engine.idle()
        assert not b.phone(3).ringing
    (cdr,) = store.final()
    assert (cdr.disposition, cdr.hung_up_by, cdr.answered) == (
        Disposition.ABANDONED,
        HungUpBy.CALLER,
        None,
    )


def test_access_number_and_working_hours_choose_the_rule() -> None:
    b, engine, store = make(start=SUNDAY_10AM)
    with b:
        b.phone(4).auto_answer(1, [Pause(1.0), HangUp()])
        b.incoming_call(0, at=0.0, caller_id="111")  # main on a Sunday: closed
        b.incoming_call(2, at=0.0, caller_id="222")  # care: always to 8002
        engine.run_for(20.0)
    by_caller = {c.caller: c for c in store.final()}
    assert by_caller["111"].disposition is Disposition.REJECTED
    assert by_caller["111"].route == "rule closed: hang_up"
    assert by_caller["222"].disposition is Disposition.ANSWERED
    assert by_caller["222"].station == "sim/4"


def test_ring_group_in_order_moves_on_when_a_phone_is_not_answered() -> None:
    site = SITE | {
        "inbound": [
            {
                "name": "g",
                "steps": [
                    {"ring_group": {"stations": ["8001", "8002"], "strategy": "order", "ring_s": 6}}
                ],
            }
        ]
    }
    b, engine, store = make(site)
    states: list[dict[str, Any]] = []
    engine.subscribe(lambda e: states.append(e) if e["type"] == "state" else None)
    with b:
        b.phone(4).auto_answer(1, [Pause(1.0), HangUp()])
        b.incoming_call(0, at=0.0)
        engine.run_for(20.0)
        assert b.phone(3).rings >= 1
    (cdr,) = store.final()
    assert cdr.station == "sim/4" and cdr.disposition is Disposition.ANSWERED
    # The phone nobody answered goes idle in no call (the monitor shows it free at once).
    (stopped,) = [e for e in states if e["channel"] == 3 and e["state"] == "IDLE"]
    assert stopped["call"] is None
    assert any(e["channel"] == 3 and e["call"] == cdr.call_id for e in states)


def test_ring_group_all_the_first_to_answer_wins() -> None:
    site = SITE | {
        "inbound": [{"name": "g", "steps": [{"ring_group": {"stations": ["8001", "8002"]}}]}]
    }
    b, engine, store = make(site)
    with b:
        b.phone(3).auto_answer(3, [Pause(1.0), HangUp()])
        b.phone(4).auto_answer(2, [Pause(1.0), HangUp()])
        b.incoming_call(0, at=0.0)
        engine.run_for(25.0)
        assert engine.idle()
        assert not b.phone(3).offhook and b.phone(3).rings == 2
    (cdr,) = store.final()
    assert cdr.station == "sim/4"


def test_soft_dial_rings_the_agent_then_calls_out() -> None:
    b, engine, store = make()
    with b:
        b.directory["95588"] = Callee(
            "answer", rings=2, script=(Speak(tone=900, seconds=4.0), HangUp())
        )
        b.phone(3).auto_answer(1, [Speak(tone=1300, seconds=30.0)])
        call_id = engine.dial("8001", "95588")
        engine.run_for(30.0)
        assert engine.machines[3].state is StationState.WAIT_HANGUP
        b.phone(3).run([HangUp()])
        engine.run_for(2.0)
        assert engine.idle()
        far = b.trunk(0).calls[0]
    (cdr,) = store.final()
    assert cdr.call_id == call_id
    assert (cdr.direction, cdr.called, cdr.trunk, cdr.disposition, cdr.hung_up_by) == (
        Direction.OUTBOUND,
        "95588",
        "sim/0",
        Disposition.ANSWERED,
        HungUpBy.CALLEE,
    )
    assert far.number == "95588" and far.outcome == "answered"
    heard = b.heard(3)
    assert "ringback" in tones(heard)  # the agent heard the call progress
    callee_heard = b.heard(0)[far.answered + 2000 : far.answered + 8000]
    assert peak_hz(callee_heard) == pytest.approx(1300, abs=3)


def test_hard_dial_with_the_outside_prefix_and_a_rewrite() -> None:
    b, engine, store = make()
    with b:
        b.directory["1790902588886666"] = Callee(
            "answer", rings=1, script=(Speak(speech=2.0), HangUp())
        )
        b.phone(3).run(
            [
                LiftHandset(),
                Pause(1.5),
                Press("9", on_ms=90, off_ms=400),
                Press("02588886666#", on_ms=90, off_ms=90),
                Pause(20.0),
                HangUp(),
            ]
        )
        engine.run_for(30.0)
        assert engine.idle()
    assert tones(b.heard(3))[0] == "dial"
    (cdr,) = store.final()
    assert cdr.called == "1790902588886666" and cdr.disposition is Disposition.ANSWERED


@pytest.mark.parametrize(
    ("dialled", "why"),
    [("90012345", "barred"), ("912345", "no free trunk")],
)
def test_refused_numbers_give_busy_tone_and_a_failed_cdr(dialled: str, why: str) -> None:
    b, engine, store = make()
    with b:
        if why == "no free trunk":
            for t in (0, 1):
                b.incoming_call(t, at=0.0, script=[Pause(60.0)])
            b.phone(4).auto_answer(1)
        b.phone(3).run(
            [Pause(0.1), LiftHandset(), Pause(1.0), Press(dialled + "#", on_ms=90, off_ms=90)]
        )
        engine.run_for(8.0)
        assert engine.machines[3].state is StationState.WAIT_HANGUP
    failed = [c for c in store.final() if c.direction is Direction.OUTBOUND]
    assert failed[0].disposition is Disposition.FAILED and why in failed[0].route
    assert "busy" in tones(b.heard(3))


def test_internal_call_between_two_desk_phones() -> None:
    b, engine, store = make()
    with b:
        b.phone(4).auto_answer(2, [Speak(tone=1300, seconds=3.0), HangUp()])
        b.phone(3).run(
            [
                LiftHandset(),
                Pause(1.0),
                Press("8002#", on_ms=90, off_ms=90),
                Speak(tone=600, seconds=20.0),
            ]
        )
        engine.run_for(20.0)
    (cdr,) = store.final()
    assert cdr.direction is Direction.INTERNAL and cdr.disposition is Disposition.ANSWERED
    assert "ringback" in tones(b.heard(3))
    assert peak_hz(b.heard(4)[-FS * 12 : -FS * 11]) in (600.0, pytest.approx(600, abs=3))


def test_far_end_hang_up_by_polarity_reversal_when_configured() -> None:
    site = SITE | {
        "trunk_groups": [
            {"name": "main", "channels": "0-1", "far_end_gone": ["reversal"]},
            {"name": "care", "channels": "2"},
        ]
    }
    b, engine, store = make(site)
    with b:
        b.trunk(0).far_hangup = ["reversal"]
        b.phone(3).auto_answer(1, [Speak(tone=1300, seconds=30.0)])
        b.incoming_call(0, at=0.0, script=[Pause(2.0), HangUp()])
        engine.run_for(10.0)
        assert engine.machines[0].state is TrunkState.IDLE
    (cdr,) = store.final()
    assert cdr.hung_up_by is HungUpBy.CALLER


def broken(event: object) -> list[object]:
    """A machine step with a bug in it."""
    raise RuntimeError("simulated bug")


def test_an_error_in_one_channel_resets_it_and_the_others_carry_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    b, engine, store = make()
    with b:
        monkeypatch.setattr(engine.machines[1], "count_ring", broken)
        b.phone(3).auto_answer(1, [Pause(2.0), HangUp()])
        b.incoming_call(1, at=0.0)
        b.incoming_call(0, at=0.5)
        engine.run_for(15.0)
        assert engine.errors >= 1
        assert engine.machines[1].state is TrunkState.IDLE
    done = {c.trunk: c for c in store.final()}
    assert done["sim/0"].disposition is Disposition.ANSWERED


def test_an_error_in_a_channel_mid_call_ends_its_call_and_frees_the_other_leg(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    b, engine, store = make()
    with b:
        monkeypatch.setattr(engine.machines[0], "report_digit", broken)
        b.phone(3).auto_answer(1, [Speak(tone=1300, seconds=60.0)])
        b.incoming_call(0, at=0.0, script=[Pause(4.0), Press("5"), Pause(30.0)])
        engine.run_for(7.0)
        assert engine.machines[3].state is StationState.CONNECTED
        engine.run_for(5.0)  # the key: trunk 0's handling fails
        assert engine.errors == 1 and not engine.calls
        assert engine.machines[3].state is StationState.WAIT_HANGUP  # let go, busy tone
    (cdr,) = store.final()
    assert (cdr.disposition, cdr.hung_up_by) == (Disposition.CHANNEL_ERROR, HungUpBy.ENGINE)


def test_line_lost_takes_the_trunk_down_and_back() -> None:
    b, engine, _ = make()
    with b:
        engine.run_for(0.5)
        b.disconnect(1)
        engine.run_for(0.5)
        assert engine.machines[1].state is TrunkState.LINE_DOWN
        assert engine.snapshot()["channels"][1]["line_down"]
        b.reconnect(1)
        engine.run_for(0.5)
        assert engine.machines[1].state is TrunkState.IDLE


def test_outbound_answer_by_polarity_reversal_and_the_silence_guard() -> None:
    site = SITE | {
        "trunk_groups": [
            {
                "name": "main",
                "channels": "0-1",
                "answer_by": "reversal",
                "far_end_gone": ["busy"],
                "max_silence_s": 5,
            },
            {"name": "care", "channels": "2"},
        ]
    }
    b, engine, store = make(site)
    with b:
        b.trunk(0).answer_reversal = True
        # A callee who answers and says nothing at all: only the reversal tells.
        b.directory["95588"] = Callee("answer", rings=1, script=(Pause(60.0),))
        b.phone(3).auto_answer(1)
        engine.dial("8001", "95588")
        engine.run_for(6.0)
        assert engine.machines[0].state is TrunkState.CONNECTED
        engine.run_for(8.0)  # five seconds without a sound from the far end end the call
        assert engine.machines[0].state is TrunkState.IDLE
    (cdr,) = store.final()
    assert cdr.answered is not None and cdr.disposition is Disposition.ANSWERED
    assert cdr.hung_up_by is HungUpBy.CALLEE
    assert cdr.duration_s == pytest.approx(5.0, abs=0.1)


def test_soft_dial_to_a_busy_or_unknown_station_is_refused() -> None:
    b, engine, _ = make()
    with b:
        with pytest.raises(ValueError, match="no station with extension '8009'"):
            engine.dial("8009", "95588")
        b.phone(3).run([LiftHandset()])
        engine.run_for(0.5)
        with pytest.raises(ValueError, match="busy"):
            engine.dial("8001", "95588")


@pytest.mark.parametrize("card_cancels", [False, True])
def test_echo_cancelling_on_a_trunk_spares_the_agent_their_own_echo(card_cancels: bool) -> None:
    def own_echo(cancel: bool) -> float:
        site = SITE | {
            "trunk_groups": [
                {"name": "main", "channels": "0-1", "echo_cancel": cancel},
                {"name": "care", "channels": "2"},
            ]
        }
        b, engine, _ = make(site, echo_cancel=card_cancels)
        with b:
            b.impair(0, echo={"delay_ms": 8.0, "erl_db": 10.0})
            b.phone(3).auto_answer(1, [Speak(speech=20.0)])
            b.incoming_call(0, at=0.0, script=[Pause(60.0)])  # a caller who listens
            engine.run_for(22.0)
            heard = b.heard(3)[-8 * FS :]  # the agent hears the line: only their own echo
        return level_dbm0(heard)

    assert own_echo(False) > -40.0
    assert own_echo(True) < own_echo(False) - 20.0


def test_agc_raises_a_weak_line_for_the_agent() -> None:
    def caller_level(agc: bool) -> float:
        site = SITE | {
            "trunk_groups": [
                {"name": "main", "channels": "0-1", "agc": agc},
                {"name": "care", "channels": "2"},
            ]
        }
        b, engine, _ = make(site)
        with b:
            b.impair(0, level_db=-18.0)  # a long, quiet line
            b.phone(3).auto_answer(1)
            b.incoming_call(0, at=0.0, script=[Speak(speech=30.0, level_dbm0=-12)])
            engine.run_for(15.0)
            return level_dbm0(b.heard(3)[-4 * FS :])

    # Speech at -12 dBm0 over a line 18 dB down arrives at -30 dBm0 (active level); the AGC
    # brings it up toward its -15 dBm0 target (the measure here includes the pauses).
    quiet, raised = caller_level(False), caller_level(True)
    assert raised - quiet == pytest.approx(15.0, abs=2.0)
