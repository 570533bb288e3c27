"""Caller ID (boardcc.dsp.callerid, SPEC D2): message layer, FSK and DTMF, told apart.

The message layer is checked against bytes written out by hand from GR-30-CORE's SDMF example
and from the message layouts of GR-30-CORE and ETSI EN 300 659-3. The receiver is checked
against FSK from `_fsk`, a modulator written here from the standards (phase integrated over
exact bit boundaries, with settable bit-rate and tone errors), not from `caller_id_fsk`
(which is checked on its own against `_fsk`), so a fault in the generator cannot hide one in
the receiver. Every test has a seeded generator of its own and random start offsets.

Figures measured rather than required (lowest S/N and level per standard, false messages on
the talk-off corpus, throughput) are printed: run with ``-s`` to see them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from boardcc.dsp.callerid import (
    MIN_BLOCK,
    CallerId,
    CallerIdReceiver,
    caller_id_dtmf,
    caller_id_fsk,
    decode_caller_id,
    encode_message,
    fsk_bits,
    parse_message,
)
from boardcc.dsp.callerid_msg import Parameter
from boardcc.dsp.dtmf import detect_dtmf, dtmf_tones
from boardcc.dsp.levels import level_dbm0, sine_amplitude, sine_power
from boardcc.dsp.signals import add_noise, band_noise, to_int16
from boardcc.dsp.tones import load_plan, plan_tone
from tests.corpus import FS as CORPUS_FS
from tests.corpus import corpus_hours, talkoff_corpus

FS = 8000
MS = FS // 1000
BAUD = 1200.0
F64 = npt.NDArray[np.float64]
I16 = npt.NDArray[np.int16]

#: Mark and space (Hz): GR-30-CORE (Bell 202) and ITU-T V.23.
TONES = {"bell202": (1200.0, 2200.0), "v23": (1300.0, 2100.0)}
STANDARDS = tuple(TONES)

#: GR-30-CORE's SDMF example: September 30, 12:24, calling number 609 555 1212, written out
#: byte by byte (type, length 0x12, date and number in ASCII, checksum).
GR30_SDMF = bytes.fromhex("04 12 3039333031323234 36303935353531323132 51")

#: Messages of every kind and parameter, as keyword arguments of `encode_message`.
MESSAGES: tuple[dict[str, Any], ...] = (
    {"format": "sdmf", "datetime": "09301224", "number": "6095551212"},
    {"format": "sdmf", "datetime": "11221530", "number_absence": "P"},
    {"format": "sdmf", "datetime": "01010000", "number_absence": "O"},
    {"datetime": "11221530", "number": "13812345678", "name": "ZHANG SAN"},
    {"datetime": "02291159", "number_absence": "O", "name_absence": "P"},
    {"number": "0123456789", "call_type": 1, "redirecting_number": "0987654321"},
    {"number": "5551212", "extra_fields": ((0x03, b"5550000"), (0x13, b"\x03"), (0xE1, b"\x01"))},
    {"format": "sdmf", "message_waiting": True},
    {"format": "sdmf", "message_waiting": False},
    {"message_waiting": True},
    {"message_waiting": False, "datetime": "12312359", "extra_fields": ((0x13, b"\x00"),)},
)


# -- test signals ------------------------------------------------------------------------------


def _uart(data: bytes) -> list[int]:
    """8N1: start bit 0, eight data bits least significant first, stop bit 1."""
    return [b for byte in data for b in (0, *((byte >> k) & 1 for k in range(8)), 1)]


def _bit_tones(x: F64, count: int, standard: str) -> list[int]:
    """Which of the two tones (1 mark) is stronger over the middle 7 samples of each bit."""
    t = np.arange(7) / FS
    x = np.pad(x, (0, 4))
    out = []
    for i in range(count):
        centre = round((i + 0.5) * FS / BAUD)
        seg = x[centre - 3 : centre + 4]
        mark, space = (abs(np.exp(-2j * np.pi * f * t) @ seg) for f in TONES[standard])
        out.append(int(mark > space))
    return out


def _preamble(seizure: int, mark: int) -> list[int]:
    return [k % 2 for k in range(seizure)] + [1] * mark


def _fsk(
    bits: Sequence[int],
    standard: str,
    level: float,
    rng: np.random.Generator,
    *,
    baud: float = BAUD,
    tone_error: float = 0.0,
) -> F64:
    """Continuous-phase FSK: bit i lasts from i / baud to (i + 1) / baud seconds, and the
    phase at each sample is the integral of the frequency up to that instant (random start
    phase). `tone_error` scales both tones."""
    mark, space = (f * (1.0 + tone_error) for f in TONES[standard])
    freq = np.where(np.asarray(bits) == 1, mark, space)
    n = int(np.ceil(len(bits) * FS / baud))
    t = np.arange(n) / FS
    i = np.minimum((t * baud).astype(np.int64), len(bits) - 1)
    at_bit_start = 2 * np.pi * np.concatenate([[0.0], np.cumsum(freq / baud)])[:-1]
    phase = rng.uniform(0, 2 * np.pi) + at_bit_start[i] + 2 * np.pi * freq[i] * (t - i / baud)
    return np.asarray(sine_amplitude(level) * np.sin(phase), dtype=np.float64)


def _transmission(
    message: bytes,
    standard: str,
    level: float,
    rng: np.random.Generator,
    *,
    seizure: int = 300,
    mark: int = 180,
    **errors: float,
) -> F64:
    return _fsk(_preamble(seizure, mark) + _uart(message), standard, level, rng, **errors)


def _stack(
    signals: Sequence[npt.ArrayLike], rng: np.random.Generator, tail_ms: float = 100.0
) -> tuple[F64, list[int]]:
    """Each signal on a channel of its own after 50-80 ms of silence; the leads."""
    leads = [int(rng.integers(50 * MS, 80 * MS)) for _ in signals]
    n = max(lead + np.asarray(s).shape[0] for lead, s in zip(leads, signals, strict=True))
    out = np.zeros((len(signals), n + round(tail_ms * MS)))
    for row, lead, s in zip(out, leads, signals, strict=True):
        a = np.asarray(s, dtype=np.float64)
        row[lead : lead + a.shape[0]] = a
    return out, leads


def _by_channel(found: Sequence[CallerId], channels: int) -> list[list[CallerId]]:
    out: list[list[CallerId]] = [[] for _ in range(channels)]
    for c in found:
        out[c.channel].append(c)
    return out


def _expected(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What a receiver must report for a message: what the message layer reads from it."""
    m = parse_message(encode_message(**kwargs))
    return {
        "number": m.number,
        "name": m.name,
        "datetime": m.datetime,
        "number_absence": m.number_absence,
        "name_absence": m.name_absence,
        "call_type": m.call_type,
        "redirecting_number": m.redirecting_number,
        "message_waiting": m.message_waiting,
        "fields": m.fields,
        "format": m.format,
        "message_type": m.message_type,
    }


