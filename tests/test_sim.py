"""The simulated board: far ends that behave like an exchange, callers and desk phones.

Everything is checked the way a person at the line would notice it: by DSP on the audio
(caller ID decoded, keys detected, tones named) and by the line events' sample times.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from boardcc.drivers import (
    BoardConfigError,
    ChannelFault,
    ChannelKind,
    CommandError,
    HookFlash,
    LineEvent,
    LineVoltageBack,
    LineVoltageLost,
    OffHook,
    OnHook,
    PolarityReversal,
    RingOff,
    RingOn,
    open_board,
)
from boardcc.drivers.sim import (
    Callee,
    CallerIdSpec,
    EchoPath,
    HangUp,
    LiftHandset,
    LineState,
    Pause,
    Press,
    ScriptError,
    SimBoard,
    Speak,
    WaitSilence,
)
from boardcc.dsp import (
    decode_caller_id,
    detect_dtmf,
    detect_tones,
    dtmf_tones,
    level_dbm0,
    write_audio,
)
from boardcc.dsp.signals import sines

FS = 8000
BLOCK = 160
SAMPLE = Path(__file__).resolve().parent.parent / "boardcc" / "samples" / "line-sample.wav"


def tone(hz: float, seconds: float, level: float = -10.0) -> np.ndarray:
    return np.rint(sines([hz], round(seconds * FS), level_dbm0=level)).astype(np.int16)


class Host:
    """Drives a board block by block as the engine would, recording rx and events."""

    def __init__(self, board: SimBoard) -> None:
        self.board = board
        self.rx: list[np.ndarray] = []
        self.events: list[LineEvent] = []
        self.sending: dict[int, tuple[np.ndarray, int]] = {}

    def send(self, channel: int, samples: np.ndarray) -> None:
        """Start sending `samples` on `channel` from the next block."""
        self.sending[channel] = (samples, 0)

    def run(self, seconds: float, on_event: Callable[[LineEvent], None] | None = None) -> None:
        b = self.board
        for _ in range(round(seconds * FS / BLOCK)):
            self.rx.append(b.read())
            new = b.events()
            self.events += new
            if on_event is not None:
                for e in new:
                    on_event(e)
            tx = np.zeros((len(b), BLOCK), np.int16)
            for ch, (x, pos) in list(self.sending.items()):
                part = x[pos : pos + BLOCK]
                tx[ch, : part.size] = part
                if pos + BLOCK >= x.size:
                    del self.sending[ch]
                else:
                    self.sending[ch] = (x, pos + BLOCK)
            b.write(tx)

    def received(self, channel: int) -> np.ndarray:
        return np.concatenate([r[channel] for r in self.rx])

    def of(self, kind: type, channel: int | None = None) -> list[LineEvent]:
        return [
            e for e in self.events if type(e) is kind and (channel is None or e.channel == channel)
        ]


def tones_named(x: np.ndarray, plan: str = "cn") -> list[str]:
    return [e.name for e in detect_tones(x, plan=plan) if e.kind == "on"]


# -- layout and configuration ------------------------------------------------------------------


def test_layout_names_and_capabilities() -> None:
    with open_board("sim", trunks=3, stations=2, records=[1], empty=1) as b:
        kinds = [c.kind for c in b.channels]
        assert kinds == ["trunk"] * 3 + ["station"] * 2 + ["record", "empty"]
        assert [c.name for c in b.channels] == [f"sim/{i}" for i in range(7)]
        assert b.channels[5].tap_of == 1
        assert b.of_kind(ChannelKind.STATION) == [3, 4]
        assert b.capabilities.links and b.capabilities.conference
        assert not b.capabilities.hardware_dtmf and not b.capabilities.echo_cancel
        rx = b.read()
        assert rx.shape == (7, BLOCK) and rx.dtype == np.int16
        assert b.now == BLOCK


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"trunks": -1}, "trunks"),
        ({"records": [5]}, "records: trunk 5"),
        ({"plan": "atlantis"}, "plan"),
        ({"fs": 16000}, "fs"),
        ({"record_heard": "some"}, "record_heard"),
    ],
)
def test_bad_configuration_names_the_key(config: dict[str, object], words: str) -> None:
    with pytest.raises(BoardConfigError, match=words):
        open_board("sim", **config)


def test_same_seed_same_line_audio_different_seed_different_keys() -> None:
    def run(seed: int) -> np.ndarray:
        with SimBoard(trunks=1, stations=0, seed=seed) as b:
            b.impair(0, noise_dbm0=-50)
            b.incoming_call(0, at=0.1, script=[Press("123")])
            b.advance(1.2)
            b.offhook(0)
            host = Host(b)
            host.run(1.5)
            return host.received(0)

    a, again, other = run(3), run(3), run(4)
    assert np.array_equal(a, again)
    assert not np.array_equal(a, other)
    assert "".join(e.digit for e in detect_dtmf(a)) == "123"
    assert "".join(e.digit for e in detect_dtmf(other)) == "123"


# -- incoming calls ----------------------------------------------------------------------------


def test_ring_cadence_and_fsk_caller_id_between_first_and_second_ring() -> None:
    with SimBoard(trunks=2, stations=0) as b:
        b.incoming_call(1, at=0.5, caller_id={"number": "13812345678", "name": "ZHANG SAN"})
        host = Host(b)
        host.run(11.0)
        ons = [e.at for e in host.of(RingOn, 1)]
        offs = [e.at for e in host.of(RingOff, 1)]
        assert ons[:3] == [4000, 44000, 84000]  # China: 1 s on, 4 s off
        assert offs[:2] == [12000, 52000]
        assert not host.of(RingOn, 0)
        (cid,) = decode_caller_id(host.received(1))
        assert (cid.number, cid.name, cid.datetime) == ("13812345678", "ZHANG SAN", "01050900")
        assert cid.checksum_ok
        # GR-30-CORE: 0.5 s after the first ring ends, over before the second ring.
        assert abs(cid.start - (offs[0] + 4000)) < 160
        assert cid.end < ons[1]
        assert not decode_caller_id(host.received(0))


def test_dtmf_caller_id_comes_before_the_first_ring() -> None:
    with SimBoard(trunks=1, stations=0) as b:
        b.incoming_call(0, at=0.0, caller_id=CallerIdSpec(number="02588886666", mode="dtmf"))
        host = Host(b)
        host.run(3.0)
        (cid,) = decode_caller_id(host.received(0))
        assert cid.number == "02588886666" and cid.standard == "dtmf"
        assert cid.end < host.of(RingOn)[0].at


def test_v23_caller_id_follows_a_polarity_reversal() -> None:
    with SimBoard(trunks=1, stations=0) as b:
        b.incoming_call(0, at=0.2, caller_id={"number": "075512345678", "mode": "v23"})
        host = Host(b)
        host.run(3.0)
        (rev,) = host.of(PolarityReversal)
        (cid,) = decode_caller_id(host.received(0))
        assert cid.number == "075512345678" and cid.standard == "v23"
        assert rev.at == 1600 < cid.start < host.of(RingOn)[0].at


def test_caller_gives_up_when_nobody_answers() -> None:
    with SimBoard(trunks=1, stations=0) as b:
        b.incoming_call(0, at=0.0, give_up_s=7.0)
        host = Host(b)
        host.run(12.0)
        assert [e.at for e in host.of(RingOn)] == [0, 40000]
        assert host.of(RingOff)[-1].at == 48000
        (call,) = b.trunk(0).calls
        assert call.outcome == "abandoned" and call.answered is None
        assert b.trunk(0).state is LineState.IDLE


def test_answered_call_caller_waits_for_the_greeting_presses_speaks_and_hangs_up() -> None:
    with SimBoard(trunks=1, stations=0) as b:
        b.incoming_call(
            0,
            at=0.0,
            caller_id="13900001111",
            script=[
                WaitSilence(ms=600),
                Press("1", on_ms=100, off_ms=100),
                Speak(tone=700, seconds=1.0),
                HangUp(),
            ],
        )
        host = Host(b)
        greeting = tone(400, 2.0)

        def answer(e: LineEvent) -> None:
            if isinstance(e, RingOn) and e.at > 0:  # second ring: answer mid-ring
                b.offhook(0)
                host.send(0, greeting)

        host.run(14.0, answer)
        answered = host.of(RingOn)[1].at
        # Ring trip: the ring stops when the board answers.
        assert host.of(RingOff)[-1].at == answered + BLOCK
        rx = host.received(0)
        (key,) = detect_dtmf(rx)
        assert key.digit == "1"
        # The greeting goes out from the block in which the ring was seen.
        greeting_end = answered + greeting.size
        assert greeting_end + 600 * 8 - 16 <= key.start <= greeting_end + 600 * 8 + 2 * BLOCK
        assert "busy" in tones_named(rx[key.end :])
        (call,) = b.trunk(0).calls
        assert call.outcome == "answered" and call.cleared_by == "far"
        assert call.number == "13900001111"
        # The caller heard the greeting.
        heard = b.heard(0)
        assert level_dbm0(heard[answered : answered + 8000]) == pytest.approx(-10, abs=0.3)


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        (["reversal"], [PolarityReversal]),
        (["open_loop"], [LineVoltageLost, LineVoltageBack]),
        (["reversal", "busy"], [PolarityReversal]),
    ],
)
def test_far_end_hang_up_signals(signals: list[str], expected: list[type]) -> None:
    with SimBoard(trunks=1, stations=0) as b:
        line = b.trunk(0)
        line.far_hangup = signals
        b.incoming_call(0, at=0.0, script=[Pause(1.0), HangUp()])
        b.advance(0.5)
        b.offhook(0)
        host = Host(b)
        host.run(5.0)
        got = [type(e) for e in host.events if not isinstance(e, RingOff | RingOn)]
        assert got == expected
        if LineVoltageBack in expected:
            lost, back = host.events[-2:]
            assert back.at - lost.at == 600 * 8
        busy = "busy" in tones_named(host.received(0))
        assert busy == ("busy" in signals)


def test_board_hanging_up_first_cuts_the_caller_off() -> None:
    with SimBoard(trunks=1, stations=0) as b:
        b.incoming_call(0, at=0.0, script=[Speak(tone=700, seconds=10.0)])
        b.advance(0.2)
        b.offhook(0)
        b.advance(1.0)
        b.onhook(0)
        host = Host(b)
        host.run(1.0)
        assert np.abs(host.received(0)[BLOCK:]).max() == 0
        (call,) = b.trunk(0).calls
        assert call.cleared_by == "board" and b.trunk(0).state is LineState.IDLE


def test_a_second_call_on_a_busy_line_does_not_ring() -> None:
    with SimBoard(trunks=1, stations=0) as b:
        b.incoming_call(0, at=0.0)
        b.incoming_call(0, at=2.0)
        host = Host(b)
        host.run(6.0)
        assert [e.at for e in host.of(RingOn)] == [0, 40000]
        assert [c.outcome for c in b.trunk(0).calls] == ["", "line_busy"]


# -- outbound calls ----------------------------------------------------------------------------


def dial_out(b: SimBoard, number: str, seconds: float) -> Host:
    b.offhook(0)
    host = Host(b)
    host.run(2.0)
    host.send(0, dtmf_tones(number, on_ms=80, off_ms=80))
    host.run(seconds)
    return host


def test_dial_tone_digits_ringback_answer_and_far_hang_up() -> None:
    with SimBoard(trunks=1, stations=0) as b:
        b.trunk(0).answer_reversal = True
        b.directory["95588"] = Callee("answer", rings=2, script=(Speak(speech=2.0), HangUp()))
        host = dial_out(b, "95588", 16.0)
        rx = host.received(0)
        names = tones_named(rx)
        assert names[0] == "dial"
        assert "ringback" in names and names[-1] == "busy"
        (call,) = b.trunk(0).calls
        assert call.number == "95588" and call.outcome == "answered"
        (rev,) = host.of(PolarityReversal)
        assert rev.at == call.answered
        # The exchange routed as soon as the number was complete, then two ring-backs.
        ringing = call.answered - (16000 + 5 * 1280)
        assert 8000 * 5 < ringing < 8000 * 8
        voice = [e for e in detect_tones(rx) if e.name == "voice" and e.kind == "on"]
        assert voice and voice[0].sample >= call.answered - BLOCK


@pytest.mark.parametrize(
    ("kind", "outcome", "heard"),
    [
        ("busy", "busy", "busy"),
        ("congestion", "congestion", "congestion"),
        ("no_answer", "", "ringback"),
    ],
)
def test_callees_that_do_not_answer(kind: str, outcome: str, heard: str) -> None:
    with SimBoard(trunks=1, stations=0) as b:
        b.directory["10000"] = Callee(kind)
        host = dial_out(b, "10000", 12.0)
        assert heard in tones_named(host.received(0))
        assert b.trunk(0).calls[0].outcome == outcome


def test_unknown_number_hears_special_information_tone() -> None:
    with SimBoard(trunks=1, stations=0) as b:
        b.trunk(0).interdigit_s = 2.0
        host = dial_out(b, "12345", 6.0)
        rx = host.received(0)
        call = b.trunk(0).calls[0]
        assert call.outcome == "not_in_service" and call.number == "12345"
        spec = np.abs(np.fft.rfft(rx[-4 * FS :].astype(float)))
        freqs = np.fft.rfftfreq(4 * FS, 1 / FS)
        for f in (950, 1400, 1800):
            near = spec[(freqs > f - 10) & (freqs < f + 10)].max()
            assert near > 20 * np.median(spec)


def test_fax_and_answering_machine_callees() -> None:
    with SimBoard(trunks=1, stations=0) as b:
        b.directory["66"] = Callee("fax", rings=1)
        host = dial_out(b, "66", 8.0)
        assert "fax_ced" in tones_named(host.received(0))
    with SimBoard(trunks=1, stations=0) as b:
        b.directory["77"] = Callee("machine", rings=1, greeting_s=2.0)
        host = dial_out(b, "77", 8.0)
        rx = host.received(0)
        answered = b.trunk(0).calls[0].answered
        assert answered is not None
        # A 2 s greeting, 0.3 s pause, then the 1 kHz beep.
        greeting = rx[answered : answered + 2 * FS]
        beep = rx[answered + round(2.35 * FS) : answered + round(2.75 * FS)]
        assert "voice" in tones_named(greeting)
        assert _peak_hz(beep) == pytest.approx(1000, abs=3)
        assert level_dbm0(beep) == pytest.approx(-10, abs=0.5)


def test_no_digits_after_dial_tone_gives_busy() -> None:
    with SimBoard(trunks=1, stations=0) as b:
        b.offhook(0)
        host = Host(b)
        host.run(18.0)
        assert tones_named(host.received(0)) == ["dial", "busy"]
        assert b.trunk(0).calls[0].outcome == "no_digits"


# -- desk phones -------------------------------------------------------------------------------


def test_station_rings_phone_answers_hears_and_dials() -> None:
    with SimBoard(trunks=0, stations=2) as b:
        phone = b.phone(1)
        phone.auto_answer(2, talk=[Pause(0.5), Press("8001", on_ms=90, off_ms=90)])
        b.advance(0.1)
        b.ring(1, (1000, 4000))
        host = Host(b)
        host.send(1, tone(1000, 20.0))
        host.run(8.0)
        (off,) = host.of(OffHook)
        assert off.channel == 1 and off.at == 800 + 5 * FS  # at the start of the second ring
        assert phone.rings == 2 and not phone.ringing
        heard = b.heard(1)
        assert np.abs(heard[: off.at]).max() == 0  # nothing is heard on hook
        assert level_dbm0(heard[off.at + BLOCK : off.at + FS]) == pytest.approx(-10, abs=0.5)
        rx = host.received(1)
        assert "".join(e.digit for e in detect_dtmf(rx)) == "8001"
        assert np.abs(host.received(0)).max() == 0


def test_flash_and_long_flash_and_power() -> None:
    with SimBoard(trunks=0, stations=1) as b:
        phone = b.phone(0)
        from boardcc.drivers.sim import Flash

        phone.run([LiftHandset(), Pause(1.0), Flash(300), Pause(1.0), Flash(1500)])
        host = Host(b)
        host.run(5.0)
        kinds = [type(e) for e in host.events]
        assert kinds == [OffHook, HookFlash, OnHook, OffHook]
        assert host.events[1].at - host.events[0].at == FS + 300 * 8
        b.feed_power(0, False)
        phone.run([HangUp()])
        host.run(0.5)
        assert [type(e) for e in host.events[4:]] == [OnHook]  # power cut: loop gone
        phone.run([LiftHandset()])
        host.run(0.5)
        assert len(host.events) == 5
        b.feed_power(0, True)
        assert [type(e) for e in b.events()] == [OffHook]


def test_ringing_an_off_hook_phone_does_nothing_and_stop_ring_stops() -> None:
    with SimBoard(trunks=0, stations=1) as b:
        phone = b.phone(0)
        b.ring(0)
        b.advance(2.0)
        b.stop_ring(0)
        b.advance(8.0)
        assert phone.rings == 1 and not phone.ringing
        phone.lift(b.now)
        b.ring(0)
        b.advance(6.0)
        assert phone.rings == 1


# -- links, conferences, taps, gains -----------------------------------------------------------


def test_link_trunk_to_station_both_hear_each_other() -> None:
    with SimBoard(trunks=1, stations=1) as b:
        b.incoming_call(0, at=0.0, script=[Speak(tone=600, seconds=30.0)])
        b.advance(0.3)
        b.offhook(0)
        b.phone(1).run([LiftHandset(), Speak(tone=1300, seconds=30.0)])
        b.link(0, 1)
        assert b.linked(0) == 1 and b.linked(1) == 0
        b.advance(2.0)
        caller, agent = b.heard(0)[-FS:], b.heard(1)[-FS:]
        assert _peak_hz(agent) == pytest.approx(600, abs=3)
        assert _peak_hz(caller) == pytest.approx(1300, abs=3)
        b.unlink(0, 1)
        b.advance(1.0)
        assert np.abs(b.heard(1)[-FS // 2 :]).max() == 0
        with pytest.raises(CommandError):
            b.unlink(0, 1)


def test_conference_of_three() -> None:
    with SimBoard(trunks=2, stations=1) as b:
        for trunk, hz in ((0, 500), (1, 900)):
            b.incoming_call(trunk, at=0.0, script=[Speak(tone=hz, seconds=30.0)])
        b.advance(0.2)
        b.offhook(0)
        b.offhook(1)
        b.phone(2).run([LiftHandset(), Speak(tone=1700, seconds=30.0)])
        number = b.conference([0, 1, 2])
        with pytest.raises(CommandError):
            b.link(0, 2)
        b.advance(2.0)
        for ch, absent in ((0, 500), (1, 900), (2, 1700)):
            peaks = _peaks(b.heard(ch)[-FS:])
            assert set(peaks) == {500, 900, 1700} - {absent}, ch
        b.end_conference(number)
        b.advance(0.5)
        assert np.abs(b.heard(2)[-FS // 4 :]).max() == 0


def test_record_tap_hears_both_directions_and_the_line_events() -> None:
    with SimBoard(trunks=2, stations=0, records=[1]) as b:
        b.incoming_call(1, at=0.0, script=[Speak(tone=800, seconds=30.0)])
        host = Host(b)
        host.run(1.2)
        b.offhook(1)
        host.send(1, tone(1500, 5.0))
        host.run(2.0)
        assert [type(e) for e in host.events if e.channel == 2] == [RingOn, RingOff, OffHook]
        tapped = host.received(2)[-FS:]
        assert set(_peaks(tapped)) == {800, 1500}


def test_gains_scale_receive_and_transmit() -> None:
    with SimBoard(trunks=1, stations=0) as b:
        b.incoming_call(0, at=0.0, script=[Speak(tone=1000, seconds=30.0, level_dbm0=-20)])
        b.advance(0.2)
        b.offhook(0)
        b.set_gain(0, rx_db=6.0, tx_db=-6.0)
        host = Host(b)
        host.send(0, tone(1000, 3.0, level=-10))
        host.run(1.0)
        assert level_dbm0(host.received(0)[-FS // 2 :]) == pytest.approx(-14.0, abs=0.2)
        assert level_dbm0(b.heard(0)[-FS // 2 :]) == pytest.approx(-16.0, abs=0.2)
        with pytest.raises(CommandError, match="rx_db"):
            b.set_gain(0, rx_db=30)


# -- impairments -------------------------------------------------------------------------------


def test_level_noise_and_hybrid_echo() -> None:
    with SimBoard(trunks=2, stations=0, seed=5) as b:
        b.impair(0, level_db=-6.0, noise_dbm0=-50.0)
        b.impair(1, echo=EchoPath(delay_ms=20.0, erl_db=12.0))
        b.incoming_call(0, at=0.0, script=[Speak(tone=1000, seconds=30.0, level_dbm0=-10)])
        b.incoming_call(1, at=0.0)
        b.advance(0.2)
        b.offhook(0)
        b.offhook(1)
        host = Host(b)
        host.run(1.0)
        host.send(1, (np.random.default_rng(1).standard_normal(3 * FS) * 1000).astype(np.int16))
        host.run(2.0)
        rx0 = host.received(0)[-FS:].astype(float)
        assert level_dbm0(rx0) == pytest.approx(-16.0, abs=0.3)  # -10 dBm0 less 6 dB
        residual = rx0 - _sine_fit(rx0, 1000)
        assert level_dbm0(residual) == pytest.approx(-50.0, abs=1.0)
        sent = b.heard(1)[-FS:].astype(float)
        back = host.received(1)[-FS:].astype(float)
        erl = 10 * np.log10(np.mean(sent**2) / np.mean(back**2))
        assert erl == pytest.approx(12.0, abs=1.0)
        # The echo of one block comes back in the next, after the path's own delay.
        corr = np.abs(np.correlate(back[2000:6500], sent[2000:6000], "valid"))
        onset = 20 * 8 + BLOCK
        assert onset <= np.argmax(corr) < onset + 6 * 8  # within the 6 ms dispersive part
        assert corr[:onset].max() < 0.1 * corr.max()  # nothing comes back sooner


def test_card_echo_canceller_removes_the_simulated_echo() -> None:
    with SimBoard(trunks=1, stations=0, echo_cancel=True) as b:
        b.impair(0, echo={"delay_ms": 4.0, "erl_db": 8.0})
        b.incoming_call(0, at=0.0)
        b.advance(0.1)
        b.offhook(0)
        b.echo_canceller(0, True)
        host = Host(b)
        host.send(0, tone(1000, 2.0))
        host.run(1.5)
        assert np.abs(host.received(0)).max() == 0
    with SimBoard(trunks=1, stations=0) as b, pytest.raises(CommandError, match="echo"):
        b.echo_canceller(0, True)


# -- replay ------------------------------------------------------------------------------------


def test_replay_plays_the_file_exactly_with_timed_events() -> None:
    from boardcc.dsp import read_audio

    with SimBoard(trunks=2, stations=0) as b:
        length = b.replay(
            1,
            SAMPLE,
            events=[{"at": 0.0, "event": "ring_on"}, {"at": 1.0, "event": "ring_off"}],
            at=0.5,
        )
        host = Host(b)
        host.run(length + 1.0)
        expected = read_audio(SAMPLE).samples[0]
        got = host.received(1)[4000 : 4000 + expected.size]
        assert np.array_equal(got, expected)
        assert [(type(e), e.at) for e in host.events] == [(RingOn, 4000), (RingOff, 12000)]
        (cid,) = decode_caller_id(got)
        assert cid.number == "13812345678"
        # The exchange stays out of a replayed line: seizing it gives no dial tone.
        assert b.trunk(1).state is LineState.IDLE


def test_replay_of_a_vox_file_and_hang_up_event(tmp_path: Path) -> None:
    x = tone(1000, 1.0, level=-12)
    path = tmp_path / "line.vox"
    write_audio(path, x, codec="vox")
    with SimBoard(trunks=1, stations=0) as b:
        b.trunk(0).far_hangup = ["reversal"]
        b.replay(0, path, events=[{"at": 0.5, "event": "hang_up"}])
        host = Host(b)
        host.run(1.5)
        assert [(type(e), e.at) for e in host.events] == [(PolarityReversal, 4000)]
        assert level_dbm0(host.received(0)[1000:7000]) == pytest.approx(-12, abs=0.5)


# -- faults and misuse ---------------------------------------------------------------------------


def test_one_failing_channel_does_not_disturb_the_others() -> None:
    with SimBoard(trunks=2, stations=0) as b:
        for trunk in (0, 1):
            b.incoming_call(trunk, at=0.0, script=[Speak(tone=1000, seconds=30.0)])
        b.advance(0.2)
        b.offhook(0)
        b.offhook(1)
        b.events()
        b.fail(0, "port 0 dead")
        host = Host(b)
        host.run(1.0)
        assert [(type(e), e.channel) for e in host.events] == [(ChannelFault, 0)]
        assert host.events[0].message == "port 0 dead"
        assert np.abs(host.received(0)).max() == 0
        assert level_dbm0(host.received(1)) == pytest.approx(-10, abs=0.3)
        b.repair(0)
        host.run(0.5)
        assert level_dbm0(host.received(0)[-FS // 4 :]) == pytest.approx(-10, abs=0.3)


def test_span_alarms_are_reported_per_channel() -> None:
    with SimBoard(trunks=2, stations=1) as b:
        b.advance(0.1)
        b.alarm("red")
        b.alarm("red", active=False, channels=[1])
        assert [(e.channel, e.kind, e.active) for e in b.events()] == [
            (0, "red", True),
            (1, "red", True),
            (1, "red", False),
        ]


def test_a_script_a_caller_cannot_do_is_refused_before_it_starts() -> None:
    with SimBoard(trunks=1, stations=1) as b:
        with pytest.raises(ScriptError, match="step 2 \\(LiftHandset\\)"):
            b.incoming_call(0, script=[Pause(1.0), LiftHandset()])
        with pytest.raises(CommandError, match="is a station"):
            b.trunk(1)


def test_a_far_end_that_fails_is_recorded_and_the_board_goes_on() -> None:
    with SimBoard(trunks=1, stations=0) as b:
        b.at(0.1, lambda board: 1 / 0)
        b.advance(0.5)
        assert len(b.errors) == 1 and "ZeroDivisionError" in b.errors[0]


def test_heard_keeps_only_the_latest_seconds() -> None:
    with SimBoard(trunks=1, stations=0, record_seconds=1.0) as b:
        b.advance(3.0, tx=np.full((1, BLOCK), 100, np.int16))
        assert b.heard(0).size == FS
        assert b.heard(0, start=2.5).size == FS // 2
    with (
        SimBoard(trunks=1, stations=1, record_heard="stations") as b,
        pytest.raises(CommandError, match="does not record"),
    ):
        b.heard(0)


def test_realtime_pacing_follows_the_wall_clock() -> None:
    with SimBoard(trunks=1, stations=0, realtime=True) as b:
        start = time.monotonic()
        for _ in range(6):
            b.read()
            b.write(np.zeros((1, BLOCK), np.int16))
        assert time.monotonic() - start >= 0.1


def test_thousands_of_channels_run() -> None:
    with SimBoard(trunks=1000, stations=1000, record_heard="none") as b:
        for trunk in range(0, 1000, 2):
            b.incoming_call(trunk, at=trunk / 1000, script=[Speak(speech=3.0), HangUp()])
        events = b.advance(2.0)
        assert len({e.channel for e in events if isinstance(e, RingOn)}) == 500


# -- helpers -----------------------------------------------------------------------------------


def _peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x.astype(float) * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / FS)[np.argmax(spec)])


def _peaks(x: np.ndarray) -> list[int]:
    spec = np.abs(np.fft.rfft(x.astype(float) * np.hanning(x.size)))
    freqs = np.fft.rfftfreq(x.size, 1 / FS)
    strong = spec > 0.1 * spec.max()
    out = []
    for i in np.flatnonzero(strong):
        if spec[i] == spec[max(0, i - 3) : i + 4].max():
            out.append(round(float(freqs[i]) / 100) * 100)
    return sorted(set(out))


def _sine_fit(x: np.ndarray, hz: float) -> np.ndarray:
    t = np.arange(x.size) / FS
    basis = np.stack([np.sin(2 * np.pi * hz * t), np.cos(2 * np.pi * hz * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, x, rcond=None)
    return basis @ coef
