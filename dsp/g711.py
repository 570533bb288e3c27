"""G.711 A-law and μ-law companding between int16 linear samples and 8-bit codes.

Trunks, voice boards and telephony files carry speech as G.711 codes, so every sample that
enters or leaves a channel passes through here. The quantiser is computed once, at import,
with a vectorised form of the algorithm in ITU-T G.711 for every one of the 65,536 int16
inputs and the 256 codes; encoding and decoding afterwards is a single table lookup
(`numpy.take`), fast enough for whole recordings and for many channels per block.

A-law keeps the 13 most significant bits: negative inputs are ones' complemented (so the
grid is symmetric about -1/2), the magnitude is cut into a segment (0..7) and a 4-bit step
within it, and the code has its even bits inverted (XOR 0x55). μ-law keeps 14 bits, adds the
bias 33 (0x84 in 16-bit units) to the magnitude, saturates at 8159, and the code is
inverted entirely (XOR 0xFF). Decoding returns the middle of each quantisation interval.

The μ-law encoder negates negative inputs (two's complement), as the Sun reference code,
Python's `audioop` and most telephony stacks do. The ITU-T G.191 software tools take the
ones' complement instead, so for 508 of the 32,768 negative inputs (those just below a
decision value) the two give adjacent codes. Their decoders agree.

References
----------
ITU-T Recommendation G.711 (11/1988), Pulse code modulation (PCM) of voice frequencies,
Tables 1a/1b (A-law) and 2a/2b (μ-law).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["alaw_decode", "alaw_encode", "ulaw_decode", "ulaw_encode"]

U8 = npt.NDArray[np.uint8]
I16 = npt.NDArray[np.int16]
I32 = npt.NDArray[np.int32]
_T = TypeVar("_T", bound=np.generic)

#: Even-bit inversion applied to A-law codes on the line.
ALAW_INVERSION = 0x55
#: Full inversion applied to μ-law codes on the line.
ULAW_INVERSION = 0xFF
#: μ-law bias in 14-bit units (0x84 = 132 in 16-bit units).
ULAW_BIAS = 33
#: Largest μ-law magnitude in 14-bit units before the bias is added.
ULAW_CLIP = 8159


def _bit_length(m: I32) -> I32:
    """Number of bits needed for each non-negative value (0 for 0)."""
    _, exponent = np.frexp(m.astype(np.float64))
    return exponent.astype(np.int32)


def _all_int16() -> I32:
    """Every int16 value, in the order of its uint16 bit pattern (0, 1, ..., -1)."""
    return np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.int16).astype(np.int32)


def _alaw_encode_table() -> U8:
    x = _all_int16()
    positive = x >= 0
    magnitude = np.where(positive, x, ~x) >> 3  # 12-bit magnitude, 0..4095
    segment = np.clip(_bit_length(magnitude) - 5, 0, 7)
    step = np.maximum(segment, 1)
    code = (segment << 4) | ((magnitude >> step) & 0x0F) | np.where(positive, 0x80, 0)
    return (code ^ ALAW_INVERSION).astype(np.uint8)


def _alaw_decode_table() -> I16:
    code = np.arange(256, dtype=np.int32) ^ ALAW_INVERSION
    segment = (code >> 4) & 0x07
    quant = code & 0x0F
    # Middle of the interval, in 16-bit units: 2q+1 (segment 0), else 2^(s+4) + (q + 1/2) 2^s,
    # all times 8 for the three bits below the 13 that A-law keeps.
    middle = np.where(segment == 0, (quant << 4) + 8, ((quant << 4) + 0x108) << (segment - 1))
    return np.where(code & 0x80, middle, -middle).astype(np.int16)


def _ulaw_encode_table() -> U8:
    x = _all_int16()
    v = x >> 2  # 14 bits
    negative = v < 0
    magnitude = np.minimum(np.where(negative, -v, v), ULAW_CLIP)
    biased = np.minimum(magnitude + ULAW_BIAS, 0x1FFF)  # 33..8191 after saturation
    segment = _bit_length(biased) - 6
    code = (segment << 4) | ((biased >> (segment + 1)) & 0x0F)
    return np.asarray(code ^ np.where(negative, 0x7F, ULAW_INVERSION), dtype=np.uint8)


def _ulaw_decode_table() -> I16:
    code = np.arange(256, dtype=np.int32) ^ ULAW_INVERSION
    segment = (code >> 4) & 0x07
    quant = code & 0x0F
    bias16 = ULAW_BIAS << 2
    # Middle of the biased interval, (33 + 2q) 2^s in 14-bit units, less the bias; times 4.
    magnitude = (((quant << 3) + bias16) << segment) - bias16
    return np.where(code & 0x80, -magnitude, magnitude).astype(np.int16)


def _frozen(table: npt.NDArray[_T]) -> npt.NDArray[_T]:
    table.setflags(write=False)
    return table


_ALAW_ENCODE = _frozen(_alaw_encode_table())
_ALAW_DECODE = _frozen(_alaw_decode_table())
_ULAW_ENCODE = _frozen(_ulaw_encode_table())
_ULAW_DECODE = _frozen(_ulaw_decode_table())


def _linear(x: npt.ArrayLike, name: str) -> npt.NDArray[np.uint16]:
    a = np.asarray(x)
    if a.dtype != np.int16:
        raise ValueError(f"{name} expects int16 linear samples, got dtype {a.dtype}")
    return a.view(np.uint16)


def _codes(codes: npt.ArrayLike, name: str) -> U8:
    a = np.asarray(codes)
    if a.dtype != np.uint8:
        raise ValueError(f"{name} expects uint8 G.711 codes, got dtype {a.dtype}")
    return a


def alaw_encode(x: npt.ArrayLike) -> U8:
    """Encode int16 linear samples to G.711 A-law codes.

    Parameters
    ----------
    x : array_like of int16, any shape
        Linear samples (full scale ±32768).

    Returns
    -------
    ndarray of uint8, same shape as `x`
        A-law codes as sent on the line (even bits inverted).

    Raises
    ------
    ValueError
        If `x` is not int16.
    """
    return np.asarray(np.take(_ALAW_ENCODE, _linear(x, "alaw_encode")))


def alaw_decode(codes: npt.ArrayLike) -> I16:
    """Decode G.711 A-law codes to int16 linear samples.

    Parameters
    ----------
    codes : array_like of uint8, any shape
        A-law codes as received from the line.

    Returns
    -------
    ndarray of int16, same shape as `codes`
        The middle of each code's quantisation interval (at most ±32256).

    Raises
    ------
    ValueError
        If `codes` is not uint8.
    """
    return np.asarray(np.take(_ALAW_DECODE, _codes(codes, "alaw_decode")))


def ulaw_encode(x: npt.ArrayLike) -> U8:
    """Encode int16 linear samples to G.711 μ-law codes.

    Parameters
    ----------
    x : array_like of int16, any shape
        Linear samples (full scale ±32768).

    Returns
    -------
    ndarray of uint8, same shape as `x`
        μ-law codes as sent on the line (all bits inverted).

    Raises
    ------
    ValueError
        If `x` is not int16.
    """
    return np.asarray(np.take(_ULAW_ENCODE, _linear(x, "ulaw_encode")))


def ulaw_decode(codes: npt.ArrayLike) -> I16:
    """Decode G.711 μ-law codes to int16 linear samples.

    Parameters
    ----------
    codes : array_like of uint8, any shape
        μ-law codes as received from the line.

    Returns
    -------
    ndarray of int16, same shape as `codes`
        The middle of each code's quantisation interval (at most ±32124); the two codes
        for zero (0xFF and 0x7F) both decode to 0.

    Raises
    ------
    ValueError
        If `codes` is not uint8.
    """
    return np.asarray(np.take(_ULAW_DECODE, _codes(codes, "ulaw_decode")))
