"""Scenario files for the simulated board: every section applied, every mistake located.

A complete scenario is written here, run once on the board (the host answers trunks at the
second ring, dials out once and otherwise sends silence) and checked with the DSP on what
the board received: caller ID, keys, the speech file, busy tone, ring-back, replayed audio
and line events at their exact samples. Then each kind of mistake must come back as a
`ConfigFileError` naming the file, the line and the key, with nothing applied.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from boardcc.drivers import Board, ChannelKind, open_board
from boardcc.drivers.events import (
    LineEvent,
    LineVoltageBack,
    LineVoltageLost,
    OffHook,
    OnHook,
    PolarityReversal,
    RingOff,
    RingOn,
)
from boardcc.drivers.sim import (
    Callee,
    HangUp,
    LineState,
    SimBoard,
    Speak,
    load_replay_events,
    load_scenario,
)
from boardcc.drivers.sim.scenario import REPLAY_EVENTS
from boardcc.dsp import (
    decode_caller_id,
    detect_dtmf,
    detect_tones,
    dtmf_tones,
    level_dbm0,
    sine_amplitude,
    write_audio,
)
from boardcc.dsp.signals import sines
from boardcc.yamlfile import ConfigFileError

I16 = npt.NDArray[np.int16]
FS = 8000
BLOCK = 160

COMPLETE = """\
board:
  trunks: 3
  stations: 2
  records: [0]
  seed: 11
lines:
  0:
    far_hangup: [busy, reversal]
  1:
    level_db: -6
    noise_dbm0: -55
    echo: {delay_ms: 4, erl_db: 15, dispersion_ms: 5}
    far_hangup: open_loop
    interdigit_s: 2
  2:
    far_hangup: [reversal, open_loop]
directory:
  "8001": busy
  "8002":
    kind: answer
    rings: 1
    script:
      - speak: {tone: 1000, seconds: 1}
      - hang_up
calls:
  - at: 0.5
    trunk: 0
    caller_id:
      number: "13812345678"
      name: ZHANG SAN
    script:
      - wait: 0.5
      - press: {digits: "123", on_ms: 100, off_ms: 100}
      - speak: hello.wav
      - hang_up
  - at: 1
    trunk: 1
    caller_id: "02088889999"
    script:
      - wait: 3
      - hang_up
phones:
  3:
    auto_answer:
      after_rings: 2
      talk:
        - speak: {tone: 700, seconds: 0.5}
  4:
    scripts:
      - at: 1
        steps:
          - off_hook
          - dial: "8001"
          - wait: 0.5
          - on_hook
replays:
  - trunk: 2
    file: noise.wav
    at: 0.5
    events:
      - {at: 0, event: ring_on}
      - {at: 0.5, event: ring_off}
      - {at: 0.8, event: hang_up}
  - trunk: 2
    file: noise.wav
    at: 3
    events: events.yaml
