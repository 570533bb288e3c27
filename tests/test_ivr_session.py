"""The interpreter alone (sans-IO): any sequence of events leaves it consistent.

Whatever a caller, a timer, a database or an agent's phone does, and in whatever order, the
session never raises, only ever has one timer of a kind running, plays only prompt files
of its flow, and once it has hung up or handed the caller on it stays quiet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from boardcc.ivr import session as s
from boardcc.ivr.flow import Context, Flow, load_flow
from boardcc.ivr_flows import FLOWS_DIR

CONTEXT = Context(stations={"8001", "8002", "8003"}, voicemail=True)
FLOWS = {
    name: load_flow(FLOWS_DIR / f"{name}.yaml", CONTEXT)
    for name in ("main_menu", "self_service", "after_hours", "survey")
}
WHEN = dt.datetime(2026, 1, 5, 21, 0)

events = st.one_of(
    st.just("prompt"),
    st.sampled_from("0123456789*#").map(lambda d: ("key", d)),
    st.sampled_from(["keys", "lookup"]).map(lambda n: ("timer", n)),
    st.tuples(
        st.integers(0, 4),
        st.sampled_from(
            [None, {"balance": "12.5"}, {"status": "shipped", "shipped": "20260103"}, {}]
        ),
        st.sampled_from(["", "OperationalError: down"]),
    ).map(lambda t: ("lookup", *t)),
    st.just("transfer_failed"),
    st.just("hang_up"),
)


def event(raw: Any) -> s.IvrEvent:
    if raw == "prompt":
        return s.PromptEnded(WHEN)
    if raw == "transfer_failed":
        return s.TransferFailed(WHEN, "nobody answered")
    if raw == "hang_up":
        return s.HungUp(WHEN)
    if raw[0] == "key":
        return s.Key(WHEN, raw[1])
    if raw[0] == "timer":
        return s.TimerFired(WHEN, raw[1])
    return s.LookupDone(WHEN, raw[1], raw[2], raw[3])


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(FLOWS)), st.lists(events, max_size=60))
def test_any_events_in_any_order_leave_the_session_consistent(name: str, raws: list[Any]) -> None:
    flow: Flow = FLOWS[name]
    info = {"DNIS": "4008008888", "ANI": "13812345678", "CALLER_NAME": "", "CHANNEL": "0"}
    session = s.Session(flow, FLOWS.__getitem__, {}, info, s.NodeStats())
    files = {f for fl in FLOWS.values() for f in fl.prompt_files.values()}
    timers: set[str] = set()
    ended = False
    for raw in [None, *raws]:
        actions = session.handle(s.Start(WHEN) if raw is None else event(raw))
        if ended:
            assert [a for a in actions if not isinstance(a, s.Trace)] == []
        for a in actions:
            if isinstance(a, s.Play):
                assert a.file in files
            elif isinstance(a, s.StartTimer):
                timers.add(a.name)
            elif isinstance(a, s.CancelTimer):
                timers.discard(a.name)
            elif isinstance(a, s.HangUp | s.Transfer | s.Voicemail):
                assert not session.in_handler
                ended = ended or isinstance(a, s.HangUp)
        assert timers <= {"keys", "lookup"}
        if session.in_handler:
            assert not any(isinstance(a, s.Play) for a in actions)
