"""More call control end to end on the simulated board (virtual clock): grab (抓接) and pickup
(代接) from the API and the desk phone, the supervisor's whisper, barge, force release and
force logout through the agent command path, hold with music, blind transfer from the desk
phone, 接回 from a conference, a consultative transfer from the API, and send digits (送号).

Agent commands go through `boardcc.acd.commands.run`, the path every API connection's
command takes on the engine's thread, so the permission checks are the engine's own.
Each check is of what people heard: the spectrum of what each far end recorded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from boardcc.acd import commands
from boardcc.acd.agent import AgentError, AgentStatus
from boardcc.cdr import Disposition
from boardcc.drivers.sim import Flash, HangUp, LiftHandset, Pause, Press, SimBoard, Speak
from boardcc.dsp.dtmf import detect_dtmf
from boardcc.engine import Engine
from boardcc.machines import StationState
from tests.test_acd import ALL_RIGHTS, CALLER_HZ, PASSWORD, level_at, login_all, make, site

AGENT, THIRD, SUPER = 1300.0, 1900.0, 1100.0
NOTES = (523, 587, 659, 784, 880, 1047)  # the built-in music on hold: single notes


def cmd(engine: Engine, job: str, name: str, **args: Any) -> dict[str, Any]:
    """Agent command `name` of agent `job`, as an API connection's command runs."""
    return commands.run(engine.acd, job, name, args)


def hears(b: SimBoard, ch: int, hz: float, span: float = 2.0) -> bool:
    t = b.now / 8000
    return level_at(b.heard(ch, t - span, t), hz) > 0.05


def music(b: SimBoard, ch: int, span: float = 2.0) -> float:
    t = b.now / 8000
    heard = b.heard(ch, t - span, t)
    return sum(level_at(heard, f) for f in NOTES)


def without(config: dict[str, Any], job: str, *rights: str) -> dict[str, Any]:
    for a in config["agents"]:
        if a["job"] == job:
            a["permissions"] = [p for p in ALL_RIGHTS if p not in rights]
    return config


def queued_call(b: SimBoard, engine: Engine, agent_script: list[Any]) -> None:
    """A caller (700 Hz) on trunk 0 answered by agent 1001 on 8001 (channel 3)."""
    b.phone(3).auto_answer(1, [Speak(tone=AGENT, seconds=2.0), *agent_script])
    login_all(engine, "1001")
    b.incoming_call(0, at=0.5, caller_id="13800000000", script=[Speak(tone=CALLER_HZ, seconds=90)])


def three_waiting(b: SimBoard, engine: Engine) -> list[str]:
    """Callers on trunks 0, 1, 2 (600, 700, 800 Hz) waiting; their call ids by trunk."""
    for trunk, hz in ((0, 600.0), (1, 700.0), (2, 800.0)):
        b.incoming_call(
            trunk,
            at=0.5 + trunk,
            caller_id=f"1380000000{trunk}",
            script=[Speak(tone=hz, seconds=90.0)],
        )
    engine.run_for(5.0)
    by_trunk = {w.trunk: w.call_id for w in engine.acd.waiting.values()}
    assert sorted(by_trunk) == [0, 1, 2]
    return [by_trunk[t] for t in (0, 1, 2)]


def not_ready(engine: Engine, *jobs: str) -> None:
    engine.acd.settings.ready_on_login = False  # never offered a call on the way
    for job in jobs:
        engine.acd.login(job, PASSWORD, None, "api")
        engine.acd.set_status(engine.acd.agents[job], AgentStatus.NOT_READY, "开会")


# -- grab (抓接) ---------------------------------------------------------------------------------