def _is(found: CallerId, kwargs: dict[str, Any], standard: str) -> bool:
    """Whether `found` is the message `kwargs` sent in `standard`, clean."""
    got = {k: getattr(found, k) for k in _expected(kwargs)}
    return (
        got == _expected(kwargs)
        and found.standard == standard
        and found.checksum_ok
        and not found.damaged
    )


def _wrong(
    found: Sequence[Sequence[CallerId]], sent: Sequence[tuple[dict[str, Any], str]]
) -> list[str]:
    """The channels that did not give exactly their one message, clean."""
    return [
        f"channel {ch}: sent {kwargs} ({standard}), got {got}"
        for ch, (got, (kwargs, standard)) in enumerate(zip(found, sent, strict=True))
        if len(got) != 1 or not _is(got[0], kwargs, standard)
    ]


def _noisy(x: F64, snr_db: float, level: float, rng: np.random.Generator) -> F64:
    """White noise at `snr_db` in 300-3400 Hz against the power of the FSK tone."""
    return np.stack([add_noise(row, snr_db, rng, signal_power=sine_power(level)) for row in x])


def _success(
    standard: str,
    snr_db: float | None,
    level: float,
    count: int,
    rng: np.random.Generator,
) -> tuple[float, list[str]]:
    """Share of `count` messages (all of MESSAGES in turn) decoded exactly, in white noise
    at `snr_db` (None: none); and any message reported clean but wrong."""
    sent = [(MESSAGES[i % len(MESSAGES)], standard) for i in range(count)]
    x, _ = _stack([_transmission(encode_message(**k), s, level, rng) for k, s in sent], rng)
    if snr_db is not None:
        x = _noisy(x, snr_db, level, rng)
    found = _by_channel(decode_caller_id(to_int16(x)), count)
    good = sum(len(got) == 1 and _is(got[0], k, s) for got, (k, s) in zip(found, sent, strict=True))
    false_clean = [
        f"{c} for {k}"
        for got, (k, s) in zip(found, sent, strict=True)
        for c in got
        if not c.damaged and not _is(c, k, s)
    ]
    return good / count, false_clean


# -- the message layer ---------------------------------------------------------------------------


def test_checksum_makes_a_message_sum_to_zero_modulo_256() -> None:
    assert sum(GR30_SDMF) % 256 == 0
    for kwargs in MESSAGES:
        data = encode_message(**kwargs)
        assert sum(data) % 256 == 0, kwargs
        assert data[1] == len(data) - 3, kwargs


def test_gr30_sdmf_example_encodes_and_parses_byte_for_byte() -> None:
    assert encode_message(format="sdmf", datetime="09301224", number="6095551212") == GR30_SDMF
    m = parse_message(GR30_SDMF)
    assert (m.message_type, m.length, m.format) == (0x04, 18, "sdmf")
    assert (m.datetime, m.number, m.number_absence) == ("09301224", "6095551212", None)
    assert m.fields == ((0x01, b"09301224"), (0x02, b"6095551212"))
    assert m.complete and m.checksum_ok and m.well_formed


@pytest.mark.parametrize(
    ("kwargs", "hand_written"),
    [
        (
            {"format": "sdmf", "datetime": "01020304", "number_absence": "P"},
            "04 09 3031303230333034 50 19",
        ),
        (
            {"datetime": "11221530", "number": "13812345678", "name": "ZHANG SAN"},
            "80 22 01 08 3131323231353330 02 0b 3133383132333435363738 07 09 5a48414e472053414e ef",
        ),
        (
            {"datetime": "02291159", "number_absence": "O", "name_absence": "P"},
            "80 10 01 08 3032323931313539 04 01 4f 08 01 50 1d",
        ),
        (  # ETSI EN 300 659-3 Call Setup with call type (0x11) and redirecting number (0x1A)
            {"number": "0123", "call_type": 1, "redirecting_number": "0987"},
            "80 0f 02 04 30313233 11 01 01 1a 04 30393837 9c",
        ),
        ({"format": "sdmf", "message_waiting": True}, "06 03 424242 31"),
        ({"format": "sdmf", "message_waiting": False}, "06 03 6f6f6f aa"),
        ({"message_waiting": True}, "82 03 0b 01 ff 70"),
        ({"format": "mwi", "message_waiting": False}, "82 03 0b 01 00 6f"),
        (
            {"number": "1", "extra_fields": ((0x13, b"\x05"), (0xE0, b""))},
            "80 08 02 01 31 13 01 05 e0 00 4b",
        ),
    ],
)
def test_messages_encode_as_written_out_by_hand(kwargs: dict[str, Any], hand_written: str) -> None:
    expected = bytes.fromhex(hand_written)
    assert sum(expected) % 256 == 0, "the hand-written checksum is wrong"
    assert encode_message(**kwargs) == expected


