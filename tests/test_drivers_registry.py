"""Backends by name: built-ins, plugins through entry points, and the two distinct errors."""

from __future__ import annotations

import gc
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest

from boardcc.drivers import (
    BackendUnavailableError,
    Board,
    Capabilities,
    ChannelInfo,
    ChannelKind,
    UnknownBackendError,
    backends,
    open_board,
    registry,
)
from boardcc.drivers.sim import SimBoard

PLUGIN = '''
import numpy as np
from boardcc.drivers import Board, Capabilities, ChannelInfo, ChannelKind

class LoopBoard(Board):
    """Sends back what it is sent: the smallest backend a vendor package could ship."""

    backend = "loop"

    def __init__(self, channels=2):
        infos = [ChannelInfo(i, ChannelKind.TRUNK, f"loop/{i}") for i in range(channels)]
        super().__init__(infos, Capabilities())
        self._last = np.zeros((channels, self.block), np.int16)

    def _read(self):
        return self._last.copy()

    def _write(self, tx):
        self._last = tx.copy()

    def _close(self):
        pass
'''


def test_default_backend_is_the_simulated_board() -> None:
    with open_board() as board:
        assert isinstance(board, SimBoard)
    assert {"sim", "dahdi", "donjin"} <= set(backends())


def test_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(UnknownBackendError, match=r"'dialogic'.*dahdi, donjin, sim") as info:
        open_board("dialogic")
    assert info.value.known == sorted(backends())


def test_a_plugin_backend_from_an_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "loopboard.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    point = EntryPoint("loop", "loopboard:LoopBoard", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [point])
    assert "loopboard" not in sys.modules  # imported only when opened
    assert backends()["loop"] == "loopboard:LoopBoard"
    with open_board("loop", channels=3) as board:
        board.read()
        board.write(np.full((3, 160), 7, np.int16))
        assert (board.read() == 7).all()
    monkeypatch.delitem(sys.modules, "loopboard")


def test_a_plugin_whose_package_is_missing_is_unavailable_not_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point = EntryPoint("acme", "acme_voice_sdk.boards:AcmeBoard", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [point])
    with pytest.raises(BackendUnavailableError, match="acme_voice_sdk") as info:
        open_board("acme")
    assert info.value.backend == "acme" and "install" in info.value.install


def test_an_entry_point_that_is_not_a_board(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint("odd", "json:loads", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [point])
    with pytest.raises(BackendUnavailableError, match="not a Board class"):
        open_board("odd")


def test_a_plugin_cannot_replace_a_built_in(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint("sim", "json:loads", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [point])
    assert backends()["sim"] == registry.BUILTIN["sim"]


class _Bare(Board):
    backend = "bare"

    def _read(self) -> np.ndarray:
        return np.zeros((1, 160), np.int16)

    def _write(self, tx: np.ndarray) -> None:
        return None

    def _close(self) -> None:
        return None


def test_a_board_dropped_open_warns() -> None:
    board = _Bare([ChannelInfo(0, ChannelKind.TRUNK, "bare/0")], Capabilities())
    with pytest.warns(ResourceWarning, match="not closed"):
        board.__del__()
    board.close()
    del board
    gc.collect()


def test_commands_a_backend_does_not_implement_are_not_supported() -> None:
    from boardcc.drivers import NotSupportedError

    with _Bare([ChannelInfo(0, ChannelKind.TRUNK, "bare/0")], Capabilities()) as board:
        with pytest.raises(NotSupportedError, match="bare board cannot"):
            board.offhook(0)
        with pytest.raises(NotSupportedError, match="has no links"):
            board.link(0, 0)
