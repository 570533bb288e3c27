"""Queues and agents end to end on the simulated board (virtual clock).

Agents log in on their desk phones with feature codes or through `Engine.acd`, callers
queue with music on hold, offers ring the phones and are answered, rung out or guarded;
every test checks what people heard (the spectrum of what each far end recorded) and the
agents' status and state as the monitor sees them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from boardcc.acd.agent import STATE_TABLE, Agent, AgentError, AgentState, AgentStatus
from boardcc.acd.passwords import check_password, hash_password
from boardcc.acd.settings import AgentConfig
from boardcc.cdr import Cdr, Disposition
from boardcc.config import load_site
from boardcc.drivers.sim import HangUp, LiftHandset, Pause, Press, SimBoard, Speak
from boardcc.engine import Engine
from boardcc.machines import StationState, TrunkState
from boardcc.yamlfile import ConfigFileError

FS = 8000
MONDAY_10AM = dt.datetime(2026, 1, 5, 10, 0, 0)
PASSWORD = "4321"
HASH = hash_password(PASSWORD, n=2**10)  # cheap for tests; the default cost is 2**14
ALL_RIGHTS = [
    "answer_queue",
    "answer_internal",
    "dial_internal",
    "dial_local",
    "pickup",
    "grab",
    "monitor",
    "barge",
    "force_logout",
    "supervisor",
]
CALLER_HZ, AGENT_HZ, THIRD_HZ = 700.0, 1300.0, 1900.0


def agent(job: str, ext: str, **more: Any) -> dict[str, Any]:
    return {
        "job": job,
        "password": HASH,
        "station": ext,
        "groups": ["service"],
        "permissions": ALL_RIGHTS,
    } | more


def site(**queue: Any) -> dict[str, Any]:
    return {
        "trunk_groups": [{"name": "main", "channels": "0-2", "access_number": "400800888"}],
        "stations": [{"channel": 3 + i, "extension": f"800{i + 1}"} for i in range(4)],
        "agents": [agent(f"100{i + 1}", f"800{i + 1}") for i in range(4)],
        "queues": [{"name": "service", "groups": ["service"], "wrap_up_s": 3.0} | queue],
        "inbound": [{"name": "all", "steps": [{"queue": "service"}]}],
    }


class Store:
    def __init__(self) -> None:
        self.last: dict[str, Cdr] = {}

    def put(self, cdr: Cdr) -> None:
        self.last[cdr.call_id] = cdr


def make(config: dict[str, Any] | None = None, *, trunks: int = 3, stations: int = 4):
    b = SimBoard(trunks=trunks, stations=stations, seed=3)
    store = Store()
    engine = Engine(load_site(config or site()), b, store=store, start_time=MONDAY_10AM)
    events: list[dict[str, Any]] = []
    engine.subscribe(lambda e: events.append(e) if e["type"] in ("agent", "queue") else None)
    return b, engine, store, events


def level_at(x: np.ndarray, hz: float) -> float:
    """Share of the signal's energy within 15 Hz of `hz` (0 for silence)."""
    if x.size == 0 or not np.any(x):
        return 0.0
    spec = np.abs(np.fft.rfft(x.astype(float) * np.hanning(x.size))) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / FS)
    return float(spec[np.abs(freqs - hz) < 15].sum() / spec.sum())


def hears(b: SimBoard, ch: int, start: float, end: float, hz: float) -> bool:
    return level_at(b.heard(ch, start, end), hz) > 0.2


def login_all(engine: Engine, *jobs: str) -> None:
    for job in jobs:
        engine.acd.login(job, PASSWORD, None, "api")


def state(engine: Engine, job: str) -> tuple[str, str]:
    a = engine.acd.agents[job]
    return a.status.value, a.state.value


# -- the agent's two fields -------------------------------------------------------------------


def test_every_engine_state_has_a_way_back_to_idle() -> None:
    for start in AgentState:
        seen, todo = {start}, [start]
        while todo:
            for nxt in STATE_TABLE[todo.pop()].values():
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert AgentState.IDLE in seen, start


def test_reserved_and_ringing_always_have_a_release() -> None:
    assert STATE_TABLE[AgentState.RESERVED]["release"] is AgentState.IDLE
    assert STATE_TABLE[AgentState.RINGING]["release"] is AgentState.IDLE
    assert STATE_TABLE[AgentState.RINGING]["rang_out"] is AgentState.IDLE


