"""`boardcc simulate`: a scenario run against a plain host, reported line by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from boardcc.cli import main

SCENARIO = """\
board: {trunks: 2, stations: 1, seed: 7}
lines:
  1: {far_hangup: reversal}
calls:
  - at: 0.5
    trunk: 0
    caller_id: {number: "13812345678", name: "ZHANG SAN"}
    script: [{wait: 1.0}, {press: "1"}, hang_up]
  - at: 1.0
    trunk: 1
    caller_id: "02566668888"
    script: [{wait: 0.5}, hang_up]
"""


def test_a_scenario_is_run_and_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "two-calls.yaml"
    path.write_text(SCENARIO)
    assert main(["simulate", str(path), "--seconds", "14", "--answer", "2"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "      0.500 s     sim/0  RingOn" in lines
    assert "      6.520 s     sim/0  host off hook (answer)" in lines
    assert any("sim/0  host on hook (busy tone)" in line for line in lines)
    assert any("sim/1  host on hook (far end cleared)" in line for line in lines)
    assert "caller ID/来电 13812345678 ZHANG SAN 01050900 [bell202 mdmf]" in out
    assert "caller ID/来电 02566668888 01050900 [bell202 mdmf]" in out
    assert any(line.split()[-2:] == ["DTMF", "1"] for line in lines)
    calls = [line.split() for line in lines if line.startswith("     sim/")]
    assert [(c[0], c[2], c[-4], c[-1]) for c in calls] == [
        ("sim/0", "13812345678", "answered", "far"),
        ("sim/1", "02566668888", "answered", "far"),
    ]


def test_a_broken_scenario_is_one_line_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(SCENARIO.replace('{press: "1"}', '{presss: "1"}'))
    assert main(["simulate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"boardcc simulate: {path}:8: calls.0.script.1: unknown step 'presss'")
