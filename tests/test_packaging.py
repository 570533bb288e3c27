"""The package installs the same way editable and as a wheel.

`drivers/`, `dsp/` and `gui/` sit at the top of the source tree but must install as
`boardcc.drivers`, `boardcc.dsp` and `boardcc.gui`, with the tone plans, the IVR flow folder,
the sample recording and the sample site file with its prompts as package data, and nothing
called `dsp` or `gui` at the top of site-packages. The DAHDI binding's cffi module is
generated at build time (setup.py): into the wheel, and next to the sources for an editable
install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import boardcc
import boardcc.drivers
import boardcc.dsp
import boardcc.gui
import boardcc.ivr_flows

ROOT = Path(__file__).resolve().parent.parent


def test_editable_install_maps_top_level_folders_into_boardcc() -> None:
    assert Path(boardcc.__file__).parent == ROOT / "boardcc"
    assert Path(boardcc.dsp.__file__).parent == ROOT / "dsp"
    assert Path(boardcc.drivers.__file__).parent == ROOT / "drivers"
    assert Path(boardcc.gui.__file__).parent == ROOT / "gui"
    assert boardcc.ivr_flows.FLOWS_DIR == ROOT / "ivr_flows"


def test_editable_install_generated_the_cffi_modules() -> None:
    import boardcc.drivers.dahdi._dahdi_cffi as generated

    assert Path(generated.__file__) == ROOT / "drivers" / "dahdi" / "_dahdi_cffi.py"
    assert generated.ffi.sizeof("struct dahdi_params") == 136
    import boardcc.drivers.donjin._donjin_cffi as donjin

    assert Path(donjin.__file__) == ROOT / "drivers" / "donjin" / "_donjin_cffi.py"
    assert donjin.ffi.sizeof("WORD") == 2


def test_console_command_runs() -> None:
    exe = Path(sys.executable).parent / "boardcc"
    done = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"boardcc {boardcc.__version__}"


@pytest.mark.slow
def test_wheel_contents_and_import(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("boardcc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "boardcc/__init__.py",
        "boardcc/cli.py",
        "boardcc/dsp/__init__.py",
        "boardcc/dsp/dtmf.py",
        "boardcc/dsp/tones.py",
        "boardcc/dsp/plans/cn.yaml",
        "boardcc/dsp/py.typed",
        "boardcc/drivers/__init__.py",
        "boardcc/drivers/dahdi/__init__.py",
        "boardcc/drivers/dahdi/_dahdi_cffi.py",
        "boardcc/drivers/donjin/_donjin_cffi.py",
        "boardcc/gui/__init__.py",
        "boardcc/ivr_flows/__init__.py",
        "boardcc/samples/line-sample.wav",
        "boardcc/samples/scenario-demo.yaml",
        "boardcc/samples/site.yaml",
        "boardcc/samples/prompts/welcome.wav",
        "boardcc/samples/prompts/closed.wav",
        "boardcc/store/__init__.py",
        "boardcc/store/migrations/env.py",
        "boardcc/store/migrations/script.py.mako",
        "boardcc/store/migrations/versions/0001_calls.py",
    ):
        assert expected in names, expected
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"boardcc"}

    # Import from the unpacked wheel ahead of the editable install, and decode the sample.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import boardcc.dsp, boardcc.cli;"
        "assert boardcc.dsp.__file__.startswith(sys.argv[1]), boardcc.dsp.__file__;"
        "import boardcc.drivers.dahdi._dahdi_cffi as g;"
        "assert g.__file__.startswith(sys.argv[1]), g.__file__;"
        "assert g.ffi.sizeof('struct dahdi_params') == 136;"
        "from importlib.resources import files;"
        "sample = files('boardcc') / 'samples' / 'line-sample.wav';"
        "raise SystemExit(boardcc.cli.main(['decode', '--json', str(sample)]))"
    )
    env = {**os.environ, "PYTHONPATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", code, str(site)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"type": "dtmf", "digit": "1"' in done.stdout
    assert '"name": "busy"' in done.stdout

    # `boardcc init` from the wheel writes a site whose prompts are there and which loads.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import boardcc.cli, boardcc.config;"
        "assert boardcc.cli.__file__.startswith(sys.argv[1]), boardcc.cli.__file__;"
        "assert boardcc.cli.main(['init', sys.argv[2]]) == 0;"
        "print(sorted(boardcc.config.load_site(sys.argv[2]).prompts))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(site), str(tmp_path / "new-site" / "boardcc.yaml")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "['closed', 'welcome']"

    # The wheel's own migrations make a CDR database (Alembic finds them as package data).
    code = (
        "import sys, pathlib; sys.path.insert(0, sys.argv[1]);"
        "import boardcc.store, boardcc.store.migrations as m;"
        "assert m.__file__.startswith(sys.argv[1]), m.__file__;"
        "store = boardcc.store.CdrStore(pathlib.Path(sys.argv[2]));"
        "store.start(); assert store.find() == []; store.close()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(site), str(tmp_path / "cdr.db")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
