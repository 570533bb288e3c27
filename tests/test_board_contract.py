"""One contract for every board backend: what the engine may rely on, whatever the card.

Each backend comes with a rig that plays the far end through that backend's own means (the
simulated board's far-end models; the DAHDI backend's fake kernel; the Donjin backend's
simulated vendor SDK), and every test here runs over every rig.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from typing import Protocol

import numpy as np
import pytest

from boardcc.drivers import (
    Board,
    BoardClosedError,
    Capabilities,
    ChannelFault,
    ChannelKind,
    ChannelRangeError,
    CommandError,
    OffHook,
    OnHook,
    RingOn,
)
from boardcc.drivers.dahdi import DahdiBoard
from boardcc.drivers.dahdi.constants import Sig
from boardcc.drivers.donjin import DonjinBoard
from boardcc.drivers.sim import SimBoard
from boardcc.dsp import level_dbm0
from boardcc.dsp.signals import sines
from tests.dahdi_fake_kernel import FakeDahdiKernel
from tests.donjin_sdk_sim import SimCard


class Rig(Protocol):
    """A board with one trunk and one station at least, and its far ends."""

    board: Board
    trunk: int
    station: int
    delay: int  # blocks between the line and the host, each way, at most

    def ring_trunk(self) -> None: ...

    def lift_phone(self) -> None: ...

    def hang_phone(self) -> None: ...

    def far_sends(self, channel: int, samples: np.ndarray) -> None: ...

    def far_heard(self, channel: int) -> np.ndarray: ...

    def break_channel(self, channel: int) -> None: ...


class SimRig:
    def __init__(self) -> None:
        self.board = SimBoard(trunks=2, stations=2)
        self.trunk, self.station, self.delay = 0, 2, 0

    def ring_trunk(self) -> None:
        self.board.incoming_call(self.trunk)

    def lift_phone(self) -> None:
        self.board.phone(self.station).lift(self.board.now)

    def hang_phone(self) -> None:
        self.board.phone(self.station).replace(self.board.now)

    def far_sends(self, channel: int, samples: np.ndarray) -> None:
        b = self.board
        b.players.start(channel, b.players.bank.add(samples), b.now)

    def far_heard(self, channel: int) -> np.ndarray:
        return self.board.heard(channel)

    def break_channel(self, channel: int) -> None:
        self.board.fail(channel)


class DahdiRig:
    """The DAHDI backend on its fake kernel: trunks on DAHDI channels 1-2, stations on 3-4."""

    def __init__(self) -> None:
        card = {1: Sig.FXSKS, 2: Sig.FXSKS, 3: Sig.FXOKS, 4: Sig.FXOKS}
        self.kernel = FakeDahdiKernel(card)
        self.board = DahdiBoard(channels="1-4", transport=self.kernel)
        self.trunk, self.station, self.delay = 0, 2, 0

    def _dahdi(self, channel: int) -> int:
        return channel + 1

    def ring_trunk(self) -> None:
        self.kernel.ring(self._dahdi(self.trunk), True)

    def lift_phone(self) -> None:
        self.kernel.phone_hook(self._dahdi(self.station), True)

    def hang_phone(self) -> None:
        self.kernel.phone_hook(self._dahdi(self.station), False)

    def far_sends(self, channel: int, samples: np.ndarray) -> None:
        self.kernel.feed(self._dahdi(channel), samples)

    def far_heard(self, channel: int) -> np.ndarray:
        return self.kernel.heard(self._dahdi(channel))

    def break_channel(self, channel: int) -> None:
        self.kernel.fail(self._dahdi(channel), errno.EIO)


class DonjinRig:
    """The Donjin backend on the simulated vendor SDK: trunks 0-1, stations 2-3.

    The card hands recorded audio over 512 bytes (64 ms) at a time and the board buffers a
    chunk and a block, so what a line sends reaches the host up to 7 blocks later.
    """

    def __init__(self, card: SimCard) -> None:
        self.card = card
        self.board = DonjinBoard(library=card.library)
        self.trunk, self.station, self.delay = 0, 2, 7

    def ring_trunk(self) -> None:
        self.card.ring(self.trunk, "13800000000")

    def lift_phone(self) -> None:
        self.card.Lift(self.station)

    def hang_phone(self) -> None:
        self.card.Replace(self.station)

    def far_sends(self, channel: int, samples: np.ndarray) -> None:
        self.card.say(channel, samples)

    def far_heard(self, channel: int) -> np.ndarray:
        return self.card.heard(channel)

    def break_channel(self, channel: int) -> None:
        self.card.Fail(channel)


RIGS: dict[str, type] = {"sim": SimRig, "dahdi": DahdiRig, "donjin": DonjinRig}


@pytest.fixture(params=sorted(RIGS))
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    extra = [request.getfixturevalue("sim_card")] if request.param == "donjin" else []
    made: Rig = RIGS[request.param](*extra)
    try:
        yield made
    finally:
        made.board.close()


def tone(hz: float, seconds: float, fs: int = 8000) -> np.ndarray:
    return np.rint(sines([hz], round(seconds * fs), level_dbm0=-10.0)).astype(np.int16)


def run(board: Board, blocks: int, tx: np.ndarray | None = None) -> tuple[np.ndarray, list]:
    """Read/write `blocks` blocks (sending `tx` rows from a (channels, n) array)."""
    rx, events = [], []
    for k in range(blocks):
        rx.append(board.read())
        events += board.events()
        out = np.zeros((len(board), board.block), np.int16)
        if tx is not None:
            part = tx[:, k * board.block : (k + 1) * board.block]
            out[:, : part.shape[1]] = part
        board.write(out)
    return np.concatenate(rx, axis=1), events


def answered_trunk(rig: Rig) -> None:
    """Ring the rig's trunk, answer it, and forget the events so far."""
    rig.ring_trunk()
    run(rig.board, 60)
    rig.board.offhook(rig.trunk)
    rig.board.events()