def test_a_move_the_table_lacks_is_refused_in_both_languages() -> None:
    a = Agent(AgentConfig(job="1001", password=HASH))
    with pytest.raises(AgentError, match="cannot hold while idle / 座席 1001 空闲中"):
        a.move("hold", 0)
    a.move("reserve", 10)
    a.move("ring", 20)
    a.move("rang_out", 30)
    assert (a.state, a.idle_since) == (AgentState.IDLE, 30)


def test_passwords_are_salted_scrypt_and_checked_in_constant_time() -> None:
    h1, h2 = hash_password("1234", n=2**10), hash_password("1234", n=2**10)
    assert h1 != h2 and h1.startswith("scrypt$1024$8$1$")
    assert check_password("1234", h1) and not check_password("1235", h1)
    assert not check_password("1234", "scrypt$1024$8$1$garbage")
    with pytest.raises(ValueError, match="empty"):
        hash_password("")


def test_a_password_in_clear_in_the_site_file_is_refused() -> None:
    bad = site()
    bad["agents"][0]["password"] = "1234"
    with pytest.raises(ConfigFileError, match=r"agents\.0\.password: .*not a password hash"):
        load_site(bad)


def test_site_file_cross_checks() -> None:
    bad = site(members=["1009"])
    bad["agents"][1]["station"] = "8099"
    bad["inbound"][0]["steps"] = [{"queue": "sales"}]
    with pytest.raises(ConfigFileError) as info:
        load_site(bad)
    text = str(info.value)
    assert "agents.1.station: no station '8099'" in text
    assert "queues.0.members.0: no agent '1009'" in text
    assert "no queue named 'sales'" in text
    bad = site()
    bad["agents"][2]["permissions"] = ["fly"]
    with pytest.raises(ConfigFileError, match=r"agents\.2\.permissions: unknown permission 'fly'"):
        load_site(bad)


# -- login on the desk phone ------------------------------------------------------------------


def test_desk_phone_login_ready_not_ready_and_logout() -> None:
    b, engine, _, events = make()
    with b:
        phone = b.phone(3)
        phone.run([LiftHandset(), Pause(1.0), Press("*11001#4321#"), Pause(1.5), HangUp()])
        engine.run_for(6.0)
        assert state(engine, "1001") == ("ready", "idle")
        assert engine.acd.agents["1001"].via == {"phone"}
        # The phone heard the two confirmation beeps (1 kHz).
        assert hears(b, 3, 2.0, 5.0, 1000.0)
        phone.run([LiftHandset(), Pause(1.0), Press("*32#"), Pause(1.0), HangUp()])
        engine.run_for(5.0)
        assert state(engine, "1001") == ("not_ready", "idle")
        assert engine.acd.agents["1001"].reason == "用餐"
        phone.run([LiftHandset(), Pause(1.0), Press("*0#"), Pause(1.0), HangUp()])
        engine.run_for(5.0)
        assert state(engine, "1001") == ("logged_out", "idle")
        assert engine.idle()
    statuses = [e["status"] for e in events if e["type"] == "agent" and e["job"] == "1001"]
    assert statuses == ["ready", "not_ready", "logged_out"]


def test_a_wrong_password_on_the_phone_gets_busy_tone_and_no_login() -> None:
    b, engine, _, _ = make()
    with b:
        b.phone(3).run([LiftHandset(), Pause(1.0), Press("*11001#9999#"), Pause(3.0), HangUp()])
        engine.run_for(8.0)
        assert state(engine, "1001") == ("logged_out", "idle")
        assert hears(b, 3, 4.0, 6.0, 450.0)  # busy tone (China: 450 Hz)


def test_a_password_never_keyed_times_out_to_busy_tone() -> None:
    b, engine, _, _ = make()
    with b:
        b.phone(3).run([LiftHandset(), Pause(1.0), Press("*11001#12")])
        engine.run_for(25.0)
        assert engine.acd._login == {}
        assert engine.machines[3].state is StationState.WAIT_HANGUP
        assert state(engine, "1001") == ("logged_out", "idle")
        b.phone(3).run([HangUp()])
        engine.run_for(1.0)


