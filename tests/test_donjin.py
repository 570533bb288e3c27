"""The donjin backend on the simulated vendor SDK: opening, failures, and what each SDK call
turns into (the shared behaviour is in test_board_contract.py, whole calls in
test_engine_donjin.py)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from boardcc.config import load_site
from boardcc.drivers import (
    BackendUnavailableError,
    BoardConfigError,
    BusyToneDetected,
    CallerIdReceived,
    ChannelKind,
    HookFlash,
    NotSupportedError,
    OffHook,
    OnHook,
    PolarityReversal,
    RingOn,
    open_board,
)
from boardcc.drivers.donjin import DonjinBoard
from boardcc.drivers.donjin.binding import (
    NEWSIG_FUNCTIONS,
    TC08A32_FUNCTIONS,
    ChannelPlaying,
    DriverError,
    NoRealtimeAudio,
    SdkError,
    check,
    default_libraries,
)
from boardcc.dsp import level_dbm0
from tests.donjin_sdk_sim import SimCard, build

TRUNK, STATION = 0, 2


def run(board: DonjinBoard, blocks: int) -> list:
    events = []
    for _ in range(blocks):
        board.read()
        events += board.events()
        board.write(np.zeros((len(board), board.block), np.int16))
    return events


def test_a_missing_library_is_unavailable_and_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match="cannot load") as info:
        open_board("donjin", library=str(tmp_path / "libtc08a32.so"))
    assert "docs/boards/donjin.md" in info.value.install
    assert default_libraries("win32") == ("Tc08a32.dll", "NewSig.dll")


def test_a_library_without_the_functions_needed_is_unavailable(sim_card: SimCard) -> None:
    with pytest.raises(BackendUnavailableError, match="lacks Sig_Init, Sig_CheckBusy"):
        DonjinBoard(library=sim_card.library, newsig_library="libm.so.6")


def test_the_functions_checked_at_opening_are_the_ones_declared() -> None:
    build_script = Path(__file__).parents[1] / "build_cffi" / "donjin_build.py"
    declared = set(re.findall(r"WINAPI (\w+)\(", build_script.read_text()))
    optional = {"GetCallerIDStrEx", "DRec_OffHookDetect"}
    assert declared == {*TC08A32_FUNCTIONS, *NEWSIG_FUNCTIONS, *optional}


def test_a_driver_that_does_not_start_is_reported_with_the_vendors_meaning(
    sim_card: SimCard,
) -> None:
    sim_card.SetLoadResult(-2)
    with pytest.raises(BackendUnavailableError, match=r"LoadDRV returned -2: cannot read TC08A"):
        DonjinBoard(library=sim_card.library)
    sim_card.SetLoadResult(0)
    with DonjinBoard(library=sim_card.library) as board:  # nothing was left half open
        assert len(board) == 4


def test_a_card_without_realtime_recording_is_refused(sim_card: SimCard) -> None:
    sim_card.reset(["trunk", "station"], realtime=False)
    with pytest.raises(BackendUnavailableError, match="D161A"):
        DonjinBoard(library=sim_card.library)


def test_one_board_per_process_because_the_sdk_is_process_wide(sim_card: SimCard) -> None:
    with (
        DonjinBoard(library=sim_card.library),
        pytest.raises(BoardConfigError, match="already open"),
    ):
        DonjinBoard(library=sim_card.library)
    DonjinBoard(library=sim_card.library).close()


@pytest.mark.parametrize(
    ("op", "code", "kind", "meaning"),
    [
        ("LoadDRV", -3, DriverError, "does not match the cards"),
        ("EnableCard", -2, DriverError, "cannot allocate"),
        ("SetLink", -5, ChannelPlaying, "second channel is playing"),
        ("VR_SetRefreshSize", -5, NoRealtimeAudio, "not a D161A"),
        ("LoadDRV", -9, DriverError, "does not list"),
        ("SomethingElse", -1, SdkError, "does not list"),
    ],
)
def test_every_sdk_status_becomes_a_typed_exception(
    op: str, code: int, kind: type[SdkError], meaning: str
) -> None:
    assert check(op, 0) == 0
    with pytest.raises(kind, match=meaning) as info:
        check(op, code)
    assert (info.value.op, info.value.code) == (op, code)


def test_kinds_and_capabilities_come_from_the_card(sim_card: SimCard) -> None:
    sim_card.reset(["trunk", "station", "record", "empty"], caller_id=False)
    with DonjinBoard(library=sim_card.library) as board:
        assert [c.kind for c in board.channels] == [
            ChannelKind.TRUNK,
            ChannelKind.STATION,
            ChannelKind.RECORD,
            ChannelKind.EMPTY,
        ]
        caps = board.capabilities
        assert caps.hardware_dtmf and caps.links and not caps.caller_id
        assert not (caps.echo_cancel or caps.conference or caps.gains)
        with pytest.raises(NotSupportedError):
            board.feed_power(1, on=False)


def test_settings_out_of_range_are_refused(sim_card: SimCard) -> None:
    with pytest.raises(BoardConfigError, match="refresh_bytes"):
        DonjinBoard(library=sim_card.library, refresh_bytes=700)
    with pytest.raises(BoardConfigError, match="unknown donjin board setting"):
        DonjinBoard(library=sim_card.library, channels="1-4")


def test_a_station_rings_with_the_asked_cadence_and_a_lift_trips_it(sim_card: SimCard) -> None:
    with DonjinBoard(library=sim_card.library) as board:
        board.ring(STATION, (400, 600))
        bell = []
        for _ in range(150):  # 3 s
            run(board, 1)
            bell.append(sim_card.Ringing(STATION))
        assert np.mean(bell) == pytest.approx(0.4, abs=0.03)
        assert sim_card.RingBursts(STATION) == 3
        sim_card.Lift(STATION)
        events = run(board, 3)
        assert [type(e) for e in events] == [OffHook]
        assert not sim_card.Ringing(STATION)
        run(board, 100)
        assert not sim_card.Ringing(STATION)  # the cadence no longer runs


def test_a_station_flash_and_a_hang_up(sim_card: SimCard) -> None:
    with DonjinBoard(library=sim_card.library) as board:
        sim_card.Lift(STATION)
        run(board, 5)
        sim_card.Flash(STATION, 300)
        assert [type(e) for e in run(board, 40)] == [HookFlash]
        sim_card.Replace(STATION)
        down = board.now
        (hung,) = run(board, 40)
        assert isinstance(hung, OnHook)
        assert abs(hung.at - down) <= 2 * board.block  # when it went down, not 0.5 s later


def test_a_trunk_reports_polarity_busy_tone_and_flashes(sim_card: SimCard) -> None:
    with DonjinBoard(library=sim_card.library) as board:
        board.offhook(TRUNK)
        sim_card.Reverse(TRUNK)
        assert [type(e) for e in run(board, 2)] == [PolarityReversal]
        board.flash(TRUNK, 200)
        assert not sim_card.CardOffHook(TRUNK)
        run(board, 11)
        assert sim_card.CardOffHook(TRUNK)
        sim_card.FarHangUp(TRUNK)
        events = run(board, 100)
        assert [type(e) for e in events] == [BusyToneDetected]


def test_caller_id_with_a_bad_checksum_is_dropped(sim_card: SimCard) -> None:
    with DonjinBoard(library=sim_card.library) as board:
        sim_card.ring(TRUNK, "13912345678", bad_checksum=True)
        events = run(board, 200)
        assert RingOn in {type(e) for e in events}
        assert not [e for e in events if isinstance(e, CallerIdReceived)]


def test_caller_id_from_a_library_without_the_ex_call_gives_the_number(
    tmp_path: Path,
) -> None:
    card = SimCard(build(tmp_path, "DJSIM_NO_CALLERID_EX"))
    card.reset(["trunk", "station"])
    with DonjinBoard(library=card.library) as board:
        card.ring(0, "02588886666", "LI SI")
        events = run(board, 200)
    (cid,) = [e for e in events if isinstance(e, CallerIdReceived)]
    assert (cid.number, cid.name) == ("02588886666", "")  # the date and time cut off


def test_a_record_tap_gives_the_tapped_lines_audio_and_hook(sim_card: SimCard) -> None:
    sim_card.reset(["trunk", "record"])
    with DonjinBoard(library=sim_card.library) as board:
        sim_card.Lift(1)  # the tapped line is seized
        tone = np.rint(np.sin(np.arange(8000) * 2 * np.pi * 700 / 8000) * 7326).astype(np.int16)
        sim_card.say(1, tone)
        rx = []
        for _ in range(60):
            rx.append(board.read()[1])
            board.write(np.zeros((2, board.block), np.int16))
        events = board.events()
        sim_card.Replace(1)
        events += run(board, 2)
    assert [(type(e), e.channel) for e in events] == [(OffHook, 1), (OnHook, 1)]
    assert level_dbm0(np.concatenate(rx)[1600:8000]) == pytest.approx(-10, abs=0.3)


def test_a_late_host_is_heard_as_silence_and_builds_up_no_delay(sim_card: SimCard) -> None:
    with DonjinBoard(library=sim_card.library) as board:
        sim_card.Lift(STATION)
        tx = np.zeros((len(board), board.block), np.int16)
        tx[STATION] = np.rint(np.sin(np.arange(160) * 2 * np.pi / 8) * 7326)  # 1 kHz
        for _ in range(150):  # 3 s: longer than the play loop, which now holds tone throughout
            board.read()
            board.write(tx)
        start = sim_card.HeardCount(STATION)
        sim_card.SetStep(4000)  # the host is half a second late
        board.read()
        sim_card.SetStep(160)
        board.write(tx)
        stalled = sim_card.heard(STATION, start)[:4000]
        assert level_dbm0(stalled[:320]) == pytest.approx(-10, abs=0.5)  # what was written ahead
        assert level_dbm0(stalled[480:]) < -60  # then silence, not the loop's old tone
        # The half second recorded meanwhile is dropped, not queued: the delay is as before.
        sim_card.say(STATION, np.full(160, 8000, np.int16))
        said = int(sim_card.Now())
        for _ in range(10):
            rx = board.read()
            board.write(tx)
            if (rx[STATION] > 4000).any():
                break
        heard_at = int(sim_card.Now()) - board.block + int(np.argmax(rx[STATION] > 4000))
        assert 0 < heard_at - said <= 6 * board.block


def test_a_link_joins_two_lines_in_the_card(sim_card: SimCard) -> None:
    with DonjinBoard(library=sim_card.library) as board:
        sim_card.ring(TRUNK)
        run(board, 10)
        board.offhook(TRUNK)
        sim_card.Lift(STATION)
        board.link(TRUNK, STATION)
        assert sim_card.Linked(STATION) == TRUNK and not sim_card.Playing(STATION)
        start = sim_card.HeardCount(STATION)
        tone = np.rint(np.sin(np.arange(8000) * 2 * np.pi * 700 / 8000) * 7326).astype(np.int16)
        sim_card.say(TRUNK, tone)
        run(board, 50)
        assert level_dbm0(sim_card.heard(STATION, start)[:8000]) == pytest.approx(-10, abs=0.3)
        board.unlink(TRUNK, STATION)
        assert sim_card.Linked(STATION) == -1 and sim_card.Playing(STATION)


def test_the_site_file_names_the_library(sim_card: SimCard, tmp_path: Path) -> None:
    site_file = tmp_path / "boardcc.yaml"
    site_file.write_text("board:\n  backend: donjin\n  library: sdk/libtc08a32.so\n")
    site = load_site(site_file)
    assert site.board.settings() == {"library": str(tmp_path / "sdk" / "libtc08a32.so")}
    site.board.library = sim_card.library
    with open_board(site.board.backend, **site.board.settings()) as board:
        assert board.backend == "donjin"
