"""评分: the agent hangs up first, the caller goes to the queue's survey flow, the score
lands in the call's CDR."""

from __future__ import annotations

from boardcc.acd import commands
from boardcc.acd.agent import AgentState
from boardcc.cdr import Disposition, HungUpBy
from boardcc.drivers.sim import HangUp, Pause, Press, Speak
from boardcc.machines import StationState, TrunkState
from tests.test_acd import AGENT_HZ, CALLER_HZ, hears, login_all, make, site


def test_the_caller_scores_the_call_after_the_agent_hangs_up() -> None:
    b, engine, store, _ = make(site(survey="survey", wrap_up_s=2.0))
    with b:
        login_all(engine, "1001")
        b.phone(3).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=4.0), HangUp()])
        b.incoming_call(
            0,
            at=0.5,
            caller_id="13800000001",
            script=[Speak(tone=CALLER_HZ, seconds=14.0), Press("4"), Pause(15.0)],
        )
        engine.run_for(10.0)
        # The agent hung up: the caller is still on the line, in the survey flow.
        assert engine.machines[0].state in (TrunkState.PLAYING, TrunkState.WAIT_PLAY)
        (call,) = engine.calls.values()
        assert call.ivr is not None and 3 not in call.legs
        assert engine.acd.agents["1001"].state in (AgentState.WRAP_UP, AgentState.IDLE)
        t = engine.acd.seconds(engine.now)
        assert not hears(b, 0, t - 1.0, t, AGENT_HZ)
        engine.run_for(20.0)
        assert engine.machines[0].state is not TrunkState.CONNECTED
        assert engine.idle()
    (cdr,) = store.last.values()
    assert cdr.extra["var.score"] == "4" and cdr.extra["var.survey"] == "done"
    assert cdr.extra["survey_flow"] == "survey" and cdr.extra["agent"] == "1001"
    assert cdr.disposition is Disposition.ANSWERED and cdr.hung_up_by is HungUpBy.ENGINE


def test_a_caller_who_hangs_up_first_is_not_surveyed_and_a_queue_without_survey_releases() -> None:
    b, engine, store, _ = make(site(survey="survey"))
    with b:
        login_all(engine, "1001")
        b.phone(3).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=20.0)])
        b.incoming_call(0, at=0.5, caller_id="13800000001", script=[Pause(8.0), HangUp()])
        engine.run_for(15.0)
        assert not engine.calls
    (cdr,) = store.last.values()
    assert "survey_flow" not in cdr.extra and cdr.hung_up_by is HungUpBy.CALLER
    b, engine, store, _ = make(site())
    with b:
        login_all(engine, "1001")
        b.phone(3).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=3.0), HangUp()])
        b.incoming_call(0, at=0.5, caller_id="13800000001", script=[Pause(30.0)])
        engine.run_for(12.0)
        assert not engine.calls
    (cdr,) = store.last.values()
    assert "survey_flow" not in cdr.extra and cdr.hung_up_by is HungUpBy.CALLEE


def test_the_api_hang_up_hands_the_caller_to_the_survey_as_the_desk_phone_does() -> None:
    b, engine, store, _ = make(site(survey="survey", wrap_up_s=2.0))
    with b:
        login_all(engine, "1001")
        # The agent keeps talking into a handset left off hook: hang_up comes from the PC.
        b.phone(3).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=40.0)])
        b.incoming_call(
            0,
            at=0.5,
            caller_id="13800000001",
            script=[Speak(tone=CALLER_HZ, seconds=14.0), Press("5"), Pause(15.0)],
        )
        engine.run_for(6.0)
        assert engine.acd.agents["1001"].state is AgentState.IN_CALL
        assert commands.run(engine.acd, "1001", "hang_up", {}) == {}
        (call,) = engine.calls.values()
        assert call.ivr is not None and 3 not in call.legs and 3 not in engine.call_of
        assert engine.acd.agents["1001"].state is AgentState.WRAP_UP
        assert engine.machines[3].state is StationState.WAIT_HANGUP  # busy tone, as at any end
        engine.run_for(4.0)
        assert engine.machines[0].state in (TrunkState.PLAYING, TrunkState.WAIT_PLAY)
        t = engine.acd.seconds(engine.now)
        assert not hears(b, 0, t - 2.0, t, AGENT_HZ)  # the agent's voice is cut off
        engine.run_for(25.0)
        assert not engine.calls
    (cdr,) = store.last.values()
    assert cdr.extra["var.score"] == "5" and cdr.extra["var.survey"] == "done"
    assert cdr.extra["survey_flow"] == "survey" and cdr.extra["agent"] == "1001"
    assert cdr.disposition is Disposition.ANSWERED


def test_the_api_hang_up_without_a_survey_still_ends_the_call_for_both() -> None:
    b, engine, store, _ = make(site())
    with b:
        login_all(engine, "1001")
        b.phone(3).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=40.0)])
        b.incoming_call(0, at=0.5, caller_id="13800000001", script=[Pause(30.0)])
        engine.run_for(6.0)
        commands.run(engine.acd, "1001", "hang_up", {})
        assert not engine.calls
    (cdr,) = store.last.values()
    assert "survey_flow" not in cdr.extra and cdr.disposition is Disposition.ANSWERED
