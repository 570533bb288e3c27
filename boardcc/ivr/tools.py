"""``boardcc flow check | run | graph``: a flow file checked, tried on a simulated call, drawn.

`check` validates files the way the engine does at load and prints every problem as
``file:line: key: reason``. `run` puts one simulated caller through the flow on the
simulated board (virtual clock): the caller presses each group of keys once the IVR has
gone quiet, and the transcript shows the nodes taken, the prompts played, the keys heard,
the variables set and how the call ended. `graph` writes the flow as a Mermaid flowchart
or Graphviz dot, an edge per way out of each node.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from boardcc.ivr.flow import Context, Flow, load_flow
from boardcc.ivr.host import FUNCTIONS
from boardcc.yamlfile import ConfigFileError

#: The desk phones of `run`'s simulated site (the sample flows transfer to them).
RUN_EXTENSIONS = ("8001", "8002", "8003", "8004")


def build_context(site: Path | None = None) -> Context:
    """What `check` and `run` check a flow against: a site file's stations, queues and
    boxes if given, and what this build has."""
    from boardcc.engine import Engine

    acd = hasattr(Engine, "enqueue")
    voicemail = hasattr(Engine, "voicemail") or importlib.util.find_spec("boardcc.voicemail")
    if site is None:
        return Context(acd=acd, voicemail=bool(voicemail), functions=FUNCTIONS)
    from boardcc.config import load_site
    from boardcc.ivr.host import site_context

    context = site_context(load_site(site))
    context.acd, context.voicemail = acd, bool(voicemail)
    return context


def check(files: Sequence[Path], out: TextIO, err: TextIO, site: Path | None = None) -> int:
    """Validate `files`; 0 if all are good, 1 if any has problems."""
    context = build_context(site)
    status = 0
    for path in files:
        try:
            flow = load_flow(path, context)
        except ConfigFileError as exc:
            print(exc, file=err)
            status = 1
            continue
        print(
            f"{path}: ok, flow {flow.name}: {len(flow.nodes)} nodes, languages "
            f"{', '.join(flow.languages)} / 流程正确",
            file=out,
        )
    return status


def run(
    path: Path,
    keys: str,
    out: TextIO,
    *,
    ani: str = "13812345678",
    when: dt.datetime | None = None,
    seconds: float = 180.0,
    database: str | None = None,
) -> int:
    """One simulated call through the flow at `path`; prints the transcript."""
    from boardcc.config import load_site
    from boardcc.drivers.sim import HangUp, Pause, Press, SimBoard, WaitSilence
    from boardcc.engine import Engine

    path = path.resolve()
    config = load_site(
        {
            "trunk_groups": [{"name": "line", "channels": [0], "access_number": "4008008888"}],
            "stations": [
                {"channel": 1 + k, "extension": ext} for k, ext in enumerate(RUN_EXTENSIONS)
            ],
            "inbound": [{"name": "flow", "steps": [{"ivr": path.stem}]}],
            "flows": str(path.parent),
        }
    )
    script: list[Any] = [WaitSilence(ms=700)]
    for group in [g for g in keys.split(",") if g.strip()] if keys else []:
        script += [Press(group.strip()), WaitSilence(ms=1500, timeout=30)]
    script += [Pause(seconds), HangUp()]
    start = when or dt.datetime(2026, 1, 5, 10, 0, 0)
    lines: list[str] = []
    with SimBoard(trunks=1, stations=len(RUN_EXTENSIONS), seed=1, record_heard="none") as board:
        for ch in range(1, 1 + len(RUN_EXTENSIONS)):
            board.phone(ch).auto_answer(2, [Pause(2.0), HangUp()])
        engine = Engine(config, board, start_time=start)
        if database is not None:
            for flow in engine.ivr.registry.flows.values():
                flow.database = database

        def note(event: dict[str, Any]) -> None:
            t = (engine.now - engine._origin) / engine.fs
            if event["type"] == "ivr":
                lines.append(f"{t:7.2f} s  {event['what']:<9} {event['detail']}")
            elif event["type"] == "call" and event["event"] in ("start", "answer", "end"):
                what = event["event"]
                detail = event["disposition"] if what == "end" else event["caller"]
                lines.append(f"{t:7.2f} s  {'call':<9} {what} {detail}")

        engine.subscribe(note)
        board.incoming_call(0, at=0.0, caller_id=ani, script=script)
        waited = 0.0
        while waited < seconds + 20:
            engine.run_for(1.0)
            waited += 1.0
            if board.trunk(0).calls and board.trunk(0).calls[-1].ended is not None:
                break
        engine.run_for(1.0)
        engine.shutdown()
    print(f"flow {path.stem}, caller {ani}, keys {keys or '-'}", file=out)
    print("\n".join(lines), file=out)
    return 0


def graph(flow: Flow, fmt: str = "mermaid") -> str:
    """The flow as a Mermaid flowchart (``mermaid``) or Graphviz digraph (``dot``)."""
    edges: list[tuple[str, str, str]] = []
    for node in flow.nodes.values():
        for path, target in node.targets():
            label = path[-1] if path[-1] != "next" else ""
            if path[0] == "options":
                label = f"key {path[1]}"
            elif path[0] == "cases":
                label = f"case {path[1]}"
            edges.append((node.id, target, label))
    if fmt == "dot":
        out = [f'digraph "{flow.name}" {{', "  rankdir=TB;"]
        for node in flow.nodes.values():
            shape = "doublecircle" if node.type in ("hang_up", "return") else "box"
            out.append(f'  "{node.id}" [label="{node.id}\\n{node.type}", shape={shape}];')
        for a, b, label in edges:
            out.append(f'  "{a}" -> "{b}"' + (f' [label="{label}"];' if label else ";"))
        if flow.on_hangup:
            out.append(f'  "caller hangs up" -> "{flow.on_hangup}" [style=dashed];')
        return "\n".join([*out, "}"]) + "\n"
    out = ["flowchart TD", f"  start(((start))) --> {_mid(flow.start)}"]
    for node in flow.nodes.values():
        out.append(f'  {_mid(node.id)}["{node.id}<br/>{node.type}"]')
    for a, b, label in edges:
        arrow = f"-- {label} -->" if label else "-->"
        out.append(f"  {_mid(a)} {arrow} {_mid(b)}")
    if flow.on_hangup:
        out.append(f"  hangup((caller hangs up)) -.-> {_mid(flow.on_hangup)}")
    return "\n".join(out) + "\n"


def _mid(node_id: str) -> str:
    """A Mermaid-safe id."""
    return "n_" + "".join(c if c.isalnum() else "_" for c in node_id)