def test_parse_message_reads_every_parameter() -> None:
    m = parse_message(
        encode_message(
            datetime="12312359",
            number="0123456789",
            name="LI SI",
            call_type=0x81,
            redirecting_number="555",
            extra_fields=((0x03, b"7777"), (0x02, b"999"), (0xF0, b"\x00\xff")),
        )
    )
    assert (m.datetime, m.number, m.name, m.call_type, m.redirecting_number) == (
        "12312359",
        "0123456789",
        "LI SI",
        0x81,
        "555",
    )
    # Unknown parameters and repeats are kept in order; the first of a repeat counts.
    assert m.fields[-3:] == ((0x03, b"7777"), (0x02, b"999"), (0xF0, b"\x00\xff"))
    assert m.well_formed and m.checksum_ok


def test_parse_message_of_damaged_bytes() -> None:
    good = encode_message(datetime="11221530", number="13812345678", name="ZHANG SAN")
    bad_sum = good[:-1] + bytes([good[-1] ^ 0x10])
    m = parse_message(bad_sum)
    assert m.complete and not m.checksum_ok and m.number == "13812345678"
    cut = parse_message(good[:20])
    assert not cut.complete and not cut.checksum_ok and not cut.well_formed
    assert cut.datetime == "11221530" and cut.fields[1] == (0x02, b"138123")
    # A date that is not eight digits, a number with bit 7 set: malformed, checksum or not.
    for body in (b"\x01\x081122153X", b"\x02\x0313\xb4"):
        data = bytes([0x80, len(body)]) + body
        m = parse_message(data + bytes([-sum(data) & 0xFF]))
        assert m.checksum_ok and not m.well_formed, body
    # Parameters that overrun the body.
    data = bytes([0x80, 4, 0x02, 5, 0x31, 0x32])
    assert not parse_message(data + bytes([-sum(data) & 0xFF])).well_formed
    with pytest.raises(ValueError, match=r"1 byte\(s\)"):
        parse_message(b"\x80")


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"format": "sdmf", "number": "1"}, "datetime"),
        ({"format": "sdmf", "datetime": "01010000"}, "number or number_absence"),
        ({"format": "sdmf", "datetime": "01010000", "number": "1", "name": "X"}, "name='X'"),
        ({"format": "sdmf", "message_waiting": True, "number": "1"}, "number='1'"),
        ({"message_waiting": True, "name": "X"}, "name='X'"),
        ({"number": "1", "number_absence": "P"}, "not both"),
        ({"number_absence": "Q"}, "'Q'"),
        ({"datetime": "1122153"}, "'1122153'"),
        ({"number": "13\n8"}, "position 2"),
        ({"name": "张三"}, "position 0"),
        ({"call_type": 256}, "256"),
        ({"format": "x", "number": "1"}, "'x'"),
        ({"format": "mwi", "number": "1"}, "message_waiting"),
        ({}, "at least one parameter"),
        ({"extra_fields": ((300, b""),)}, "extra_fields\\[0\\]"),
        ({"name": "x" * 256}, "256 characters"),
        ({"extra_fields": ((1, b"x" * 200), (2, b"y" * 100))}, "body is 304 bytes"),
    ],
)
def test_encode_message_refuses_what_it_cannot_send(kwargs: dict[str, Any], names: str) -> None:
    with pytest.raises(ValueError, match=names):
        encode_message(**kwargs)


_DIGITS = st.text("0123456789", min_size=1, max_size=20)
_NAMES = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=20)
_DATES = st.tuples(
    st.integers(1, 12), st.integers(1, 31), st.integers(0, 23), st.integers(0, 59)
).map(lambda t: "".join(f"{v:02d}" for v in t))


@hypothesis_seed(3001)
@settings(max_examples=200, deadline=None)
@given(
    number=st.one_of(st.none(), _DIGITS),
    name=st.one_of(st.none(), _NAMES),
    datetime=st.one_of(st.none(), _DATES),
    call_type=st.one_of(st.none(), st.integers(0, 255)),
)
def test_message_round_trip(
    number: str | None, name: str | None, datetime: str | None, call_type: int | None
) -> None:
    kwargs: dict[str, Any] = {"number": number, "name": name, "datetime": datetime}
    kwargs["call_type"] = call_type
    if number is None and name is None and datetime is None and call_type is None:
        kwargs["number_absence"] = "O"
    m = parse_message(encode_message(**kwargs))
    assert m.checksum_ok and m.well_formed
    assert (m.number, m.name, m.datetime, m.call_type) == (number, name, datetime, call_type)


# -- the FSK generator ---------------------------------------------------------------------------


def test_fsk_bits_are_seizure_mark_and_8n1_bytes() -> None:
    bits = fsk_bits(GR30_SDMF, seizure_bits=300, mark_bits=180)
    assert bits.tolist() == _preamble(300, 180) + _uart(GR30_SDMF)
    assert bits[:4].tolist() == [0, 1, 0, 1]  # 0x55 with its start and stop bits
    assert fsk_bits(b"\x04", seizure_bits=0, mark_bits=0).tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 1]


