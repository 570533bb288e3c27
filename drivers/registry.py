"""Backends by name, imported only when a board of that kind is opened.

Built-in backends are listed here; others come from installed packages through the
entry-point group ``boardcc.drivers`` (``name = "package.module:BoardClass"``). Asking for
a name nobody registered is `UnknownBackendError`; a registered backend whose Python
module, C library or kernel interface is missing is `BackendUnavailableError`, which says
what to install. The two are kept apart because the first is a typo in the site file and
the second is a machine that needs setting up.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from boardcc.drivers.board import Board
from boardcc.drivers.errors import BackendUnavailableError, UnknownBackendError

ENTRY_POINT_GROUP = "boardcc.drivers"

BUILTIN: dict[str, str] = {
    "sim": "boardcc.drivers.sim:SimBoard",
    "dahdi": "boardcc.drivers.dahdi:DahdiBoard",
    "donjin": "boardcc.drivers.donjin:DonjinBoard",
}

DEFAULT_BACKEND = "sim"


def backends() -> dict[str, str]:
    """Every registered backend: name -> ``"module:Class"`` (built-ins win over plugins)."""
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return {**found, **BUILTIN}


def backend_class(name: str) -> type[Board]:
    """Import and return the board class registered as `name`."""
    known = backends()
    target = known.get(name)
    if target is None:
        raise UnknownBackendError(name, sorted(known))
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailableError(
            name,
            f"its module {module_name} cannot be imported ({exc})",
            f"install the package that provides {module_name!r}"
            + (f" (missing: {exc.name})" if exc.name else ""),
        ) from exc
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Board)):
        raise BackendUnavailableError(
            name, f"{target} is not a Board class", f"fix the entry point {name!r}"
        )
    return cls


def open_board(name: str = DEFAULT_BACKEND, /, **config: Any) -> Board:
    """Open a board of the backend registered as `name`, configured by keyword.

    Examples
    --------
    >>> with open_board("sim", trunks=2, stations=2) as board:
    ...     rx = board.read()
    """
    return backend_class(name)(**config)
