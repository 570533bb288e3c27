"""The DAHDI backend (``open_board("dahdi", channels="1-24")``): analog cards on Linux.

Split by role: `constants` (ioctl numbers, signalling types, event codes), `binding` (the
cffi declarations, libc, the errno choke point and the kernel `Transport`), `board` (the
`DahdiBoard`). See docs/boards/dahdi.md for setting up a machine with DAHDI cards.
"""

from boardcc.drivers.dahdi.board import DahdiBoard

__all__ = ["DahdiBoard"]
