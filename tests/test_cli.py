"""`boardcc decode`: what it finds in a recording, how it prints it, how it fails."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from boardcc.cli import main
from boardcc.dsp.audio import write_audio
from boardcc.dsp.dtmf import dtmf_tones
from boardcc.dsp.tones import plan_tone

SAMPLE = Path(str(files("boardcc") / "samples" / "line-sample.wav"))


def decode_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["decode", "--json", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_shipped_sample_decodes_to_the_keyed_digits_and_the_busy_tone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    found = decode_json(capsys, str(SAMPLE))
    digits = "".join(str(f["digit"]) for f in found if f["type"] == "dtmf")
    assert digits == "10086#"
    tones = [(f["name"], f["cycles"]) for f in found if f["type"] == "tone"]
    assert tones == [("ringback", 1), ("busy", 3)]
    busy = next(f for f in found if f.get("name") == "busy")
    # make_sample.py puts 3.5 s of busy tone at the very end of the recording.
    assert busy["t"] == pytest.approx(sf.info(str(SAMPLE)).duration - 3.5, abs=0.02)
    (caller,) = [f for f in found if f["type"] == "callerid"]
    assert caller["number"] == "13812345678"
    assert caller["name"] == "ZHANG SAN"
    assert caller["datetime"] == "11221530"
    assert (caller["standard"], caller["format"], caller["checksum_ok"]) == (
        "bell202",
        "mdmf",
        True,
    )
    assert caller["t"] == pytest.approx(0.3, abs=0.02)
    assert {f["type"] for f in found} == {"callerid", "dtmf", "tone", "voice", "silence"}
    times = [float(str(f["t"])) for f in found]
    assert times == sorted(times)


def test_json_lines_have_the_documented_fields(capsys: pytest.CaptureFixture[str]) -> None:
    found = decode_json(capsys, str(SAMPLE))
    first_digit = next(f for f in found if f["type"] == "dtmf")
    assert list(first_digit) == ["channel", "t", "type", "digit", "duration"]
    assert first_digit["channel"] == 0
    assert 0.05 < float(str(first_digit["duration"])) < 0.12


def test_table_output_names_what_it_found(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "DTMF #" in out
    assert "tone busy (3 cycles)" in out
    assert out.splitlines()[0].split()[0] == "channel/通道"


def test_each_channel_of_a_stereo_file_is_decoded_on_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    left = np.concatenate([np.zeros(800, np.int16), dtmf_tones("42", level_dbm0=-15)])
    right = plan_tone("us", "busy", 3000, level_dbm0=-20)
    n = max(left.size, right.size)
    stereo = np.zeros((2, n), np.int16)
    stereo[0, : left.size] = left
    stereo[1, : right.size] = right
    path = tmp_path / "two-lines.wav"
    write_audio(path, stereo, fs=8000, codec="pcm16")
    found = decode_json(capsys, "--plan", "us", str(path))
    assert [f["digit"] for f in found if f["type"] == "dtmf"] == ["4", "2"]
    assert {f["channel"] for f in found if f["type"] == "dtmf"} == {0}
    busy = [f for f in found if f["type"] == "tone"]
    assert [(f["channel"], f["name"]) for f in busy] == [(1, "busy")]


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"", "empty.wav"), (b"RIFF\x00\x00garbage", "broken.wav"), (b"hello", "notes.txt")],
)
def test_bad_files_give_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["decode", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert name in lines[0]


def test_missing_file_and_unknown_plan_give_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["decode", str(tmp_path / "nowhere.wav")]) == 2
    assert "nowhere.wav" in capsys.readouterr().err
    assert main(["decode", "--plan", "mars", str(SAMPLE)]) == 2
    assert "mars" in capsys.readouterr().err
