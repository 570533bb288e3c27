"""Whole calls through the engine on the donjin backend, over the simulated vendor SDK.

The card decodes DTMF and caller ID itself, so the engine must take them from the board's
events: the DSP bank runs no DTMF receiver and no caller-ID receiver here, and a test that
passes proves the engine used the card's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from boardcc.cdr import Cdr, Direction, Disposition, HungUpBy
from boardcc.config import load_site
from boardcc.drivers.donjin import DonjinBoard
from boardcc.dsp import detect_dtmf, detect_tones, level_dbm0
from boardcc.engine import Engine
from boardcc.machines import StationState, TrunkState
from boardcc.machines import events as ev
from tests.donjin_sdk_sim import SimCard

FS = 8000
MONDAY_10AM = dt.datetime(2026, 1, 5, 10, 0, 0)
TRUNK, AGENT, OTHER = 0, 2, 3

SITE: dict[str, Any] = {
    "board": {"backend": "donjin"},
    "trunk_groups": [{"name": "main", "channels": "0-1", "access_number": "400800888"}],
    "stations": [
        {"channel": AGENT, "extension": "8001", "group": "agents"},
        {"channel": OTHER, "extension": "8002", "group": "agents"},
    ],
    "inbound": [{"name": "service", "steps": [{"station": "8001"}]}],
    "outbound": [
        {
            "station_group": "agents",
            "trunk_group": "main",
            "rewrite": [{"match": "^0", "prepend": "17909"}],
        }
    ],
}


class Store:
    def __init__(self) -> None:
        self.puts: list[Cdr] = []

    def put(self, cdr: Cdr) -> None:
        self.puts.append(cdr)

    def final(self) -> list[Cdr]:
        return list({c.call_id: c for c in self.puts}.values())


class Rig:
    """The engine on a donjin board on the simulated card, with a record of what each
    machine was fed."""

    def __init__(self, card: SimCard) -> None:
        self.card = card
        self.board = DonjinBoard(library=card.library)
        self.store = Store()
        self.engine = Engine(load_site(SITE), self.board, store=self.store, start_time=MONDAY_10AM)
        self.fed: list[tuple[int, ev.Event]] = []
        feed = self.engine.feed

        def spy(ch: int, event: ev.Event) -> None:
            self.fed.append((ch, event))
            feed(ch, event)

        self.engine.feed = spy  # type: ignore[method-assign]

    def run_until(self, done: Any, limit_s: float) -> None:
        for _ in range(round(limit_s * FS / self.board.block)):
            if done():
                return
            self.engine.tick()
        raise AssertionError(f"not done within {limit_s} s")

    def fed_to(self, ch: int, kind: type[ev.Event]) -> list[Any]:
        return [e for c, e in self.fed if c == ch and isinstance(e, kind)]


@pytest.fixture
def rig(sim_card: SimCard) -> Iterator[Rig]:
    made = Rig(sim_card)
    with made.board:
        yield made


def tone(hz: float, seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * FS)) / FS
    return np.rint(np.sin(2 * np.pi * hz * t) * 0.316 * 32768 * 0.707).astype(np.int16)


def peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x.astype(float) * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / FS)[np.argmax(spec)])


def answer_inbound(rig: Rig) -> int:
    """A call rings trunk 0 with caller ID; the agent lifts the handset when it rings.
    Returns the card's sample clock at the answer."""
    card, engine = rig.card, rig.engine
    card.ring(TRUNK, "13812345678", "ZHANG SAN")
    rig.run_until(lambda: card.Ringing(AGENT), 12.0)
    assert engine.machines[TRUNK].state is TrunkState.WAIT_ANSWER  # until the agent answers
    engine.run_for(0.5)
    card.Lift(AGENT)
    rig.run_until(lambda: engine.machines[AGENT].state is StationState.CONNECTED, 1.0)
    assert engine.machines[TRUNK].state is TrunkState.CONNECTED
    return int(card.Now())