def test_api_grab_takes_the_chosen_queued_call_and_the_others_keep_their_places() -> None:
    b, engine, _, events = make()
    with b:
        not_ready(engine, "1001")
        ids = three_waiting(b, engine)
        b.phone(3).auto_answer(1, [Speak(tone=AGENT, seconds=30.0)])
        assert cmd(engine, "1001", "grab", call_id=ids[1]) == {"call_id": ids[1]}
        engine.run_for(6.0)
        assert engine.acd.agents["1001"].state.value == "in_call"
        assert engine.acd.agents["1001"].call_id == ids[1]
        assert hears(b, 3, 700.0) and not hears(b, 3, 600.0) and not hears(b, 3, 800.0)
        assert hears(b, 1, AGENT) and not hears(b, 0, AGENT) and not hears(b, 2, AGENT)
        left = engine.acd.waiting
        assert sorted(left) == sorted([ids[0], ids[2]])
        assert engine.acd.position(left[ids[0]]) == 1 and engine.acd.position(left[ids[2]]) == 2
        assert music(b, 0) > 0.5 and music(b, 2) > 0.5  # still on hold music
        # A call that is not queued any more cannot be grabbed twice.
        not_ready(engine, "1002")
        with pytest.raises(AgentError, match="no queued call"):
            cmd(engine, "1002", "grab", call_id=ids[1])
    answered = [e["call_id"] for e in events if e.get("event") == "answer"]
    assert answered == [ids[1]]


def test_grab_is_refused_without_the_grab_permission() -> None:
    b, engine, _, _ = make(without(site(), "1001", "grab"))
    with b:
        not_ready(engine, "1001")
        b.incoming_call(0, at=0.5, caller_id="13800000000", script=[Pause(30.0)])
        engine.run_for(3.0)
        (cid,) = engine.acd.waiting
        with pytest.raises(AgentError, match="lacks 'grab' / 座席 1001 无权限: 抓接ACD排队电话"):
            cmd(engine, "1001", "grab", call_id=cid)
        assert engine.acd.agents["1001"].state.value == "idle" and cid in engine.acd.waiting
        # The desk phone's code is refused too: busy tone, the caller waits on.
        b.phone(3).run([LiftHandset(), Pause(0.5), Press("*9#"), Pause(3.0), HangUp()])
        engine.run_for(5.0)
        assert cid in engine.acd.waiting
        t = b.now / 8000
        assert level_at(b.heard(3, t - 3.0, t - 1.0), 450.0) > 0.2  # busy tone


def test_desk_phone_grab_code_connects_the_longest_waiting_call_at_once() -> None:
    b, engine, _, _ = make()
    with b:
        not_ready(engine, "1001")
        ids = three_waiting(b, engine)
        b.phone(3).run([LiftHandset(), Pause(0.5), Press("*9#"), Speak(tone=AGENT, seconds=30)])
        engine.run_for(4.0)
        assert engine.acd.agents["1001"].state.value == "in_call"
        assert engine.acd.agents["1001"].call_id == ids[0]  # the longest waiting
        assert hears(b, 3, 600.0) and hears(b, 0, AGENT)
        assert sorted(engine.acd.waiting) == sorted(ids[1:])


# -- pickup (代接) -------------------------------------------------------------------------------


def direct_to(ext: str) -> dict[str, Any]:
    config = site()
    config["inbound"] = [{"name": "direct", "steps": [{"station": ext}]}]
    return config


def test_api_pickup_moves_a_ringing_call_to_the_agents_phone() -> None:
    b, engine, _, _ = make(direct_to("8001"))
    with b:
        not_ready(engine, "1002")
        b.phone(4).auto_answer(1, [Speak(tone=AGENT, seconds=30.0)])
        b.incoming_call(
            0, at=0.5, caller_id="13800000000", script=[Speak(tone=CALLER_HZ, seconds=60)]
        )
        engine.run_for(3.0)
        assert b.phone(3).ringing
        cid = cmd(engine, "1002", "pickup", extension="8001")["call_id"]
        engine.run_for(0.5)  # 8001 stops ringing at once; 8002 rings instead
        assert engine.machines[3].state is StationState.IDLE
        assert engine.machines[4].state is not StationState.IDLE
        engine.run_for(6.0)
        assert not b.phone(3).ringing and engine.machines[3].state is StationState.IDLE
        assert hears(b, 0, AGENT) and hears(b, 4, CALLER_HZ)
        assert engine.acd.agents["1002"].state.value == "in_call"
        assert engine.call_of[0].cdr.call_id == cid and engine.call_of[0].answered_by == 4
        not_ready(engine, "1003")
        with pytest.raises(AgentError, match="station 8001 is not ringing / 分机 8001 未振铃"):
            cmd(engine, "1003", "pickup", extension="8001")


