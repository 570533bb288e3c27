"""Shared test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from boardcc.drivers import Board


@pytest.fixture(autouse=True)
def _no_board_left_open() -> Iterator[None]:
    """Fail any test that leaves a board open (as python-can's suite does for buses)."""
    before = set(map(id, Board.open_boards()))
    yield
    leaked = [b for b in Board.open_boards() if id(b) not in before]
    for board in leaked:
        board.close()
    if leaked:
        pytest.fail(f"test left {len(leaked)} board(s) open: {leaked}")