@pytest.mark.parametrize("standard", STANDARDS)
def test_caller_id_fsk_tones_level_and_timing(standard: str) -> None:
    """The generator against `_fsk`: the same tones at the same level, bit for bit in time."""
    x = caller_id_fsk(
        format="sdmf", datetime="09301224", number="6095551212", standard=standard, level_dbm0=-13
    ).astype(np.float64)
    bits = _preamble(300, 180) + _uart(GR30_SDMF)
    assert x.shape[0] == int(np.ceil(len(bits) * FS / BAUD))
    assert level_dbm0(x) == pytest.approx(-13.0, abs=0.05)
    mark = TONES[standard][0]
    # The mark period, bits 300-479: one tone (a DFT 1 Hz apart).
    seg = x[2000 + 40 : 3200 - 40]
    assert abs(int(np.argmax(np.abs(np.fft.rfft(seg, FS)))) - mark) <= 1
    # Every bit, at its centre, shows the tone of its value; so does the reference's.
    assert _bit_tones(x, len(bits), standard) == bits
    rng = np.random.default_rng(3101)
    assert _bit_tones(_fsk(bits, standard, -13, rng), len(bits), standard) == bits


def test_generator_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="'v22'"):
        caller_id_fsk(number="1", standard="v22")
    with pytest.raises(ValueError, match="-1"):
        caller_id_fsk(number="1", seizure_bits=-1)
    for kwargs, words in (
        ({"number": "12a"}, "'a' at position 2"),
        ({"number": "1", "absence": "P"}, "exactly one"),
        ({"absence": "X"}, "'X'"),
        ({"absence": "P", "variant": "plain"}, "plain"),
        ({"number": "1", "variant": "AB"}, "'AB'"),
    ):
        with pytest.raises(ValueError, match=words):
            caller_id_dtmf(**kwargs)


# -- FSK reception -------------------------------------------------------------------------------


def test_the_gr30_example_written_out_by_hand_is_read() -> None:
    """GR-30-CORE's own bytes, modulated here, with the standard's 300 + 180 bit preamble."""
    rng = np.random.default_rng(3201)
    for standard in STANDARDS:
        x, leads = _stack([_transmission(GR30_SDMF, standard, -13, rng)], rng)
        (found,) = decode_caller_id(to_int16(x[0]))
        assert (found.number, found.datetime, found.standard) == (
            "6095551212",
            "09301224",
            standard,
        )
        assert (found.format, found.message_type, found.checksum_ok, found.damaged) == (
            "sdmf",
            0x04,
            True,
            False,
        )
        assert abs(found.start - leads[0]) <= 2
        assert abs(found.end - (leads[0] + (480 + 10 * len(GR30_SDMF)) * FS / BAUD)) <= 2


@pytest.mark.parametrize("standard", STANDARDS)
def test_every_message_and_parameter(standard: str) -> None:
    rng = np.random.default_rng(3202 + STANDARDS.index(standard))
    sent = [(k, standard) for k in MESSAGES for _ in range(3)]
    x, _ = _stack([_transmission(encode_message(**k), s, -15, rng) for k, s in sent], rng)
    wrong = _wrong(_by_channel(decode_caller_id(to_int16(x)), len(sent)), sent)
    assert not wrong, "\n".join(wrong[:10])


@pytest.mark.parametrize(
    ("seizure", "mark"),
    [(300, 180), (0, 0), (0, 180), (300, 0), (96, 55), (315, 205), (1, 1), (0, 3), (50, 0)],
)
def test_seizure_and_mark_of_any_length(seizure: int, mark: int) -> None:
    rng = np.random.default_rng(3203 + seizure + 7 * mark)
    sent = [(k, s) for s in STANDARDS for k in MESSAGES]
    signals = [
        _transmission(encode_message(**k), s, -20, rng, seizure=seizure, mark=mark) for k, s in sent
    ]
    x, leads = _stack(signals, rng)
    found = _by_channel(decode_caller_id(to_int16(x)), len(sent))
    wrong = _wrong(found, sent)
    assert not wrong, "\n".join(wrong[:10])
    bit = FS / BAUD
    for got, lead, signal in zip(found, leads, signals, strict=True):
        # The signal began at the first seizure (or mark) bit, and ended with the checksum.
        assert abs(got[0].start - lead) <= bit / 2
        assert abs(got[0].end - (lead + signal.shape[0])) <= bit / 2


def test_every_message_at_every_level_from_minus_3_to_minus_36_dbm0() -> None:
    rng = np.random.default_rng(3204)
    levels = [*range(-3, -36, -3), -36]
    sent = [(k, s) for s in STANDARDS for k in MESSAGES for _ in levels]
    lv = [levels[i % len(levels)] for i in range(len(sent))]
    x, _ = _stack(
        [_transmission(encode_message(**k), s, v, rng) for (k, s), v in zip(sent, lv, strict=True)],
        rng,
    )
    wrong = _wrong(_by_channel(decode_caller_id(to_int16(x)), len(sent)), sent)
    assert not wrong, "\n".join(wrong[:10])


def test_weakest_level_decoded_is_reported() -> None:
    rng = np.random.default_rng(3205)
    for standard in STANDARDS:
        weakest = None
        for lv in range(-36, -61, -1):
            rate, _ = _success(standard, None, lv, len(MESSAGES), rng)
            if rate < 1.0:
                break
            weakest = lv
        print(
            f"\n{standard}: weakest level with every message decoded (1 dB steps): {weakest} dBm0"
        )
        assert weakest is not None and weakest < -38