def test_api_login_needs_the_right_password_and_a_free_station() -> None:
    b, engine, _, _ = make()
    with b:
        with pytest.raises(AgentError, match="wrong job number or password / 工号或密码错误"):
            engine.acd.login("1001", "0000", None, "api")
        with pytest.raises(AgentError, match="wrong job number or password"):
            engine.acd.login("1099", PASSWORD, None, "api")
        engine.acd.login("1001", PASSWORD, None, "api")
        with pytest.raises(AgentError, match="taken by agent 1001"):
            engine.acd.login("1002", PASSWORD, "8001", "api")


# -- queue calls --------------------------------------------------------------------------------


def test_a_queued_caller_hears_music_then_the_agent_on_the_desk_phone_answers() -> None:
    b, engine, store, events = make()
    with b:
        b.incoming_call(
            0, at=0.5, caller_id="13812345678", script=[Speak(tone=CALLER_HZ, seconds=40.0)]
        )
        engine.run_for(8.0)
        (w,) = engine.acd.waiting.values()
        assert engine.machines[0].state is TrunkState.WAIT_PLAY
        music = b.heard(0, 4.0, 8.0)  # the built-in tune: single notes, 523 to 1047 Hz
        notes = (523, 587, 659, 784, 880, 1047)
        assert sum(level_at(music, f) for f in notes) > 0.5
        # An agent logs in; the phone rings; it is answered after two rings.
        b.phone(4).auto_answer(2, [Speak(tone=AGENT_HZ, seconds=5.0), Pause(1.0), HangUp()])
        engine.acd.login("1002", PASSWORD, None, "api")
        engine.run_for(0.1)
        assert state(engine, "1002") == ("ready", "ringing")
        engine.run_for(9.0)
        assert state(engine, "1002") == ("ready", "in_call")
        assert engine.machines[0].state is TrunkState.CONNECTED
        t = engine.acd.seconds(engine.now)
        assert hears(b, 4, t - 4.0, t - 1.0, CALLER_HZ)  # the agent hears the caller
        assert hears(b, 0, t - 4.0, t - 1.0, AGENT_HZ)  # and the caller the agent
        engine.run_for(3.0)
        assert state(engine, "1002") == ("ready", "wrap_up")
        engine.run_for(3.5)
        assert state(engine, "1002") == ("ready", "idle")
    cdr = store.last[w.call_id]
    assert cdr.extra["queue"] == "service" and cdr.extra["queue_result"] == "answered"
    assert cdr.extra["agent"] == "1002"
    assert float(cdr.extra["queue_wait_s"]) == pytest.approx(10.5, abs=1.0)
    kinds = [e["event"] for e in events if e["type"] == "queue"]
    assert kinds == ["join", "offer", "answer", "done"]
    stats = engine.acd.queue_json(engine.acd.queues["service"])
    assert (stats["offered"], stats["answered"], stats["abandoned"]) == (1, 1, 0)
    me = engine.acd.agent_json(engine.acd.agents["1002"])
    assert (me["offered"], me["answered"], me["missed_total"]) == (1, 1, 0)
    assert me["talk_s"] == pytest.approx(6.0, abs=0.3) and me["wrap_up_s"] == 3.0
    assert stats["service_level"] == 1.0 and stats["wrap_up_s"] == 3.0


def test_an_offer_that_rings_out_goes_to_the_next_agent_and_misses_make_not_ready() -> None:
    b, engine, _, events = make(site(ring_s=6.0, strategy="fixed_order"))
    engine.config.acd.max_missed_offers = 2
    with b:
        login_all(engine, "1001", "1002")
        b.phone(4).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=3.0), HangUp()])
        b.incoming_call(
            0, at=0.5, caller_id="13900000000", script=[Speak(tone=CALLER_HZ, seconds=60.0)]
        )
        engine.run_for(10.0)
        assert state(engine, "1001") == ("ready", "idle")  # rang out: 6 s
        assert engine.acd.agents["1001"].missed == 1
        engine.run_for(10.0)
        assert engine.acd.agents["1002"].answered == 1
        b.incoming_call(
            1, at=engine.acd.seconds(engine.now) + 1, caller_id="1390", script=[Pause(40.0)]
        )
        engine.run_for(12.0)
        # The second miss in a row: not ready, "no answer" (the engine's own reason).
        assert state(engine, "1001") == ("not_ready", "idle")
        assert engine.acd.agents["1001"].reason == "no answer"
    missed = [e for e in events if e["type"] == "queue" and e["event"] == "missed"]
    assert [e["agent"] for e in missed] == ["1001", "1001"]


