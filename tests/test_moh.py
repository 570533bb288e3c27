"""Music on hold: classes from folders, decoded once, every listener at the same moment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from boardcc.config import load_site
from boardcc.drivers.sim import Pause, SimBoard
from boardcc.dsp import load_plan, write_audio
from boardcc.engine import Engine
from boardcc.media import Mixer, UnknownPromptError
from boardcc.moh import GAP_S, MusicError, builtin_tune, load_class

FS = 8000


def tone(hz: float, seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * FS)) / FS
    return np.rint(6000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def test_a_class_is_its_files_by_name_with_a_gap_between(tmp_path: Path) -> None:
    write_audio(tmp_path / "b.wav", tone(600, 1.0))
    write_audio(tmp_path / "a.wav", tone(900, 0.5), codec="alaw")
    (tmp_path / "README.txt").write_text("not music")
    x = load_class(tmp_path)
    gap = round(GAP_S * FS)
    assert x.size == 4000 + gap + 8000 + gap
    assert np.abs(x[:4000]).max() > 5000 and not x[4000 : 4000 + gap].any()
    assert np.allclose(x[4000 + gap : 12000 + gap], tone(600, 1.0), atol=1)


def test_a_bad_class_names_the_folder_or_file(tmp_path: Path) -> None:
    with pytest.raises(MusicError, match="no folder"):
        load_class(tmp_path / "none")
    with pytest.raises(MusicError, match="holds no music file"):
        load_class(tmp_path)
    (tmp_path / "bad.wav").write_bytes(b"RIFF garbage")
    with pytest.raises(MusicError, match=r"bad\.wav"):
        load_class(tmp_path)


def test_every_listener_of_a_class_hears_the_same_moment() -> None:
    mixer = Mixer(6, 160, load_plan("cn"))
    mixer.add_music("count", np.arange(10_000, dtype=np.float32) % 3000)
    rx = np.zeros((6, 160), np.int16)
    mixer.music(1, "count")
    first = mixer.build(rx, 0)
    mixer.build(rx, 160)
    mixer.music(4, "count")  # joins later: hears where the class is, not its start
    later = mixer.build(rx, 320)
    assert np.array_equal(first[1], np.arange(160))
    assert np.array_equal(later[4], later[1]) and later[1][0] == 320
    mixer.music(2)  # the default class, the built-in tune
    assert mixer.build(rx, 480)[2].any()
    assert mixer.music_classes() == ["count", "default"]
    with pytest.raises(UnknownPromptError, match="classes: count, default"):
        mixer.music(3, "jazz")


def test_the_builtin_tune_has_no_two_notes_at_once_and_nothing_near_450_hz() -> None:
    x = builtin_tune()
    beat = round(0.4 * FS)
    for k in range(x.size // beat):
        note = x[k * beat : (k + 1) * beat]
        spec = np.abs(np.fft.rfft(note))
        freqs = np.fft.rfftfreq(note.size, 1 / FS)
        peak = freqs[np.argmax(spec)]
        assert abs(peak - 450) > 50
        # One note: nothing else within 20 dB of the peak away from it.
        assert spec[np.abs(freqs - peak) > 40].max() < spec.max() / 10


def test_the_site_classes_reach_the_caller(tmp_path: Path) -> None:
    (tmp_path / "calm").mkdir()
    write_audio(tmp_path / "calm" / "1.wav", tone(800, 2.0))
    config = load_site(
        {
            "trunk_groups": [{"name": "g", "channels": "0"}],
            "stations": [{"channel": 1, "extension": "8001"}],
            "inbound": [{"name": "r", "steps": [{"station": "8001"}]}],
            "music_on_hold": {"calm": str(tmp_path / "calm")},
        }
    )
    with SimBoard(trunks=1, stations=1, seed=1) as board:
        engine = Engine(config, board, start_time=dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC))
        board.phone(1).auto_answer(1, [Pause(30.0)])
        board.incoming_call(0, at=0.1, script=[Pause(60.0)])
        engine.run_for(6.0)
        engine.play_music(0, "calm")
        start = board.now
        engine.run_for(1.5)
        heard = board.heard(0, (start + 1600) / FS, (start + 9600) / FS)
    spec = np.abs(np.fft.rfft(heard.astype(float)))
    assert np.fft.rfftfreq(heard.size, 1 / FS)[np.argmax(spec)] == pytest.approx(800, abs=2)


def test_a_missing_music_folder_is_refused_at_load(tmp_path: Path) -> None:
    from boardcc.yamlfile import ConfigFileError

    with pytest.raises(ConfigFileError, match=r"music_on_hold\.calm: no music folder"):
        load_site({"music_on_hold": {"calm": str(tmp_path / "nope")}})
