"""The Donjin backend (``open_board("donjin", library=...)``): Donjin (东进) analog voice cards.

Split by role: `constants` (the SDK's numbers), `binding` (the cffi declarations, opening the
vendor's libraries, the status choke point), `board` (the `DonjinBoard`). See docs/boards/donjin.md
for the cards, the SDK and what boardcc does with it.
"""

from boardcc.drivers.donjin.board import DonjinBoard

__all__ = ["DonjinBoard"]