def test_the_guard_releases_an_offer_whose_phone_never_reports() -> None:
    b, engine, _, _ = make(site(ring_s=5.0))
    with b:
        login_all(engine, "1001")
        b.incoming_call(0, at=0.5, caller_id="13900000000", script=[Pause(60.0), HangUp()])
        engine.run_for(4.0)
        assert state(engine, "1001") == ("ready", "ringing")
        engine._cancel_timer(3, "ring")  # the phone's own ring timeout is lost
        engine.run_for(6.5)
        assert state(engine, "1001") == ("ready", "idle")
        assert engine.machines[3].state is StationState.IDLE
        assert not b.phone(3).ringing
        assert engine.acd.agents["1001"].missed == 1


def test_a_caller_who_hangs_up_while_the_agent_rings_releases_the_agent() -> None:
    b, engine, store, events = make()
    with b:
        login_all(engine, "1001")
        b.incoming_call(0, at=0.5, caller_id="13900000000", script=[Pause(3.0), HangUp()])
        engine.run_for(4.5)
        assert state(engine, "1001") == ("ready", "ringing")
        engine.run_for(6.0)
        assert state(engine, "1001") == ("ready", "idle")
        assert engine.idle()
    (cdr,) = store.last.values()
    assert (cdr.disposition, cdr.extra["queue_result"]) == (Disposition.ABANDONED, "abandoned")
    stats = engine.acd.queue_json(engine.acd.queues["service"])
    assert stats["abandoned"] == 1 and stats["abandon_wait_s"] == pytest.approx(5.0, abs=1.0)
    assert any(e.get("event") == "abandon" for e in events)


def test_the_longest_waiting_caller_across_queues_gets_the_agent_priority_first() -> None:
    config = site()
    config["queues"].append({"name": "care", "groups": ["service"]})
    config["inbound"] = [
        {"name": "care", "trunk_group": "main", "steps": [{"queue": "service"}]},
    ]
    b, engine, _, events = make(config)
    with b:
        for trunk, at in ((0, 0.5), (1, 2.5), (2, 4.5)):
            b.incoming_call(trunk, at=at, caller_id=f"1380000000{trunk}", script=[Pause(60.0)])
        engine.run_for(9.0)
        # Three callers in two queues: trunk 1 into care (shares the agents), trunk 2 with
        # priority; the agent who logs in gets the priority caller, then the longest waiting.
        calls = {w.trunk: w for w in engine.acd.waiting.values()}
        calls[1].queue = "care"
        calls[2].priority = 5
        b.phone(3).auto_answer(1, [Pause(1.0), HangUp()])
        login_all(engine, "1001")
        engine.run_for(30.0)
    answered = [e["caller"] for e in events if e["type"] == "queue" and e["event"] == "answer"]
    assert answered == ["13800000002", "13800000000", "13800000001"]


def test_max_wait_overflows_to_the_next_steps() -> None:
    config = site(max_wait_s=5.0, overflow=[{"station": "8004"}])
    b, engine, store, events = make(config)
    with b:
        b.phone(6).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=2.0), HangUp()])
        b.incoming_call(
            0, at=0.5, caller_id="13900000000", script=[Speak(tone=CALLER_HZ, seconds=30.0)]
        )
        engine.run_for(15.0)
    (cdr,) = store.last.values()
    assert cdr.extra["queue_result"] == "overflow (max wait)"
    assert cdr.station == "sim/6" and cdr.disposition is Disposition.ANSWERED
    assert any(e.get("event") == "overflow" for e in events)


def test_a_full_queue_and_an_empty_queue_send_callers_to_overflow() -> None:
    config = site(max_length=1, join_empty=False, overflow=[{"hang_up": True}])
    b, engine, store, _ = make(config)
    with b:
        b.incoming_call(0, at=0.5, caller_id="13900000000", script=[Pause(20.0)])
        engine.run_for(6.0)
        assert not engine.acd.waiting  # nobody logged in: not joined
        login_all(engine, "1001")
        engine.acd.set_status(engine.acd.agents["1001"], AgentStatus.AWAY)
        b.incoming_call(1, at=7.0, caller_id="13900000001", script=[Pause(30.0)])
        b.incoming_call(2, at=9.0, caller_id="13900000002", script=[Pause(30.0)])
        engine.run_for(10.0)
        assert len(engine.acd.waiting) == 1  # the second is one too many
    results = sorted(c.extra.get("queue_result", "") for c in store.last.values())
    assert results == ["", "overflow (full)", "overflow (no agents)"]