def test_desk_phone_group_pickup_takes_any_ringing_phone_of_the_group() -> None:
    b, engine, _, _ = make(direct_to("8003"))
    with b:
        not_ready(engine, "1001", "1003")  # 1003 sits at the ringing 8003, same group
        b.incoming_call(
            0, at=0.5, caller_id="13800000000", script=[Speak(tone=CALLER_HZ, seconds=60)]
        )
        engine.run_for(3.0)
        assert b.phone(5).ringing
        b.phone(3).run([LiftHandset(), Pause(0.5), Press("*8#"), Speak(tone=AGENT, seconds=20)])
        engine.run_for(4.0)
        assert not b.phone(5).ringing
        assert hears(b, 0, AGENT) and hears(b, 3, CALLER_HZ)
        assert engine.call_of[0].answered_by == 3
        assert engine.acd.agents["1001"].state.value == "in_call"
        assert engine.acd.agents["1003"].state.value == "idle"


def test_pickup_is_refused_without_the_pickup_permission() -> None:
    b, engine, _, _ = make(without(direct_to("8001"), "1002", "pickup"))
    with b:
        not_ready(engine, "1002")
        b.incoming_call(0, at=0.5, caller_id="13800000000", script=[Pause(30.0)])
        engine.run_for(3.0)
        with pytest.raises(AgentError, match="lacks 'pickup' / 座席 1002 无权限: 代接电话"):
            cmd(engine, "1002", "pickup", extension="8001")
        assert b.phone(3).ringing and engine.machines[4].state is StationState.IDLE


# -- the supervisor through the command path ----------------------------------------------------


@contextlib.contextmanager
def supervised(config: dict[str, Any] | None = None) -> Iterator[tuple[SimBoard, Engine, Any]]:
    """Agent 1001 talking with a caller; supervisor 1003 (8003, channel 5) not ready, whose
    phone answers and says 1100 Hz."""
    b, engine, store, _ = make(config)
    with b:
        queued_call(b, engine, [Speak(tone=AGENT, seconds=90)])
        b.phone(5).auto_answer(1, [Speak(tone=SUPER, seconds=90.0)])
        engine.run_for(6.0)
        assert engine.acd.agents["1001"].state.value == "in_call"
        not_ready(engine, "1003")
        yield b, engine, store


def test_whisper_through_the_command_path_the_agent_hears_the_supervisor_the_caller_not() -> None:
    with supervised() as (b, engine, _):
        cid = cmd(engine, "1003", "whisper", agent="1001")["call_id"]
        assert cid == engine.call_of[0].cdr.call_id
        engine.run_for(5.0)
        assert hears(b, 3, SUPER) and hears(b, 3, CALLER_HZ)  # the agent: both
        assert hears(b, 0, AGENT) and not hears(b, 0, SUPER)  # the caller: the agent only
        assert hears(b, 5, CALLER_HZ) and hears(b, 5, AGENT)  # the supervisor: both
        assert engine.acd.agents["1003"].state.value == "in_call"


def test_barge_through_the_command_path_all_three_hear_each_other() -> None:
    with supervised() as (b, engine, _):
        cmd(engine, "1003", "barge", agent="1001")
        engine.run_for(5.0)
        assert hears(b, 0, AGENT) and hears(b, 0, SUPER)
        assert hears(b, 3, CALLER_HZ) and hears(b, 3, SUPER)
        assert hears(b, 5, CALLER_HZ) and hears(b, 5, AGENT)


def test_force_release_ends_the_call_and_closes_its_record() -> None:
    with supervised() as (_, engine, store):
        cid = engine.call_of[0].cdr.call_id
        cmd(engine, "1003", "force_release", agent="1001")
        engine.run_for(1.0)
        assert cid not in engine.calls and 0 not in engine.call_of and 3 not in engine.call_of
        assert engine.acd.agents["1001"].state.value == "wrap_up"  # the queue's 3 s
        engine.run_for(3.0)
        assert engine.acd.agents["1001"].state.value == "idle"
    cdr = store.last[cid]
    assert cdr.disposition is Disposition.ANSWERED and cdr.ended is not None
    assert cdr.hung_up_by.value == "engine"


