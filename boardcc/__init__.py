"""boardcc — a board-based call center.

The engine lives in this package; the driver layer, the signal processing and the GUI live
in `boardcc.drivers`, `boardcc.dsp` and `boardcc.gui` (top-level folders `drivers/`, `dsp/`,
`gui/` in the source tree).
"""

__version__ = "0.1.0"
