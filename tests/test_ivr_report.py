"""IVR node statistics that outlive the engine: each call's node counts go into its CDR, and
`boardcc flow stats` adds them up from the database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from boardcc.cdr import Cdr, Direction
from boardcc.cli import main
from boardcc.drivers.sim import HangUp, Pause, Press, WaitSilence
from boardcc.ivr import report
from boardcc.store import CdrStore
from tests.test_ivr_engine import HANDLER, Rig, flows  # noqa: F401 - flows is a fixture


def _calls(flows: Path) -> list[Cdr]:  # noqa: F811
    """Three calls through the survey flow: two score, one hangs up at the question."""
    out: list[Cdr] = []
    for script in (
        [WaitSilence(), Press("4"), Pause(30)],
        [WaitSilence(), Press("9"), Pause(30)],  # not 1-5: the collect's fallback
        [Pause(0.3), HangUp()],
    ):
        with Rig(flows, HANDLER) as rig:
            rig.call(script)
            rig.run(40)
            assert rig.engine.idle()
            out.append(rig.cdr())
            live = rig.engine.ivr.stats.counts
            # The CDR holds exactly the counts the engine kept live for this call.
            assert report.add_up([out[-1].extra])[0] == live
    return out


def test_node_counts_go_into_the_cdr_and_add_up_from_the_database(
    flows: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'cdr.db'}"
    with CdrStore(url) as store:
        for cdr in _calls(flows):
            store.put(cdr)
    with CdrStore(url) as store:
        counts, calls, damaged = report.from_database(store.engine)
    assert (calls, damaged) == (3, 0)
    ask = counts[("f", "ask")]
    # Left by a good score and by the fallback after bad keys; the third caller hung up there.
    assert ask["entered"] == 3 and ask["completed"] == 2 and ask["hang_up"] == 1
    assert ask["invalid"] >= 1
    assert counts[("f", "thanks")]["entered"] == 1
    assert counts[("f", "gone")]["entered"] == 1  # the hang-up handler ran once

    assert main(["flow", "stats", "--database", url, "--flow", "f"]) == 0
    printed = capsys.readouterr().out
    assert "calls with an IVR / 经过 IVR 的呼叫: 3" in printed
    line = next(x for x in printed.splitlines() if x.startswith("f.ask "))
    assert line.split()[1] == "3" and "hang_up 1" in line

    # A time range that holds none of the calls counts none of them.
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    assert main(["flow", "stats", "--database", url, "--since", later]) == 0
    assert "经过 IVR 的呼叫: 0" in capsys.readouterr().out


def test_a_damaged_count_is_skipped_and_reported_not_fatal() -> None:
    good = {report.COUNTS_KEY: json.dumps([["f", "menu", "entered"], ["f", "menu", "option 1"]])}
    bad = [{report.COUNTS_KEY: "not json"}, {report.COUNTS_KEY: json.dumps([["f", "menu"]])}]
    counts, calls, damaged = report.add_up([good, *bad, {"other": "x"}])
    assert (calls, damaged) == (1, 2)
    assert counts == {("f", "menu"): {"entered": 1, "option 1": 1}}


def test_flow_stats_on_a_database_no_engine_has_opened(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert main(["flow", "stats", "--database", url]) == 0
    assert "经过 IVR 的呼叫: 0" in capsys.readouterr().out


def test_flow_stats_names_a_bad_date(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["flow", "stats", "--database", url, "--since", "yesterday"]) == 2
    assert "not a date or time: 'yesterday'" in capsys.readouterr().err


def test_cdrs_without_a_flow_count_for_nothing() -> None:
    cdr = Cdr(call_id="x", direction=Direction.INBOUND, started=dt.datetime.now(dt.UTC))
    assert report.add_up([cdr.extra]) == ({}, 0, 0)
