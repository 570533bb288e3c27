"""耳麦座席 (长摘机): headset agents who leave the desk phone off hook, on the simulated board.

Agent 1001 (station 8001, channel 3) wears a headset: logged in by phone it stays off hook
in standby; calls come with a zip tone (440 Hz) instead of ringing and are connected by
auto-answer, by the answer key or by the API's ``answer``. Every test checks what people
heard (the spectrum of what each far end recorded) and the states as the monitor sees them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from boardcc.acd import commands
from boardcc.acd.agent import AgentError
from boardcc.cdr import Disposition
from boardcc.config import load_site
from boardcc.drivers.sim import Flash, HangUp, LiftHandset, Pause, Press, Speak
from boardcc.machines import StationState
from boardcc.yamlfile import ConfigFileError
from tests.test_acd import AGENT_HZ, CALLER_HZ, THIRD_HZ, level_at, make, site, state

ZIP_HZ, BUSY_HZ, BEEP_HZ = 440.0, 450.0, 1000.0
LOGIN = [LiftHandset(), Pause(1.0), Press("*11001#4321#")]


def headset_site(*, auto: bool | None = None, **queue: Any) -> dict[str, Any]:
    config = site(**queue)
    config["agents"][0]["headset"] = True
    if auto is not None:
        config["agents"][0]["auto_answer"] = auto
    return config


def hears(b: Any, ch: int, start: float, end: float, hz: float, share: float = 0.2) -> bool:
    return level_at(b.heard(ch, start, end), hz) > share


def now(engine: Any) -> float:
    return engine.acd.seconds(engine.now)


def queue_events(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "queue" and e["event"] == name]


def caller(b: Any, at: float, seconds: float = 60.0, trunk: int = 0) -> None:
    script = [Speak(tone=CALLER_HZ, seconds=seconds), HangUp()]
    b.incoming_call(trunk, at=at, caller_id="13800000000", script=script)


def test_login_from_the_phone_and_stay_off_hook_is_standby_in_silence() -> None:
    b, engine, _, _ = make(headset_site())
    with b:
        b.phone(3).run(LOGIN)
        engine.run_for(5.0)
        assert state(engine, "1001") == ("ready", "idle")
        assert engine.machines[3].state is StationState.STANDBY
        assert hears(b, 3, 2.5, 5.0, BEEP_HZ)  # the code's two beeps, then nothing
        engine.run_for(60.0)  # no digit timeout, no busy tone, no howler
        assert engine.machines[3].state is StationState.STANDBY
        assert not b.heard(3, now(engine) - 55.0, now(engine)).any()
        me = engine.acd.agent_json(engine.acd.agents["1001"])
        assert me["headset"] and me["standby"]


def test_an_offer_zips_and_auto_answer_connects_both_ways_then_back_to_standby() -> None:
    b, engine, store, events = make(headset_site(auto_answer=True))
    with b:
        b.phone(3).run([*LOGIN, Pause(2.0), Speak(tone=AGENT_HZ, seconds=60.0)])
        caller(b, at=6.0, seconds=12.0)  # queued at about 8 s
        engine.run_for(11.0)
        (offer,) = queue_events(events, "offer")
        (answer,) = queue_events(events, "answer")
        # No ringing: the zip tone, then the caller, about half a second after the offer.
        assert not b.phone(3).rings
        assert hears(b, 3, offer["t"], offer["t"] + 0.5, ZIP_HZ)
        assert answer["t"] - offer["t"] == pytest.approx(0.5, abs=0.1)
        assert state(engine, "1001") == ("ready", "in_call")
        t = now(engine)
        assert hears(b, 3, t - 2.0, t, CALLER_HZ) and hears(b, 0, t - 2.0, t, AGENT_HZ)
        engine.run_for(14.0)  # the caller hangs up at about 20 s
        assert engine.machines[3].state is StationState.STANDBY
        assert state(engine, "1001")[1] in ("wrap_up", "idle")
        engine.run_for(40.0)
        assert state(engine, "1001") == ("ready", "idle")
        assert engine.machines[3].state is StationState.STANDBY
        t = now(engine)
        assert not b.heard(3, t - 30.0, t).any()  # silence, no howler
    (cdr,) = store.last.values()
    assert cdr.disposition is Disposition.ANSWERED and cdr.extra["agent"] == "1001"
    assert cdr.answered is not None and cdr.station == b.channels[3].name


def test_the_caller_gone_gives_a_short_busy_burst_then_standby() -> None:
    b, engine, _, events = make(headset_site(auto_answer=True))
    with b:
        b.phone(3).run([*LOGIN, Pause(60.0)])
        caller(b, at=6.0, seconds=5.0)
        engine.run_for(30.0)
        (done,) = queue_events(events, "done")
        assert hears(b, 3, done["t"], done["t"] + 1.2, BUSY_HZ)
        assert not b.heard(3, done["t"] + 2.0, now(engine)).any()
        assert engine.machines[3].state is StationState.STANDBY


def test_the_answer_key_connects_and_the_answer_time_is_the_key() -> None:
    b, engine, _, events = make(headset_site())
    with b:
        b.phone(3).run([*LOGIN, Pause(7.0), Press("#"), Speak(tone=AGENT_HZ, seconds=30.0)])
        caller(b, at=6.0)
        engine.run_for(9.0)
        assert engine.machines[3].state is StationState.OFFERED
        assert state(engine, "1001") == ("ready", "ringing")
        assert engine.acd.agent_json(engine.acd.agents["1001"])["standby"]
        engine.run_for(6.0)
        (offer,) = queue_events(events, "offer")
        (answer,) = queue_events(events, "answer")
        assert answer["t"] - offer["t"] > 2.0  # when the key was pressed, not the offer
        assert state(engine, "1001") == ("ready", "in_call")
        t = now(engine)
        assert hears(b, 3, t - 2.0, t, CALLER_HZ) and hears(b, 0, t - 2.0, t, AGENT_HZ)
    stats = engine.acd.queue_json(engine.acd.queues["service"])
    assert stats["answered"] == 1 and stats["asa_s"] == pytest.approx(answer["waited_s"])


def test_answer_from_the_api_connects_a_call_offered_in_standby() -> None:
    b, engine, _, _ = make(headset_site())
    with b:
        b.phone(3).run([*LOGIN, Pause(2.0), Speak(tone=AGENT_HZ, seconds=60.0)])
        caller(b, at=6.0)
        engine.run_for(9.0)
        assert state(engine, "1001") == ("ready", "ringing")
        assert commands.run(engine.acd, "1001", "answer", {}) == {}
        engine.run_for(3.0)
        assert state(engine, "1001") == ("ready", "in_call")
        t = now(engine)
        assert hears(b, 3, t - 2.0, t, CALLER_HZ) and hears(b, 0, t - 2.0, t, AGENT_HZ)
        # The API's hang_up: the call ends, the phone goes back to standby.
        commands.run(engine.acd, "1001", "hang_up", {})
        engine.run_for(2.0)
        assert engine.machines[3].state is StationState.STANDBY
        assert 0 not in engine.call_of


def test_answer_from_the_api_is_still_refused_for_a_phone_on_hook() -> None:
    b, engine, _, _ = make(headset_site())
    with b:
        engine.acd.login("1002", "4321", None, "api")
        caller(b, at=0.5)
        engine.run_for(3.0)
        assert state(engine, "1002") == ("ready", "ringing")
        with pytest.raises(AgentError, match=r"lift the handset of station 8002 .* / 请摘机应答"):
            commands.run(engine.acd, "1002", "answer", {})
        assert not engine.acd.agent_json(engine.acd.agents["1002"])["standby"]


def test_an_offer_not_answered_is_a_missed_offer_and_the_caller_is_offered_again() -> None:
    b, engine, _, events = make(headset_site(ring_s=4.0, strategy="fixed_order"))
    engine.config.acd.max_missed_offers = 2
    with b:
        b.phone(3).run([*LOGIN, Pause(120.0)])
        engine.run_for(5.0)
        engine.acd.login("1002", "4321", None, "api")
        b.phone(4).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=3.0), HangUp()])
        caller(b, at=6.0, seconds=30.0)
        engine.run_for(8.0)  # offered to 1001 at about 8 s, for 4 s
        assert engine.machines[3].state is StationState.STANDBY
        assert engine.acd.agents["1001"].missed == 1
        engine.run_for(8.0)
        assert engine.acd.agents["1002"].answered == 1  # the caller went on to 1002
        caller(b, at=now(engine) + 1.0, seconds=30.0, trunk=1)
        engine.run_for(10.0)
        # The second miss in a row: not ready, "no answer"; the phone stays in standby.
        assert state(engine, "1001") == ("not_ready", "idle")
        assert engine.acd.agents["1001"].reason == "no answer"
        assert engine.machines[3].state is StationState.STANDBY
    missed = queue_events(events, "missed")
    assert [e["agent"] for e in missed] == ["1001", "1001"]
    assert [e["agent"] for e in queue_events(events, "offer")][:2] == ["1001", "1002"]


def test_a_headset_agent_who_hangs_up_is_an_ordinary_agent_whose_phone_rings() -> None:
    b, engine, _, _ = make(headset_site(auto_answer=True))
    with b:
        b.phone(3).run([*LOGIN, Pause(2.0), HangUp()])
        engine.run_for(8.0)
        assert engine.machines[3].state is StationState.IDLE
        assert state(engine, "1001") == ("ready", "idle")
        caller(b, at=8.5)
        engine.run_for(5.0)
        assert b.phone(3).ringing and engine.machines[3].state is StationState.RINGING
        with pytest.raises(AgentError, match="请摘机应答"):
            commands.run(engine.acd, "1001", "answer", {})
        # Lifted again while idle: standby, not dial tone.
        b.phone(3).run([LiftHandset(), Speak(tone=AGENT_HZ, seconds=20.0)])
        engine.run_for(2.0)
        assert state(engine, "1001") == ("ready", "in_call")
        b.phone(3).run([HangUp()])
        engine.run_for(8.0)
        b.phone(3).run([LiftHandset(), Pause(30.0)])
        engine.run_for(2.0)
        assert engine.machines[3].state is StationState.STANDBY
        assert not hears(b, 3, now(engine) - 1.5, now(engine), BUSY_HZ)


def test_feature_codes_in_standby_and_back_to_standby_refused_too() -> None:
    b, engine, _, _ = make(headset_site())
    with b:
        phone = b.phone(3)
        phone.run([*LOGIN, Pause(2.0), Press("*32#"), Pause(60.0)])
        engine.run_for(9.0)
        assert state(engine, "1001") == ("not_ready", "idle")
        assert engine.acd.agents["1001"].reason == "用餐"
        assert engine.machines[3].state is StationState.STANDBY
        phone.run([Press("*2#"), Pause(60.0)])
        engine.run_for(3.0)
        assert state(engine, "1001") == ("ready", "idle")
        assert engine.machines[3].state is StationState.STANDBY
        assert hears(b, 3, now(engine) - 2.5, now(engine), BEEP_HZ)
        phone.run([Press("*39#"), Pause(60.0)])  # no 9th reason: refused
        engine.run_for(3.0)
        assert hears(b, 3, now(engine) - 2.5, now(engine), BUSY_HZ)
        assert engine.machines[3].state is StationState.STANDBY
        assert state(engine, "1001") == ("ready", "idle")
        phone.run([Press("*0#"), Pause(60.0)])  # logged out: an ordinary phone off hook
        engine.run_for(3.0)
        assert state(engine, "1001") == ("logged_out", "idle")
        assert engine.machines[3].state is StationState.CALLING
        phone.run([HangUp()])
        engine.run_for(1.0)
        assert engine.idle()


def test_a_flash_in_standby_gives_dial_tone_and_an_extension_keyed_rings() -> None:
    b, engine, store, _ = make(headset_site())
    with b:
        b.phone(4).auto_answer(2, [Speak(tone=THIRD_HZ, seconds=4.0), HangUp()])
        b.phone(3).run(
            [
                *LOGIN,
                Pause(2.0),
                Flash(),
                Pause(2.0),
                Press("8002#"),
                Speak(tone=AGENT_HZ, seconds=40),
            ]
        )
        engine.run_for(7.0)
        assert engine.machines[3].state is StationState.CALLING
        assert hears(b, 3, 6.3, 7.0, BUSY_HZ)  # dial tone (450 Hz, continuous)
        engine.run_for(10.0)
        t = now(engine)
        assert hears(b, 3, t - 6.0, t, THIRD_HZ) and hears(b, 4, t - 6.0, t, AGENT_HZ)
        engine.run_for(10.0)  # 8002 hung up: back to standby
        assert engine.machines[3].state is StationState.STANDBY
        assert state(engine, "1001") == ("ready", "idle")
    (cdr,) = store.last.values()
    assert cdr.called == "8002" and cdr.disposition is Disposition.ANSWERED


def test_transfer_by_flash_and_complete_from_the_api_then_standby() -> None:
    b, engine, _, events = make(headset_site(auto_answer=True))
    with b:
        b.phone(4).auto_answer(1, [Speak(tone=THIRD_HZ, seconds=60.0)])
        b.phone(3).run(
            [
                *LOGIN,
                Pause(6.0),
                Flash(),
                Pause(1.0),
                Press("8002#"),
                Speak(tone=AGENT_HZ, seconds=60),
            ]
        )
        caller(b, at=6.0)
        engine.run_for(18.0)
        assert engine.acd.agents["1001"].state.value == "on_hold"
        assert hears(b, 3, now(engine) - 2.0, now(engine), THIRD_HZ)
        commands.run(engine.acd, "1001", "transfer_complete", {})
        engine.run_for(1.5)
        assert engine.machines[3].state is StationState.STANDBY
        assert state(engine, "1001") == ("ready", "wrap_up")
        t = now(engine)
        assert hears(b, 0, t - 1.0, t, THIRD_HZ) and hears(b, 4, t - 1.0, t, CALLER_HZ)
    (move,) = queue_events(events, "transfer")
    assert (move["agent"], move["target"], move["mode"]) == ("1001", "8002", "consult")


def test_a_headset_agent_in_standby_takes_an_internal_call_with_the_zip_tone() -> None:
    b, engine, _, _ = make(headset_site(auto=True))
    with b:
        b.phone(3).run([*LOGIN, Pause(2.0), Speak(tone=AGENT_HZ, seconds=40.0)])
        engine.run_for(5.0)
        b.phone(4).run(
            [LiftHandset(), Pause(1.0), Press("8001#"), Speak(tone=THIRD_HZ, seconds=20)]
        )
        engine.run_for(6.0)
        assert not b.phone(3).rings
        t = now(engine)
        assert hears(b, 3, t - 2.0, t, THIRD_HZ) and hears(b, 4, t - 2.0, t, AGENT_HZ)
        assert state(engine, "1001") == ("ready", "in_call")


def test_a_soft_dial_from_the_api_in_standby_dials_at_once() -> None:
    b, engine, _, _ = make(headset_site())
    with b:
        b.phone(4).auto_answer(1, [Speak(tone=THIRD_HZ, seconds=20.0)])
        b.phone(3).run([*LOGIN, Pause(2.0), Speak(tone=AGENT_HZ, seconds=40.0)])
        engine.run_for(5.0)
        commands.run(engine.acd, "1001", "dial", {"number": "8002"})
        engine.run_for(6.0)
        t = now(engine)
        assert hears(b, 3, t - 2.0, t, THIRD_HZ) and hears(b, 4, t - 2.0, t, AGENT_HZ)


def test_the_job_number_is_announced_after_the_zip_tone_answer(tmp_path: Any) -> None:
    from boardcc.dsp import write_audio

    prompts = {}
    for k, name in enumerate(["agent_intro", *(f"digit_{d}" for d in range(10))]):
        tone = np.sin(2 * np.pi * (400 + 50 * k) * np.arange(4000) / 8000) * 8000
        write_audio(tmp_path / f"{name}.wav", tone.astype(np.int16))
        prompts[name] = str(tmp_path / f"{name}.wav")
    config = headset_site(auto_answer=True, announce_agent=True) | {"prompts": prompts}
    b, engine, _, events = make(config)
    with b:
        b.phone(3).run([*LOGIN, Pause(2.0), Speak(tone=AGENT_HZ, seconds=60.0)])
        b.incoming_call(0, at=6.0, caller_id="13900000000", script=[Pause(60.0)])
        engine.run_for(18.0)
        (answer,) = queue_events(events, "answer")
        t = answer["t"]  # agent_intro (400 Hz), then 1, 0, 0, 1, then the agent
        for start, hz in ((t, 400), (t + 0.5, 500), (t + 1.0, 450), (t + 1.5, 450)):
            assert level_at(b.heard(0, start + 0.05, start + 0.45), hz) > 0.5, (start, hz)
        assert level_at(b.heard(0, t + 3.0, t + 6.0), AGENT_HZ) > 0.5


def test_the_api_hang_up_hands_the_caller_to_the_survey_and_the_phone_stands_by() -> None:
    b, engine, store, _ = make(headset_site(auto_answer=True, survey="survey", wrap_up_s=2.0))
    with b:
        b.phone(3).run([*LOGIN, Pause(2.0), Speak(tone=AGENT_HZ, seconds=60.0)])
        script = [Speak(tone=CALLER_HZ, seconds=14.0), Press("5"), Pause(15.0)]
        b.incoming_call(0, at=6.0, caller_id="13800000001", script=script)
        engine.run_for(11.0)
        assert state(engine, "1001") == ("ready", "in_call")
        commands.run(engine.acd, "1001", "hang_up", {})
        (call,) = engine.calls.values()
        assert call.ivr is not None and 3 not in engine.call_of
        assert engine.machines[3].state is StationState.STANDBY
        engine.run_for(30.0)
        assert not engine.calls and engine.machines[3].state is StationState.STANDBY
    (cdr,) = store.last.values()
    assert cdr.extra["var.score"] == "5" and cdr.extra["survey_flow"] == "survey"


def test_the_headset_settings_are_checked_at_load() -> None:
    bad = headset_site() | {"acd": {"answer_key": "##"}}
    with pytest.raises(ConfigFileError, match=r"acd\.answer_key: .*a key is one of 0-9 \* #"):
        load_site(bad)
    bad = headset_site()
    bad["agents"][0]["headset"] = "sometimes"
    with pytest.raises(ConfigFileError, match=r"agents\.0\.headset"):
        load_site(bad)
    config = load_site(headset_site(auto=False, auto_answer=True) | {"acd": {"answer_key": "*"}})
    assert config.agents[0].headset and config.agents[0].auto_answer is False
    assert config.queues[0].auto_answer and config.acd.answer_key == "*"


def test_hanging_up_while_offered_declines_and_the_next_offer_rings_the_phone() -> None:
    b, engine, _, events = make(headset_site(ring_s=8.0))
    with b:
        b.phone(3).run([*LOGIN, Pause(5.0), HangUp()])  # offered at about 8 s, hung up at 9
        caller(b, at=6.0)
        engine.run_for(10.0)
        assert engine.machines[3].state is StationState.IDLE
        assert engine.acd.agents["1001"].missed == 1 and len(engine.acd.waiting) == 1
        engine.run_for(3.0)  # the caller is offered again after retry_s: the phone rings
        assert b.phone(3).ringing and state(engine, "1001") == ("ready", "ringing")
    assert [e["event"] for e in events if e["type"] == "queue"][:4] == [
        "join",
        "offer",
        "missed",
        "offer",
    ]


def test_logged_out_from_the_api_in_standby_the_phone_gets_dial_tone() -> None:
    b, engine, _, _ = make(headset_site())
    with b:
        b.phone(3).run([*LOGIN, Pause(60.0)])
        engine.run_for(6.0)
        assert engine.machines[3].state is StationState.STANDBY
        commands.run(engine.acd, "1001", "logout", {})
        engine.run_for(2.0)
        assert state(engine, "1001") == ("logged_out", "idle")
        assert engine.machines[3].state is StationState.CALLING
        assert hears(b, 3, now(engine) - 1.5, now(engine), BUSY_HZ)  # dial tone, 450 Hz
