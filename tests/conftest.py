"""Shared test fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from boardcc.drivers import Board

if TYPE_CHECKING:
    from tests.donjin_sdk_sim import SimCard


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


@pytest.fixture(scope="session")
def donjin_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated Donjin SDK (tests/donjin_sim/), compiled once per test session."""
    from tests.donjin_sdk_sim import build

    return build(tmp_path_factory.mktemp("donjin_sdk"))


@pytest.fixture
def sim_card(donjin_sdk: Path) -> SimCard:
    """The simulated card, reset to two trunks and two stations (channels 0-1, 2-3)."""
    from tests.donjin_sdk_sim import SimCard

    card = SimCard(donjin_sdk)
    card.reset(["trunk", "trunk", "station", "station"])
    return card