@pytest.mark.parametrize(("standard", "snr"), [("v23", 14.0), ("bell202", 12.0)])
def test_every_message_decodes_in_white_noise(standard: str, snr: float) -> None:
    rng = np.random.default_rng(3206 + int(snr))
    for level in (-10.0, -30.0):
        sent = [(k, standard) for k in MESSAGES for _ in range(4)]
        x, _ = _stack([_transmission(encode_message(**k), s, level, rng) for k, s in sent], rng)
        found = _by_channel(decode_caller_id(to_int16(_noisy(x, snr, level, rng))), len(sent))
        wrong = _wrong(found, sent)
        assert not wrong, "\n".join(wrong[:10])


def test_lowest_snr_decoding_95_percent_is_reported() -> None:
    """The issue asks for 12 dB (V.23) and 10 dB (Bell 202), 2 dB better than spandsp's."""
    rng = np.random.default_rng(3207)
    goals = {"bell202": 10, "v23": 12}
    for standard in STANDARDS:
        lowest = None
        false_clean: list[str] = []
        for snr in range(13, 0, -1):
            rate, wrong = _success(standard, snr, -20.0, 66, rng)
            false_clean += wrong
            if rate < 0.95:
                break
            lowest = snr
        print(
            f"\n{standard}: lowest S/N with >= 95 % of 66 messages decoded (1 dB steps):"
            f" {lowest} dB"
        )
        assert lowest is not None and lowest <= goals[standard]
        assert not false_clean, "\n".join(false_clean)


def test_no_clean_message_is_wrong_even_far_below_the_noise_limit() -> None:
    rng = np.random.default_rng(3208)
    for standard, snrs in (("bell202", (7.0, 6.0, 5.0)), ("v23", (9.0, 8.0, 7.0))):
        for snr in snrs:
            _, false_clean = _success(standard, snr, -20.0, 110, rng)
            assert not false_clean, "\n".join(false_clean)


@pytest.mark.parametrize("standard", STANDARDS)
def test_bit_rate_and_tones_1_percent_off(standard: str) -> None:
    rng = np.random.default_rng(3209 + STANDARDS.index(standard))
    sent, signals = [], []
    for baud in (BAUD * 0.99, BAUD * 1.01):
        for tone_error in (-0.01, 0.01):
            for k in MESSAGES[:7]:
                sent.append((k, standard))
                message = encode_message(**k)
                signals.append(
                    _transmission(message, standard, -20, rng, baud=baud, tone_error=tone_error)
                )
    x, _ = _stack(signals, rng)
    wrong = _wrong(_by_channel(decode_caller_id(to_int16(x)), len(sent)), sent)
    assert not wrong, "\n".join(wrong[:10])


@pytest.mark.parametrize("standard", STANDARDS)
def test_a_bad_checksum_is_reported_damaged_with_what_was_read(standard: str) -> None:
    rng = np.random.default_rng(3210 + STANDARDS.index(standard))
    signals, expected = [], []
    for kwargs in MESSAGES:
        for seizure, mark in ((300, 180), (0, 0)):
            message = encode_message(**kwargs, checksum_error=True)
            signals.append(_transmission(message, standard, -20, rng, seizure=seizure, mark=mark))
            expected.append(kwargs)
    x, _ = _stack(signals, rng)
    found = _by_channel(decode_caller_id(to_int16(x)), len(signals))
    for got, kwargs in zip(found, expected, strict=True):
        assert len(got) == 1, (kwargs, got)
        c = got[0]
        assert not c.checksum_ok and c.damaged, (kwargs, c)
        assert {k: getattr(c, k) for k in _expected(kwargs)} == _expected(kwargs)


def test_a_message_cut_short_is_damaged_never_clean() -> None:
    rng = np.random.default_rng(3211)
    kwargs = {"datetime": "11221530", "number": "13812345678", "name": "ZHANG SAN"}
    message = encode_message(**kwargs)
    signals = []
    for standard in STANDARDS:
        for keep in (6, 14, 20, len(message) - 1):
            full = _transmission(message[:keep], standard, -20, rng)
            signals.append(full)
    x, _ = _stack(signals, rng)
    found = decode_caller_id(to_int16(x))
    assert len(found) == len(signals)
    assert all(c.damaged and not c.checksum_ok for c in found), found
    longest = [c for c in found if c.channel in (3, 7)]
    assert all(c.number == "13812345678" and c.datetime == "11221530" for c in longest)


def test_messages_back_to_back_and_on_many_channels() -> None:
    rng = np.random.default_rng(3212)
    rows = []
    expected = []
    for ch in range(12):
        parts: list[F64] = []
        sent = []
        for j in range(3):
            kwargs = MESSAGES[(ch + 5 * j) % len(MESSAGES)]
            standard = STANDARDS[(ch + j) % 2]
            seizure, mark = ((300, 180), (0, 0), (96, 55))[(ch + j) % 3]
            parts += [
                np.zeros(int(rng.integers(0, 400))),
                _transmission(
                    encode_message(**kwargs), standard, -25, rng, seizure=seizure, mark=mark
                ),
            ]
            sent.append((kwargs, standard))
        rows.append(np.concatenate(parts))
        expected.append(sent)
    x, _ = _stack(rows, rng)
    found = _by_channel(decode_caller_id(to_int16(x)), len(rows))
    for ch, (got, sent) in enumerate(zip(found, expected, strict=True)):
        assert len(got) == 3, (ch, got)
        for c, (kwargs, standard) in zip(got, sent, strict=True):
            assert _is(c, kwargs, standard), (ch, c, kwargs)


