"""Small pieces every bench uses: cutting the talk-off corpus into channels, and table cells."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

I16 = npt.NDArray[np.int16]


def corpus_rows(corpus: dict[str, I16], seconds: float, fs: int) -> tuple[I16, list[str]]:
    """The corpus as rows of `seconds` (zero-padded), one channel each, and each row's part."""
    n = int(seconds * fs)
    rows, names = [], []
    for name, x in corpus.items():
        rows.append(np.pad(x, (0, -x.shape[0] % n)).reshape(-1, n))
        names += [name] * rows[-1].shape[0]
    return np.ascontiguousarray(np.concatenate(rows)), names


def fmt(value: float | None, spec: str) -> str:
    """`value` formatted by `spec`, or a dash as wide when there is none (None or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        width = int(spec.split(".")[0]) if spec[0].isdigit() else 0
        return f"{'-':>{width}}"
    return format(value, spec)