def test_a_caller_may_ask_for_a_callback_and_the_agent_then_calls_out() -> None:
    config = site(callback_key="2")
    config["outbound"] = [{"trunk_group": "main", "station_group": "default"}]
    b, engine, store, events = make(config)
    with b:
        b.incoming_call(
            0, at=0.5, caller_id="13812345678", script=[Pause(5.0), Press("2"), Pause(30.0)]
        )
        engine.run_for(12.0)
        (cb,) = engine.acd.waiting.values()
        assert cb.callback and cb.caller == "13812345678"
        assert engine.machines[0].state is not TrunkState.CONNECTED
        b.phone(3).auto_answer(1, [Pause(20.0), HangUp()])
        login_all(engine, "1001")
        engine.run_for(10.0)
        assert not engine.acd.waiting
        assert state(engine, "1001") == ("ready", "in_call")
        dialled = [c for c in store.last.values() if c.route.startswith("callback")]
        assert dialled and dialled[0].called == "13812345678"
    kinds = [e["event"] for e in events if e["type"] == "queue"]
    assert kinds[:2] == ["join", "callback"] and "answer" in kinds


def test_a_caller_back_within_the_reentry_window_keeps_the_old_place() -> None:
    b, engine, _, _ = make(site(reentry_s=30.0))
    with b:
        b.incoming_call(0, at=0.5, caller_id="13800000001", script=[Pause(8.0), HangUp()])
        b.incoming_call(1, at=5.0, caller_id="13800000002", script=[Pause(60.0)])
        b.incoming_call(0, at=16.0, caller_id="13800000001", script=[Pause(60.0)])
        engine.run_for(22.0)
        by_caller = {w.caller: w for w in engine.acd.waiting.values()}
        first, second = by_caller["13800000001"], by_caller["13800000002"]
        assert first.reentered and engine.acd.position(first) == 1
        assert engine.acd.position(second) == 2


