"""Queue features end to end on the simulated board (virtual clock): periodic messages at their
period, leaving an emptied queue, the caller's keys to voicemail and to a callback that keeps
its place, position and estimated-wait announcements from the moving average, wrap-up per
agent, the strategies that depend on history (sticky, region, fewest calls, least talk time)
driven by real calls, order across two queues routed by inbound rules, the figures of a small
scripted day, and the desk phone's feature codes (also a site's own set).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from boardcc.acd import commands
from boardcc.acd.agent import AgentStatus
from boardcc.drivers.sim import HangUp, LiftHandset, Pause, Press, SimBoard, Speak
from boardcc.dsp import read_audio, write_audio
from boardcc.engine import Engine
from tests.test_acd import CALLER_HZ, FS, PASSWORD, level_at, login_all, make, site, state

AGENT_HZ = 1300.0


def tone(hz: float, seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * FS)) / FS
    return np.rint(8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def prompt_files(tmp: Path, tones: dict[str, float], seconds: float = 0.25) -> dict[str, str]:
    out = {}
    for name, hz in tones.items():
        write_audio(tmp / f"{name}.wav", tone(hz, seconds))
        out[name] = str(tmp / f"{name}.wav")
    return out


def now_s(engine: Engine) -> float:
    return engine.acd.seconds(engine.now)


def events_of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "queue" and e["event"] == kind]


def ready(engine: Engine, job: str, on: bool = True) -> None:
    a = engine.acd.agents[job]
    if on:
        engine.acd.set_status(a, AgentStatus.READY)
    else:
        engine.acd.set_status(a, AgentStatus.NOT_READY, "开会")


def sign_in_not_ready(engine: Engine, *jobs: str) -> None:
    engine.acd.settings.ready_on_login = False
    for job in jobs:
        engine.acd.login(job, PASSWORD, None, "api")


# -- while waiting ---------------------------------------------------------------------------


def onsets(x: np.ndarray, hz: float, frame: int = 400) -> list[float]:
    """Seconds (from the start of `x`) at which a tone of `hz` begins."""
    n = x.size // frame
    on = [level_at(x[k * frame : (k + 1) * frame], hz) > 0.3 for k in range(n)]
    return [k * frame / FS for k in range(n) if on[k] and (k == 0 or not on[k - 1])]


def test_periodic_messages_come_at_the_configured_period(tmp_path: Path) -> None:
    prompts = prompt_files(tmp_path, {"promo": 1500.0}, seconds=0.5)
    b, engine, _, events = make(site(periodic="promo", periodic_s=6.0) | {"prompts": prompts})
    with b:
        b.incoming_call(0, at=0.5, caller_id="13900000000", script=[Pause(60.0)])
        engine.run_for(30.0)
        (join,) = events_of(events, "join")
        heard = b.heard(0, join["t"], now_s(engine))
    starts = onsets(heard, 1500.0)
    assert len(starts) == 4  # at 6, 12, 18 and 24 s of waiting
    assert starts[0] == pytest.approx(6.0, abs=1.05)
    assert np.diff(starts) == pytest.approx([6.0, 6.0, 6.0], abs=0.06)
    # Between them, music on hold.
    between = heard[round((starts[0] + 2) * FS) : round((starts[1] - 1) * FS)]
    assert sum(level_at(between, f) for f in (523, 587, 659, 784, 880, 1047)) > 0.5


def test_callers_leave_an_emptied_queue_when_the_last_agent_logs_out() -> None:
    config = site(leave_empty=True, overflow=[{"station": "8004"}])
    b, engine, store, events = make(config)
    with b:
        sign_in_not_ready(engine, "1001", "1002")
        b.phone(6).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=20.0)])
        b.incoming_call(
            0, at=0.5, caller_id="13900000000", script=[Speak(tone=CALLER_HZ, seconds=40)]
        )
        engine.run_for(4.0)
        (cid,) = engine.acd.waiting
        engine.acd.logout(engine.acd.agents["1001"])
        engine.run_for(1.0)
        assert cid in engine.acd.waiting  # 1002 is still logged in (not ready)
        engine.acd.logout(engine.acd.agents["1002"])
        assert not engine.acd.waiting
        engine.run_for(8.0)
        t = now_s(engine)
        assert level_at(b.heard(6, t - 2, t), CALLER_HZ) > 0.2  # 8004 took the caller
        assert level_at(b.heard(0, t - 2, t), AGENT_HZ) > 0.2
    assert store.last[cid].extra["queue_result"] == "overflow (no agents)"
    assert [e["why"] for e in events_of(events, "overflow")] == ["no agents"]


def test_without_leave_empty_the_caller_waits_on_after_the_last_logout() -> None:
    b, engine, _, _ = make(site(overflow=[{"station": "8004"}]))
    with b:
        sign_in_not_ready(engine, "1001")
        b.incoming_call(0, at=0.5, caller_id="13900000000", script=[Pause(40)])
        engine.run_for(4.0)
        engine.acd.logout(engine.acd.agents["1001"])
        engine.run_for(3.0)
        assert len(engine.acd.waiting) == 1 and not b.phone(6).ringing


def test_the_leave_key_takes_the_caller_to_voicemail_and_the_message_is_kept(
    tmp_path: Path,
) -> None:
    from boardcc.config import load_site
    from boardcc.recording.recorder import Recorder
    from boardcc.store import CdrStore
    from boardcc.voicemail.service import Voicemail

    prompts = prompt_files(tmp_path, {"vm_unavailable": 500.0, "vm_saved": 600.0}, 0.6)
    config = site(leave_key="0", leave_to=[{"voicemail": "8001"}]) | {
        "prompts": prompts,
        "recording": {"folder": str(tmp_path / "rec")},
        "voicemail": {"folder": str(tmp_path / "vm"), "boxes": [{"box": "8001"}]},
    }
    cdrs = CdrStore(tmp_path / "cc.db")
    cdrs.start()
    b = SimBoard(trunks=3, stations=4, seed=4)
    engine = Engine(load_site(config), b, store=cdrs)
    recorder = Recorder(engine, engine.config.recording)
    vm = Voicemail(engine, engine.config.voicemail, cdrs.engine)
    try:
        b.incoming_call(
            0,
            at=0.5,
            caller_id="13812345678",
            script=[
                Pause(4.0),
                Press("0"),
                Pause(1.5),
                Speak(tone=CALLER_HZ, seconds=3.0),
                HangUp(),
            ],
        )
        for _ in range(60):  # the writer keeps up, as on the real clock
            engine.run_for(0.25)
            recorder.flush()
        engine.run_for(1.0)
        (m,) = vm.store.listing("8001")
        assert m.caller == "13812345678" and 3.0 <= m.duration_s < 7.0
        audio = read_audio(m.path).samples[0]
        assert level_at(audio, CALLER_HZ) > 0.5  # what the caller said
        assert not engine.acd.waiting
        assert cdrs.flush(5)
        (cdr,) = cdrs.find()
        assert cdr.extra["queue_result"] == "left by key"
        assert cdr.route.endswith("voicemail 8001")
    finally:
        vm.close()
        recorder.close()
        cdrs.close()
        b.close()


def test_a_callback_request_keeps_its_place_ahead_of_a_caller_who_came_later() -> None:
    config = site(callback_key="2")
    config["outbound"] = [{"trunk_group": "main", "station_group": "default"}]
    b, engine, store, events = make(config)
    with b:
        b.incoming_call(
            0, at=0.5, caller_id="13812345678", script=[Pause(5.0), Press("2"), Pause(30)]
        )
        # The live caller joins before the request is made, after the caller who makes it.
        b.incoming_call(1, at=2.0, caller_id="13900000001", script=[Pause(60.0)])
        engine.run_for(10.0)
        (cb,) = [w for w in engine.acd.waiting.values() if w.callback]
        (live,) = [w for w in engine.acd.waiting.values() if not w.callback]
        assert engine.acd.position(cb) == 1 and engine.acd.position(live) == 2
        assert cb.joined < live.joined
        b.phone(3).auto_answer(1, [Pause(5.0), HangUp()])
        login_all(engine, "1001")
        engine.run_for(0.1)
        (offer,) = events_of(events, "offer")
        assert offer["call_id"] == cb.call_id and offer["callback"] is True
        assert live.call_id in engine.acd.waiting
        engine.run_for(6.0)
        assert any(
            c.route.startswith("callback") and c.called == "13812345678"
            for c in store.last.values()
        )


def decode_prompts(x: np.ndarray, names: dict[float, str], frame: int = 400) -> list[str]:
    """The prompts heard in `x`, in order: each a tone of its own frequency."""
    out: list[str] = []
    freqs = np.fft.rfftfreq(frame, 1 / FS)
    for k in range(x.size // frame):
        seg = x[k * frame : (k + 1) * frame].astype(float)
        if not np.any(seg):
            continue
        spec = np.abs(np.fft.rfft(seg * np.hanning(frame))) ** 2
        peak = float(freqs[np.argmax(spec)])
        hz = min(names, key=lambda f: abs(f - peak))
        share = spec[np.abs(freqs - hz) < 30].sum() / spec.sum()
        if abs(hz - peak) < 15 and share > 0.8 and (not out or out[-1] != names[hz]):
            out.append(names[hz])
    return out


@pytest.mark.slow
def test_position_and_estimated_wait_follow_the_moving_average(tmp_path: Path) -> None:
    names = ["queue_position", "queue_wait", "queue_minutes", *(f"digit_{d}" for d in range(10))]
    tones = {name: 1250.0 + 50 * k for k, name in enumerate(names)}
    config = site(announce_s=5.0, wrap_up_s=0.0) | {"prompts": prompt_files(tmp_path, tones)}
    b, engine, _, events = make(config)
    with b:
        sign_in_not_ready(engine, "1001")
        b.phone(3).auto_answer(1, [Pause(1.0), HangUp()])
        # Two callers answered after long waits make the moving average.
        for k, wait_s in enumerate((70.0, 100.0)):
            caller = f"1380000000{k + 1}"
            b.incoming_call(0, at=now_s(engine) + 0.5, caller_id=caller, script=[Pause(200.0)])
            engine.run_for(wait_s)
            ready(engine, "1001")
            engine.run_for(4.0)
            ready(engine, "1001", False)
        waits = [e["waited_s"] for e in events_of(events, "answer")]
        assert len(waits) == 2 and waits[0] > 60 and waits[1] > 90
        avg = 0.8 * waits[0] + 0.2 * waits[1]
        assert engine.acd.queues["service"].wait_avg == pytest.approx(avg)
        # Two callers wait now: the second hears position 2 and twice the average.
        t0 = now_s(engine)
        b.incoming_call(1, at=t0 + 0.5, caller_id="13800000003", script=[Pause(60.0)])
        b.incoming_call(2, at=t0 + 1.5, caller_id="13800000004", script=[Pause(60.0)])
        engine.run_for(12.0)
        first = decode_prompts(b.heard(1, t0, now_s(engine)), {v: k for k, v in tones.items()})
        second = decode_prompts(b.heard(2, t0, now_s(engine)), {v: k for k, v in tones.items()})

    def said(position: int) -> list[str]:
        minutes = max(1, round(avg * position / 60))
        return [
            "queue_position",
            *(f"digit_{d}" for d in str(position)),
            "queue_wait",
            *(f"digit_{d}" for d in str(minutes)),
            "queue_minutes",
        ]

    assert round(avg * 2 / 60) >= 2  # not the default estimate of a minute
    assert first[:5] == said(1)
    assert second[:5] == said(2)


# -- agents ------------------------------------------------------------------------------------


def test_an_agents_own_wrap_up_overrides_the_queues() -> None:
    config = site(wrap_up_s=3.0)
    config["agents"][0]["wrap_up_s"] = 8.0
    b, engine, _, _ = make(config)
    with b:
        login_all(engine, "1001")
        b.phone(3).auto_answer(1, [Pause(2.0), HangUp()])
        b.incoming_call(0, at=0.5, caller_id="13900000000", script=[Pause(30.0)])
        engine.run_for(6.0)
        assert state(engine, "1001") == ("ready", "wrap_up")
        engine.run_for(5.0)  # past the queue's 3 s
        assert state(engine, "1001") == ("ready", "wrap_up")
        engine.run_for(3.5)
        assert state(engine, "1001") == ("ready", "idle")
        me = engine.acd.agent_json(engine.acd.agents["1001"])
        assert me["wrap_up_s"] == 8.0


# -- strategies that depend on history, driven by real calls ----------------------------------


def serve(
    b: SimBoard, engine: Engine, job: str, talk_s: float, caller: str = "13900000000"
) -> None:
    """One queue call from `caller`, taken by `job` alone (the others not ready meanwhile),
    who talks `talk_s` seconds and hangs up."""
    jobs = [j for j, a in engine.acd.agents.items() if a.logged_in]
    for j in jobs:
        if j != job:
            ready(engine, j, False)
    ready(engine, job)
    ch = engine.acd.agents[job].channel
    assert ch is not None
    b.phone(ch).auto_answer(1, [Pause(talk_s), HangUp()])
    before = engine.acd.agents[job].answered
    b.incoming_call(0, at=now_s(engine) + 0.5, caller_id=caller, script=[Pause(60.0)])
    engine.run_for(talk_s + 6.0)
    assert engine.acd.agents[job].answered == before + 1
    assert state(engine, job) == ("ready", "idle") and not engine.calls
    for j in jobs:
        ready(engine, j)


def first_offer(b: SimBoard, engine: Engine, events: list[dict[str, Any]], caller: str) -> str:
    """The agent the next call from `caller` is offered to."""
    n = len(events_of(events, "offer"))
    b.incoming_call(1, at=now_s(engine) + 0.5, caller_id=caller, script=[Pause(60.0)])
    engine.run_for(4.0)
    offers = events_of(events, "offer")[n:]
    assert offers, "no offer"
    job: str = offers[0]["agent"]
    engine.run_for(6.0)  # answered, talked, hung up
    assert not engine.calls
    return job


def phones_answer(b: SimBoard, talk_s: float = 1.0) -> None:
    for ch in (3, 4, 5, 6):
        b.phone(ch).auto_answer(1, [Pause(talk_s), HangUp()])


def test_sticky_offers_the_callers_last_agent_first_within_the_window() -> None:
    b, engine, _, events = make(site(strategy="sticky", sticky_s=40.0, wrap_up_s=0.0))
    with b:
        phones_answer(b)
        login_all(engine, "1001", "1002", "1003")
        engine.run_for(1.0)
        first = first_offer(b, engine, events, "13812340000")
        # The same caller again: the same agent, though the others have been idle longer.
        assert first_offer(b, engine, events, "13812340000") == first
        # Someone else: the longest idle, not the agent who just talked.
        other = first_offer(b, engine, events, "13912340000")
        assert other != first
        # Past the window: no longer sticky; the longest idle of the three is the third.
        engine.run_for(41.0)
        third = ({"1001", "1002", "1003"} - {first, other}).pop()
        assert first_offer(b, engine, events, "13812340000") == third


def test_region_offers_the_agent_of_the_callers_region_first(tmp_path: Path) -> None:
    table = tmp_path / "regions.csv"
    table.write_text("1380010,北京\n1390020,上海\n021,上海\n", encoding="utf-8")
    config = site(strategy="region", wrap_up_s=0.0) | {"acd": {"regions": str(table)}}
    config["agents"][2]["regions"] = ["上海"]
    b, engine, _, events = make(config)
    with b:
        phones_answer(b)
        login_all(engine, "1001", "1002", "1003")
        engine.run_for(1.0)
        assert first_offer(b, engine, events, "13900201234") == "1003"  # 上海 mobile
        assert first_offer(b, engine, events, "02155556666") == "1003"  # 上海 area code
        # 北京: nobody's region; the longest idle (1001, 1002 before 1003's calls).
        assert first_offer(b, engine, events, "13800101234") == "1001"


@pytest.mark.parametrize(
    ("strategy", "history", "expected"),
    [
        # 1001 has been idle the shortest, but took one call to 1002's two.
        ("fewest_calls", [("1002", 1.0), ("1002", 1.0), ("1001", 6.0)], "1001"),
        # 1002 took more calls and has been idle the shortest, but talked less.
        ("least_talk_time", [("1001", 8.0), ("1002", 1.0), ("1002", 1.0)], "1002"),
    ],
)
def test_fewest_calls_and_least_talk_time_pick_by_the_real_counts(
    strategy: str, history: list[tuple[str, float]], expected: str
) -> None:
    b, engine, _, events = make(site(strategy=strategy, wrap_up_s=0.0))
    with b:
        login_all(engine, "1001", "1002")
        for job, talk_s in history:
            serve(b, engine, job, talk_s)
        phones_answer(b)
        assert first_offer(b, engine, events, "13700000000") == expected


# -- order across two queues routed by inbound rules ------------------------------------------


def two_queues(care_step: Any) -> dict[str, Any]:
    config = site(wrap_up_s=0.0)
    config["trunk_groups"] = [
        {"name": "main", "channels": "0-1", "access_number": "400800888"},
        {"name": "care", "channels": "2", "access_number": "400800999"},
    ]
    config["queues"].append({"name": "care", "groups": ["service"], "wrap_up_s": 0.0})
    config["inbound"] = [
        {"name": "care", "trunk_group": "care", "steps": [care_step]},
        {"name": "main", "trunk_group": "main", "steps": [{"queue": "service"}]},
    ]
    return config


def answered_in_order(care_step: Any) -> list[str]:
    b, engine, _, events = make(two_queues(care_step))
    with b:
        for trunk, at in ((0, 0.5), (2, 2.5), (1, 4.5)):
            b.incoming_call(trunk, at=at, caller_id=f"1380000000{trunk}", script=[Pause(60.0)])
        engine.run_for(9.0)
        queues = {w.trunk: w.queue for w in engine.acd.waiting.values()}
        assert queues == {0: "service", 1: "service", 2: "care"}
        b.phone(3).auto_answer(1, [Pause(1.0), HangUp()])
        login_all(engine, "1001")
        engine.run_for(30.0)
    return [e["caller"] for e in events_of(events, "answer")]


def test_the_longest_waiting_caller_of_two_queues_sharing_an_agent_goes_first() -> None:
    assert answered_in_order({"queue": "care"}) == ["13800000000", "13800000002", "13800000001"]


def test_caller_priority_from_the_inbound_rule_goes_first_across_queues() -> None:
    step = {"queue": {"name": "care", "priority": 5}}
    assert answered_in_order(step) == ["13800000002", "13800000000", "13800000001"]


# -- the figures of a small scripted day -------------------------------------------------------


def test_the_figures_of_a_scripted_day() -> None:
    """Two answered (one within the service level, one after), two abandoned (one after the
    service level, one within), one hold of exactly 3 s; every expected figure computed from
    the events' own times."""
    config = site(service_level_s=10.0, wrap_up_s=2.0)
    b, engine, _, events = make(config)
    with b:
        sign_in_not_ready(engine, "1001")
        b.phone(3).auto_answer(1, [Pause(8.0), HangUp()])
        b.incoming_call(0, at=0.5, caller_id="13800000001", script=[Pause(60.0)])
        b.incoming_call(1, at=1.0, caller_id="13800000002", script=[Pause(90.0)])
        b.incoming_call(2, at=1.5, caller_id="13800000003", script=[Pause(15.0), HangUp()])
        b.incoming_call(2, at=23.0, caller_id="13800000004", script=[Pause(5.0), HangUp()])
        engine.run_for(5.0)
        ready(engine, "1001")
        while state(engine, "1001")[1] != "in_call":
            engine.run_for(0.02)
        ready(engine, "1001", False)  # no more offers for now
        engine.run_for(2.0)
        commands.run(engine.acd, "1001", "hold", {})
        engine.run_for(3.0)
        commands.run(engine.acd, "1001", "retrieve", {})
        engine.run_for(16.0 - now_s(engine))
        ready(engine, "1001")  # the second caller has waited some 13 s
        while state(engine, "1001")[1] != "in_call":
            engine.run_for(0.02)
        ready(engine, "1001", False)  # the fourth caller gives up
        engine.run_for(24.0)
        assert not engine.calls and state(engine, "1001") == ("not_ready", "idle")
        stats = engine.acd.queue_json(engine.acd.queues["service"])
        me = engine.acd.agent_json(engine.acd.agents["1001"])

    joined = {e["call_id"]: e["t"] for e in events_of(events, "join")}
    waits = [e["t"] - joined[e["call_id"]] for e in events_of(events, "answer")]
    gave_up = [e["t"] - joined[e["call_id"]] for e in events_of(events, "abandon")]
    answered_at = {e["call_id"]: e["t"] for e in events_of(events, "answer")}
    talks = [e["t"] - answered_at[e["call_id"]] for e in events_of(events, "done")]
    assert len(waits) == 2 and waits[0] < 10.0 < waits[1] < 20.0  # the scenario as meant
    assert len(gave_up) == 2 and gave_up[1] < 10.0 < gave_up[0]
    assert (stats["offered"], stats["answered"], stats["abandoned"]) == (4, 2, 2)
    assert stats["service_level"] == 0.5  # 1 of 2 answered within 10 s
    assert stats["service_level_with_abandons"] == pytest.approx(1 / 3, abs=1e-4)  # 1 / (2 + 1)
    assert stats["asa_s"] == pytest.approx(sum(waits) / 2, abs=0.002)
    assert stats["abandon_wait_s"] == pytest.approx(sum(gave_up) / 2, abs=0.002)
    assert stats["talk_s"] == pytest.approx(sum(talks) / 2, abs=0.002)
    assert stats["hold_s"] == pytest.approx(3.0 / 2)
    assert stats["wrap_up_s"] == 2.0
    assert me["hold_s"] == pytest.approx(3.0) and me["wrap_up_s"] == 4.0
    assert me["talk_s"] == pytest.approx(sum(talks), abs=0.002)