@hypothesis_seed(3301)
@settings(max_examples=12, deadline=None)
@given(
    number=_DIGITS,
    name=st.one_of(st.none(), _NAMES),
    datetime=_DATES,
    standard=st.sampled_from(STANDARDS),
    sdmf=st.booleans(),
    seizure=st.integers(0, 315),
    mark=st.integers(0, 205),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_caller_ids_round_trip(
    number: str,
    name: str | None,
    datetime: str,
    standard: str,
    sdmf: bool,
    seizure: int,
    mark: int,
    seed: int,
) -> None:
    kwargs: dict[str, Any] = {"number": number, "datetime": datetime}
    if sdmf:
        kwargs["format"] = "sdmf"
    else:
        kwargs["name"] = name
    rng = np.random.default_rng([3302, seed])
    x = caller_id_fsk(
        **kwargs,
        standard=standard,
        seizure_bits=seizure,
        mark_bits=mark,
        level_dbm0=float(rng.uniform(-35, -5)),
    )
    lead = int(rng.integers(0, 800))
    signal = np.concatenate([np.zeros(lead, np.int16), x, np.zeros(400, np.int16)])
    (found,) = decode_caller_id(signal)
    assert _is(found, kwargs, standard)
    assert abs(found.start - lead) <= 2


@pytest.mark.parametrize("fs", [11025.0, 16000.0])
def test_other_sampling_rates(fs: float) -> None:
    sent = [(k, s) for s in STANDARDS for k in MESSAGES[:5]]
    signals = [
        caller_id_fsk(**k, standard=s, fs=fs, seizure_bits=0 if i % 2 else 300, level_dbm0=-20)
        for i, (k, s) in enumerate(sent)
    ]
    signals.append(caller_id_dtmf("13812345678", fs=fs))
    n = max(x.shape[0] for x in signals) + int(fs / 10)
    x = np.stack([np.pad(s, (int(fs / 20), n - s.shape[0])) for s in signals])
    found = _by_channel(decode_caller_id(x, fs=fs), len(signals))
    wrong = _wrong(found[:-1], sent)
    assert not wrong, "\n".join(wrong)
    assert [(c.number, c.standard) for c in found[-1]] == [("13812345678", "dtmf")]


# -- DTMF caller ID ------------------------------------------------------------------------------


def _keys(digits: str, on_ms: float = 70.0, off_ms: float = 70.0, level: float = -10.0) -> I16:
    return dtmf_tones(digits, on_ms=on_ms, off_ms=off_ms, level_dbm0=level)


@pytest.mark.parametrize(
    ("digits", "number", "absence", "redirecting", "complete"),
    [
        ("A13812345678C", "13812345678", None, None, True),
        ("B00C", None, "O", None, True),
        ("B10C", None, "P", None, True),
        ("D00C", None, "O", None, True),
        ("D10C", None, "P", None, True),
        ("D0287654321C", "0287654321", None, None, True),
        ("A123D4567C", "123", None, "4567", True),
        ("A123D4567B10C", "123", "P", "4567", True),
        ("A0123456#", "0123456", None, None, True),
        ("D1#", None, "P", None, True),
        ("D2#", None, "O", None, True),
        ("D3#", None, "O", None, True),
        ("0755123456#", "0755123456", None, None, True),
        ("86543219", "86543219", None, None, True),
        ("A1234567", "1234567", None, None, False),  # the end code never came
    ],
)
def test_dtmf_caller_id_variants(
    digits: str, number: str | None, absence: str | None, redirecting: str | None, complete: bool
) -> None:
    rng = np.random.default_rng(3401)
    x, leads = _stack([_keys(digits)], rng, tail_ms=2000)
    (found,) = decode_caller_id(to_int16(x))
    assert (found.standard, found.format, found.message_type) == ("dtmf", "dtmf", None)
    assert (found.number, found.number_absence, found.redirecting_number) == (
        number,
        absence,
        redirecting,
    )
    assert (found.checksum_ok, found.damaged) == (complete, not complete)
    assert abs(found.start - leads[0]) <= 10 * MS
    if number is not None:
        assert (Parameter.NUMBER, number.encode()) in found.fields


@pytest.mark.parametrize("variant", ["AC", "hash", "plain"])
def test_caller_id_dtmf_sends_the_variant_and_is_read(variant: str) -> None:
    sent = caller_id_dtmf("13812345678", variant=variant)
    keys = "".join(e.digit for e in detect_dtmf(sent))
    assert keys == {"AC": "A13812345678C", "hash": "13812345678#", "plain": "13812345678"}[variant]
    assert sent.shape[0] == len(keys) * 140 * MS  # 70 ms on, 70 ms off
    (found,) = decode_caller_id(np.concatenate([np.zeros(800, np.int16), sent]))
    assert (found.number, found.standard, found.damaged) == ("13812345678", "dtmf", False)
    if variant != "plain":
        for absence in ("O", "P"):
            (found,) = decode_caller_id(caller_id_dtmf(absence=absence, variant=variant))
            assert (found.number, found.number_absence) == (None, absence)


@hypothesis_seed(3402)
@settings(max_examples=15, deadline=None)
@given(
    number=st.text("0123456789", min_size=3, max_size=16),
    variant=st.sampled_from(["AC", "hash", "plain"]),
    level=st.floats(-30.0, -5.0),
    on_ms=st.floats(50.0, 100.0),
    off_ms=st.floats(50.0, 100.0),
)
def test_random_dtmf_caller_ids_round_trip(
    number: str, variant: str, level: float, on_ms: float, off_ms: float
) -> None:
    x = caller_id_dtmf(number, variant=variant, level_dbm0=level, on_ms=on_ms, off_ms=off_ms)
    (found,) = decode_caller_id(np.concatenate([np.zeros(400, np.int16), x]))
    assert (found.number, found.standard, found.checksum_ok) == (number, "dtmf", True)


def _speech_like(n: int, rng: np.random.Generator, level: float = -18.0) -> F64:
    """A stand-in for a talker: a gliding harmonic voice with syllables, and hiss bursts."""
    t = np.arange(n) / FS
    f0 = 120.0 + 40.0 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(f0) / FS
    voice = sum(np.sin(k * phase + rng.uniform(0, 6)) / k for k in range(1, 25))
    syllables = np.maximum(0.0, np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6))) ** 0.5
    hiss = (
        band_noise(n, rng, band=(2000.0, 3400.0)) * (rng.random(n // 800 + 1) < 0.3).repeat(800)[:n]
    )
    x = voice * syllables + 0.5 * hiss
    return np.asarray(x * np.sqrt(sine_power(level) / np.mean(x * x)), dtype=np.float64)


def test_digits_keyed_by_a_person_are_not_caller_id() -> None:
    """A caller keying "123#" in the middle of speech, at a person's pace, after silence at
    a person's pace, or at an exchange's pace but in speech; a key held down; two digits."""
    rng = np.random.default_rng(3403)
    n = 6 * FS
    cases = []
    for keyed in (
        _keys("123#", 120, 250),
        _keys("13812345678#", 90, 180),
        _keys("123#"),
        _keys("5551212", 70, 70),
    ):
        speech = _speech_like(n, rng)
        at = int(rng.integers(FS, 2 * FS))
        speech[at : at + keyed.shape[0]] += keyed
        cases.append(speech)
    silence = np.zeros(n)
    for keyed in (
        _keys("123#", 120, 250),
        _keys("86543219", 100, 300),
        _keys("5#", 70, 70),
        _keys("12"),
    ):
        quiet = silence.copy()
        quiet[FS : FS + keyed.shape[0]] = keyed
        cases.append(quiet)
    held = silence.copy()  # a key held down, then three digits at an exchange's pace
    keyed = np.concatenate([_keys("1", 400, 70), _keys("234")])
    held[FS : FS + keyed.shape[0]] = keyed
    cases.append(held)
    found = decode_caller_id(to_int16(np.stack(cases)))
    assert not found, found


def test_dtmf_caller_id_before_speech_and_ring() -> None:
    """The exchange's string after a quiet line is read even if talk follows at once."""
    rng = np.random.default_rng(3404)
    cid = caller_id_dtmf("86543219", variant="plain").astype(np.float64)
    x = np.concatenate([np.zeros(FS), cid, _speech_like(2 * FS, rng)])
    (found,) = decode_caller_id(to_int16(x))
    assert (found.number, found.standard) == ("86543219", "dtmf")


# -- what is not caller ID -----------------------------------------------------------------------


def test_nothing_from_ring_voltage_leakage() -> None:
    """25 and 50 Hz ringing leaking in at high level: harmonics, clipping, line noise."""
    rng = np.random.default_rng(3501)
    n = 6 * FS
    t = np.arange(n) / FS
    rows = []
    for f in (25.0, 50.0, 16.67, 20.0):
        for level in (3.0, -6.0):
            ring = sum(
                sine_amplitude(level - 6.0 * (k - 1))
                * np.sin(2 * np.pi * k * f * t + rng.uniform(0, 6))
                for k in range(1, 12)
            )
            cadence = (t % 5.0) < 1.0  # 1 s on, 4 s off, as in China
            x = np.clip(2.0 * ring * cadence, -32768, 32767) + sine_amplitude(
                -50
            ) * rng.standard_normal(n)
            rows.append(x)
    found = decode_caller_id(to_int16(np.stack(rows)))
    assert not found, found


def test_nothing_from_call_progress_tones_or_noise() -> None:
    rows = []
    for plan in ("cn", "us", "eu"):
        for tone in load_plan(plan).tones:
            rows.append(plan_tone(plan, tone.name, 6000.0, level_dbm0=-10.0).astype(np.float64))
    rng = np.random.default_rng(3502)
    for level in (-10.0, -25.0, -40.0):
        rows.append(band_noise(6 * FS, rng, band=None) * np.sqrt(sine_power(level)))
        rows.append(band_noise(6 * FS, rng) * np.sqrt(sine_power(level)))
    n = max(r.shape[0] for r in rows)
    x = np.stack([np.pad(r, (0, n - r.shape[0])) for r in rows])
    found = decode_caller_id(to_int16(x))
    assert not found, found


@pytest.mark.slow
def test_talk_off_corpus_gives_no_caller_id() -> None:
    corpus = talkoff_corpus()
    assert CORPUS_FS == FS
    channels = 48
    found: list[tuple[str, int, CallerId]] = []
    seconds = 0.0
    for name, x in corpus.items():
        for shift in (0, 3):  # two alignments against the bit clock
            n = (x.shape[0] - shift) // channels
            rows = x[shift : shift + n * channels].reshape(channels, n)
            found += [(name, shift, c) for c in decode_caller_id(rows)]
            seconds += n * channels / FS
    print(
        f"\ncaller ID talk-off: {len(found)} messages from {seconds / 3600:.2f} h of speech and"
        f" music ({corpus_hours(corpus):.2f} h at two bit alignments): {found}"
    )
    assert not found


@pytest.mark.slow
def test_throughput_is_reported() -> None:
    """Channel-seconds of audio per CPU second, 256 channels in 20 ms blocks."""
    rng = np.random.default_rng(3503)
    channels, seconds = 256, 4
    idle = np.sqrt(sine_power(-60.0)) * np.stack(
        [band_noise(seconds * FS, rng) for _ in range(channels)]
    )
    speech = talkoff_corpus()["speech_cmn"]
    starts = rng.integers(0, speech.shape[0] - seconds * FS, size=channels)
    talk = np.stack([speech[s : s + seconds * FS] for s in starts])
    for name, x in (("idle line", to_int16(idle)), ("speech", talk)):
        rx = CallerIdReceiver(channels)
        t0 = time.process_time()
        for block in _blocks(x, 160):
            assert not rx.process(block)
        cpu = time.process_time() - t0
        print(f"\ncaller ID, {name}: {channels * seconds / cpu:.0f} channel-seconds per CPU second")
        assert channels * seconds / cpu > 100


# -- streaming -----------------------------------------------------------------------------------


def _blocks(x: npt.NDArray[Any], size: int | None, seed: int = 3601) -> Iterator[npt.NDArray[Any]]:
    """Consecutive blocks of `size` samples; random sizes 1-400 when 0; all when None."""
    r = np.random.default_rng(seed)
    pos = 0
    while pos < x.shape[1]:
        step = x.shape[1] if size is None else int(r.integers(1, 401)) if size == 0 else size
        yield x[:, pos : pos + step]
        pos += step


def _mixed(rng: np.random.Generator) -> tuple[I16, list[list[str]]]:
    """Channels with FSK of both standards, DTMF caller ID, noise and speech; the numbers."""
    rows: list[F64] = []
    numbers = []
    fsk = [("bell202", 300, 180), ("v23", 0, 0), ("v23", 96, 55), ("bell202", 0, 0)]
    for i, (standard, seizure, mark) in enumerate(fsk):
        a = caller_id_fsk(
            number=f"1380000000{i}",
            name="A B",
            datetime="11221530",
            standard=standard,
            seizure_bits=seizure,
            mark_bits=mark,
            level_dbm0=-25,
        )
        b = caller_id_fsk(
            format="sdmf",
            number=f"55512{i}",
            datetime="01010000",
            standard=standard,
            level_dbm0=-25,
        )
        rows.append(np.concatenate([np.zeros(300 * i), a, np.zeros(FS), b]).astype(float))
        numbers.append([f"1380000000{i}", f"55512{i}"])
    rows.append(
        np.concatenate(
            [
                np.zeros(FS // 2),
                caller_id_dtmf("13812345678"),
                np.zeros(3000),
                caller_id_dtmf("86543219", variant="plain"),
            ]
        ).astype(float)
    )
    numbers.append(["13812345678", "86543219"])
    rows.append(_speech_like(4 * FS, rng))
    numbers.append([])
    x, _ = _stack(rows, rng, tail_ms=50)
    x[:4] = _noisy(x[:4], 13.0, -25.0, rng)
    return to_int16(x), numbers


@pytest.mark.parametrize("size", [1, 7, 160, 1000, None, 0], ids=lambda s: f"block={s}")
def test_same_caller_ids_whatever_the_block_size(size: int | None) -> None:
    rng = np.random.default_rng(3602)
    x, numbers = _mixed(rng)
    whole = decode_caller_id(x)
    assert [[c.number for c in got] for got in _by_channel(whole, x.shape[0])] == numbers
    rx = CallerIdReceiver(x.shape[0])
    streamed: list[CallerId] = []
    for block in _blocks(x, size):
        streamed += rx.process(block)
    streamed += rx.flush()
    assert streamed == whole


def test_flush_reports_what_waits_and_reset_forgets() -> None:
    rng = np.random.default_rng(3603)
    plain = caller_id_dtmf("86543219", variant="plain")
    x = np.concatenate([np.zeros(400, np.int16), plain])[None, :]
    rx = CallerIdReceiver(1)
    assert rx.process(x) == []  # waiting for the plain string's timeout
    (found,) = rx.flush()
    assert found.number == "86543219"
    assert rx.flush() == []
    # A message half received, then reset: nothing, and afterwards a fresh receiver.
    fsk = caller_id_fsk(number="123", standard="v23")
    assert rx.process(fsk[None, : fsk.shape[0] // 2]) == []
    rx.reset()
    assert rx.flush() == []
    signal, _ = _stack([fsk], rng)
    assert rx.process(to_int16(signal)) + rx.flush() == decode_caller_id(to_int16(signal))


def test_blocks_shorter_than_min_block_are_gathered() -> None:
    fsk = caller_id_fsk(number="123", standard="bell202")
    x = np.concatenate([fsk, np.zeros(800, np.int16)])[None, :]
    rx = CallerIdReceiver(1)
    out = []
    for block in _blocks(x, MIN_BLOCK - 1):
        out += rx.process(block)
    assert [c.number for c in out] == ["123"]


def test_shapes_dtypes_and_errors() -> None:
    rx = CallerIdReceiver(2)
    with pytest.raises(ValueError, match=r"\(3, 100\)"):
        rx.process(np.zeros((3, 100), np.int16))
    with pytest.raises(ValueError, match=r"\(100,\)"):
        rx.process(np.zeros(100, np.int16))
    with pytest.raises(ValueError, match=r"\(2, 2, 100\)"):
        decode_caller_id(np.zeros((2, 2, 100), np.int16))
    with pytest.raises(ValueError, match="4000"):
        CallerIdReceiver(1, fs=4000.0)
    with pytest.raises(ValueError, match=r"8000\.5"):
        CallerIdReceiver(1, fs=8000.5)
    pcm = caller_id_fsk(number="13812345678", standard="v23")
    fuzzed = pcm + np.random.default_rng(3604).uniform(-0.45, 0.45, size=pcm.shape)
    one = decode_caller_id(pcm)
    assert decode_caller_id(fuzzed) == one  # floats are rounded to int16 first
    many = decode_caller_id(np.stack([np.zeros_like(pcm), pcm]))
    assert [(c.channel, c.number) for c in many] == [(1, "13812345678")]
