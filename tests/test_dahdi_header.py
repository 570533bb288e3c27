"""The DAHDI declarations boardcc uses agree with the real include/dahdi/user.h.

The binding runs in cffi's ABI mode, where nothing compares its declarations with the C
header. Here a small checker is compiled in cffi's API mode against the header from Debian's
dahdi-source (installed as /usr/include/dahdi/user.h, or taken from /usr/src/dahdi.tar.bz2):
for every struct the binding declares it reports the size, the offset, size and signedness
of every field; for every value in boardcc.drivers.dahdi.constants (ioctl numbers, signalling
types, event codes, ...) the header's value. Each is compared with what boardcc uses.
struct pollfd is checked against <poll.h> the same way.
"""

from __future__ import annotations

import importlib.util
import shutil
import sysconfig
import tarfile
from enum import Enum
from pathlib import Path
from types import ModuleType

import pytest

from boardcc.drivers.dahdi import board as dahdi_board
from boardcc.drivers.dahdi import constants
from boardcc.drivers.dahdi.binding import ffi

HEADER = Path("/usr/include/dahdi/user.h")
TARBALL = Path("/usr/src/dahdi.tar.bz2")
INSTALL_HINT = "install Debian's dahdi-source (scripts/bootstrap.sh does)"

# Where each name in constants.py comes from in the header.
ENUM_PREFIX: dict[type[Enum], str] = {
    constants.Ioctl: "DAHDI_",
    constants.Sig: "DAHDI_SIG_",
    constants.Hook: "DAHDI_",
    constants.Event: "DAHDI_EVENT_",
    constants.EventFlag: "DAHDI_EVENT_",
    constants.AlarmBit: "DAHDI_ALARM_",
    constants.ConfMode: "DAHDI_CONF_",
    constants.ConfFlag: "DAHDI_CONF_",
    constants.Law: "DAHDI_LAW_",
    constants.Policy: "DAHDI_POLICY_",
}
PLAIN: dict[str, str] = {
    "CODE": "DAHDI_CODE",
    "ELAST": "ELAST",
    "MAX_CADENCE": "DAHDI_MAX_CADENCE",
    "MAX_BLOCKSIZE": "DAHDI_MAX_BLOCKSIZE",
    "MAX_EVENTSIZE": "DAHDI_MAX_EVENTSIZE",
    "SIG_FXO_FAMILY": "__DAHDI_SIG_FXO",
    "SIG_FXS_FAMILY": "__DAHDI_SIG_FXS",
    "SIG_DACS_FAMILY": "__DAHDI_SIG_DACS",
    "INT_SIZE": "sizeof(int)",
    "PARAMS_SIZE": "sizeof(struct dahdi_params)",
    "BUFFERINFO_SIZE": "sizeof(struct dahdi_bufferinfo)",
    "CONFINFO_SIZE": "sizeof(struct dahdi_confinfo)",
    "GAINS_SIZE": "sizeof(struct dahdi_gains)",
    "ECHOCANPARAMS_SIZE": "sizeof(struct dahdi_echocanparams)",
    "ECHOCANPARAM_SIZE": "sizeof(struct dahdi_echocanparam)",
    "RING_CADENCE_SIZE": "sizeof(struct dahdi_ring_cadence)",
}
BOARD_LIMITS: dict[str, str] = {
    "BUFFERS_MAX": "DAHDI_MAX_NUM_BUFS",
    "BUFFER_SPACE": "DAHDI_MAX_BUF_SPACE",
}


def declared_values() -> list[tuple[str, str, int]]:
    """(boardcc's name, the header's C expression, boardcc's value) for every constant."""
    rows: list[tuple[str, str, int]] = []
    for name, value in vars(constants).items():
        if (
            isinstance(value, type)
            and issubclass(value, Enum)
            and value.__module__ == constants.__name__
        ):
            assert value in ENUM_PREFIX, f"constants.{name} is not mapped to the header"
            prefix = ENUM_PREFIX[value]
            members = value.__members__.items()  # aliases too
            rows += [(f"{name}.{m}", prefix + m, int(v)) for m, v in members]
        elif name.isupper() and not name.startswith("_") and isinstance(value, int):
            assert name in PLAIN, f"constants.{name} is not mapped to the header"
            rows.append((name, PLAIN[name], value))
    rows += [(f"board.{k}", c, getattr(dahdi_board, k)) for k, c in BOARD_LIMITS.items()]
    return rows


