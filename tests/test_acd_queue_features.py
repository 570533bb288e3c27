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

from boardcc.acd.agent import AgentStatus
from boardcc.drivers.sim import HangUp, Pause, Press, SimBoard, Speak
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
        b.incoming_call(0, at=0.5, caller_id="13800000001", script=[Pause(200.0)])
        engine.run_for(70.0)
        ready(engine, "1001")
        engine.run_for(4.0)
        ready(engine, "1001", False)
        b.incoming_call(0, at=now_s(engine) + 1, caller_id="13800000002", script=[Pause(200.0)])
        engine.run_for(100.0)
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
