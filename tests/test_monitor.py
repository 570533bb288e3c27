"""The monitor port: a channel's audio queued for the sound card, never holding up a tick.

The sound card itself is a boundary the tests cannot reach; `CardDouble` stands in for
it (a test double, named as such) and pulls audio the way PyAudio's callback does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import pytest

from boardcc.drivers import ChannelRangeError, MonitorPort, MonitorUnavailableError
from boardcc.drivers.sim import SimBoard, Speak
from boardcc.dsp import level_dbm0


class CardDouble:
    """Stands in for the sound card: records how it was opened, pulls on demand."""

    def __init__(self) -> None:
        self.pull: Callable[[int], bytes] | None = None
        self.fs = 0
        self.stopped = False

    def start(self, fs: int, frames: int, pull: Callable[[int], bytes]) -> None:
        self.fs, self.pull = fs, pull

    def stop(self) -> None:
        self.stopped = True

    def play(self, count: int) -> np.ndarray:
        assert self.pull is not None
        return np.frombuffer(self.pull(count), np.int16)


def block(value: int, n: int = 160) -> np.ndarray:
    return np.full(n, value, np.int16)


def test_both_directions_are_mixed_as_a_handset_hears_them() -> None:
    card = CardDouble()
    port = MonitorPort(0, 8000, 160, sink=card)
    port.received(block(1000))
    port.sent(block(-300))
    port.received(block(30000))
    port.sent(block(30000))
    out = card.play(320)
    assert out[:160].tolist() == [700] * 160
    assert out[160:].tolist() == [32767] * 160  # saturates, never wraps


@pytest.mark.parametrize(("direction", "expected"), [("rx", 5), ("tx", 7)])
def test_one_direction(direction: str, expected: int) -> None:
    card = CardDouble()
    port = MonitorPort(0, 8000, 160, direction=direction, sink=card)
    port.received(block(5))
    port.sent(block(7))
    assert card.play(160).tolist() == [expected] * 160


def test_card_falling_behind_drops_the_oldest_and_running_dry_plays_silence() -> None:
    card = CardDouble()
    port = MonitorPort(0, 8000, 160, direction="rx", sink=card, max_latency_ms=40)
    for k in range(10):
        port.received(block(k))
    assert port.dropped == 8 * 160
    out = card.play(400)
    assert out[:320].tolist() == [8] * 160 + [9] * 160
    assert out[320:].tolist() == [0] * 80 and port.starved == 80
    # Partial pulls continue where the last one stopped.
    port.received(np.arange(160, dtype=np.int16))
    assert card.play(100).tolist() + card.play(60).tolist() == list(range(160))


def test_bad_direction() -> None:
    with pytest.raises(ValueError, match="direction"):
        MonitorPort(0, 8000, 160, direction="up", sink=CardDouble())


def test_without_pyaudio_the_message_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pyaudio", None)
    with SimBoard(trunks=1, stations=0) as b:
        with pytest.raises(MonitorUnavailableError, match=r"boardcc\[audio\].*libportaudio2"):
            b.listen(0)
        assert b.listening is None


def test_board_feeds_the_listened_channel_until_stopped() -> None:
    card = CardDouble()
    with SimBoard(trunks=2, stations=0) as b:
        b.incoming_call(1, at=0.0, script=[Speak(tone=1000, seconds=30.0, level_dbm0=-10)])
        b.advance(0.2)
        b.offhook(1)
        with pytest.raises(ChannelRangeError):
            b.listen(9, sink=card)
        b.listen(1, sink=card)
        assert b.listening == 1 and card.fs == 8000
        b.advance(0.1)
        heard = card.play(800)
        assert level_dbm0(heard) == pytest.approx(-10, abs=0.3)
        b.stop_listening()
        assert card.stopped and b.listening is None
        b.listen(0, sink=(second := CardDouble()))
    assert second.stopped  # closing the board closes the monitor port