"""

EVENTS_FILE = """\
- {at: 0.75, event: voltage_back}
- {at: 0.25, event: polarity}
- {at: 0.5, event: voltage_lost}
"""

HELLO = sines([700.0], 4000, fs=FS, level_dbm0=-12.0).astype(np.int16)  # 0.5 s
NOISE = np.random.default_rng(5).normal(0.0, 900.0, 8000).astype(np.int16)  # 1 s


def _files(folder: Path, text: str = COMPLETE) -> Path:
    """The scenario and the files it names, in `folder`."""
    write_audio(folder / "hello.wav", HELLO)
    write_audio(folder / "noise.wav", NOISE)
    (folder / "events.yaml").write_text(EVENTS_FILE, encoding="utf-8")
    path = folder / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Run:
    """What the board received and reported while a scenario ran."""

    rx: I16  # (channels, samples)
    events: list[LineEvent]
    board: SimBoard

    def of(self, kind: type[LineEvent], channel: int) -> list[int]:
        return [e.at for e in self.events if type(e) is kind and e.channel == channel]


# What the host does besides answering: white noise on trunk 1 (samples from, to; dBm0)...
ECHO_TEST = (7 * FS, 8 * FS, -10.0)
# ...then, once that call is over, it releases trunk 1, seizes it again and dials 8002.
RELEASE_S, SEIZE_S, DIAL_S, DIALLED = 10.0, 10.2, 12.0, "8002"


def _run(board: SimBoard, seconds: float, *, dial_out: bool = True) -> Run:
    """Drive `board` for `seconds`: answer trunks 0 and 1 at their second ring, ring
    station 3 from the start, and (with `dial_out`) take trunk 1 again after its call and
    dial 8002 with the host's own DTMF."""
    rings: Counter[int] = Counter()
    blocks: list[I16] = []
    events: list[LineEvent] = []
    silence = np.zeros((len(board), board.block), np.int16)
    digits = dtmf_tones(DIALLED, fs=FS, on_ms=100, off_ms=100)
    dial_at = round(DIAL_S * FS)
    echo_from, echo_to, echo_level = ECHO_TEST
    rng = np.random.default_rng(3)
    sigma = sine_amplitude(echo_level) / np.sqrt(2.0)
    board.ring(3)
    for _ in range(round(seconds * FS / board.block)):
        blocks.append(board.read())
        for event in board.events():
            events.append(event)
            if isinstance(event, RingOn) and event.channel in (0, 1):
                rings[event.channel] += 1
                if rings[event.channel] == 2:
                    board.offhook(event.channel)
        now = board.now  # the sample the next write starts at
        tx = silence
        if echo_from <= now < echo_to:
            tx = silence.copy()
            tx[1] = np.rint(rng.normal(0.0, sigma, board.block))
        if dial_out:
            if now == round(RELEASE_S * FS):
                board.onhook(1)
            if now == round(SEIZE_S * FS):
                board.offhook(1)
            k = now - dial_at
            if 0 <= k < digits.size:
                tx = silence.copy()
                tx[1] = digits[k : k + board.block]
        board.write(tx)
    return Run(np.concatenate(blocks, axis=1), events, board)


@pytest.fixture(scope="module")
def complete(tmp_path_factory: pytest.TempPathFactory) -> Run:
    path = _files(tmp_path_factory.mktemp("complete"))
    board = SimBoard(scenario=path)
    try:
        run = _run(board, 17.0)
    finally:
        board.close()
    return run


# -- a complete scenario --------------------------------------------------------------------


def test_board_section_gives_the_channel_layout(tmp_path: Path) -> None:
    path = _files(tmp_path)
    with open_board("sim", scenario=path) as board:
        assert isinstance(board, SimBoard)
        kinds = [c.kind for c in board.channels]
        assert kinds == [ChannelKind.TRUNK] * 3 + [ChannelKind.STATION] * 2 + [ChannelKind.RECORD]
        assert board.channels[5].tap_of == 0


def test_scenario_applies_lines_and_directory(tmp_path: Path) -> None:
    with SimBoard(scenario=_files(tmp_path)) as board:
        assert board.trunk(0).far_hangup == ["busy", "reversal"]
        assert board.trunk(1).far_hangup == ["open_loop"]
        assert board.trunk(1).interdigit_s == 2.0
        assert board.trunk(2).far_hangup == ["reversal", "open_loop"]
        assert board.directory == {
            "8001": Callee("busy"),
            "8002": Callee("answer", 1, (Speak(tone=1000.0, seconds=1.0), HangUp())),
        }


def test_complete_scenario_runs_without_errors(complete: Run) -> None:
    assert complete.board.errors == []


def test_caller_id_from_a_mapping_decoded_from_the_trunk(complete: Run) -> None:
    answered = complete.board.trunk(0).calls[0].answered
    assert answered is not None
    (cid,) = decode_caller_id(complete.rx[0, :answered])
    assert (cid.number, cid.name, cid.datetime) == ("13812345678", "ZHANG SAN", "01050900")
    assert not cid.damaged
    # Bell 202 between the first and second ring: the first ring is 0.5-1.5 s.
    assert 2.0 * FS - BLOCK <= cid.start <= 2.0 * FS + 2 * BLOCK


def test_caller_id_given_as_a_number_decoded_through_the_impaired_line(complete: Run) -> None:
    answered = complete.board.trunk(1).calls[0].answered
    assert answered is not None
    (cid,) = decode_caller_id(complete.rx[1, :answered])
    assert (cid.number, cid.name) == ("02088889999", None)