def test_inbound_call_with_the_cards_caller_id_and_keys_both_ways_then_the_agent_hangs_up(
    rig: Rig,
) -> None:
    card, engine = rig.card, rig.engine
    assert engine.dsp._dtmf is None  # the card decodes DTMF: no software receiver
    answered = answer_inbound(rig)
    assert not engine.dsp._cid  # nor caller ID
    (cid,) = rig.fed_to(TRUNK, ev.CallerIdIn)
    assert (cid.number, cid.name) == ("13812345678", "ZHANG SAN")
    assert card.CardOffHook(TRUNK)

    card.say(TRUNK, tone(700, 4.0))
    card.say(AGENT, tone(1300, 4.0))
    card.press(TRUNK, "5")
    engine.run_for(4.5)
    assert [d.digit for d in rig.fed_to(TRUNK, ev.Digit)] == ["5"]

    card.Replace(AGENT)
    engine.run_for(2.0)
    assert engine.idle()
    assert not card.CardOffHook(TRUNK)  # the trunk was released
    agent = card.heard(AGENT, answered)
    caller = card.heard(TRUNK, answered)
    assert peak_hz(agent[2000:24000]) == pytest.approx(700, abs=3)
    assert peak_hz(caller[2000:24000]) == pytest.approx(1300, abs=3)
    assert level_dbm0(agent[2000:24000]) == pytest.approx(-10, abs=0.5)
    (cdr,) = rig.store.final()
    assert (cdr.direction, cdr.caller, cdr.caller_name, cdr.called) == (
        Direction.INBOUND,
        "13812345678",
        "ZHANG SAN",
        "400800888",
    )
    assert (cdr.trunk, cdr.station, cdr.disposition, cdr.hung_up_by) == (
        "donjin/0",
        "donjin/2",
        Disposition.ANSWERED,
        HungUpBy.CALLEE,
    )
    assert cdr.duration_s == pytest.approx(4.5, abs=0.2)  # to the moment the phone went down


def test_the_caller_hangs_up_busy_tone_ends_the_call(rig: Rig) -> None:
    card, engine = rig.card, rig.engine
    answer_inbound(rig)
    engine.run_for(1.0)
    card.FarHangUp(TRUNK)
    rig.run_until(lambda: engine.machines[TRUNK].state is TrunkState.IDLE, 8.0)
    assert rig.fed_to(TRUNK, ev.FarEndGone)[0].how == "busy"
    assert engine.machines[AGENT].state is StationState.WAIT_HANGUP
    engine.run_for(3.0)
    card.Replace(AGENT)
    engine.run_for(1.0)
    assert engine.idle()
    (cdr,) = rig.store.final()
    assert (cdr.disposition, cdr.hung_up_by) == (Disposition.ANSWERED, HungUpBy.CALLER)
    assert "busy" in [t.name for t in detect_tones(card.heard(AGENT)) if t.kind == "on"]


def test_a_station_dials_out_and_the_callee_answers(rig: Rig) -> None:
    card, engine = rig.card, rig.engine
    card.Lift(AGENT)
    engine.run_for(1.0)
    card.press(AGENT, "9")
    engine.run_for(0.6)
    card.press(AGENT, "02588886666#")
    rig.run_until(lambda: card.CardOffHook(TRUNK), 4.0)  # a trunk was seized
    # The exchange's dial tone lets the engine dial; the digits go out as DTMF audio.
    rig.run_until(lambda: engine.machines[TRUNK].state is TrunkState.DIALLED, 5.0)
    rig.run_until(
        lambda: "".join(d.digit for d in detect_dtmf(card.heard(TRUNK))) == "1790902588886666",
        6.0,
    )
    card.Ringback(TRUNK)
    rig.run_until(lambda: engine.machines[TRUNK].heard_ringback, 12.0)
    card.Answer(TRUNK, 0)
    card.say(TRUNK, tone(900, 6.0))
    rig.run_until(lambda: engine.machines[TRUNK].state is TrunkState.CONNECTED, 3.0)
    answered = int(card.Now())
    card.say(AGENT, tone(1300, 4.0))
    engine.run_for(4.0)
    card.Replace(AGENT)
    engine.run_for(2.0)
    assert engine.idle()
    assert peak_hz(card.heard(TRUNK, answered)[2000:24000]) == pytest.approx(1300, abs=3)
    assert peak_hz(card.heard(AGENT, answered)[2000:24000]) == pytest.approx(900, abs=3)
    (cdr,) = rig.store.final()
    assert (cdr.direction, cdr.called, cdr.trunk, cdr.disposition, cdr.hung_up_by) == (
        Direction.OUTBOUND,
        "1790902588886666",
        "donjin/0",
        Disposition.ANSWERED,
        HungUpBy.CALLER,
    )