def test_position_announcements_play_the_prompts(tmp_path: Any) -> None:
    from boardcc.dsp import write_audio

    prompts = {}
    names = ["queue_position", "queue_wait", "queue_minutes", *(f"digit_{d}" for d in range(10))]
    for k, name in enumerate(names):
        tone = np.sin(2 * np.pi * (300 + 10 * k) * np.arange(FS // 4) / FS) * 8000
        write_audio(tmp_path / f"{name}.wav", tone.astype(np.int16))
        prompts[name] = str(tmp_path / f"{name}.wav")
    config = site(announce_s=5.0) | {"prompts": prompts}
    b, engine, _, _ = make(config)
    with b:
        b.incoming_call(0, at=0.5, caller_id="13900000000", script=[Pause(60.0)])
        engine.run_for(12.0)
        heard = b.heard(0, 7.0, 12.0)
    assert level_at(heard, 300.0) > 0.02  # "you are number"
    assert level_at(heard, 340.0) > 0.02  # digit_1: the first in the queue


# -- strategies end to end ---------------------------------------------------------------------


def test_ring_all_rings_every_free_agent_and_the_first_to_answer_wins() -> None:
    b, engine, _, _ = make(site(strategy="ring_all"))
    with b:
        login_all(engine, "1001", "1002", "1003")
        b.phone(5).auto_answer(2, [Pause(5.0), HangUp()])
        b.incoming_call(0, at=0.5, caller_id="13900000000", script=[Pause(30.0)])
        engine.run_for(4.5)
        assert [state(engine, j)[1] for j in ("1001", "1002", "1003")] == ["ringing"] * 3
        engine.run_for(4.0)
        assert [state(engine, j)[1] for j in ("1001", "1002", "1003")] == [
            "idle",
            "idle",
            "in_call",
        ]
        assert not b.phone(3).ringing and not b.phone(4).ringing


def test_ring_progressively_adds_an_agent_every_few_seconds() -> None:
    b, engine, _, _ = make(site(strategy="ring_progressively", progressive_s=3.0, ring_s=20.0))
    with b:
        login_all(engine, "1001", "1002", "1003")
        b.incoming_call(0, at=0.5, caller_id="13900000000", script=[Pause(30.0)])
        engine.run_for(4.0)
        ringing = [j for j in ("1001", "1002", "1003") if state(engine, j)[1] == "ringing"]
        assert ringing == ["1001"]
        engine.run_for(3.5)
        ringing = [j for j in ("1001", "1002", "1003") if state(engine, j)[1] == "ringing"]
        assert ringing == ["1001", "1002"]


def test_tier_two_agents_answer_only_after_the_tier_wait() -> None:
    config = site(members=["1001", {"agent": "1002", "tier": 2}], groups=[], tier_wait_s=10.0)
    b, engine, _, _ = make(config)
    with b:
        login_all(engine, "1002")
        b.incoming_call(0, at=0.5, caller_id="13900000000", script=[Pause(40.0)])
        engine.run_for(8.0)
        assert state(engine, "1002") == ("ready", "idle")
        engine.run_for(10.0)
        assert state(engine, "1002") == ("ready", "ringing")


def test_an_agent_without_answer_queue_is_never_offered_queue_calls() -> None:
    config = site()
    config["agents"][0]["permissions"] = ["dial_internal"]
    b, engine, _, _ = make(config)
    with b:
        login_all(engine, "1001")
        b.incoming_call(0, at=0.5, caller_id="13900000000", script=[Pause(20.0)])
        engine.run_for(10.0)
        assert state(engine, "1001") == ("ready", "idle")
        assert len(engine.acd.waiting) == 1


def test_hash_password_command_prints_a_hash_the_site_file_takes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from boardcc.cli import main

    answers = iter(["8642", "8642"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["hash-password"]) == 0
    printed = capsys.readouterr().out.strip()
    assert check_password("8642", printed)
    AgentConfig(job="1001", password=printed)
    answers = iter(["8642", "8643"])
    assert main(["hash-password"]) == 2


def test_the_caller_hears_the_agents_job_number_then_the_agent(tmp_path: Any) -> None:
    from boardcc.dsp import write_audio

    prompts = {}
    for k, name in enumerate(["agent_intro", *(f"digit_{d}" for d in range(10))]):
        tone = np.sin(2 * np.pi * (400 + 50 * k) * np.arange(FS // 2) / FS) * 8000
        write_audio(tmp_path / f"{name}.wav", tone.astype(np.int16))
        prompts[name] = str(tmp_path / f"{name}.wav")
    b, engine, _, _ = make(site(announce_agent=True) | {"prompts": prompts})
    with b:
        b.phone(3).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=20.0)])
        login_all(engine, "1001")
        b.incoming_call(0, at=0.5, caller_id="13900000000", script=[Pause(60.0)])
        engine.run_for(10.0)
        # Answered at about 2.64 s: agent_intro (400 Hz), then 1, 0, 0, 1 (digit_1 500 Hz,
        # digit_0 450 Hz) half a second each, then the agent.
        for start, hz in ((2.7, 400), (3.2, 500), (3.7, 450), (4.2, 450), (4.7, 500)):
            assert level_at(b.heard(0, start, start + 0.4), hz) > 0.5, (start, hz)
        assert level_at(b.heard(0, 6.0, 9.0), AGENT_HZ) > 0.5


def test_hanging_up_a_ringing_offer_leaves_the_caller_waiting() -> None:
    b, engine, _, events = make()
    with b:
        login_all(engine, "1001", "1002")
        b.incoming_call(0, at=0.5, caller_id="13900000000", script=[Pause(60.0)])
        engine.run_for(3.0)
        ringing = [j for j in ("1001", "1002") if state(engine, j)[1] == "ringing"]
        assert len(ringing) == 1
        engine.acd.control.hang_up(engine.acd.agents[ringing[0]])
        assert state(engine, ringing[0]) == ("ready", "idle")
        assert len(engine.acd.waiting) == 1 and 0 in engine.call_of
        engine.run_for(3.0)
        other = "1002" if ringing[0] == "1001" else "1001"
        assert state(engine, other) == ("ready", "ringing")
    assert [e["event"] for e in events if e["type"] == "queue"][-2:] == ["missed", "offer"]