def test_force_logout_of_an_idle_agent_and_not_of_one_in_a_call() -> None:
    with supervised() as (_, engine, _):
        not_ready(engine, "1002")
        with pytest.raises(AgentError, match="agent 1001 is not idle / 座席 1001 非空闲"):
            cmd(engine, "1003", "force_logout", agent="1001")
        assert engine.acd.agents["1001"].state.value == "in_call"
        cmd(engine, "1003", "force_logout", agent="1002")
        a = engine.acd.agents["1002"]
        assert (a.status.value, a.reason, a.channel) == ("logged_out", "by 1003", None)
        assert 4 not in engine.acd.at_station


def test_whisper_and_force_release_are_refused_without_their_permissions() -> None:
    config = without(site(), "1003", "monitor", "barge", "force_logout")
    with supervised(config) as (b, engine, _):
        with pytest.raises(AgentError, match="lacks 'monitor' / 座席 1003 无权限: 监听电话"):
            cmd(engine, "1003", "whisper", agent="1001")
        with pytest.raises(AgentError, match="lacks 'barge' / 座席 1003 无权限: 强插、强拆电话"):
            cmd(engine, "1003", "force_release", agent="1001")
        with pytest.raises(AgentError, match="lacks 'barge'"):
            cmd(engine, "1003", "barge", agent="1001")
        with pytest.raises(AgentError, match="lacks 'force_logout'"):
            cmd(engine, "1003", "force_logout", agent="1001")
        engine.run_for(3.0)
        assert engine.machines[5].state is StationState.IDLE and not engine.acd.control.monitors
        assert engine.acd.agents["1001"].state.value == "in_call"
        assert hears(b, 0, AGENT) and not hears(b, 0, SUPER)


# -- hold -----------------------------------------------------------------------------------------


def test_hold_gives_the_caller_music_and_the_agent_silence_retrieve_restores_talk() -> None:
    b, engine, _, _ = make()
    with b:
        queued_call(b, engine, [Speak(tone=AGENT, seconds=90)])
        engine.run_for(6.0)
        assert hears(b, 0, AGENT) and hears(b, 3, CALLER_HZ) and music(b, 0) < 0.1
        cmd(engine, "1001", "hold")
        engine.run_for(3.0)
        assert music(b, 0) > 0.5 and not hears(b, 0, AGENT)
        assert not hears(b, 3, CALLER_HZ)
        assert engine.acd.agents["1001"].state.value == "on_hold"
        cmd(engine, "1001", "retrieve")
        engine.run_for(3.0)
        assert hears(b, 0, AGENT) and hears(b, 3, CALLER_HZ) and music(b, 0) < 0.1
        assert engine.acd.agents["1001"].hold_s == pytest.approx(3.0, abs=0.05)


# -- transfers and conference ---------------------------------------------------------------------


def test_desk_blind_transfer_the_agent_hangs_up_while_the_target_rings() -> None:
    b, engine, _, _ = make(site(wrap_up_s=4.0))
    with b:
        b.phone(4).auto_answer(3, [Speak(tone=THIRD, seconds=60.0)])
        queued_call(b, engine, [Flash(), Pause(1.0), Press("8002#"), Pause(1.0), HangUp()])
        engine.run_for(9.0)
        assert engine.machines[4].state is StationState.RINGING  # 8002 still rings
        assert engine.machines[3].state is StationState.IDLE
        assert engine.acd.agents["1001"].state.value == "wrap_up"  # kept through the transfer
        assert not hears(b, 0, AGENT, 1.0)
        engine.run_for(12.0)
        assert engine.machines[4].state is StationState.CONNECTED
        assert hears(b, 0, THIRD) and hears(b, 4, CALLER_HZ)
        assert engine.acd.agents["1001"].state.value == "idle"
        call = engine.call_of[0]
        assert call.answered_by == 4 and call.cdr.extra["transfers"] == "1001->8002"
    stats = engine.acd.queue_json(engine.acd.queues["service"])
    assert stats["wrap_up_s"] == 4.0


