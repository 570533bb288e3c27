"""`boardcc run` (the demo on the virtual clock) and `boardcc replay` (the shipped sample)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from boardcc.cdr import Disposition
from boardcc.cli import main
from boardcc.store import CdrStore

SAMPLE = Path(__file__).resolve().parent.parent / "boardcc" / "samples" / "line-sample.wav"
LE004 = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]\[[^]]+\]\[[\w.]+\]\[\d+\]\[[^]]*\] ")


@pytest.mark.slow
def test_run_the_demo_for_two_minutes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cdr.db"
    status = main(
        [
            "run",
            "--virtual",
            "--seconds",
            "120",
            "--no-table",
            "--no-api",
            "--calls-per-minute",
            "8",
            "--database",
            f"sqlite:///{db}",
            "--logs",
            str(tmp_path / "logs"),
        ]
    )
    assert status == 0
    out = capsys.readouterr().out
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("boardcc run: 120.0 s, calls started ")
    assert "channel errors 0" in summary
    with CdrStore(f"sqlite:///{db}") as store:
        cdrs = store.find()
    assert len(cdrs) >= 5
    assert all(c.disposition is not Disposition.OPEN for c in cdrs)
    assert any(c.disposition is Disposition.ANSWERED and c.station for c in cdrs)
    lines = (tmp_path / "logs" / "boardcc.log").read_text(encoding="utf-8").splitlines()
    assert lines and all(LE004.match(line) for line in lines if line.startswith("["))
    assert any("WAIT_ANSWER" in line for line in lines)


def test_replay_of_the_shipped_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert all(LE004.match(line) for line in lines)
    text = "\n".join(lines)
    assert "CallerIdIn(number='13812345678', name='ZHANG SAN')" in text
    digits = re.findall(r"Digit\(digit='(.)'\)", text)
    assert "".join(digits) == "10086#"
    assert "FarEndGone(how='busy')" in text
    assert re.search(r"call \w+ ended: answered, hung up by caller", text)
    assert lines[-1].endswith("10 RELEASED -> 1 IDLE (空闲)")


def test_replay_of_a_damaged_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "line.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    assert main(["replay", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("boardcc replay: ") and str(bad) in err and err.count("\n") == 1


@pytest.mark.slow
def test_ctrl_c_stops_run_cleanly_and_closes_open_calls(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    db = tmp_path / "cdr.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "boardcc.cli",
            "run",
            "--no-table",
            "--port",
            "0",
            "--calls-per-minute",
            "60",
            "--database",
            f"sqlite:///{db}",
            "--logs",
            str(tmp_path / "logs"),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = tmp_path / "logs" / "boardcc.log"
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:  # real time: wait until a call is connected
        if log.exists() and "-> 8 CONNECTED" in log.read_text(encoding="utf-8"):
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.splitlines()[-1].startswith("boardcc run: ")
    with CdrStore(f"sqlite:///{db}") as store:
        cdrs = store.find()
    assert any(c.disposition is Disposition.ENGINE_STOPPED for c in cdrs)
    assert all(c.disposition is not Disposition.OPEN for c in cdrs)