def test_incoming_call_records(complete: Run) -> None:
    first, second = complete.board.trunk(0).calls[0], complete.board.trunk(1).calls[0]
    assert (first.direction, first.number, first.outcome, first.cleared_by) == (
        "in",
        "13812345678",
        "answered",
        "far",
    )
    assert (first.started, second.started) == (4000, 8000)
    # Answered at the second ring (1 s on, 4 s off), in the block after its RingOn.
    assert first.answered == 44000 + BLOCK
    assert second.answered == 48000 + BLOCK
    # The caller waits 0.5 s, presses three keys (200 ms each), speaks 0.5 s, hangs up.
    assert first.ended == first.answered + 4000 + 3 * 1600 + HELLO.size
    assert second.ended == second.answered + 3 * FS


def test_callers_keys_and_speech_reach_the_board(complete: Run) -> None:
    call = complete.board.trunk(0).calls[0]
    assert call.answered is not None and call.ended is not None
    talk = complete.rx[0, call.answered : call.ended]
    keys = detect_dtmf(talk)
    assert "".join(k.digit for k in keys) == "123"
    assert [k.start for k in keys] == pytest.approx([4000, 5600, 7200], abs=60)
    spoken = call.ended - HELLO.size
    np.testing.assert_array_equal(complete.rx[0, spoken : call.ended], HELLO)


def test_busy_tone_and_reversal_after_the_caller_hangs_up(complete: Run) -> None:
    ended = complete.board.trunk(0).calls[0].ended
    assert ended is not None
    assert complete.of(PolarityReversal, 0) == [ended]
    tones = detect_tones(complete.rx[0, ended : ended + 3 * FS])
    on = [t for t in tones if t.kind == "on"]
    assert [t.name for t in on] == ["busy"]
    assert on[0].sample == pytest.approx(0.3 * FS, abs=0.05 * FS)


def test_open_loop_after_the_caller_hangs_up(complete: Run) -> None:
    ended = complete.board.trunk(1).calls[0].ended
    assert ended is not None
    assert complete.of(LineVoltageLost, 1)[0] == ended
    assert complete.of(LineVoltageBack, 1)[0] == ended + round(0.6 * FS)
    assert complete.of(PolarityReversal, 1) == []


def test_record_tap_mirrors_its_trunks_events_and_audio(complete: Run) -> None:
    assert complete.of(RingOn, 5) == complete.of(RingOn, 0)
    assert complete.of(OffHook, 5) == [complete.board.trunk(0).calls[0].answered]
    np.testing.assert_array_equal(complete.rx[5], complete.rx[0])  # the board sent silence


def test_line_level_noise_and_echo(complete: Run) -> None:
    (clear,) = decode_caller_id(complete.rx[0, : 5 * FS])
    (weak,) = decode_caller_id(complete.rx[1, : 5 * FS])
    loud = level_dbm0(complete.rx[0, clear.start + 400 : clear.end - 400])
    soft = level_dbm0(complete.rx[1, weak.start + 400 : weak.end - 400])
    assert loud - soft == pytest.approx(6.0, abs=0.3)
    between_rings = slice(weak.end + 400, 6 * FS - 400)
    assert level_dbm0(complete.rx[1, between_rings]) == pytest.approx(-55.0, abs=0.5)
    assert not complete.rx[0, clear.end + 400 : 5 * FS].any()
    # What the host sends on trunk 1 comes back 15 dB down (its echo path).
    sent = slice(ECHO_TEST[0] + 400, ECHO_TEST[1])
    assert level_dbm0(complete.rx[1, sent]) == pytest.approx(ECHO_TEST[2] - 15.0, abs=1.0)


