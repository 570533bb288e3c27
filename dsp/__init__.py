"""Signal processing for voice-board channels, in numpy, batched across channels.

Nothing here imports the engine or a driver. Blocks are ``(channels, samples)``; int16 at the
edges, float32 inside; `fs` is keyword-only.
"""

from boardcc.dsp.levels import (
    FULL_SCALE_SINE_DBM0,
    level_dbm0,
    power_dbm0,
    sine_amplitude,
    sine_power,
)
from boardcc.dsp.sliding import SlidingDft, Windows

__all__ = [
    "FULL_SCALE_SINE_DBM0",
    "SlidingDft",
    "Windows",
    "level_dbm0",
    "power_dbm0",
    "sine_amplitude",
    "sine_power",
]