def test_flash_in_a_three_way_conference_goes_back_to_the_caller_only() -> None:
    b, engine, _, _ = make()
    with b:
        b.phone(4).auto_answer(1, [Speak(tone=THIRD, seconds=60.0)])
        script = [Flash(), Pause(1.0), Press("8002#"), Pause(4.0), Press("*3"), Pause(3.0)]
        queued_call(b, engine, [*script, Flash(), Speak(tone=AGENT, seconds=30)])
        engine.run_for(14.0)
        assert engine.acd.control.sessions["1001"].mode == "three_way"
        assert hears(b, 0, THIRD, 1.0) and hears(b, 4, CALLER_HZ, 1.0)
        engine.run_for(6.0)
        assert "1001" not in engine.acd.control.sessions
        assert hears(b, 0, AGENT) and not hears(b, 0, THIRD)
        assert hears(b, 3, CALLER_HZ) and not hears(b, 3, THIRD)
        assert engine.machines[4].state is not StationState.CONNECTED  # 8002 let go
        assert 4 not in engine.call_of and engine.acd.agents["1001"].state.value == "in_call"


def test_api_consult_transfer_completed_to_an_extension() -> None:
    b, engine, _, _ = make()
    with b:
        b.phone(4).auto_answer(1, [Speak(tone=THIRD, seconds=60.0)])
        queued_call(b, engine, [Speak(tone=AGENT, seconds=60)])
        engine.run_for(6.0)
        cmd(engine, "1001", "transfer", target="8002", mode="consult")
        engine.run_for(6.0)
        assert hears(b, 3, THIRD) and hears(b, 4, AGENT)  # consulting
        assert music(b, 0) > 0.5 and not hears(b, 0, THIRD)  # the caller on hold
        cmd(engine, "1001", "transfer_complete")
        engine.run_for(0.5)
        assert engine.acd.agents["1001"].state.value == "wrap_up"
        engine.run_for(2.5)
        assert hears(b, 0, THIRD) and hears(b, 4, CALLER_HZ) and not hears(b, 0, AGENT, 1.0)
        assert engine.call_of[0].answered_by == 4 and 3 not in engine.call_of


# -- send digits (送号) ----------------------------------------------------------------------------


def keys(x: np.ndarray) -> str:
    return "".join(e.digit for e in detect_dtmf(x))


def test_api_send_digits_reach_the_far_end_of_the_trunk() -> None:
    b, engine, _, _ = make()
    with b:
        queued_call(b, engine, [Pause(30)])
        engine.run_for(6.0)
        start = b.now / 8000
        cmd(engine, "1001", "send_digits", digits="3571#")
        engine.run_for(2.0)
        assert keys(b.heard(0, start, b.now / 8000)) == "3571#"
        with pytest.raises(AgentError, match="digits are 0-9"):
            cmd(engine, "1001", "send_digits", digits="12x")


def test_keys_pressed_on_the_desk_phone_in_a_call_reach_the_caller() -> None:
    b, engine, _, _ = make()
    with b:
        queued_call(b, engine, [Pause(1.0), Press("2580", on_ms=90, off_ms=90), Pause(30)])
        start = b.now / 8000
        engine.run_for(8.0)
        assert keys(b.heard(0, start, b.now / 8000)) == "2580"