def test_dial_out_through_the_directory(complete: Run) -> None:
    board = complete.board
    trunk = board.trunk(1)
    assert len(trunk.calls) == 2
    out = trunk.calls[1]
    assert (out.direction, out.number, out.outcome, out.cleared_by) == (
        "out",
        "8002",
        "answered",
        "far",
    )
    assert out.answered is not None and out.ended is not None
    assert out.ended - out.answered == FS  # the callee's tone, then hang-up
    seized = round(SEIZE_S * FS)
    heard = detect_tones(complete.rx[1, seized : out.answered])
    names = [t.name for t in heard if t.kind == "on"]
    assert (names[0], names[-1]) == ("dial", "ringback")  # "voice" between: the keys' echo
    assert heard[0].sample == pytest.approx(0.1 * FS, abs=0.05 * FS)
    tone = complete.rx[1, out.answered + 400 : out.ended - 400]
    assert level_dbm0(tone) == pytest.approx(-16.0, abs=0.5)  # -10 dBm0 less 6 dB of line
    assert complete.of(LineVoltageLost, 1)[1] == out.ended


def test_phone_auto_answers_and_talks(complete: Run) -> None:
    assert complete.of(OffHook, 3) == [5 * FS]  # second ring of 1 s on, 4 s off
    said = complete.rx[3, 5 * FS : 5 * FS + 4000]
    assert level_dbm0(said) == pytest.approx(-10.0, abs=0.2)
    (tone,) = [t for t in detect_tones(complete.rx[3]) if t.kind == "on"]
    assert tone.sample == pytest.approx(5 * FS, abs=0.05 * FS)


def test_phone_script_lifts_dials_and_hangs_up(complete: Run) -> None:
    (lifted,) = complete.of(OffHook, 4)
    (replaced,) = complete.of(OnHook, 4)
    assert lifted == 1 * FS
    keys = detect_dtmf(complete.rx[4])
    assert "".join(k.digit for k in keys) == "8001"
    assert lifted < keys[0].start
    # After the last key: its pause (a person's, 80-250 ms), then 0.5 s, then on hook.
    after = replaced - keys[-1].end - FS // 2
    assert 0.08 * FS - 60 <= after <= 0.25 * FS + 60


def test_replay_with_inline_events(complete: Run) -> None:
    start = round(0.5 * FS)
    np.testing.assert_array_equal(complete.rx[2, start : start + NOISE.size], NOISE)
    assert not complete.rx[2, :start].any()
    assert complete.of(RingOn, 2) == [start]
    assert complete.of(RingOff, 2) == [start + round(0.5 * FS)]
    hang_up = start + round(0.8 * FS)
    assert complete.of(PolarityReversal, 2)[0] == hang_up
    assert complete.of(LineVoltageLost, 2)[0] == hang_up
    assert complete.of(LineVoltageBack, 2)[0] == hang_up + round(0.6 * FS)


def test_replay_with_an_events_file(complete: Run) -> None:
    start = 3 * FS
    np.testing.assert_array_equal(complete.rx[2, start : start + NOISE.size], NOISE)
    assert not complete.rx[2, round(1.5 * FS) : start].any()
    assert not complete.rx[2, start + NOISE.size :].any()
    assert complete.of(PolarityReversal, 2)[1:] == [start + 2000]
    assert complete.of(LineVoltageLost, 2)[1:] == [start + 4000]
    assert complete.of(LineVoltageBack, 2)[1:] == [start + 6000]


def test_same_seed_same_run(tmp_path: Path, complete: Run) -> None:
    with SimBoard(scenario=_files(tmp_path)) as board:
        again = _run(board, 8.0, dial_out=False)
    np.testing.assert_array_equal(again.rx, complete.rx[:, : 8 * FS])
    assert again.events == [e for e in complete.events if e.at < 8 * FS]


def test_scenario_loaded_into_an_open_board(tmp_path: Path) -> None:
    path = _files(tmp_path)
    with SimBoard(trunks=3, stations=2) as board:
        board.load_scenario(path)
        assert board.trunk(1).far_hangup == ["open_loop"]
        assert sorted(board.directory) == ["8001", "8002"]


def test_scenario_from_a_mapping() -> None:
    scenario = load_scenario(
        {"board": {"trunks": 1, "stations": 0}, "calls": [{"at": 0, "trunk": 0}]}
    )
    assert scenario.source == "<scenario>"
    assert scenario.board == {"trunks": 1, "stations": 0}
    with SimBoard(trunks=1, stations=0) as board:
        scenario.apply(board)
        events = board.advance(1.5)
    assert [type(e) for e in events] == [RingOn, RingOff]


