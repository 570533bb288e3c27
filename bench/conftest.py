"""Benchmark session set-up: one thread, CPU time, the repository root importable, a summary.

Figures are CPU time of one thread, so the BLAS and OpenMP pools are pinned to one thread
before numpy is first imported (pytest loads this file before any benchmark module; the CI
script sets the same variables on the command line too), and pytest-benchmark's timer is
``time.process_time`` unless ``--benchmark-timer`` is given.

The repository root goes on ``sys.path`` so benchmarks can share ``tests.corpus`` and
``bench.spandsp_peer`` whatever directory pytest was started from.

Benchmarks put their figures in the session's `BenchReport` (fixture ``bench_report``); at
the end they are printed as tables and written to ``bench/results/<suite>.json`` (git-ignored)
so that a run leaves its numbers behind for comparison.
"""

from __future__ import annotations

# None of these imports numpy, so the thread settings below still come first.
import json
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if "numpy" in sys.modules:
    warnings.warn(
        "numpy was imported before bench/conftest.py could pin BLAS to one thread; "
        "set OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 in the environment",
        stacklevel=1,
    )

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CPU_TIMER = "time.process_time"

Renderer = Callable[[dict[str, Any]], list[str]]


@dataclass
class Suite:
    """Figures of one benchmark suite and how to show them."""

    figures: dict[str, Any] = field(default_factory=dict)
    render: Renderer | None = None


@dataclass
class BenchReport:
    """What the benchmarks of one session found, by suite name."""

    suites: dict[str, Suite] = field(default_factory=dict)

    def suite(self, name: str, render: Renderer | None = None) -> dict[str, Any]:
        """The figures dict of suite `name` (created on first use), to be filled in."""
        suite = self.suites.setdefault(name, Suite())
        if render is not None:
            suite.render = render
        return suite.figures


_REPORT = pytest.StashKey[BenchReport]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Before pytest-benchmark's own pytest_configure reads its options.
    given = any(a.startswith("--benchmark-timer") for a in config.invocation_params.args)
    if not given and hasattr(config.option, "benchmark_timer"):
        config.option.benchmark_timer = CPU_TIMER
    config.stash[_REPORT] = BenchReport()


@pytest.fixture(scope="session")
def bench_report(pytestconfig: pytest.Config) -> BenchReport:
    """The session's report; benchmarks add their figures to it."""
    return pytestconfig.stash[_REPORT]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = config.stash.get(_REPORT, None)
    if report is None:
        return
    for name, suite in report.suites.items():
        if not suite.figures:
            continue
        if suite.render is not None:
            terminalreporter.write_sep("=", f"bench: {name}")
            for line in suite.render(suite.figures):
                terminalreporter.write_line(line)
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{name}.json"
        document = {
            "suite": name,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "timer": config.getoption("benchmark_timer", CPU_TIMER),
            "machine": platform.machine(),
            "processor": platform.processor(),
            "python": platform.python_version(),
            "figures": suite.figures,
        }
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        terminalreporter.write_line(f"figures written to {path.relative_to(ROOT)}")


@pytest.fixture(scope="session")
def corpus() -> dict[str, Any]:
    """The talk-off corpus (tests/corpus.py): built once, then loaded from its cache."""
    from tests.corpus import talkoff_corpus

    return talkoff_corpus()
