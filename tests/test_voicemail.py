"""Voicemail end to end on the simulated board: a caller leaves a message, the agent's phone
shows it (FSK message waiting, stutter dial tone), the agent hears and deletes it by phone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from boardcc.cdr import Disposition
from boardcc.config import load_site
from boardcc.drivers.sim import HangUp, LiftHandset, Pause, Press, SimBoard, Speak
from boardcc.dsp import decode_caller_id, read_audio, write_audio
from boardcc.engine import Engine
from boardcc.recording.recorder import Recorder
from boardcc.store import CdrStore, make_engine
from boardcc.voicemail.service import Voicemail
from boardcc.voicemail.store import VoicemailStore, check_pin, hash_pin

FS = 8000
START = dt.datetime(2026, 1, 5, 10, 0, 0, tzinfo=dt.UTC)


def tone(hz: float, seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * FS)) / FS
    return np.rint(5000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x.astype(float) * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / FS)[np.argmax(spec)])


class Rig:
    def __init__(self, tmp: Path, **voicemail: Any) -> None:
        prompts = {}
        for name, hz in (
            ("vm_unavailable", 500),
            ("vm_review", 550),
            ("vm_saved", 600),
            ("vm_busy", 650),
        ):
            write_audio(tmp / f"{name}.wav", tone(hz, 0.6))
            prompts[name] = str(tmp / f"{name}.wav")
        self.config = load_site(
            {
                "trunk_groups": [{"name": "g", "channels": "0", "access_number": "400800888"}],
                "stations": [
                    {"channel": 1, "extension": "8001", "group": "agents"},
                    {"channel": 2, "extension": "8002", "group": "agents"},
                ],
                "inbound": [{"name": "r", "steps": [{"voicemail": "8001"}]}],
                "outbound": [{"station_group": "agents", "trunk_group": "g"}],
                "prompts": prompts,
                "recording": {"folder": str(tmp / "rec")},
                "voicemail": {
                    "folder": str(tmp / "vm"),
                    "boxes": [{"box": "8001", "notify": ["8001"]}],
                    **voicemail,
                },
            }
        )
        self.store = CdrStore(tmp / "cc.db")
        self.store.start()
        self.board = SimBoard(trunks=1, stations=2, seed=4)
        self.engine = Engine(self.config, self.board, store=self.store, start_time=START)
        self.recorder = Recorder(self.engine, self.config.recording)
        self.voicemail = Voicemail(self.engine, self.config.voicemail, self.store.engine)
        self.sent: list[np.ndarray] = []
        write = self.board.write

        def spy(tx: np.ndarray) -> None:  # what the engine sent the on-hook phone
            self.sent.append(tx[1].copy())
            write(tx)

        self.board.write = spy  # type: ignore[method-assign]

    def close(self) -> None:
        self.voicemail.close()
        self.recorder.close()
        self.store.close()
        self.board.close()


def settle(engine: Engine) -> None:
    """Let the writer thread finish the files, and the engine take what it says (on the
    virtual clock the engine outruns the writer)."""
    assert engine.recorder is not None
    engine.recorder.flush()
    engine.run_for(0.04)


def paced(engine: Engine, seconds: float) -> None:
    """Run with the writer keeping up, as it does on the real clock: on the virtual clock
    the engine would otherwise outrun it and a message would be played back late."""
    assert engine.recorder is not None
    for _ in range(round(seconds / 0.2)):
        engine.run_for(0.2)
        engine.recorder.flush()


def leave_message(rig: Rig, talk_s: float = 3.0) -> None:
    # The greeting (0.6 s) and the beep (0.4 s), then the message, # and 1 to keep it.
    rig.board.incoming_call(
        0,
        at=0.2,
        caller_id={"number": "13812345678"},
        script=[Pause(1.2), Speak(tone=700, seconds=talk_s), Press("#"), Pause(0.3), Press("1")],
    )
    rig.engine.run_for(12.0)
    settle(rig.engine)
    rig.engine.run_for(1.0)  # the message-waiting signal to the phones, whole


def test_a_caller_leaves_a_message_and_the_agents_phone_shows_it(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    leave_message(rig)
    vm = rig.voicemail
    (m,) = vm.store.listing("8001")
    assert (m.folder, m.caller) == ("new", "13812345678")
    assert m.duration_s == pytest.approx(3.0, abs=0.35)
    audio = read_audio(m.path)
    assert peak_hz(audio.samples[0, 800:16000]) == pytest.approx(700, abs=3)
    assert rig.store.flush(5)
    (cdr,) = rig.store.find()
    assert cdr.disposition is Disposition.ANSWERED and cdr.route.endswith("voicemail 8001")
    # FSK message waiting went to the on-hook phone.
    sent = np.concatenate(rig.sent)
    (mwi,) = decode_caller_id(sent)
    assert mwi.message_waiting is True
    # Lifted, the phone hears stutter dial tone: the dial tone broken every 100 ms.
    rig.board.phone(1).run([LiftHandset(), Pause(1.0), HangUp()])
    rig.engine.run_for(0.5)
    heard = rig.board.heard(1)[-3200:].astype(float)
    frames = (heard.reshape(-1, 80) ** 2).mean(axis=1)
    on = frames > frames.max() / 10
    assert 0.35 < on.mean() < 0.65 and peak_hz(heard) == pytest.approx(450, abs=10)
    rig.engine.run_for(1.0)
    # In the database too, for the API and the next start.
    vm.store.flush()
    again = VoicemailStore(make_engine(tmp_path / "cc.db"))
    again.load(1.0)
    assert [x.message_id for x in again.listing("8001")] == [m.message_id]
    rig.close()


def test_review_and_re_record_then_the_agent_hears_and_deletes_it_by_phone(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path)
    vm = rig.voicemail
    rig.board.incoming_call(
        0,
        at=0.2,
        caller_id={"number": "13812345678"},
        # A first try at 900 Hz, listened to (2), then recorded again (3) at 700 Hz.
        script=[
            Pause(1.2),
            Speak(tone=900, seconds=1.5),
            Press("#"),
            Pause(0.3),
            Press("2"),
            Pause(2.5),
            Press("3"),
            Pause(0.6),
            Speak(tone=700, seconds=2.0),
            Press("#"),
            Pause(0.3),
            Press("1"),
        ],
    )
    paced(rig.engine, 20.0)
    settle(rig.engine)
    (m,) = vm.store.listing("8001")
    assert peak_hz(read_audio(m.path).samples[0, 800:12000]) == pytest.approx(700, abs=3)
    # The caller heard the first try played back.
    caller = rig.board.heard(0)
    assert any(
        abs(peak_hz(caller[i : i + 4000]) - 900) < 5 for i in range(0, caller.size - 4000, 800)
    )
    assert len(list((tmp_path / "vm").rglob("*.wav"))) == 1  # the first try is gone
    # No PIN yet: the menu is refused (busy tone).
    rig.board.phone(1).run([LiftHandset(), Press("*"), Press("6"), Press("#"), Pause(2.0)])
    rig.engine.run_for(3.0)
    assert 1 not in vm.sessions
    rig.board.phone(1).run([HangUp()])
    rig.engine.run_for(1.0)
    vm.set_pin("8001", "2468")
    keys = [Press(k) for k in "*6#"] + [Pause(0.5)] + [Press(k) for k in "1357#"]
    keys += [Pause(0.3)] + [Press(k) for k in "2468#"] + [Pause(0.3), Press("1"), Pause(3.0)]
    rig.board.phone(1).run([LiftHandset(), *keys, Press("7"), Pause(1.0), HangUp()])
    start = rig.board.now
    rig.engine.run_for(14.0)
    heard = rig.board.heard(1, start / FS)
    assert any(
        abs(peak_hz(heard[i : i + 4000]) - 700) < 5 for i in range(0, heard.size - 4000, 800)
    )
    assert vm.store.listing("8001") == []
    vm.store.flush()
    assert not Path(m.path).exists()
    # The lamp went off when the phone was back on hook.
    assert rig.voicemail.lamp[1] is False
    rig.close()


def test_a_caller_who_hangs_up_while_speaking_leaves_the_message(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.board.incoming_call(
        0,
        at=0.2,
        caller_id={"number": "13900001111"},
        script=[Pause(1.2), Speak(tone=700, seconds=2.0), HangUp()],
    )
    rig.engine.run_for(12.0)
    settle(rig.engine)
    (m,) = rig.voicemail.store.listing("8001")
    assert m.caller == "13900001111" and m.duration_s >= 2.0
    rig.close()


def test_length_limit_and_full_box(tmp_path: Path) -> None:
    rig = Rig(tmp_path, max_message_s=2.0, max_messages=1)
    leave_message(rig, talk_s=5.0)
    (m,) = rig.voicemail.store.listing("8001")
    assert m.duration_s == pytest.approx(2.0, abs=0.05)
    # The box is full: the rule's voicemail step is refused and the call hung up.
    rig.board.incoming_call(0, caller_id="13700000000", script=[Pause(20.0)])
    rig.engine.run_for(12.0)
    settle(rig.engine)
    assert len(rig.voicemail.store.listing("8001")) == 1
    rig.store.flush(5)
    second = rig.store.find(number="13700000000")[0]
    assert second.disposition is Disposition.REJECTED and second.answered is None
    rig.close()


def test_the_api_lists_saves_calls_back_and_deletes(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    leave_message(rig)
    vm = rig.voicemail
    (listed,) = vm.messages("8001")
    mid = str(listed["message_id"])
    vm.save(mid)
    assert vm.store.listing("8001")[0].folder == "old"
    call_id = vm.call_back(mid, "8002")
    assert rig.engine.calls[call_id].cdr.called == "13812345678"
    with pytest.raises(ValueError, match="no voicemail box"):
        vm.messages("9999")
    vm.delete(mid)
    assert vm.messages("8001") == []
    with pytest.raises(ValueError, match="no voicemail message"):
        vm.delete(mid)
    rig.close()


def test_pins_are_hashed_and_checked() -> None:
    stored = hash_pin("2468")
    assert "2468" not in stored and stored.startswith("pbkdf2$")
    assert check_pin("2468", stored) and not check_pin("2469", stored)
    assert not check_pin("2468", "") and not check_pin("2468", "pbkdf2$x$y$z")
    assert hash_pin("2468") != stored  # salted
    with pytest.raises(ValueError, match="4 to 12 digits"):
        hash_pin("12")


def test_voicemail_and_manual_recording_through_the_api(tmp_path: Path) -> None:
    import asyncio

    from boardcc.api import ApiClient, ApiError, ApiServer

    rig = Rig(tmp_path)
    leave_message(rig)
    engine = rig.engine

    async def main() -> None:
        async def ticking(aw: Any) -> Any:
            task = asyncio.ensure_future(aw)
            while not task.done():
                await asyncio.to_thread(engine.tick)
            return await task

        async def run(command: str, **args: Any) -> dict[str, Any]:
            return await ticking(api.command(command, **args))  # type: ignore[no-any-return]

        api = ApiClient(server.url)
        await ticking(api.open())
        try:
            (m,) = (await run("voicemail_messages", box="8001"))["messages"]
            await run("voicemail_save", message_id=m["message_id"])
            assert rig.voicemail.store.listing("8001")[0].folder == "old"
            with pytest.raises(ApiError, match="no voicemail box"):
                await run("voicemail_messages", box="7777")
            await run("voicemail_pin", box="8001", pin="13579")
            with pytest.raises(ApiError, match="4 to 12 digits"):
                await run("voicemail_pin", box="8001", pin="1")
            called = await run("voicemail_call_back", message_id=m["message_id"], station="8002")
            assert engine.calls[called["call_id"]].cdr.called == "13812345678"
            await run("hang_up", channel=2)
            with pytest.raises(ApiError, match="no call on channel 0"):
                await run("record_start", channel=0)
            await run("voicemail_delete", message_id=m["message_id"])
            assert rig.voicemail.store.listing("8001") == []
        finally:
            await api.close()

    with ApiServer(engine, port=0) as server:
        asyncio.run(main())
    assert check_pin("13579", rig.voicemail.store.box("8001").pin_hash)
    rig.close()


def test_the_owner_records_a_greeting_by_phone_and_callers_hear_it(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    vm = rig.voicemail
    vm.set_pin("8001", "2468")
    keys = [Press(k) for k in "*6#"] + [Pause(0.3)] + [Press(k) for k in "2468#"]
    keys += [Pause(0.3), Press("2"), Pause(0.8), Speak(tone=900, seconds=1.5), Press("#")]
    rig.board.phone(1).run([LiftHandset(), *keys, Pause(1.0), HangUp()])
    rig.engine.run_for(12.0)
    settle(rig.engine)
    greeting = vm.store.box("8001").greeting_unavailable
    assert greeting and Path(greeting).is_file()
    assert peak_hz(read_audio(greeting).samples[0, 800:8000]) == pytest.approx(900, abs=3)
    # A caller now hears the owner's greeting (900 Hz), not the site's prompt (500 Hz).
    rig.board.incoming_call(0, at=0.0, caller_id="13812345678", script=[Pause(8.0), HangUp()])
    start = rig.board.now
    rig.engine.run_for(6.0)
    heard = rig.board.heard(0, start / FS)
    loud = [peak_hz(heard[i : i + 2400]) for i in range(0, heard.size - 2400, 800)]
    assert any(abs(f - 900) < 5 for f in loud) and not any(abs(f - 500) < 5 for f in loud)
    rig.close()


def test_an_agents_box_lights_the_phone_the_agent_is_logged_in_at(tmp_path: Path) -> None:
    from tests.test_acd import PASSWORD, agent

    config = load_site(
        {
            "trunk_groups": [{"name": "g", "channels": "0"}],
            "stations": [
                {"channel": 1, "extension": "8001"},
                {"channel": 2, "extension": "8002"},
            ],
            "agents": [agent("1001", "8001")],
            "inbound": [{"name": "r", "steps": [{"voicemail": "agent:1001"}]}],
            "voicemail": {"folder": str(tmp_path / "vm"), "boxes": [{"box": "agent:1001"}]},
        }
    )
    with SimBoard(trunks=1, stations=2, seed=4) as board:
        engine = Engine(config, board, start_time=START)
        recorder = Recorder(engine, config.recording)
        vm = Voicemail(engine, config.voicemail)
        engine.acd.login("1001", PASSWORD, "8002", "api")  # at 8002 today
        board.incoming_call(
            0,
            at=0.2,
            caller_id="13812345678",
            script=[Pause(1.2), Speak(tone=700, seconds=2.0), HangUp()],
        )
        engine.run_for(14.0)
        settle(engine)
        assert len(vm.store.listing("agent:1001")) == 1
        assert vm.lamp == {2: True}
        engine.acd.logout(engine.acd.agents["1001"])
        engine.run_for(0.5)
        assert vm.lamp == {2: False}  # the agent left: the phone is told
        recorder.close()


def test_the_busy_greeting_while_the_owner_is_on_the_phone(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.board.phone(1).run([LiftHandset(), Pause(20.0)])  # 8001 is off hook
    rig.board.incoming_call(0, at=0.5, caller_id="13812345678", script=[Pause(8.0), HangUp()])
    start = rig.board.now
    rig.engine.run_for(6.0)
    heard = rig.board.heard(0, start / FS)
    found = [peak_hz(heard[i : i + 2400]) for i in range(0, heard.size - 2400, 800)]
    assert any(abs(f - 650) < 5 for f in found) and not any(abs(f - 500) < 5 for f in found)
    rig.close()