def declared_layout() -> list[tuple[str, str, int]]:
    """(what, C expression, value in the binding) for every declared struct and field."""
    rows: list[tuple[str, str, int]] = []
    _, structs, unions = ffi.list_types()
    assert not unions
    for struct in structs:
        ctype = ffi.typeof(f"struct {struct}")
        rows.append((f"sizeof {struct}", f"sizeof(struct {struct})", ffi.sizeof(ctype)))
        for field, f in ctype.fields:
            member = f"((struct {struct} *)0)->{field}"
            rows.append(
                (f"offset {struct}.{field}", f"offsetof(struct {struct}, {field})", f.offset)
            )
            if f.type.kind == "array" and f.type.length is None:
                item = f.type.item  # a flexible array member: its items, not its size
                rows.append(
                    (f"item size {struct}.{field}", f"sizeof({member}[0])", ffi.sizeof(item))
                )
                continue
            rows.append((f"size {struct}.{field}", f"sizeof({member})", ffi.sizeof(f.type)))
            if f.type.kind == "primitive" and f.type.cname != "char":
                signed = int(ffi.cast(f.type, -1)) < 0
                rows.append(
                    (f"signed {struct}.{field}", f"((__typeof__({member}))-1 < 0)", int(signed))
                )
    return rows


def find_include_dir(tmp: Path) -> Path | None:
    """A directory with dahdi/user.h in it: the installed one, else out of the tarball."""
    if HEADER.is_file():
        return HEADER.parent.parent
    if not TARBALL.is_file():
        return None
    target = tmp / "include" / "dahdi"
    target.mkdir(parents=True)
    with tarfile.open(TARBALL, "r:bz2") as tar:
        for member in tar.getmembers():
            if member.isfile() and "/include/dahdi/" in member.name and member.name.endswith(".h"):
                source = tar.extractfile(member)
                assert source is not None
                (target / Path(member.name).name).write_bytes(source.read())
    return target.parent if (target / "user.h").is_file() else None


@pytest.fixture(scope="session")
def header_values(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """What the compiler says about every row of `declared_values` and `declared_layout`."""
    tmp = tmp_path_factory.mktemp("dahdi_header")
    include = find_include_dir(tmp)
    if include is None:
        pytest.skip(f"the DAHDI header is not here ({HEADER}, {TARBALL}): {INSTALL_HINT}")
    if shutil.which(sysconfig.get_config_var("CC").split()[0]) is None:
        pytest.skip("no C compiler to build the header checker")
    from cffi import FFI

    rows = declared_values() + declared_layout()
    source = "\n".join(
        [
            "#include <stddef.h>",
            "#include <poll.h>",
            "#include <dahdi/user.h>",
            "static const long long values[] = {",
            *(f"    (long long)({expr})," for _, expr, _ in rows),
            "};",
            "long long check_value(int i) { return values[i]; }",
        ]
    )
    checker = FFI()
    checker.cdef("long long check_value(int i);")
    checker.set_source("_dahdi_header_check", source, include_dirs=[str(include)])
    library = Path(checker.compile(tmpdir=str(tmp)))
    spec = importlib.util.spec_from_file_location("_dahdi_header_check", library)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {expr: module.lib.check_value(i) for i, (_, expr, _) in enumerate(rows)}


def test_every_struct_matches_the_header(header_values: dict[str, int]) -> None:
    rows = declared_layout()
    assert len(rows) > 60  # every field of the seven DAHDI structs and struct pollfd
    wrong = [
        f"{what}: binding {ours}, header {header_values[expr]}"
        for what, expr, ours in rows
        if header_values[expr] != ours
    ]
    assert not wrong, "\n".join(wrong)


def test_every_constant_matches_the_header(header_values: dict[str, int]) -> None:
    rows = declared_values()
    assert {"Ioctl.SPECIFY", "Sig.FXSKS", "Event.RINGBEGIN", "ELAST"} <= {n for n, _, _ in rows}
    wrong = [
        f"{name} = {ours:#x}, header {expr} = {header_values[expr]:#x}"
        for name, expr, ours in rows
        if header_values[expr] != ours
    ]
    assert not wrong, "\n".join(wrong)
