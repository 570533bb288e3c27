"""Call control end to end on the simulated board: hook flash and keys on the desk phone,
the supervisor's listen, whisper and barge, pickup; each checked by who hears whom."""

from __future__ import annotations

from typing import Any

from boardcc.drivers.sim import Flash, HangUp, LiftHandset, Pause, Press, Speak
from tests.test_acd import CALLER_HZ, level_at, login_all, make, site

AGENT, THIRD, SUPER = 1300.0, 1900.0, 1100.0


def hears(b: Any, ch: int, hz: float, span: float = 2.0) -> bool:
    t = b.now / 8000
    return level_at(b.heard(ch, t - span, t), hz) > 0.05


def queued_call(b: Any, engine: Any, agent_script: list[Any]) -> None:
    """A caller (700 Hz) answered by agent 1001 on 8001, who then runs `agent_script`."""
    b.phone(3).auto_answer(1, [Speak(tone=AGENT, seconds=3.0), *agent_script])
    login_all(engine, "1001")
    b.incoming_call(0, at=0.5, caller_id="13800000000", script=[Speak(tone=CALLER_HZ, seconds=90)])


def test_consult_transfer_from_the_desk_phone_with_flash_and_hang_up() -> None:
    b, engine, _, _ = make()
    with b:
        b.phone(4).auto_answer(2, [Speak(tone=THIRD, seconds=60.0)])
        queued_call(b, engine, [Flash(), Pause(1.0), Press("8002#"), Speak(tone=AGENT, seconds=60)])
        engine.run_for(9.0)
        # The caller is on hold (music, not the agent) while 8002 rings.
        assert engine.acd.agents["1001"].state.value == "on_hold"
        assert not hears(b, 0, AGENT, 1.0)
        engine.run_for(6.0)
        # 8002 answered: agent and 8002 talk; the caller still hears music.
        assert hears(b, 3, THIRD) and hears(b, 4, AGENT)
        assert not hears(b, 0, AGENT) and not hears(b, 0, THIRD)
        b.phone(3).run([HangUp()])  # 完成: the agent hangs up
        engine.run_for(1.5)
        assert engine.acd.agents["1001"].state.value == "wrap_up"  # not lost by the transfer
        engine.run_for(1.5)
        assert hears(b, 0, THIRD, 1.5) and hears(b, 4, CALLER_HZ, 1.5)
        call = engine.call_of[0]
        assert call.answered_by == 4


def test_flash_during_the_consultation_returns_to_the_caller() -> None:
    b, engine, _, _ = make()
    with b:
        b.phone(4).auto_answer(1, [Speak(tone=THIRD, seconds=60.0)])
        queued_call(
            b,
            engine,
            [
                Flash(),
                Pause(1.0),
                Press("8002#"),
                Pause(4.0),
                Flash(),
                Speak(tone=AGENT, seconds=30),
            ],
        )
        engine.run_for(20.0)
        assert engine.acd.agents["1001"].state.value == "in_call"
        assert hears(b, 0, AGENT) and hears(b, 3, CALLER_HZ)
        assert engine.machines[4].state.name == "WAIT_HANGUP"  # 8002 was let go


def test_three_way_conference_everyone_hears_the_other_two() -> None:
    b, engine, _, _ = make()
    with b:
        b.phone(4).auto_answer(1, [Speak(tone=THIRD, seconds=60.0)])
        queued_call(
            b,
            engine,
            [
                Flash(),
                Pause(1.0),
                Press("8002#"),
                Pause(3.0),
                Press("*3"),
                Speak(tone=AGENT, seconds=30),
            ],
        )
        engine.run_for(20.0)
        assert hears(b, 0, AGENT) and hears(b, 0, THIRD)
        assert hears(b, 3, CALLER_HZ) and hears(b, 3, THIRD)
        assert hears(b, 4, CALLER_HZ) and hears(b, 4, AGENT)
        # The third party hangs up: back to agent and caller.
        b.phone(4).run([HangUp()])
        engine.run_for(3.0)
        assert hears(b, 0, AGENT, 1.0) and not hears(b, 0, THIRD, 1.0)


def test_supervisor_listens_then_whispers_then_barges() -> None:
    b, engine, _, _ = make()
    with b:
        queued_call(b, engine, [Speak(tone=AGENT, seconds=90)])
        b.phone(5).auto_answer(1, [Speak(tone=SUPER, seconds=90.0)])
        engine.run_for(6.0)
        sup = engine.acd.agents["1003"]
        engine.acd.login("1003", "4321", None, "api")
        engine.acd.set_status(sup, engine.acd.agents["1003"].status.NOT_READY, "开会")
        engine.acd.control.monitor(sup, "1001", "listen")
        engine.run_for(4.0)
        assert hears(b, 5, CALLER_HZ) and hears(b, 5, AGENT)
        assert not hears(b, 0, SUPER) and not hears(b, 3, SUPER)
        m = engine.acd.control.monitors[5]
        m.mode = "whisper"
        engine.acd.control._mix_monitor(m, 3, 0)
        engine.run_for(3.0)
        assert hears(b, 3, SUPER) and hears(b, 3, CALLER_HZ) and not hears(b, 0, SUPER)
        m.mode = "barge"
        engine.acd.control._mix_monitor(m, 3, 0)
        engine.run_for(3.0)
        assert hears(b, 0, SUPER) and hears(b, 0, AGENT)
        # The supervisor hangs up: agent and caller as before.
        b.phone(5).run([HangUp()])
        engine.run_for(2.0)
        assert hears(b, 0, AGENT, 1.0) and not hears(b, 0, SUPER, 1.0)
        assert 5 not in engine.acd.control.monitors


def test_force_release_ends_the_agents_call() -> None:
    b, engine, _, _ = make()
    with b:
        queued_call(b, engine, [Speak(tone=AGENT, seconds=90)])
        engine.run_for(6.0)
        engine.acd.login("1003", "4321", None, "api")
        engine.acd.control.force_release(engine.acd.agents["1003"], "1001")
        engine.run_for(1.0)
        assert 0 not in engine.call_of


def test_pickup_of_a_ringing_phone_with_star_8() -> None:
    config: dict[str, Any] = site()
    config["inbound"] = [{"name": "direct", "steps": [{"station": "8001"}]}]
    b, engine, _, _ = make(config)
    with b:
        login_all(engine, "1002")
        b.incoming_call(
            0, at=0.5, caller_id="13800000000", script=[Speak(tone=CALLER_HZ, seconds=60)]
        )
        engine.run_for(4.0)
        assert b.phone(3).ringing
        b.phone(4).run([LiftHandset(), Pause(0.5), Press("*88001#"), Speak(tone=AGENT, seconds=20)])
        engine.run_for(6.0)
        assert not b.phone(3).ringing
        assert hears(b, 0, AGENT) and hears(b, 4, CALLER_HZ)
        assert engine.acd.agents["1002"].state.value == "in_call"
