"""The channel machines' tables: every step exists, illegal events are refused, and the
seed's flows run through them (LE001 inbound, LE002 outbound) state by state."""

from __future__ import annotations

from pathlib import Path

import pytest

from boardcc.machines import (
    IllegalEvent,
    StationMachine,
    StationState,
    TrunkMachine,
    TrunkState,
)
from boardcc.machines import actions as a
from boardcc.machines import events as e
from boardcc.machines.diagrams import document

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("machine", [TrunkMachine, StationMachine])
def test_every_step_named_in_a_table_is_a_method(machine: type) -> None:
    for state, row in machine.TRANSITIONS.items():
        assert isinstance(state, type(machine.INITIAL))
        for event, transition in row.items():
            for step in transition.steps:
                assert callable(getattr(machine, step, None)), (state, event, step)


def test_state_codes_are_the_seeds() -> None:
    assert [s.code for s in TrunkState] == list(range(1, 12))
    assert TrunkState.WAIT_ANSWER.chinese == "等待应答"
    # 10 and 11 are ours: a headset agent's phone in standby, and a call offered there.
    assert {s.code for s in StationState} == {1, 2, 3, 4, 6, 7, 8, 9, 10, 11}


def test_le001_inbound_trunk_and_station_codes() -> None:
    trunk, station = TrunkMachine(0), StationMachine(5)
    codes = []
    trunk.handle(e.Ring(0))
    codes.append(trunk.state.code)
    got = trunk.handle(e.CallerIdIn(100, "13812345678", "ZHANG"))
    assert a.Notify("incoming", {"number": "13812345678", "name": "ZHANG"}) in got
    assert a.GoOffHook() in trunk.handle(e.Answer(200))
    codes.append(trunk.state.code)
    assert a.SendPrompt("welcome") in trunk.handle(e.Play(300, "welcome"))
    codes.append(trunk.state.code)
    assert trunk.handle(e.Digit(400, "1")) == [a.Notify("digit", {"digit": "1"})]
    station.handle(e.Reserve(500))
    codes.append(station.state.code)
    assert a.RingPhone() in station.handle(e.Alert(500))
    codes.append(station.state.code)
    assert a.Notify("answered") in station.handle(e.OffHook(600))
    trunk.handle(e.Connect(600, 5))
    station.handle(e.Connect(600, 0))
    codes += [trunk.state.code, station.state.code]
    assert codes == [2, 3, 4, 6, 7, 8, 8]
    # The station hangs up first: station 1, trunk 9 (待挂机), then idle after the guard.
    station.handle(e.OnHook(700))
    assert a.GoOnHook() in trunk.handle(e.Release(700))
    assert (station.state.code, trunk.state.code) == (1, 9)
    trunk.handle(e.Timeout(900, "guard"))
    assert trunk.state is TrunkState.IDLE


def test_le001_far_end_first_trunk_10_station_busy_tone() -> None:
    trunk, station = TrunkMachine(0), StationMachine(5)
    trunk.handle(e.Ring(0))
    trunk.handle(e.Connect(10, 5))
    station.handle(e.Reserve(0))
    station.handle(e.Alert(0))
    station.handle(e.OffHook(10))
    got = trunk.handle(e.FarEndGone(20, "busy"))
    assert a.Notify("far_gone", {"how": "busy"}) in got and trunk.state.code == 10
    assert a.SendTone("busy") in station.handle(e.Release(20))
    assert station.state is StationState.WAIT_HANGUP
    assert station.handle(e.Timeout(30, "howler")) == [a.SendTone("howler")]
    station.handle(e.OnHook(40))
    assert station.state is StationState.IDLE


def test_le002_soft_dial_codes() -> None:
    station, trunk = StationMachine(5), TrunkMachine(0)
    codes = []
    station.handle(e.Select(0))
    codes.append(station.state.code)
    station.handle(e.Alert(0))
    codes.append(station.state.code)
    assert a.Notify("answered") in station.handle(e.OffHook(10))
    codes.append(station.state.code)
    assert a.GoOffHook() in trunk.handle(e.Seize(10, "95588"))
    codes.append(trunk.state.code)
    assert a.SendDigits("95588") in trunk.handle(e.DialTone(20))
    codes.append(trunk.state.code)
    trunk.handle(e.PlayDone(30))
    trunk.handle(e.Ringback(40))
    assert a.Notify("answered", {"by": "voice"}) in trunk.handle(e.VoiceOn(50))
    trunk.handle(e.Connect(50, 5))
    station.handle(e.Connect(50, 0))
    codes += [trunk.state.code, station.state.code]
    assert codes == [2, 3, 4, 6, 7, 8, 8]


def test_voice_before_ringback_is_not_an_answer() -> None:
    trunk = TrunkMachine(0)
    trunk.handle(e.Seize(0, "1"))
    trunk.handle(e.Timeout(10, "dial_tone"))
    trunk.handle(e.PlayDone(20))
    assert trunk.handle(e.VoiceOn(30)) == []


def test_soft_dial_times_out_after_45_seconds() -> None:
    station = StationMachine(5)
    station.handle(e.Select(0))
    assert a.StartTimer("ring", 45.0) in station.handle(e.Alert(0))
    assert station.handle(e.Timeout(45 * 8000, "ring")) == [
        a.CancelTimer("ring"),  # first: the engine may start the next offer's timer on the notice
        a.StopRinging(),
        a.Notify("not_answered"),
    ]
    assert station.state is StationState.IDLE


def test_hard_dial_collects_digits_until_hash_or_a_pause() -> None:
    station = StationMachine(5)
    assert a.SendTone("dial") in station.handle(e.OffHook(0))
    assert a.Quiet() in station.handle(e.Digit(10, "9"))
    station.handle(e.Digit(20, "5"))
    got = station.handle(e.Digit(30, "#"))
    assert a.Notify("dialled", {"number": "95"}) in got
    station2 = StationMachine(6)
    station2.handle(e.OffHook(0))
    station2.handle(e.Digit(10, "8"))
    assert a.Notify("dialled", {"number": "8"}) in station2.handle(e.Timeout(20, "digits"))


def test_an_order_in_the_wrong_state_is_an_illegal_event() -> None:
    trunk = TrunkMachine(3)
    with pytest.raises(IllegalEvent, match="channel 3 in state 1 IDLE cannot take Play"):
        trunk.handle(e.Play(0, "x"))
    station = StationMachine(4)
    with pytest.raises(IllegalEvent):
        station.handle(e.Connect(0, 1))


def test_line_noise_is_ignored_where_it_means_nothing() -> None:
    trunk = TrunkMachine(0)
    assert trunk.handle(e.BusyTone(0)) == []
    assert trunk.handle(e.RingEnd(0)) == []
    assert trunk.state is TrunkState.IDLE


def test_state_diagrams_in_docs_are_generated_from_the_tables() -> None:
    assert (ROOT / "docs" / "state-diagrams.md").read_text(encoding="utf-8") == document()
