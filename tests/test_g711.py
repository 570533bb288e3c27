"""G.711 tables against Python's `audioop` (an independent C implementation), exhaustively."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from types import ModuleType

import numpy as np
import pytest

from boardcc.dsp.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

ALL_LINEAR = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = np.arange(256, dtype=np.uint8)

Encode = Callable[[np.ndarray], np.ndarray]
Decode = Callable[[np.ndarray], np.ndarray]


@pytest.fixture(scope="module")
def audioop() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module: ModuleType = pytest.importorskip("audioop")
    return module


def _ref_encode(audioop: ModuleType, name: str, x: np.ndarray) -> np.ndarray:
    return np.frombuffer(getattr(audioop, name)(x.tobytes(), 2), dtype=np.uint8)


def _ref_decode(audioop: ModuleType, name: str, codes: np.ndarray) -> np.ndarray:
    return np.frombuffer(getattr(audioop, name)(codes.tobytes(), 2), dtype=np.int16)


def test_alaw_encode_matches_audioop_for_every_input(audioop: ModuleType) -> None:
    np.testing.assert_array_equal(
        alaw_encode(ALL_LINEAR), _ref_encode(audioop, "lin2alaw", ALL_LINEAR)
    )


def test_ulaw_encode_matches_audioop_for_every_input(audioop: ModuleType) -> None:
    np.testing.assert_array_equal(
        ulaw_encode(ALL_LINEAR), _ref_encode(audioop, "lin2ulaw", ALL_LINEAR)
    )


def test_alaw_decode_matches_audioop_for_every_code(audioop: ModuleType) -> None:
    np.testing.assert_array_equal(
        alaw_decode(ALL_CODES), _ref_decode(audioop, "alaw2lin", ALL_CODES)
    )


def test_ulaw_decode_matches_audioop_for_every_code(audioop: ModuleType) -> None:
    np.testing.assert_array_equal(
        ulaw_decode(ALL_CODES), _ref_decode(audioop, "ulaw2lin", ALL_CODES)
    )


def test_known_codes_from_g711() -> None:
    # Idle channel and full scale, as seen on a line analyser.
    assert alaw_encode(np.array([0, -1, 32767, -32768], dtype=np.int16)).tolist() == [
        0xD5,
        0x55,
        0xAA,
        0x2A,
    ]
    assert ulaw_encode(np.array([0, 32767, -32768], dtype=np.int16)).tolist() == [
        0xFF,
        0x80,
        0x00,
    ]
    assert alaw_decode(np.array([0xD5, 0x55, 0xAA], dtype=np.uint8)).tolist() == [8, -8, 32256]
    assert ulaw_decode(np.array([0xFF, 0x7F, 0x80], dtype=np.uint8)).tolist() == [0, 0, 32124]


CODECS = [
    pytest.param(alaw_encode, alaw_decode, id="alaw"),
    pytest.param(ulaw_encode, ulaw_decode, id="ulaw"),
]


@pytest.mark.parametrize(("encode", "decode"), CODECS)
def test_codes_survive_decode_then_encode(encode: Encode, decode: Decode) -> None:
    used = np.unique(encode(ALL_LINEAR))
    np.testing.assert_array_equal(encode(decode(used)), used)


def test_alaw_error_is_at_most_half_a_step() -> None:
    codes = alaw_encode(ALL_LINEAR)
    segment = ((codes ^ 0x55) >> 4) & 7
    step = 8 << np.maximum(segment, 1).astype(np.int32)  # 16-bit units
    err = np.abs(alaw_decode(codes).astype(np.int32) - ALL_LINEAR)
    assert np.all(2 * err <= step)


def test_ulaw_error_is_at_most_half_a_step_below_overload() -> None:
    codes = ulaw_encode(ALL_LINEAR)
    segment = ((codes ^ 0xFF) >> 4) & 7
    step = 8 << segment.astype(np.int32)
    y = ulaw_decode(codes).astype(np.int32)
    err = np.abs(y - ALL_LINEAR)
    inside = np.abs(ALL_LINEAR.astype(np.int32)) < 4 * 8159
    # Negative inputs are negated, not complemented, so they may sit one 14-bit LSB (4)
    # further from the middle of their interval.
    assert np.all(2 * err[inside] <= step[inside] + 8)
    assert set(np.abs(y[~inside]).tolist()) == {32124}


@pytest.mark.parametrize(("encode", "decode"), CODECS)
def test_decoded_level_never_falls_as_input_rises(encode: Encode, decode: Decode) -> None:
    assert np.all(np.diff(decode(encode(ALL_LINEAR)).astype(np.int32)) >= 0)


def test_any_shape_and_layout() -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(-32768, 32768, size=(3, 5, 7), dtype=np.int16)
    for encode, decode in ((alaw_encode, alaw_decode), (ulaw_encode, ulaw_decode)):
        codes = encode(x)
        assert codes.shape == x.shape
        assert codes.dtype == np.uint8
        np.testing.assert_array_equal(encode(x[:, ::2, ::-1]), codes[:, ::2, ::-1])
        y = decode(codes)
        assert y.shape == x.shape
        assert y.dtype == np.int16
    assert alaw_encode(np.int16(0)).shape == ()


@pytest.mark.parametrize("encode", [alaw_encode, ulaw_encode])
@pytest.mark.parametrize("dtype", [np.int32, np.float64, np.uint16, np.uint8])
def test_encode_rejects_wrong_dtype(encode: Encode, dtype: type[np.generic]) -> None:
    with pytest.raises(ValueError, match=f"got dtype {np.dtype(dtype).name}"):
        encode(np.zeros(4, dtype=dtype))


@pytest.mark.parametrize("decode", [alaw_decode, ulaw_decode])
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int64, np.float32])
def test_decode_rejects_wrong_dtype(decode: Decode, dtype: type[np.generic]) -> None:
    with pytest.raises(ValueError, match=f"got dtype {np.dtype(dtype).name}"):
        decode(np.zeros(4, dtype=dtype))


def test_tables_are_read_only() -> None:
    from boardcc.dsp import g711

    with pytest.raises(ValueError, match="read-only"):
        g711._ALAW_ENCODE[0] = 0
