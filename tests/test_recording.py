"""Call recording end to end on the simulated board: what is recorded, how, and its index.

Calls run on the virtual clock; each recording is read back from disk with
`boardcc.dsp.read_audio` and the caller's and the agent's tones are found on their
channels. The crash test runs an engine in a child process on the real-time clock and kills
it mid-call.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from boardcc.cdr import Disposition
from boardcc.config import load_site
from boardcc.drivers.sim import HangUp, Pause, SimBoard, Speak
from boardcc.dsp import detect_tones, read_audio
from boardcc.engine import Engine
from boardcc.recording.index import Recording, RecordingIndex
from boardcc.recording.recorder import Recorder
from boardcc.store import CdrStore, make_engine

FS = 8000
START = dt.datetime(2026, 1, 5, 10, 0, 0, tzinfo=dt.UTC)


def site(tmp: Path, **recording: Any) -> dict[str, Any]:
    return {
        "trunk_groups": [
            {"name": "service", "channels": "0", "access_number": "400800888"},
            {"name": "care", "channels": "1", "access_number": "400800999"},
        ],
        "stations": [
            {"channel": 2, "extension": "8001", "group": "agents"},
            {"channel": 3, "extension": "8002", "group": "agents"},
        ],
        "inbound": [
            {"name": "service", "trunk_group": "service", "steps": [{"station": "8001"}]},
            {"name": "care", "trunk_group": "care", "steps": [{"station": "8002"}]},
        ],
        "recording": {"folder": str(tmp / "rec"), **recording},
    }


class Rig:
    """An engine on a simulated board with a CDR store and a recorder on one database."""

    def __init__(self, tmp: Path, spec: dict[str, Any], **board: Any) -> None:
        self.config = load_site(spec)
        self.store = CdrStore(tmp / "cc.db")
        self.store.start()
        self.board = SimBoard(**({"trunks": 2, "stations": 2, "seed": 3} | board))
        self.engine = Engine(self.config, self.board, store=self.store, start_time=START)
        self.index = RecordingIndex(self.store.engine)
        self.recorder = Recorder(self.engine, self.config.recording, self.index)

    def call(self, trunk: int = 0, station: int = 2, talk_s: float = 4.0) -> None:
        self.board.phone(station).auto_answer(
            1, [Speak(tone=1300, seconds=talk_s), Pause(0.5), HangUp()]
        )
        self.board.incoming_call(
            trunk,
            at=0.2,
            caller_id={"number": "13812345678"},
            script=[Speak(tone=700, seconds=60.0)],
        )

    @property
    def store_path(self) -> Path:
        url = self.store.engine.url.database
        assert url is not None
        return Path(url)


def peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x.astype(float) * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / FS)[np.argmax(spec)])


def recorded(tmp_path: Path, **recording: Any) -> tuple[list[Recording], Rig]:
    rig = Rig(tmp_path, site(tmp_path, **recording))
    # The store's path, before close (the engine URL goes with it).
    path = rig.store_path
    rig.call()
    rig.engine.run_for(14.0)
    assert rig.engine.idle()
    rig.recorder.close()
    rig.store.close()
    rig.board.close()
    return RecordingIndex(make_engine(path)).find(), rig


def test_a_call_is_recorded_caller_left_agent_right_and_indexed(tmp_path: Path) -> None:
    (rec,), _ = recorded(tmp_path, trunk_groups=["service"])
    assert rec.status == "done"
    assert (rec.kind, rec.caller, rec.called, rec.channels) == (
        "call",
        "13812345678",
        "400800888",
        2,
    )
    assert rec.names("station") == ["8001"]
    assert rec.names("group") == ["agents", "service"]
    assert rec.names("leg") == ["sim/0", "sim/2"]
    audio = read_audio(rec.path)
    assert audio.channels == 2
    # From the agent's answer to the agent's hang-up: 4 s of talk and 0.5 s of pause.
    assert audio.duration == pytest.approx(4.5, abs=0.1)
    assert rec.duration_s == pytest.approx(audio.duration, abs=0.01)
    assert rec.size == Path(rec.path).stat().st_size
    assert peak_hz(audio.samples[0, 800:24000]) == pytest.approx(700, abs=3)
    assert peak_hz(audio.samples[1, 800:24000]) == pytest.approx(1300, abs=3)
    # Dated folders below the configured one, by the call's local date.
    day = rec.started.astimezone().strftime("%Y/%m/%d")
    assert Path(rec.path).parent == tmp_path / "rec" / day


def test_calls_the_policy_does_not_name_are_not_recorded(tmp_path: Path) -> None:
    found, _ = recorded(tmp_path, trunk_groups=["care"], stations=["8002"])
    assert found == []
    assert not (tmp_path / "rec").exists()


@pytest.mark.parametrize(
    ("codec", "channels"),
    [
        ("pcm16", "stereo"),
        ("alaw", "stereo"),
        ("ulaw", "stereo"),
        ("ima_adpcm", "stereo"),
        ("gsm610", "mono"),
        ("vox", "mono"),
        ("mp3", "stereo"),
        ("mp3", "mono"),
    ],
)
def test_every_format_is_read_back(tmp_path: Path, codec: str, channels: str) -> None:
    (rec,), _ = recorded(tmp_path, stations=["8001"], codec=codec, channels=channels)
    assert rec.path.endswith({"vox": ".vox", "mp3": ".mp3"}.get(codec, ".wav"))
    audio = read_audio(rec.path)
    assert audio.duration == pytest.approx(4.5, abs=0.15)
    x = audio.samples
    if channels == "stereo":
        assert x.shape[0] == 2
        assert peak_hz(x[0, 1600:24000]) == pytest.approx(700, abs=4)
        assert peak_hz(x[1, 1600:24000]) == pytest.approx(1300, abs=4)
    else:  # the two mixed: both tones, at about the same level
        assert x.shape[0] == 1
        spec = np.abs(np.fft.rfft(x[0, 1600:24000].astype(float)))
        freqs = np.fft.rfftfreq(22400, 1 / FS)
        top = sorted(freqs[np.argsort(spec)[-2:]])
        assert top == pytest.approx([700, 1300], abs=4)


def test_stereo_gsm_or_vox_is_refused_at_load(tmp_path: Path) -> None:
    from boardcc.yamlfile import ConfigFileError

    with pytest.raises(ConfigFileError, match="gsm610 holds one channel only"):
        load_site(site(tmp_path, codec="gsm610"))


def test_record_taps_record_the_line_they_tap(tmp_path: Path) -> None:
    rig = Rig(tmp_path, site(tmp_path, taps=True), records=[0])
    path = rig.store_path
    rig.call()
    rig.engine.run_for(14.0)
    rig.recorder.close()
    rig.store.close()
    rig.board.close()
    (tap,) = RecordingIndex(make_engine(path)).find()
    assert (tap.kind, tap.channels, tap.caller) == ("tap", 1, "13812345678")
    assert "sim/4" in tap.names("leg") and "sim/0" in tap.names("leg")
    x = read_audio(tap.path).samples[0]
    # The tap hears both directions of the line: the caller and the agent.
    spec = np.abs(np.fft.rfft(x[4000:28000].astype(float)))
    freqs = np.fft.rfftfreq(24000, 1 / FS)
    assert sorted(freqs[np.argsort(spec)[-2:]]) == pytest.approx([700, 1300], abs=4)


def test_the_index_is_searched_by_time_number_agent_group(tmp_path: Path) -> None:
    rig = Rig(tmp_path, site(tmp_path, all=True))
    path = rig.store_path
    rig.call(trunk=0, station=2)
    rig.engine.run_for(14.0)
    rig.board.incoming_call(
        1, caller_id={"number": "02112345678"}, script=[Speak(tone=700, seconds=60.0)]
    )
    rig.board.phone(3).auto_answer(1, [Speak(tone=1300, seconds=2.0), HangUp()])
    rig.engine.run_for(14.0)
    rig.recorder.close()
    rig.store.close()
    rig.board.close()
    index = RecordingIndex(make_engine(path))
    first, second = index.find()
    assert [r.caller for r in index.find(number="021*")] == ["02112345678"]
    assert [r.caller for r in index.find(number="13812345678")] == ["13812345678"]
    assert index.find(station="8002") == [second]
    assert index.find(group="care") == [second]
    assert index.find(group="agents") == [first, second]
    assert index.find(since=second.started) == [second]
    assert index.find(until=second.started) == [first]
    assert index.get(first.recording_id[:8]) == first
    with pytest.raises(ValueError, match="timezone-aware"):
        index.find(since=dt.datetime(2026, 1, 5))


def test_export_and_purge(tmp_path: Path) -> None:
    found, _ = recorded(tmp_path, all=True)
    index = RecordingIndex(make_engine(tmp_path / "cc.db"))
    assert index.export(found, tmp_path / "out") == 1
    text = (tmp_path / "out" / "index.csv").read_text(encoding="utf-8-sig")
    assert "13812345678" in text and Path(found[0].path).name in text
    assert (tmp_path / "out" / Path(found[0].path).name).is_file()
    # Moved when older than the cut, the entry follows; then deleted with its file.
    later = found[0].started + dt.timedelta(days=1)
    assert index.purge(later, action="move", move_to=tmp_path / "archive") == 1
    (moved,) = index.find()
    assert moved.path.startswith(str(tmp_path / "archive"))
    assert Path(moved.path).is_file() and not Path(found[0].path).exists()
    assert index.purge(found[0].started, action="delete") == 0  # not older than itself
    assert index.purge(later, action="delete") == 1
    assert index.find() == [] and not Path(moved.path).exists()


# -- a killed engine ------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from pathlib import Path
    from boardcc.clock import RealtimeClock
    from boardcc.config import load_site
    from boardcc.drivers.sim import SimBoard, Speak
    from boardcc.engine import Engine
    from boardcc.recording.index import RecordingIndex
    from boardcc.recording.recorder import Recorder
    from boardcc.store import CdrStore

    tmp = Path(sys.argv[1])
    config = load_site({
        "trunk_groups": [{"name": "service", "channels": "0", "access_number": "400800888"}],
        "stations": [{"channel": 1, "extension": "8001"}],
        "inbound": [{"name": "service", "steps": [{"station": "8001"}]}],
        "recording": {"folder": str(tmp / "rec"), "all": True, "codec": sys.argv[2]},
    })
    store = CdrStore(tmp / "cc.db")
    store.start()
    board = SimBoard(trunks=1, stations=1, seed=2)
    engine = Engine(config, board, RealtimeClock(), store=store)
    Recorder(engine, config.recording, RecordingIndex(store.engine))
    board.phone(1).auto_answer(1, [Speak(tone=1300, seconds=600.0)])
    board.incoming_call(0, at=0.1, caller_id="13812345678", script=[Speak(tone=700, seconds=600)])
    answered = None
    while True:
        engine.tick()
        t = engine.ticks * engine.block / engine.fs
        if answered is None and engine.recorder.active:
            answered = t
            print("answered", t, flush=True)
        if engine.ticks % 10 == 0:
            print("t", t, flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("codec", ["pcm16", "mp3"])
def test_a_killed_engine_leaves_the_recording_readable_to_the_last_second(
    tmp_path: Path, codec: str
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), codec],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"OPENBLAS_NUM_THREADS": "1"},
    )
    assert child.stdout is not None
    answered = last = None
    deadline = time.monotonic() + 60
    for line in child.stdout:
        word, value = line.split()
        if word == "answered":
            answered = float(value)
        elif answered is not None:
            last = float(value)
            if last - answered >= 4.0:
                break
        assert time.monotonic() < deadline, "the child never got its call going"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert answered is not None and last is not None
    index = RecordingIndex(make_engine(tmp_path / "cc.db"))
    (rec,) = index.find()
    assert rec.status == "recording"  # the index entry the killed run left open
    audio = read_audio(rec.path)
    # Everything up to the last second before the kill is there.
    assert audio.duration >= last - answered - 1.0
    assert peak_hz(audio.samples[0, -8000:]) == pytest.approx(700, abs=4)
    assert peak_hz(audio.samples[1, -8000:]) == pytest.approx(1300, abs=4)
    # The next start completes the entry from the file.
    store = CdrStore(tmp_path / "cc.db")
    store.start()
    assert RecordingIndex(store.engine).recover() == 1
    (after,) = RecordingIndex(store.engine).find()
    store.close()
    assert after.status == "recovered"
    assert after.duration_s == pytest.approx(audio.duration, abs=0.1)
    assert json.dumps(after.json())  # the entry is whole


def test_the_recordings_command_finds_exports_and_purges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from boardcc.cli import main

    (rec,), _ = recorded(tmp_path, all=True)
    db = ["--database", f"sqlite:///{tmp_path / 'cc.db'}"]
    assert main(["recordings", "find", *db, "--number", "138*", "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["recording_id"] == rec.recording_id
    assert main(["recordings", "find", *db, "--station", "8002"]) == 0
    assert rec.recording_id[:8] not in capsys.readouterr().out
    assert main(["recordings", "find", *db, "--agent", "8001", "--since", "2026-01-05"]) == 0
    assert main(["recordings", "export", str(tmp_path / "out"), *db, "--group", "agents"]) == 0
    assert "1 of 1 recordings exported" in capsys.readouterr().out
    assert main(["recordings", "purge", *db, "--days", "30", "--dry-run"]) == 0
    assert "1 recordings older than 30 days" in capsys.readouterr().out
    assert Path(rec.path).exists()
    assert main(["recordings", "purge", *db, "--days", "30"]) == 0
    assert not Path(rec.path).exists()
    assert main(["recordings", "purge", *db]) == 2
    assert "no retention" in capsys.readouterr().err
    assert main(["recordings", "find", *db, "--since", "monday"]) == 2
    assert "not a date" in capsys.readouterr().err


class CardSink:
    """Stands in for the sound card (the boundary we cannot reach here): pulls like PyAudio."""

    def __init__(self) -> None:
        self.pulled: list[bytes] = []

    def start(self, fs: int, frames: int, pull: Any) -> None:
        self.pull, self.frames = pull, frames

    def stop(self) -> None:
        self.stopped = True

    def drain(self, done: Any) -> np.ndarray:
        while not done(0):
            self.pulled.append(self.pull(self.frames))
        return np.frombuffer(b"".join(self.pulled), np.int16)


def test_a_recording_plays_on_the_pc_and_on_a_permitted_desk_phone(tmp_path: Path) -> None:
    from boardcc.drivers.sim import LiftHandset, Press
    from boardcc.recording.playback import FilePlayer

    rig = Rig(tmp_path, site(tmp_path, all=True, playback_extensions=["8001"]))
    rig.call()
    rig.engine.run_for(14.0)
    rig.recorder.flush()
    (rec,) = rig.index.find()
    card = CardSink()
    player = FilePlayer(rec.path, sink=card)
    played = card.drain(player.wait)
    player.close()
    assert card.stopped
    mixed = read_audio(rec.path).samples.astype(np.int32).sum(axis=0)
    assert np.array_equal(played[: mixed.size], np.clip(mixed, -32768, 32767))
    # The agent dials *5# on the phone and hears the latest call: caller and agent mixed.
    rig.board.phone(2).run([LiftHandset(), *(Press(k) for k in "*5#"), Pause(6.0), HangUp()])
    start = rig.board.now
    rig.engine.run_for(1.5)  # dialled: the search and decoding run on the job thread
    rig.recorder.jobs.submit(lambda: None).result()
    rig.engine.run_for(6.5)
    heard = rig.board.heard(2, start / FS)
    spec = np.abs(np.fft.rfft(heard.astype(float)))
    freqs = np.fft.rfftfreq(heard.size, 1 / FS)
    assert sorted(freqs[np.argsort(spec)[-2:]]) == pytest.approx([700, 1300], abs=2)
    # Station 8002 may not: busy tone, nothing played.
    rig.board.phone(3).run([LiftHandset(), *(Press(k) for k in "*5#"), Pause(3.0), HangUp()])
    start = rig.board.now
    rig.engine.run_for(4.0)
    found = detect_tones(rig.board.heard(3, start / FS))
    assert "busy" in [t.name for t in found]
    rig.recorder.close()
    rig.store.close()
    rig.board.close()


def test_the_retention_policy_runs_while_the_engine_runs(tmp_path: Path) -> None:
    archive = tmp_path / "old"
    spec = site(
        tmp_path, all=True, retention={"days": 1, "action": "move", "move_to": str(archive)}
    )
    rig = Rig(tmp_path, spec)
    rig.call()
    rig.engine.run_for(14.0)
    rig.recorder.flush()
    (rec,) = rig.index.find()
    # Two days on: the next daily run moves the call's recording to the archive.
    rig.engine.started_at += dt.timedelta(days=2)
    rig.recorder._next_purge = rig.engine.now
    rig.engine.run_for(0.1)
    rig.recorder.jobs.submit(lambda: None).result()
    (moved,) = rig.index.find()
    assert Path(moved.path).parent == archive / rec.started.astimezone().strftime("%Y/%m/%d")
    assert Path(moved.path).is_file() and not Path(rec.path).exists()
    rig.recorder.close()
    rig.store.close()
    rig.board.close()


DISK_FULL_CHILD = textwrap.dedent(
    """
    import datetime as dt, json, subprocess, sys
    from pathlib import Path
    from boardcc.config import load_site
    from boardcc.drivers.sim import HangUp, Pause, SimBoard, Speak
    from boardcc.dsp import read_audio
    from boardcc.engine import Engine
    from boardcc.recording.index import RecordingIndex
    from boardcc.recording.recorder import Recorder
    from boardcc.store import CdrStore

    tmp = Path(sys.argv[1])
    (tmp / "rec").mkdir()
    # A disk of 160 kB for the recordings: five seconds of stereo PCM.
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "none", str(tmp / "rec")],
                   check=True)
    config = load_site({
        "trunk_groups": [{"name": "service", "channels": "0-1"}],
        "stations": [{"channel": 2, "extension": "8001"}, {"channel": 3, "extension": "8002"}],
        "inbound": [{"name": "s", "steps": [{"ring_group": {"stations": ["8001", "8002"]}}]}],
        "recording": {"folder": str(tmp / "rec"), "all": True},
    })
    store = CdrStore(tmp / "cc.db")
    store.start()
    board = SimBoard(trunks=2, stations=2, seed=2)
    engine = Engine(config, board, store=store,
                    start_time=dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC))
    alarms = []
    engine.subscribe(lambda e: alarms.append(e["what"]) if e["type"] == "alarm" else None)
    recorder = Recorder(engine, config.recording, RecordingIndex(store.engine))
    board.phone(2).auto_answer(1, [Speak(tone=1300, seconds=12.0), HangUp()])
    board.incoming_call(0, at=0.1, caller_id="13812345678", script=[Speak(tone=700, seconds=60)])
    engine.run_for(10.0)
    # A second call while the disk is full.
    board.phone(3).auto_answer(1, [Speak(tone=1300, seconds=3.0), HangUp()])
    board.incoming_call(1, caller_id="13900000000", script=[Speak(tone=700, seconds=60)])
    engine.run_for(20.0)
    recorder.close()
    store.flush(5)
    recs = RecordingIndex(store.engine).find()
    first = recs[0]
    print(json.dumps({
        "cdrs": [[c.disposition.value, (c.duration_s or 0)] for c in store.find()],
        "recs": [[r.status, r.error, r.duration_s] for r in recs],
        "alarms": alarms,
        "errors": engine.errors,
        "read": read_audio(first.path).duration,
        "idle": engine.idle(),
    }))
    store.close()
    board.close()
    """
)


@pytest.mark.slow
def test_a_full_disk_is_reported_and_calls_go_on(tmp_path: Path) -> None:
    import shutil

    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a small disk in a namespace of its own")
    done = subprocess.run(
        ["unshare", "-rm", sys.executable, "-c", DISK_FULL_CHILD, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if "mount" in done.stderr and done.returncode != 0 and "CalledProcessError" in done.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    # Both calls went through to the end, talked and closed as answered.
    assert [d for d, _ in out["cdrs"]] == ["answered", "answered"]
    assert out["cdrs"][0][1] == pytest.approx(12.0, abs=0.5)
    assert out["errors"] == 0 and out["idle"]
    # The first recording stopped where the disk filled up, readable to there, and said so.
    (status, error, seconds), (status2, error2, _) = out["recs"]
    assert status == "failed" and "disk full" in error and "磁盘已满" in error
    assert 3.0 < seconds < 6.0
    assert out["read"] == pytest.approx(seconds, abs=0.6)
    # The second could not even start; it is reported too.
    assert status2 == "failed" and "disk full" in error2
    assert len(out["alarms"]) == 2 and all("录音失败" in a for a in out["alarms"])


def test_a_call_that_joins_a_named_queue_is_recorded_with_the_queue(tmp_path: Path) -> None:
    rig = Rig(tmp_path, site(tmp_path, queues=["care"]))
    rig.call()
    rig.engine.run_for(3.0)
    (call,) = rig.engine.calls.values()
    # The ACD's queue event (docs/api.md): the call joined queue care.
    rig.engine._publish(
        {"type": "queue", "event": "join", "queue": "care", "call_id": call.cdr.call_id}
    )
    rig.engine.run_for(11.0)
    rig.recorder.flush()
    (rec,) = rig.index.find(queue="care")
    assert rec.names("queue") == ["care"] and rec.status == "done"
    rig.recorder.close()
    rig.store.close()
    rig.board.close()


def test_recordings_spread_over_several_writer_threads(tmp_path: Path) -> None:
    rig = Rig(tmp_path, site(tmp_path, all=True, writers=2))
    rig.call(trunk=0, station=2)
    rig.board.phone(3).auto_answer(1, [Speak(tone=1000, seconds=4.0), Pause(0.5), HangUp()])
    rig.board.incoming_call(1, at=0.2, caller_id="0213", script=[Speak(tone=500, seconds=60.0)])
    rig.engine.run_for(4.0)
    # Both calls are recorded at once, each by a writer thread of its own.
    assert len({id(w) for w in rig.recorder._writer_of.values()}) == 2
    rig.engine.run_for(10.0)
    rig.recorder.close()
    first, second = sorted(rig.index.find(), key=lambda r: r.caller, reverse=True)
    for rec, left, right in ((first, 700, 1300), (second, 500, 1000)):
        x = read_audio(rec.path).samples
        assert peak_hz(x[0, 800:24000]) == pytest.approx(left, abs=3)
        assert peak_hz(x[1, 800:24000]) == pytest.approx(right, abs=3)
    rig.store.close()
    rig.board.close()


def test_one_recording_follows_a_call_transferred_twice(tmp_path: Path) -> None:
    from boardcc.drivers.sim import Flash, Press
    from tests.test_acd import PASSWORD, agent

    spec = {
        "trunk_groups": [{"name": "main", "channels": "0", "access_number": "400800888"}],
        "stations": [{"channel": 1 + i, "extension": f"800{i + 1}"} for i in range(3)],
        "agents": [agent(f"100{i + 1}", f"800{i + 1}") for i in range(3)],
        "queues": [{"name": "service", "members": ["1001"], "wrap_up_s": 3.0}],
        "inbound": [{"name": "all", "steps": [{"queue": "service"}]}],
        "recording": {"folder": str(tmp_path / "rec"), "queues": ["service"]},
    }
    rig = Rig(tmp_path, spec, trunks=1, stations=3)
    for job in ("1001", "1002", "1003"):
        rig.engine.acd.login(job, PASSWORD, None, "api")
    b = rig.board
    # 8001 (1300 Hz) talks, then transfers to 8002 (1900 Hz), who transfers to 8003 (1000 Hz).
    b.phone(1).auto_answer(
        1,
        [Speak(tone=1300, seconds=3.0), Flash(), Pause(1.0), Press("8002#"), Pause(6.0), HangUp()],
    )
    b.phone(2).auto_answer(
        2,
        [Speak(tone=1900, seconds=5.0), Flash(), Pause(1.0), Press("8003#"), Pause(4.0), HangUp()],
    )
    b.phone(3).auto_answer(1, [Speak(tone=1000, seconds=8.0), HangUp()])
    b.incoming_call(0, at=0.5, caller_id="13812345678", script=[Speak(tone=700, seconds=90.0)])
    rig.engine.run_for(45.0)
    assert rig.engine.idle()
    assert rig.store.flush(10)
    (call,) = [c for c in rig.store.find() if c.trunk == "sim/0"]
    assert call.disposition is Disposition.ANSWERED
    rig.recorder.close()
    (rec,) = rig.index.find()  # one recording for the whole call, not one per leg
    assert rec.call_id == call.call_id and rec.status == "done"
    assert rec.names("agent") == ["1001", "1002", "1003"]
    assert rec.names("station") == ["8001", "8002", "8003"]
    assert rec.names("queue") == ["service"]
    assert rec.names("leg") == ["sim/0", "sim/1", "sim/2", "sim/3"]
    x = read_audio(rec.path).samples
    # From the queue to the caller's last words with 8003: the whole call.
    assert rec.duration_s == pytest.approx(x.shape[1] / FS)
    assert call.ended is not None
    assert rec.duration_s > (call.ended - call.answered).total_seconds() - 1.0
    # The caller throughout on the left; on the right each agent in turn.
    windows = range(0, x.shape[1] - 4000, 2000)
    assert all(abs(peak_hz(x[0, i : i + 4000]) - 700) < 4 for i in windows)
    right = [peak_hz(x[1, i : i + 4000]) for i in windows]
    first = {
        hz: next(k for k, f in enumerate(right) if abs(f - hz) < 4) for hz in (1300, 1900, 1000)
    }
    assert first[1300] < first[1900] < first[1000]
    rig.store.close()
    rig.board.close()


def test_an_agent_records_by_hand_only_with_the_permission(tmp_path: Path) -> None:
    from boardcc.acd import commands
    from boardcc.acd.agent import AgentError
    from tests.test_acd import ALL_RIGHTS, PASSWORD, agent

    spec = {
        "trunk_groups": [{"name": "main", "channels": "0-1", "access_number": "400800888"}],
        "stations": [{"channel": 2, "extension": "8001"}, {"channel": 3, "extension": "8002"}],
        "agents": [
            agent("1001", "8001", permissions=[*ALL_RIGHTS, "record_manually"]),
            agent("1002", "8002"),
        ],
        "queues": [{"name": "service", "members": ["1001", "1002"], "strategy": "fixed_order"}],
        "inbound": [{"name": "all", "steps": [{"queue": "service"}]}],
        "recording": {"folder": str(tmp_path / "rec")},
    }
    rig = Rig(tmp_path, spec)
    acd = rig.engine.acd
    for job in ("1001", "1002"):
        acd.login(job, PASSWORD, None, "api")
    rig.call(trunk=0, station=2, talk_s=8.0)
    rig.board.phone(3).auto_answer(1, [Speak(tone=1000, seconds=8.0), HangUp()])
    rig.board.incoming_call(1, at=0.5, caller_id="0213", script=[Speak(tone=500, seconds=60)])
    rig.engine.run_for(5.0)
    assert not rig.recorder.active  # the site records nothing by itself
    with pytest.raises(AgentError, match="lacks 'record_manually'"):
        commands.run(acd, "1002", "record_start", {})
    rid = commands.run(acd, "1001", "record_start", {})["recording_id"]
    assert commands.run(acd, "1001", "record_start", {}) == {"recording_id": rid}
    rig.engine.run_for(2.0)
    commands.run(acd, "1001", "record_stop", {})
    rig.engine.run_for(10.0)
    rig.recorder.close()
    (rec,) = rig.index.find()
    assert rec.kind == "manual" and rec.names("agent") == ["1001"]
    assert rec.duration_s == pytest.approx(2.0, abs=0.05)
    rig.store.close()
    rig.board.close()
