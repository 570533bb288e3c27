"""IVR node statistics from the CDR store: `boardcc flow stats`.

Every call that ran a flow carries, in its CDR's ``extra``, what it did at each node
(``ivr_counts``: a JSON list of ``[flow, node, what]``, written by the IVR host when the call
leaves the flow). Adding those up over a time range gives the per-node figures that reports
need (entered, completed, each option taken, invalid keys, timeouts, hang-ups, lookup errors,
transfers), and they survive engine restarts, unlike the engine's live counts
(`IvrHost.stats`, the API's ``ivr_stats``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TextIO

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

#: The key of a CDR's ``extra`` that holds the call's node counts.
COUNTS_KEY = "ivr_counts"

NodeCounts = dict[tuple[str, str], Counter[str]]


def add_up(extras: Iterable[Mapping[str, str]]) -> tuple[NodeCounts, int, int]:
    """Node counts over calls' ``extra`` mappings.

    Returns
    -------
    counts : dict
        ``(flow, node) -> Counter`` of what happened there.
    calls : int
        How many calls had counts.
    damaged : int
        How many had an ``ivr_counts`` that is not a list of three strings each (skipped;
        a report must not die of one bad row).
    """
    counts: NodeCounts = {}
    calls = damaged = 0
    for extra in extras:
        text = extra.get(COUNTS_KEY)
        if text is None:
            continue
        try:
            trail = json.loads(text)
            rows = [(str(f), str(n), str(w)) for f, n, w in trail]
        except (TypeError, ValueError):
            damaged += 1
            continue
        calls += 1
        for flow, node, what in rows:
            counts.setdefault((flow, node), Counter())[what] += 1
    return counts, calls, damaged


def from_database(
    engine: Engine,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    flow: str | None = None,
) -> tuple[NodeCounts, int, int]:
    """`add_up` over the calls that started in ``[since, until)``; only `flow`'s nodes if given."""
    from boardcc.store.models import CallRow

    statement = select(CallRow.extra)
    if since is not None:
        statement = statement.where(CallRow.started >= since)
    if until is not None:
        statement = statement.where(CallRow.started < until)
    with Session(engine) as session:
        counts, calls, damaged = add_up(e for e in session.scalars(statement) if e)
    if flow is not None:
        counts = {key: c for key, c in counts.items() if key[0] == flow}
    return counts, calls, damaged


def write_table(counts: NodeCounts, calls: int, damaged: int, out: TextIO) -> None:
    """The counts as a plain table, one node per line, its outcomes most frequent first."""
    out.write(f"calls with an IVR / 经过 IVR 的呼叫: {calls}\n")
    if damaged:
        out.write(f"records with unreadable node counts / 节点统计无法读取的记录: {damaged}\n")
    width = max((len(f"{f}.{n}") for f, n in counts), default=10)
    out.write(f"{'node / 节点':<{width}}  {'entered/进入':>12}  outcomes / 结果\n")
    for (flow, node), c in sorted(counts.items()):
        rest = ", ".join(f"{what} {k}" for what, k in c.most_common() if what != "entered")
        out.write(f"{flow + '.' + node:<{width}}  {c['entered']:>12}  {rest}\n")