def test_channels_and_capabilities(rig: Rig) -> None:
    b = rig.board
    assert len(b) == len(b.channels) > 0
    assert [c.index for c in b.channels] == list(range(len(b)))
    assert len({c.name for c in b.channels}) == len(b)
    assert all(isinstance(c.kind, ChannelKind) for c in b.channels)
    assert b.channels[rig.trunk].kind is ChannelKind.TRUNK
    assert b.channels[rig.station].kind is ChannelKind.STATION
    assert isinstance(b.capabilities, Capabilities)
    assert rig.trunk in b.of_kind("trunk")


def test_blocks_have_the_board_shape_and_advance_the_clock(rig: Rig) -> None:
    b = rig.board
    before = b.now
    rx = b.read()
    assert rx.shape == (len(b), b.block) and rx.dtype == np.int16
    assert b.now == before + b.block
    b.write(np.zeros((len(b), b.block), np.int16))
    with pytest.raises(ValueError, match="shape"):
        b.write(np.zeros((len(b), b.block + 1), np.int16))
    with pytest.raises(TypeError, match="int16"):
        b.write(np.zeros((len(b), b.block), np.float32))


def test_commands_check_kind_and_range(rig: Rig) -> None:
    b = rig.board
    with pytest.raises(CommandError, match="station"):
        b.ring(rig.trunk)
    with pytest.raises(CommandError, match="trunk"):
        b.offhook(rig.station)
    with pytest.raises(CommandError):
        b.feed_power(rig.trunk)
    with pytest.raises(ChannelRangeError):
        b.offhook(len(b))
    with pytest.raises(CommandError, match="ms"):
        b.flash(rig.trunk, ms=5)
    with pytest.raises(CommandError, match="cadence"):
        b.ring(rig.station, (1000,))


def test_a_ringing_trunk_is_reported_and_answered(rig: Rig) -> None:
    b = rig.board
    rig.ring_trunk()
    _, events = run(b, 60)
    rings = [e for e in events if isinstance(e, RingOn)]
    assert rings and rings[0].channel == rig.trunk
    b.offhook(rig.trunk)
    run(b, 5)
    b.onhook(rig.trunk)


def test_a_station_phone_going_off_and_on_hook(rig: Rig) -> None:
    b = rig.board
    b.ring(rig.station)
    run(b, 10)
    b.stop_ring(rig.station)
    rig.lift_phone()
    _, events = run(b, 5)
    rig.hang_phone()
    _, more = run(b, 40)  # an on-hook is told from a flash only after 0.5 s on some cards
    mine = [type(e) for e in events + more if e.channel == rig.station]
    assert mine == [OffHook, OnHook]


def test_audio_both_ways_on_a_trunk(rig: Rig) -> None:
    b = rig.board
    answered_trunk(rig)
    rig.far_sends(rig.trunk, tone(1000, 1.0))
    tx = np.zeros((len(b), 8000), np.int16)
    tx[rig.trunk] = tone(600, 1.0)
    rx, _ = run(b, 50, tx)
    lag = (2 + rig.delay) * b.block
    assert level_dbm0(rx[rig.trunk, lag : 40 * b.block]) == pytest.approx(-10, abs=0.5)
    heard = rig.far_heard(rig.trunk)[-50 * b.block :]
    assert level_dbm0(heard[lag : 40 * b.block]) == pytest.approx(-10, abs=0.5)


def test_links_are_kept_track_of(rig: Rig) -> None:
    b = rig.board
    if not b.capabilities.links:
        pytest.skip("this board has no links")
    with pytest.raises(CommandError, match="itself"):
        b.link(rig.trunk, rig.trunk)
    b.link(rig.trunk, rig.station)
    with pytest.raises(CommandError, match="already"):
        b.link(rig.station, rig.trunk)
    assert b.linked(rig.station) == rig.trunk
    b.unlink(rig.station, rig.trunk)
    assert b.linked(rig.trunk) is None
    with pytest.raises(CommandError, match="not linked"):
        b.unlink(rig.trunk, rig.station)


def test_gains_are_range_checked(rig: Rig) -> None:
    b = rig.board
    if not b.capabilities.gains:
        pytest.skip("this board has no gains")
    b.set_gain(rig.trunk, rx_db=3.0, tx_db=-3.0)
    with pytest.raises(CommandError, match="tx_db"):
        b.set_gain(rig.trunk, tx_db=-40.0)


def test_a_failing_channel_leaves_the_others_alone(rig: Rig) -> None:
    b = rig.board
    answered_trunk(rig)
    rig.lift_phone()
    rig.far_sends(rig.station, tone(1000, 1.0))
    rig.break_channel(rig.trunk)
    rx, events = run(b, 20)
    faults = [e for e in events if isinstance(e, ChannelFault)]
    assert faults and {e.channel for e in faults} == {rig.trunk}
    assert not rx[rig.trunk].any()
    lag = (2 + rig.delay) * b.block
    assert level_dbm0(rx[rig.station, lag:]) == pytest.approx(-10, abs=0.5)


def test_closing(rig: Rig) -> None:
    b = rig.board
    b.close()
    b.close()
    assert b.closed
    with pytest.raises(BoardClosedError):
        b.read()
    with pytest.raises(BoardClosedError):
        b.offhook(rig.trunk)
    with pytest.raises(BoardClosedError):
        b.events()