def test_hold_time_counts_when_the_call_ends_on_hold() -> None:
    """The caller hangs up on hold, or the agent hangs up with the caller held: the time
    on hold counts all the same (agent and queue figures)."""
    b, engine, _, _ = make(site(wrap_up_s=0.0))
    with b:
        b.phone(3).auto_answer(1, [Speak(tone=AGENT, seconds=2.0), Pause(8.0), HangUp()])
        login_all(engine, "1001")
        b.incoming_call(0, at=0.5, caller_id="13800000001", script=[Pause(8.0), HangUp()])
        while engine.acd.agents["1001"].state.value != "in_call":
            engine.run_for(0.02)
        engine.run_for(1.0)
        cmd(engine, "1001", "hold")
        held_at = b.now
        while engine.calls:  # the caller hangs up on hold
            engine.run_for(0.02)
        assert engine.acd.agents["1001"].state.value == "idle"
        first = engine.acd.agents["1001"].hold_s
        assert first == pytest.approx((b.now - held_at) / 8000, abs=0.03) and first > 3.0
        # Now the agent hangs up with the caller held.
        b.phone(3).auto_answer(1, [Pause(3.0), HangUp()])
        t = b.now / 8000
        b.incoming_call(0, at=t + 0.5, caller_id="13800000002", script=[Pause(30.0)])
        while engine.acd.agents["1001"].state.value != "in_call":
            engine.run_for(0.02)
        engine.run_for(1.0)
        cmd(engine, "1001", "hold")
        engine.run_for(5.0)
        assert not engine.calls
        assert engine.acd.agents["1001"].hold_s == pytest.approx(first + 2.0, abs=0.05)
    stats = engine.acd.queue_json(engine.acd.queues["service"])
    assert stats["hold_s"] == pytest.approx((first + 2.0) / 2, abs=0.03)


def test_whisper_and_barge_carry_on_through_hold_and_after_retrieve() -> None:
    for mode in ("whisper", "barge"):
        with supervised() as (b, engine, _):
            cmd(engine, "1003", mode, agent="1001")
            engine.run_for(3.0)
            cmd(engine, "1001", "hold")
            engine.run_for(2.0)
            assert music(b, 0) > 0.5 and not hears(b, 0, SUPER)
            # On hold the agent hears the supervisor only (coaching while the caller waits).
            assert hears(b, 3, SUPER) and not hears(b, 3, CALLER_HZ), mode
            cmd(engine, "1001", "retrieve")
            engine.run_for(3.0)
            assert hears(b, 3, SUPER) and hears(b, 3, CALLER_HZ), mode
            assert hears(b, 0, AGENT) and hears(b, 0, SUPER) is (mode == "barge"), mode
            assert hears(b, 5, AGENT) and hears(b, 5, CALLER_HZ), mode


def test_a_barging_supervisor_is_heard_again_after_digits_sent() -> None:
    with supervised() as (b, engine, _):
        cmd(engine, "1003", "barge", agent="1001")
        engine.run_for(3.0)
        start = b.now / 8000
        cmd(engine, "1001", "send_digits", digits="58")
        engine.run_for(3.0)
        assert keys(b.heard(0, start, b.now / 8000)) == "58"
        assert hears(b, 0, SUPER) and hears(b, 0, AGENT)


def test_a_supervisor_is_let_go_when_the_agent_transfers_the_call_away() -> None:
    with supervised() as (b, engine, _):
        b.phone(4).auto_answer(1, [Speak(tone=THIRD, seconds=60.0)])
        cmd(engine, "1003", "listen", agent="1001")
        engine.run_for(3.0)
        cmd(engine, "1001", "transfer", target="8002", mode="consult")
        engine.run_for(5.0)
        assert hears(b, 5, AGENT)  # still listening to the agent while consulting
        cmd(engine, "1001", "transfer_complete")
        engine.run_for(3.0)
        assert not engine.acd.control.monitors and 5 not in engine.call_of
        assert engine.machines[5].state is not StationState.CONNECTED
        assert engine.acd.agents["1003"].state.value == "idle"
        assert not hears(b, 5, CALLER_HZ, 1.0) and not hears(b, 5, THIRD, 1.0)
        assert hears(b, 0, THIRD) and hears(b, 4, CALLER_HZ)  # the call goes on without them


def test_a_supervisor_is_let_go_when_the_caller_goes_on_to_the_survey() -> None:
    with supervised(site(survey="survey")) as (b, engine, _):
        cmd(engine, "1003", "listen", agent="1001")
        engine.run_for(3.0)
        assert hears(b, 5, CALLER_HZ)
        cmd(engine, "1001", "hang_up")  # 评分: the caller stays, in the survey flow
        engine.run_for(2.0)
        (call,) = engine.calls.values()
        assert call.ivr is not None and 5 not in call.legs and not engine.acd.control.monitors
        assert engine.acd.agents["1003"].state.value == "idle"
        assert not hears(b, 5, CALLER_HZ, 1.0)
