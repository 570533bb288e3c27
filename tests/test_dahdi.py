"""The DAHDI backend, driven through whole calls by the fake kernel (tests/dahdi_fake_kernel.py).

The fake replaces only the system calls; everything above them (channel set-up, the read
loop, ELAST handling, event translation, hook commands, conferences, gains, the echo
canceller, errors) is the real backend. The real libc transport is exercised on a pipe,
/dev/null and a made-up sysfs tree, which behave like the kernel at the system-call level.
"""

from __future__ import annotations

import errno
import os
import select
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from boardcc.drivers import (
    Alarm,
    BackendUnavailableError,
    BoardClosedError,
    BoardConfigError,
    ChannelFault,
    ChannelKind,
    CommandError,
    HardwareError,
    HookFlash,
    LineEvent,
    LineVoltageBack,
    LineVoltageLost,
    NotSupportedError,
    OffHook,
    OnHook,
    RingOff,
    RingOn,
    open_board,
)
from boardcc.drivers.dahdi import DahdiBoard, binding, constants
from boardcc.drivers.dahdi.binding import (
    EventPending,
    InProgress,
    KernelError,
    LibcTransport,
    NotReady,
    ffi,
)
from boardcc.drivers.dahdi.board import gain_table, parse_channels
from boardcc.drivers.dahdi.constants import ConfFlag, ConfMode, Event, Ioctl, Law, Sig
from boardcc.dsp import alaw_decode, detect_dtmf, dtmf_tones
from tests.dahdi_fake_kernel import FakeDahdiKernel

FS = 8000
BLOCK = 160
CONF_MODE = ConfMode.CONF | ConfFlag.TALKER | ConfFlag.LISTENER

# DAHDI channels: 1-2 trunks on FXO modules, 3-4 stations on FXS modules, 5 an empty slot.
CARD = {1: Sig.FXSKS, 2: Sig.FXSKS, 3: Sig.FXOKS, 4: Sig.FXOKS, 5: Sig.NONE}
T1, T2, S1, S2, EMPTY = range(5)  # the board's channel indices


