"""The recordings' writer thread under load: 300 calls recorded at once (SPEC Q1's agents).

The engine hands the writer one array a tick for all recordings; the writer gathers half a
second, writes each recording's share and rewrites its header (so the file is whole on
disk). Measured: seconds of audio of all 300 recordings written per second of wall time
(the real-time factor: above 1 the writer keeps up with 300 live calls), for each codec,
next to the same audio written by `soundfile` in one go per file, the least work libsndfile
can do (no streaming, no header rewrites): the ratio is what streaming costs. MP3 is also
run on two writer threads (``recording.writers``), as a site recording many calls in MP3
would.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from boardcc.recording.files import CONTAINERS
from boardcc.recording.index import Recording
from boardcc.recording.settings import SUFFIX
from boardcc.recording.writer import RecordingWriter

RECORDINGS = 300
SECONDS = 2.0
FS, BLOCK = 8000, 160
# codec -> channels, writer threads
CASES = {
    "pcm16": (2, 1),
    "alaw": (2, 1),
    "ima_adpcm": (2, 1),
    "gsm610": (1, 1),
    "mp3": (2, 1),
    "mp3, 2 writers": (2, 2),
}

RESULTS: dict[str, dict[str, float]] = {}


def ticks() -> np.ndarray:
    """SECONDS of (recordings, 2, BLOCK) blocks: speech-like noise, different per row."""
    rng = np.random.default_rng(3)
    n = round(SECONDS * FS / BLOCK)
    base = rng.normal(0, 2000, (RECORDINGS, 2, BLOCK * 50)).astype(np.int16)
    return np.stack([base[:, :, (k % 50) * BLOCK : (k % 50 + 1) * BLOCK] for k in range(n)])


def ours(folder: Path, codec: str, channels: int, blocks: np.ndarray, threads: int) -> float:
    """The recorder's way: each writer thread gets its share of every tick's array."""
    t0 = time.perf_counter()  # files created inside the timing, as for the peer
    writers = [RecordingWriter(None, fs=FS, block=BLOCK) for _ in range(threads)]
    ids = [f"r{i}" for i in range(RECORDINGS)]
    started = dt.datetime.now(dt.UTC)
    for i, rid in enumerate(ids):
        path = folder / f"{rid}{SUFFIX[codec]}"
        writers[i % threads].open(Recording(rid, "call", started, str(path), codec, channels))
    shares = [
        (w, tuple(ids[k::threads]), np.arange(k, RECORDINGS, threads))
        for k, w in enumerate(writers)
    ]
    for block in blocks:
        for writer, share, rows in shares:
            writer.audio(share, block[rows])
    for writer in writers:
        writer.flush()
    elapsed = time.perf_counter() - t0
    for writer in writers:
        writer.close()
    return elapsed


def whole_files(folder: Path, codec: str, channels: int, blocks: np.ndarray) -> float:
    container, subtype = CONTAINERS[codec]
    t0 = time.perf_counter()
    audio = blocks.transpose(1, 2, 0, 3).reshape(RECORDINGS, 2, -1)
    for i in range(RECORDINGS):
        x = audio[i, 0] if channels == 1 else audio[i].T
        extra: dict[str, Any] = (
            {"bitrate_mode": "CONSTANT", "compression_level": 0.5} if codec == "mp3" else {}
        )
        data = x.astype(np.float32) / 32768 if codec == "mp3" else np.ascontiguousarray(x)
        sf.write(
            folder / f"w{i}{SUFFIX[codec]}", data, FS, format=container, subtype=subtype, **extra
        )
    return time.perf_counter() - t0


@pytest.mark.parametrize("case", list(CASES))
def test_writer_keeps_up_with_300_recordings(benchmark: Any, tmp_path: Path, case: str) -> None:
    codec = case.split(",")[0]
    channels, threads = CASES[case]
    blocks = ticks()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    elapsed = benchmark.pedantic(
        ours, args=(tmp_path / "a", codec, channels, blocks, threads), rounds=1, iterations=1
    )
    peer = whole_files(tmp_path / "b", codec, channels, blocks)
    RESULTS[case] = {"realtime": SECONDS / elapsed, "ratio": elapsed / peer}
    benchmark.extra_info.update(RESULTS[case])
    assert sf.info(str(tmp_path / "a" / f"r0{SUFFIX[codec]}")).duration == pytest.approx(
        SECONDS, abs=0.1
    )


def test_print_the_table() -> None:
    if not RESULTS:
        pytest.skip("no measurements in this run")
    print(f"\n{RECORDINGS} recordings, {SECONDS:.0f} s each: real-time factor of the writer, ")
    print("and its time over soundfile writing each whole file in one go")
    for codec, r in RESULTS.items():
        print(f"  {codec:<15} {r['realtime']:7.1f}x real time   {r['ratio']:5.2f}x soundfile")