# -- desk phone feature codes ------------------------------------------------------------------


def key(b: SimBoard, engine: Engine, ch: int, code: str) -> None:
    keys = Press(code, on_ms=90, off_ms=90)
    b.phone(ch).run([LiftHandset(), Pause(0.8), keys, Pause(1.5), HangUp()])
    engine.run_for(0.8 + 0.18 * len(code) + 2.5)


def test_the_away_code_on_the_desk_phone() -> None:
    b, engine, _, _ = make()
    with b:
        login_all(engine, "1001")
        key(b, engine, 3, "*4#")
        assert state(engine, "1001") == ("away", "idle")
        b.incoming_call(0, at=now_s(engine) + 0.5, caller_id="13900000000", script=[Pause(20)])
        engine.run_for(5.0)
        assert len(engine.acd.waiting) == 1 and state(engine, "1001") == ("away", "idle")
        key(b, engine, 3, "*2#")
        assert state(engine, "1001") == ("ready", "ringing")  # offered the waiting call


def test_a_sites_own_feature_codes_work_and_the_default_ones_do_not() -> None:
    codes = {
        "login": "*51",
        "ready": "*52",
        "not_ready": "*53",
        "logout": "*50",
        "away": "*54",
        "pickup": "*58",
        "grab": "*59",
    }
    b, engine, _, _ = make(site() | {"acd": {"feature_codes": codes}})
    with b:
        key(b, engine, 3, f"*11001#{PASSWORD}#")
        assert state(engine, "1001") == ("logged_out", "idle")
        key(b, engine, 3, f"*511001#{PASSWORD}#")
        assert state(engine, "1001") == ("ready", "idle")
        key(b, engine, 3, "*54#")
        assert state(engine, "1001") == ("away", "idle")
        key(b, engine, 3, "*2#")
        assert state(engine, "1001") == ("away", "idle")
        key(b, engine, 3, "*532#")
        assert state(engine, "1001") == ("not_ready", "idle")
        assert engine.acd.agents["1001"].reason == "用餐"
        key(b, engine, 3, "*52#")
        assert state(engine, "1001") == ("ready", "idle")
        key(b, engine, 3, "*0#")
        assert state(engine, "1001") == ("ready", "idle")
        key(b, engine, 3, "*50#")
        assert state(engine, "1001") == ("logged_out", "idle")