def tone(freq: float, n: int, amplitude: float = 8000.0, start: int = 0) -> npt.NDArray[np.int16]:
    t = (np.arange(n) + start) / FS
    return np.rint(amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def level_at(x: npt.NDArray[np.int16], freq: float) -> float:
    """Amplitude of `freq` in `x` (a direct DFT bin)."""
    t = np.arange(x.size) / FS
    return float(2 * abs(np.dot(x.astype(np.float64), np.exp(-2j * np.pi * freq * t))) / x.size)


def kinds(events: list[LineEvent]) -> list[tuple[str, int]]:
    return [(type(e).__name__, e.channel) for e in events]


@pytest.fixture
def kernel() -> FakeDahdiKernel:
    return FakeDahdiKernel(CARD)


@pytest.fixture
def board(kernel: FakeDahdiKernel) -> Iterator[DahdiBoard]:
    with DahdiBoard(channels="1-5", transport=kernel) as b:
        yield b


def silence(board: DahdiBoard) -> npt.NDArray[np.int16]:
    return np.zeros((len(board), board.block), dtype=np.int16)


# -- declarations ---------------------------------------------------------------------------


def test_cffi_struct_sizes_are_the_ones_the_ioctl_numbers_encode() -> None:
    for struct, size in (
        ("struct dahdi_params", constants.PARAMS_SIZE),
        ("struct dahdi_bufferinfo", constants.BUFFERINFO_SIZE),
        ("struct dahdi_confinfo", constants.CONFINFO_SIZE),
        ("struct dahdi_gains", constants.GAINS_SIZE),
        ("struct dahdi_echocanparams", constants.ECHOCANPARAMS_SIZE),
        ("struct dahdi_echocanparam", constants.ECHOCANPARAM_SIZE),
        ("struct dahdi_ring_cadence", constants.RING_CADENCE_SIZE),
        ("int", constants.INT_SIZE),
    ):
        assert ffi.sizeof(struct) == size, struct


def test_ioctl_numbers_use_the_linux_encoding() -> None:
    # Written out from include/uapi/asm-generic/ioctl.h for x86-64 and arm64.
    if constants._ioc_layout(os.uname().machine.lower()) != (14, 0, 1, 2):
        pytest.skip("this CPU family encodes ioctls differently")
    assert Ioctl.SPECIFY == (1 << 30) | (4 << 16) | (0xDA << 8) | 38
    assert Ioctl.GETEVENT == (2 << 30) | (4 << 16) | (0xDA << 8) | 8
    assert Ioctl.GET_PARAMS == (3 << 30) | (136 << 16) | (0xDA << 8) | 5
    assert constants._ioc_layout("ppc64le") == (13, 1, 4, 2)


def test_parse_channels() -> None:
    assert parse_channels("1-4, 7,9-10") == [1, 2, 3, 4, 7, 9, 10]
    assert parse_channels(25) == [25]
    assert parse_channels([3, 1]) == [3, 1]
    for bad in ("", "1-", "a", "5-3", "0-2", "1,1", []):
        with pytest.raises(BoardConfigError, match="channels"):
            parse_channels(bad)


# -- opening --------------------------------------------------------------------------------


def test_open_maps_kinds_and_capabilities(kernel: FakeDahdiKernel, board: DahdiBoard) -> None:
    assert [c.kind for c in board.channels] == [
        ChannelKind.TRUNK,
        ChannelKind.TRUNK,
        ChannelKind.STATION,
        ChannelKind.STATION,
        ChannelKind.EMPTY,
    ]
    assert [c.name for c in board.channels] == [f"dahdi/{n}" for n in range(1, 6)]
    caps = board.capabilities
    assert not caps.hardware_dtmf and not caps.caller_id
    assert caps.echo_cancel and caps.links and caps.conference and caps.gains
    for number in range(1, 5):
        chan = kernel.chans[number]
        assert chan.calls == [
            "GET_PARAMS",
            "SETLINEAR",
            "SET_BLOCKSIZE",
            "SET_BUFINFO",
            "ECHOCANCEL_PARAMS",
        ]
        assert chan.linear and chan.blocksize == BLOCK and chan.numbufs == 4
        assert chan.txbufpolicy == constants.Policy.IMMEDIATE and chan.echo_taps == 0
    assert not kernel.is_open(5)
    assert board.events() == []


def test_all_fxs_and_fxo_signallings_are_trunks_and_stations() -> None:
    sigs = [Sig.FXSLS, Sig.FXSGS, Sig.FXSKS, Sig.FXOLS, Sig.FXOGS, Sig.FXOKS]
    kernel = FakeDahdiKernel(dict(enumerate(sigs, start=1)))
    with DahdiBoard(channels=[1, 2, 3, 4, 5, 6], transport=kernel, block=80) as b:
        assert b.of_kind("trunk") == [0, 1, 2] and b.of_kind("station") == [3, 4, 5]
        assert b.read().shape == (6, 80)


@pytest.mark.parametrize(
    ("echo_name", "refuse", "setting", "expected"),
    [
        ("MG2", False, None, True),
        (None, False, None, True),  # sysfs cannot tell: the kernel took the parameters
        ("", False, None, False),  # nothing attached: DAHDI would accept and do nothing
        ("MG2", True, None, False),
        ("MG2", False, False, False),
        ("", False, True, True),
    ],
)
def test_echo_canceller_capability(
    echo_name: str | None, refuse: bool, setting: bool | None, expected: bool
) -> None:
    kernel = FakeDahdiKernel(CARD, echo_canceller=echo_name, refuse_echo=refuse)
    with DahdiBoard(channels="1-4", transport=kernel, echo_cancel=setting) as b:
        assert b.capabilities.echo_cancel is expected
        if expected:
            b.echo_canceller(T1, True)
            assert kernel.chans[1].echo_taps == 128
        else:
            with pytest.raises(NotSupportedError):
                b.echo_canceller(T1, True)


def test_other_signalling_is_refused_and_nothing_stays_open() -> None:
    kernel = FakeDahdiKernel({1: Sig.FXSKS, 2: Sig.HARDHDLC})
    with pytest.raises(BoardConfigError, match="channel 2 has hardhdlc signalling"):
        DahdiBoard(channels="1-2", transport=kernel)
    assert not kernel.is_open(1) and not kernel.is_open(2)
    assert len(kernel.closed) == 2


def test_a_channel_dahdi_does_not_have_is_a_config_error(kernel: FakeDahdiKernel) -> None:
    with pytest.raises(BoardConfigError, match="no channel 9"):
        DahdiBoard(channels="1-4,9", transport=kernel)
    assert not any(kernel.is_open(n) for n in CARD)


def test_a_channel_in_use_is_a_hardware_error(kernel: FakeDahdiKernel) -> None:
    kernel.open_channel(3)  # someone else (Asterisk) has it
    with pytest.raises(HardwareError, match="in use") as info:
        DahdiBoard(channels="1-4", transport=kernel)
    assert info.value.channel == 2 and info.value.code == errno.EBUSY
    assert not kernel.is_open(1)


def test_a_broken_port_is_empty_with_a_fault() -> None:
    kernel = FakeDahdiKernel({1: Sig.FXOKS | Sig.BROKEN, 2: Sig.FXOKS})
    with DahdiBoard(channels="1-2", transport=kernel) as b:
        assert [c.kind for c in b.channels] == [ChannelKind.EMPTY, ChannelKind.STATION]
        (fault,) = b.events()
        assert isinstance(fault, ChannelFault) and fault.channel == 0 and "broken" in fault.message
        assert not kernel.is_open(1)


def test_state_at_open_is_reported(kernel: FakeDahdiKernel) -> None:
    kernel.chans[3].phone_off = True
    kernel.alarm(1, "red", True)
    kernel.chans[1].events.clear()  # raised before boardcc started: no event, only the state
    with DahdiBoard(channels="1-4", transport=kernel) as b:
        assert b.events() == [
            Alarm(T1, 0, "red", active=True),
            LineVoltageLost(T1, 0),
            OffHook(S1, 0),
        ]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"fs": 16000}, "fs"),
        ({"block": 8}, "block"),
        ({"buffers": 1}, "buffers"),
        ({"echo_tail": 100}, "echo_tail"),
        ({"poll_timeout_ms": 0}, "poll_timeout_ms"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_settings(kernel: FakeDahdiKernel, setting: dict[str, object], message: str) -> None:
    with pytest.raises(BoardConfigError, match=message):
        DahdiBoard(channels="1", transport=kernel, **setting)  # type: ignore[arg-type]


def test_missing_dahdi_says_what_to_install() -> None:
    with pytest.raises(BackendUnavailableError) as info:
        open_board("dahdi", channels="1-4", device="/nonexistent/dahdi/channel")
    err = info.value
    assert err.backend == "dahdi" and "/nonexistent/dahdi/channel" in err.reason
    assert "ENOENT" in err.reason
    for advice in ("dahdi-dkms", "modprobe dahdi", "dahdi_cfg", "docs/boards/dahdi.md"):
        assert advice in err.install


def test_no_permission_says_which_group() -> None:
    kernel = FakeDahdiKernel(CARD, device_errno=errno.EACCES)
    with pytest.raises(BackendUnavailableError) as info:
        DahdiBoard(channels="1-4", transport=kernel)
    assert "EACCES" in info.value.reason and "dialout" in info.value.install


# -- whole calls ----------------------------------------------------------------------------


def test_incoming_call_ring_answer_talk_far_end_hangs_up(
    kernel: FakeDahdiKernel, board: DahdiBoard
) -> None:
    # Two rings of the exchange's cadence, seen between reads (poll path) ...
    kernel.ring(1, True)
    assert board.events() == [RingOn(T1, 0)]
    for _ in range(3):
        board.read()
    kernel.ring(1, False)
    assert board.events() == [RingOff(T1, 3 * BLOCK)]
    # ... and while a read is under way: DAHDI refuses the read with ELAST until the event
    # is fetched, and the block still arrives.
    kernel.ring(1, True)
    kernel.feed(1, tone(425, BLOCK))
    rx = board.read()
    assert level_at(rx[T1], 425) > 7000
    assert board.events() == [RingOn(T1, 3 * BLOCK)]

    board.offhook(T1)
    assert kernel.hook_state(1) == "offhook"
    kernel.ring(1, False)  # the ringing voltage stops as the exchange sees the answer
    kernel.polarity(1)  # answer signalled by polarity reversal on this line

    # Audio both ways: the caller speaks at 1 kHz, the host plays 600 Hz to the caller.
    n = 10 * BLOCK
    kernel.feed(1, tone(1000, n))
    received = []
    for i in range(10):
        received.append(board.read()[T1].copy())
        tx = silence(board)
        tx[T1] = tone(600, BLOCK, start=i * BLOCK)
        board.write(tx)
    got = np.concatenate(received)
    np.testing.assert_array_equal(got, tone(1000, n))
    np.testing.assert_array_equal(kernel.heard(1), tone(600, n))
    assert level_at(kernel.heard(2), 600) == 0  # the other trunk heard nothing of it
    assert kinds(board.events()) == [("RingOff", T1), ("PolarityReversal", T1)]

    # Far end hangs up: the exchange drops battery (kewlstart), then DAHDI raises red.
    kernel.battery(1, present=False)
    board.read()
    at = 14 * BLOCK
    assert board.events() == [
        LineVoltageLost(T1, at),
        Alarm(T1, at, "red", active=True),
    ]
    board.onhook(T1)
    assert kernel.hook_state(1) == "onhook"
    kernel.battery(1, present=True)
    assert board.events() == [
        Alarm(T1, 15 * BLOCK, "red", active=False),
        LineVoltageBack(T1, 15 * BLOCK),
    ]


def test_far_end_clear_by_a_short_battery_drop(kernel: FakeDahdiKernel, board: DahdiBoard) -> None:
    for _call in range(2):
        board.offhook(T2)
        kernel.battery(2, present=False, alarm=False)
        assert board.events() == [LineVoltageLost(T2, 0)]
        board.onhook(T2)  # a new call may lose the line again


def test_a_kernel_without_ringbegin_still_reports_whole_rings(
    kernel: FakeDahdiKernel, board: DahdiBoard
) -> None:
    kernel.ring(2, on=False)  # only the end of the ring arrives
    assert board.events() == [RingOn(T2, 0), RingOff(T2, 0)]


def test_outbound_call_seize_and_dial(kernel: FakeDahdiKernel, board: DahdiBoard) -> None:
    board.offhook(T2)
    assert kernel.hook_state(2) == "offhook"
    digits = "95588,13800138000"
    dial = dtmf_tones(digits, fs=FS, on_ms=80, off_ms=80)
    dial = np.concatenate([dial, np.zeros(-dial.size % BLOCK, dtype=np.int16)])
    for block in dial.reshape(-1, BLOCK):
        board.read()
        tx = silence(board)
        tx[T2] = block
        board.write(tx)
    heard = kernel.heard(2)
    np.testing.assert_array_equal(heard, dial)
    assert "".join(e.digit for e in detect_dtmf(heard, fs=FS)) == digits.replace(",", "")
    assert not kernel.heard(1).any()


def test_station_rings_answers_flashes_hangs_up(kernel: FakeDahdiKernel, board: DahdiBoard) -> None:
    board.ring(S1, (1000, 4000))
    assert kernel.ringing(3) and kernel.cadence(3) == [1000, 4000]
    board.ring(S1, (400, 200, 400, 2000))  # a new cadence while ringing: start again
    assert kernel.ringing(3) and kernel.cadence(3) == [400, 200, 400, 2000]

    kernel.phone_hook(3, off=True)
    board.read()
    assert board.events() == [OffHook(S1, 0)]
    assert not kernel.ringing(3)  # ring trip: the board stopped DAHDI's cadence
    assert kernel.hook_state(3) == "offhook"

    kernel.feed(3, tone(800, BLOCK))
    assert level_at(board.read()[S1], 800) > 7000

    kernel.flash(3)
    kernel.phone_hook(3, off=False)
    assert board.events() == [HookFlash(S1, 2 * BLOCK), OnHook(S1, 2 * BLOCK)]
    assert kernel.hook_state(3) == "onhook"

    board.ring(S1)  # idle again, so DAHDI rings it again
    assert kernel.ringing(3) and kernel.cadence(3) == [1000, 4000]
    board.stop_ring(S1)
    assert not kernel.ringing(3)
    board.stop_ring(S1)  # not ringing: nothing to do


def test_ring_refusals(kernel: FakeDahdiKernel, board: DahdiBoard) -> None:
    with pytest.raises(CommandError, match="at most 8"):
        board.ring(S2, (100, 100) * 9)
    kernel.zone_loaded = False
    with pytest.raises(HardwareError, match="tone zone") as info:
        board.ring(S2)
    assert info.value.code == errno.ENODATA
    kernel.zone_loaded = True
    kernel.chans[4].hook = "offhook"
    with pytest.raises(CommandError, match="in a call"):
        board.ring(S2)
    assert not kernel.ringing(4)


def test_trunk_flash_sets_the_flash_time(kernel: FakeDahdiKernel, board: DahdiBoard) -> None:
    with pytest.raises(CommandError, match="not off hook"):
        board.flash(T1, 300)
    board.offhook(T1)
    board.flash(T1, 300)
    board.flash(T1, 300)
    assert kernel.chans[1].flashes == [300, 300]
    assert kernel.chans[1].calls.count("SET_PARAMS") == 1


def test_feed_power(kernel: FakeDahdiKernel, board: DahdiBoard) -> None:
    calls = list(kernel.chans[3].calls)
    board.feed_power(S1, True)
    assert kernel.chans[3].calls == calls
    with pytest.raises(NotSupportedError, match="cannot cut"):
        board.feed_power(S1, False)


# -- bridging, gains, echo ------------------------------------------------------------------


def test_link_and_conference_in_the_card(kernel: FakeDahdiKernel, board: DahdiBoard) -> None:
    board.link(T1, S1)
    assert kernel.confs == {1: {1: CONF_MODE, 3: CONF_MODE}}
    number = board.conference([T2, S2])
    assert kernel.confs == {1: {1: CONF_MODE, 3: CONF_MODE}, 2: {2: CONF_MODE, 4: CONF_MODE}}
    board.unlink(T1, S1)
    assert kernel.confs == {2: {2: CONF_MODE, 4: CONF_MODE}}
    board.end_conference(number)
    assert kernel.confs == {}
    assert kernel.chans[1].calls[-1] == "SETCONF"


def test_a_failed_join_leaves_no_half_conference(
    kernel: FakeDahdiKernel, board: DahdiBoard
) -> None:
    kernel.refuse(4, "SETCONF", errno.EBUSY)
    with pytest.raises(HardwareError, match="no free conference") as info:
        board.conference([T1, T2, S2])
    assert info.value.channel == S2
    assert kernel.confs == {}
    assert board.linked(T1) is None


def test_gains_are_tables_in_the_channels_law(kernel: FakeDahdiKernel, board: DahdiBoard) -> None:
    board.set_gain(T1, rx_db=-6.0, tx_db=0.0)
    rx, tx = kernel.chans[1].rxgain, kernel.chans[1].txgain
    np.testing.assert_array_equal(tx, np.arange(256))
    np.testing.assert_array_equal(rx, gain_table(Law.ALAW, -6.0))
    codes = np.arange(256, dtype=np.uint8)
    before = alaw_decode(codes).astype(float)
    after = alaw_decode(rx).astype(float)
    loud = np.abs(before) > 1000
    ratio = after[loud] / before[loud]
    assert np.all(np.abs(20 * np.log10(ratio) + 6.0) < 0.6)  # within one A-law step
    assert gain_table(Law.MULAW, 3.0) is gain_table(Law.MULAW, 3.0)


def test_echo_canceller_on_and_off(kernel: FakeDahdiKernel) -> None:
    with DahdiBoard(channels="1-4", transport=kernel, echo_tail=256) as b:
        b.echo_canceller(S2, True)
        assert kernel.chans[4].echo_taps == 256
        b.echo_canceller(S2, False)
        assert kernel.chans[4].echo_taps == 0


# -- faults and errors ----------------------------------------------------------------------


def test_one_failing_channel_gives_silence_and_a_fault(
    kernel: FakeDahdiKernel, board: DahdiBoard
) -> None:
    for number in (1, 2, 3):
        kernel.feed(number, tone(1000, 3 * BLOCK))
    kernel.fail(2, errno.EIO)
    rx = board.read()
    assert level_at(rx[T1], 1000) > 7000 and level_at(rx[S1], 1000) > 7000
    assert not rx[T2].any()
    (fault,) = board.events()
    assert isinstance(fault, ChannelFault) and fault.channel == T2 and "EIO" in fault.message

    kernel.fail(2, None)
    kernel.short_read(2, 100)
    rx = board.read()
    assert not rx[T2].any() and level_at(rx[T1], 1000) > 7000
    assert [e.message for e in board.events()] == ["dahdi/2: read 200 of 320 bytes"]

    rx = board.read()
    assert level_at(rx[T2], 1000) > 7000  # back to normal
    assert board.events() == []


def test_a_silent_channel_is_given_up_after_the_poll_timeout(kernel: FakeDahdiKernel) -> None:
    with DahdiBoard(channels="1-4", transport=kernel, poll_timeout_ms=20) as b:
        kernel.stall(3)
        kernel.feed(1, tone(1000, BLOCK))
        rx = b.read()
        assert level_at(rx[T1], 1000) > 7000 and not rx[S1].any()
        (fault,) = b.events()
        assert fault.channel == S1 and "no audio within 20 ms" in fault.message


def test_write_faults_do_not_stop_other_channels(
    kernel: FakeDahdiKernel, board: DahdiBoard
) -> None:
    kernel.fail_writes(3, errno.EAGAIN)
    tx = silence(board)
    tx[T1] = tone(700, BLOCK)
    board.write(tx)
    assert kernel.heard(1).size == BLOCK
    (fault,) = board.events()
    assert fault.channel == S1 and "block dropped" in fault.message


def test_other_events(kernel: FakeDahdiKernel, board: DahdiBoard) -> None:
    kernel.alarm(3, "yellow", True)
    kernel.chans[3].events.append(Event.RINGERON)  # our own cadence: not a line event
    kernel.chans[3].events.append(constants.EventFlag.PULSEDIGIT | ord("5"))
    kernel.chans[3].events.append(99)  # an event this version does not know
    kernel.removed(4)
    events = board.events()
    assert events[0] == Alarm(S1, 0, "yellow", active=True)
    assert isinstance(events[1], ChannelFault) and "removed" in events[1].message
    kernel.alarm(3, "yellow", False)
    assert board.events() == [Alarm(S1, 0, "yellow", active=False)]


def test_errno_choke_point() -> None:
    for code, cls in (
        (constants.ELAST, EventPending),
        (errno.EAGAIN, NotReady),
        (errno.EINPROGRESS, InProgress),
        (errno.EIO, KernelError),
    ):
        with pytest.raises(cls) as info:
            binding.raise_errno("DAHDI_HOOK", code)
        assert info.value.code == code and info.value.op == "DAHDI_HOOK"
    assert "ELAST" in str(EventPending("read", constants.ELAST))
    ffi.errno = errno.ENODEV
    with pytest.raises(KernelError, match=r"DAHDI_HOOK: ENODEV"):
        binding.check(-1, "DAHDI_HOOK")
    assert binding.check(7, "read") == 7


def test_kernel_errors_on_commands_are_hardware_errors_with_the_errno(
    kernel: FakeDahdiKernel, board: DahdiBoard
) -> None:
    kernel.refuse(2, "HOOK", errno.EIO)
    with pytest.raises(HardwareError) as info:
        board.offhook(T2)
    assert info.value.channel == T2 and info.value.code == errno.EIO
    assert "dahdi/2" in str(info.value) and "EIO" in str(info.value)


def test_close_is_idempotent_and_closes_each_channel_once(kernel: FakeDahdiKernel) -> None:
    board = DahdiBoard(channels="1-5", transport=kernel)
    board.close()
    board.close()
    assert sorted(kernel.closed) == [3, 4, 5, 6]
    assert not any(kernel.is_open(n) for n in CARD)
    with pytest.raises(BoardClosedError):
        board.read()


def test_registry_opens_the_dahdi_board(kernel: FakeDahdiKernel) -> None:
    with open_board("dahdi", channels=[3, 1], transport=kernel) as b:
        assert isinstance(b, DahdiBoard) and b.backend == "dahdi"
        assert [c.name for c in b.channels] == ["dahdi/3", "dahdi/1"]


# -- the real libc transport, on things that are not DAHDI ----------------------------------


def test_libc_transport_moves_audio_through_file_descriptors() -> None:
    t = LibcTransport()
    r, w = os.pipe2(os.O_NONBLOCK)
    try:
        assert t.poll([r], 0) == [0]
        block = tone(1000, BLOCK)
        assert t.write(w, block) == block.nbytes
        assert t.poll([r], 0) == [select.POLLIN]
        into = np.zeros(BLOCK, dtype=np.int16)
        assert t.readinto(r, into) == block.nbytes
        np.testing.assert_array_equal(into, block)
        with pytest.raises(NotReady):
            t.readinto(r, into)
        with pytest.raises(KernelError, match="ENOTTY") as info:
            t.ioctl(r, Ioctl.GETEVENT, binding.int_arg())
        assert info.value.op == "DAHDI_GETEVENT"
    finally:
        t.close(r)
        t.close(w)
    with pytest.raises(KernelError, match="EBADF"):
        t.close(r)


def test_libc_transport_on_a_device_that_is_not_dahdi() -> None:
    t = LibcTransport(device="/dev/null")
    before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(KernelError) as info:
        t.open_channel(1)
    assert info.value.op == "DAHDI_SPECIFY" and info.value.code == errno.ENOTTY
    assert set(os.listdir("/proc/self/fd")) == before  # the fd was closed again


def test_libc_transport_reads_the_attached_echo_canceller(tmp_path: Path) -> None:
    chan = os.path.join(tmp_path, "dahdi!chan!001!002")
    os.mkdir(chan)
    with open(os.path.join(chan, "ec_factory"), "w") as f:
        f.write("MG2\n")
    t = LibcTransport(sysfs=os.fspath(tmp_path))
    assert t.echo_canceller(1, 2) == "MG2"
    assert t.echo_canceller(1, 3) is None
