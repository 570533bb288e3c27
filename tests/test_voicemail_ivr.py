"""The IVR's voicemail node hands the caller to a box (docs/ivr.md, docs/recording.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from boardcc.config import load_site
from boardcc.drivers.sim import HangUp, Pause, SimBoard, Speak
from boardcc.dsp import read_audio, write_audio
from boardcc.engine import Engine
from boardcc.recording.recorder import Recorder
from boardcc.voicemail.service import Voicemail
from tests.test_voicemail import START, peak_hz, settle, tone


def test_a_flow_s_voicemail_node_takes_a_message(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "leave.yaml").write_text(
        "flow: leave\nstart: hello\nnodes:\n"
        "  hello: {type: play, prompts: hello, next: message}\n"
        '  message: {type: voicemail, box: "8001"}\n',
        encoding="utf-8",
    )
    (flows / "prompts" / "zh").mkdir(parents=True)
    write_audio(flows / "prompts" / "zh" / "hello.wav", tone(600, 1.0))
    config = load_site(
        {
            "trunk_groups": [{"name": "g", "channels": "0"}],
            "stations": [{"channel": 1, "extension": "8001"}],
            "inbound": [{"name": "r", "steps": [{"ivr": "leave"}]}],
            "flows": str(flows),
            "voicemail": {"folder": str(tmp_path / "vm"), "boxes": [{"box": "8001"}]},
        }
    )
    with SimBoard(trunks=1, stations=1, seed=4) as board:
        engine = Engine(config, board, start_time=START)
        recorder = Recorder(engine, config.recording)
        vm = Voicemail(engine, config.voicemail)
        board.incoming_call(
            0,
            at=0.2,
            caller_id="13812345678",
            script=[Pause(1.6), Speak(tone=700, seconds=2.0), HangUp()],
        )
        engine.run_for(15.0)
        settle(engine)
        assert engine.idle()
        (m,) = vm.store.listing("8001")
        recorder.close()
    assert m.caller == "13812345678"
    x = read_audio(m.path).samples[0]
    assert peak_hz(x[: 2 * 8000]) == pytest.approx(700, abs=3)
    assert np.abs(x).max() > 1000