# -- replay event files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [EVENTS_FILE, "events:\n" + textwrap.indent(EVENTS_FILE, "  ")],
    ids=["bare list", "events key"],
)
def test_replay_events_file_with_or_without_events_key(tmp_path: Path, text: str) -> None:
    path = tmp_path / "ev.yaml"
    path.write_text(text, encoding="utf-8")
    timed = load_replay_events(path)
    assert timed == [
        (0.25, REPLAY_EVENTS["polarity"]),
        (0.5, REPLAY_EVENTS["voltage_lost"]),
        (0.75, REPLAY_EVENTS["voltage_back"]),
    ]


def test_replay_events_file_error_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "ev.yaml"
    path.write_text("- {at: 0, event: ring_on}\n- {at: 1, event: explode}\n", encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_replay_events(path)
    assert caught.value.problems == [
        (
            2,
            "events.1.event",
            "'explode' is not one of ring_on, ring_off, polarity, voltage_lost, "
            "voltage_back, hang_up",
        )
    ]


def test_replay_events_given_as_a_list() -> None:
    timed = load_replay_events([{"at": 2, "event": "ring_off"}, {"at": 1, "event": "ring_on"}])
    assert [at for at, _ in timed] == [1.0, 2.0]


# -- mistakes -------------------------------------------------------------------------------


def _mistake(tmp_path: Path, text: str) -> tuple[Path, ConfigFileError]:
    path = _files(tmp_path, textwrap.dedent(text))
    before = set(map(id, Board.open_boards()))
    with pytest.raises(ConfigFileError) as caught:
        SimBoard(scenario=path)
    assert set(map(id, Board.open_boards())) == before  # nothing opened, nothing applied
    with pytest.raises(ConfigFileError) as again:
        load_scenario(path)
    assert again.value.problems == caught.value.problems
    return path, caught.value


MISTAKES = {
    "tap of a trunk the board lacks": (
        """\
        board:
          trunks: 1
          records: [0, 3]
        """,
        [(3, "board.records.1", "trunk 3 does not exist (the board has 1)")],
    ),
    "tone plan that does not exist": (
        """\
        board:
          plan: atlantis
        """,
        [
            (
                2,
                "board.plan",
                "unknown tone plan 'atlantis'; shipped plans are cn, eu, us (or give a YAML file)",
            )
        ],
    ),
    "odd cadence": (
        """\
        calls:
          - at: 0
            trunk: 0
            cadence: [1000, 4000, 400]
        """,
        [
            (
                4,
                "calls.0.cadence",
                "a cadence is pairs of positive ms (on, off, ...), got [1000, 4000, 400]",
            )
        ],
    ),
    "empty press": (
        """\
        calls:
          - at: 0
            trunk: 0
            script:
              - press: ""
        """,
        [(5, "calls.0.script.0", "press needs at least one key")],
    ),
    "a phone that sends fax tones": (
        """\
        board: {trunks: 1, stations: 1}
        phones:
          1:
            scripts:
              - at: 0
                steps: [off_hook, fax]
        """,
        [(6, "phones.1.scripts.0.steps.1", "fax is not something a phone can do")],
    ),
    "unknown top-level key": (
        """\
        board: {trunks: 1}
        line:
          0: {level_db: -3}
        """,
        [(2, "line", "unknown key")],
    ),
    "unknown key in a line": (
        """\
        lines:
          0:
            level_db: -3
            colour: red
        """,
        [(4, "lines.0.colour", "unknown key")],
    ),
    "bad far_hangup": (
        """\
        lines:
          1:
            far_hangup:
              - busy
              - shout
        """,
        [(3, "lines.1.far_hangup", "'shout' is not one of busy, reversal, open_loop, silence")],
    ),
    "line on no channel": (
        """\
        board: {trunks: 1, stations: 1}
        lines:
          2: {level_db: -3}
        """,
        [(3, "lines.2", "no trunk or station 2")],
    ),
    "unknown callee kind": (
        """\
        directory:
          "8001": busy
          "8002":
            rings: 3
            kind: robot
        """,
        [
            (
                5,
                "directory.8002.kind",
                "'robot' is not one of answer, busy, no_answer, congestion, not_in_service, "
                "fax, machine",
            )
        ],
    ),
    "unknown callee kind, shorthand": (
        """\
        directory:
          "8001": robot
        """,
        [(2, "directory.8001", "'robot' is not a callee kind")],
    ),
    "number with letters": (
        """\
        directory:
          "80O1": busy
        """,
        [(2, "directory.80O1", "a number is digits only")],
    ),
    "unknown step": (
        """\
        calls:
          - at: 0
            trunk: 0
            script:
              - wait: 1
              - shout: hello
        """,
        [
            (
                6,
                "calls.0.script.1",
                "unknown step 'shout'; steps are: dial, fax, flash, hang_up, off_hook, on_hook, "
                "press, speak, wait, wait_ring, wait_silence, wait_sound",
            )
        ],
    ),
    "unknown bare step": (
        """\
        directory:
          "8002":
            script:
              - hangup
        """,
        [
            (
                4,
                "directory.8002.script.0",
                "unknown step 'hangup'; steps are: dial, fax, flash, hang_up, off_hook, "
                "on_hook, press, speak, wait, wait_ring, wait_silence, wait_sound",
            )
        ],
    ),
    "step with two keys": (
        """\
        calls:
          - at: 0
            trunk: 0
            script:
              - wait: 1
                press: "1"
        """,
        [(5, "calls.0.script.0", "a step is a word (hang_up) or one key and its value (wait: 2)")],
    ),
    "step value of the wrong kind": (
        """\
        phones:
          4:
            scripts:
              - at: 0
                steps:
                  - off_hook
                  - wait: soon
        """,
        [(7, "phones.4.scripts.0.steps.1", "could not convert string to float: 'soon'")],
    ),
    "speak of a missing file": (
        """\
        calls:
          - at: 0
            trunk: 0
            script:
              - speak: goodbye.wav
        """,
        [(5, "calls.0.script.0", "audio file 'goodbye.wav' not found")],
    ),
    "replay of a missing file": (
        """\
        replays:
          - trunk: 0
            file: missing.wav
        """,
        [(3, "replays.0.file", "audio file 'missing.wav' not found")],
    ),
    "replay events file missing": (
        """\
        replays:
          - trunk: 0
            file: noise.wav
            events: missing.yaml
        """,
        [(4, "replays.0.events", "file 'missing.yaml' not found")],
    ),
    "call on no trunk": (
        """\
        board: {trunks: 2, stations: 2}
        calls:
          - at: 0
            trunk: 2
        """,
        [(4, "calls.0.trunk", "no trunk 2")],
    ),
    "caller ID with a bad mode": (
        """\
        calls:
          - at: 0
            trunk: 0
            caller_id:
              number: "123"
              mode: morse
        """,
        [(6, "calls.0.caller_id.mode", "Input should be 'fsk', 'dtmf' or 'v23'")],
    ),
    "DTMF caller ID with a name": (
        """\
        calls:
          - at: 0
            trunk: 0
            caller_id: {number: "123", name: LI, mode: dtmf}
        """,
        [(4, "calls.0.caller_id", "DTMF caller ID carries no name")],
    ),
    "phone on a trunk": (
        """\
        board: {trunks: 2, stations: 2}
        phones:
          1:
            auto_answer: {after_rings: 1}
        """,
        [(3, "phones.1", "channel 1 is not a station")],
    ),
    "replay on no trunk": (
        """\
        board: {trunks: 1, stations: 1}
        replays:
          - trunk: 1
            file: noise.wav
        """,
        [(3, "replays.0.trunk", "no trunk 1")],
    ),
    "inline replay event with an unknown name": (
        """\
        replays:
          - trunk: 0
            file: noise.wav
            events:
              - {at: 0, event: ring_on}
              - at: 1
                event: explode
        """,
        [
            (
                7,
                "replays.0.events.1.event",
                "'explode' is not one of ring_on, ring_off, polarity, voltage_lost, "
                "voltage_back, hang_up",
            )
        ],
    ),
    "inline replay event without its time": (
        """\
        replays:
          - trunk: 0
            file: noise.wav
            events:
              - {at: 0, event: ring_on}
              - event: ring_off
              - {at: 2, event: hang_up}
        """,
        [(6, "replays.0.events.1.at", "required key is missing")],
    ),
    "several mistakes together": (
        """\
        board: {trunks: 1, stations: 1}
        calls:
          - at: 0
            trunk: 3
        replays:
          - trunk: 0
            file: missing.wav
        """,
        [
            (4, "calls.0.trunk", "no trunk 3"),
            (7, "replays.0.file", "audio file 'missing.wav' not found"),
        ],
    ),
}


@pytest.mark.parametrize(("text", "problems"), MISTAKES.values(), ids=MISTAKES.keys())
def test_mistake_named_by_file_line_and_key(
    tmp_path: Path, text: str, problems: list[tuple[int, str, str]]
) -> None:
    path, error = _mistake(tmp_path, text)
    assert error.source == str(path)
    assert error.problems == problems
    line, key, reason = problems[0]
    assert str(error).splitlines()[0] == f"{path}:{line}: {key}: {reason}"


def test_events_file_with_an_unknown_event_refused_before_anything_is_applied(
    tmp_path: Path,
) -> None:
    (tmp_path / "bad-events.yaml").write_text(
        "events:\n  - {at: 0, event: ring_on}\n  - {at: 1, event: explode}\n", encoding="utf-8"
    )
    text = """\
    replays:
      - trunk: 0
        file: noise.wav
        events: bad-events.yaml
    """
    _, error = _mistake(tmp_path, text)
    assert error.source == str(tmp_path / "bad-events.yaml")
    assert [(line, key) for line, key, _ in error.problems] == [(3, "events.1.event")]


def test_phone_only_step_in_a_caller_script_is_refused_with_its_line(tmp_path: Path) -> None:
    path = _files(tmp_path, "calls:\n  - at: 0\n    trunk: 0\n    script:\n      - off_hook\n")
    try:
        load_scenario(path)
    except ConfigFileError as exc:
        problems = exc.problems
    else:
        problems = []
    assert problems == [(5, "calls.0.script.0", "off_hook is not something a caller can do")]


def test_bundled_demo_scenario_runs_for_its_length() -> None:
    demo = resources.files("boardcc.samples") / "scenario-demo.yaml"
    with resources.as_file(demo) as path, SimBoard(scenario=path) as board:
        rings: Counter[int] = Counter()
        events: list[LineEvent] = []
        silence = np.zeros((len(board), board.block), np.int16)
        board.ring(4)
        for _ in range(round(30.0 * FS / board.block)):
            board.read()
            for event in board.events():
                events.append(event)
                if isinstance(event, RingOn) and event.channel < 3:
                    rings[event.channel] += 1
                    if rings[event.channel] == 2:
                        board.offhook(event.channel)
                        rings[event.channel] = 0
            for trunk in range(3):  # the host hangs up once the far end has
                if board.trunk(trunk).state is LineState.CLEARED:
                    board.onhook(trunk)
            board.write(silence)
        assert board.errors == []
        outcomes = [[c.outcome for c in board.trunk(t).calls] for t in range(3)]
        assert outcomes == [["answered", "answered"], ["answered"], ["answered"]]
        assert [c.cleared_by for t in range(3) for c in board.trunk(t).calls] == ["far"] * 4
    assert [e.at for e in events if isinstance(e, OffHook) and e.channel == 4] == [5 * FS]
    replayed = [(type(e), e.at) for e in events if e.channel == 3]
    assert replayed == [(RingOff, 4 * FS), (PolarityReversal, 25 * FS)]


def test_docs_show_the_shipped_demo() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "simulator.md").read_text("utf-8")
    marker = (
        "<!-- scenario-demo.yaml: kept identical to the shipped file by tests/test_scenario.py -->"
    )
    shown = doc.split(marker)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    shipped = (resources.files("boardcc.samples") / "scenario-demo.yaml").read_text("utf-8")
    assert shown == shipped
