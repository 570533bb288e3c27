"""The `boardcc` command.

One entry point with subcommands; each subcommand is a small function that turns its
arguments into calls on the library and prints the result. Errors the user can fix (a file
that is not audio, an unknown tone plan) are one line on stderr and exit status 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from boardcc import __version__
from boardcc.dsp.audio import AudioFileError, AudioFileWarning, read_audio
from boardcc.dsp.callerid import CallerId, decode_caller_id
from boardcc.dsp.dtmf import detect_dtmf
from boardcc.dsp.tones import TonePlan, available_plans, detect_tones, load_plan
from boardcc.site_init import DEFAULT_NAME, SiteExistsError, write_sample

#: Gaps without any tone, digit or voice at least this long are reported as silence.
MIN_SILENCE_S = 0.3


@dataclass(frozen=True, slots=True)
class Span:
    """Something found on a channel, from `start` for `duration` seconds."""

    channel: int
    start: float
    duration: float
    type: str  # "dtmf", "tone", "callerid", "voice" or "silence"
    label: str = ""  # the digit or the tone's name
    cycles: int = 0
    caller: CallerId | None = None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "channel": self.channel,
            "t": round(self.start, 3),
            "type": self.type,
        }
        if self.type == "dtmf":
            out["digit"] = self.label
        elif self.type == "tone":
            out["name"] = self.label
            out["cycles"] = self.cycles
        elif self.caller is not None:
            c = self.caller
            for key, value in (
                ("number", c.number),
                ("name", c.name),
                ("datetime", c.datetime),
                ("number_absence", c.number_absence),
                ("name_absence", c.name_absence),
                ("redirecting_number", c.redirecting_number),
                ("message_waiting", c.message_waiting),
            ):
                if value is not None:
                    out[key] = value
            out |= {"standard": c.standard, "format": c.format, "checksum_ok": c.checksum_ok}
            if c.damaged:
                out["damaged"] = True
        out["duration"] = round(self.duration, 3)
        return out


def decode_spans(path: Path, plan: TonePlan) -> list[Span]:
    """Every DTMF digit, plan tone, voice and silence span in an audio file, by channel."""
    audio = read_audio(path)
    return spans_of(audio.samples, float(audio.fs), plan)


def spans_of(samples: npt.NDArray[np.int16], fs: float, plan: TonePlan) -> list[Span]:
    """Every DTMF digit, plan tone, voice and silence span in ``(channels, n)`` audio."""
    length = samples.shape[1] / fs
    spans: list[Span] = []
    callers = decode_caller_id(samples, fs=fs)
    for c in callers:
        spans.append(Span(c.channel, c.start / fs, (c.end - c.start) / fs, "callerid", caller=c))
    for e in detect_dtmf(samples, fs=fs):
        # Digits that carried a caller ID are reported as the caller ID, not again.
        if any(
            c.standard == "dtmf" and c.channel == e.channel and c.start <= e.start < c.end
            for c in callers
        ):
            continue
        spans.append(Span(e.channel, e.start / fs, (e.end - e.start) / fs, "dtmf", e.digit))
    opened: dict[tuple[int, str], tuple[int, int]] = {}
    for t in detect_tones(samples, fs=fs, plan=plan):
        key = (t.channel, t.name)
        if t.kind == "on":
            opened[key] = (t.sample, t.cycles)
        elif key in opened:
            start, _ = opened.pop(key)
            spans.append(_tone_span(t.channel, t.name, start / fs, t.sample / fs, t.cycles))
    for (channel, name), (start, cycles) in opened.items():
        spans.append(_tone_span(channel, name, start / fs, length, cycles))
    spans = _without_keyed_voice(spans)
    spans += _silences(spans, samples.shape[0], length)
    spans.sort(key=lambda s: (s.start, s.channel, s.type))
    return spans


def _tone_span(channel: int, name: str, start: float, end: float, cycles: int) -> Span:
    if name == "voice":
        return Span(channel, start, end - start, "voice")
    return Span(channel, start, end - start, "tone", name, cycles)


def _without_keyed_voice(spans: list[Span]) -> list[Span]:
    """Drop "voice" that is mostly DTMF or caller ID: the voice detector knows plan tones,
    not digits or modems."""
    keyed = [
        (s.channel, s.start, s.start + s.duration) for s in spans if s.type in ("dtmf", "callerid")
    ]

    def mostly_keyed(v: Span) -> bool:
        end = v.start + v.duration
        covered = sum(
            max(0.0, min(end, e) - max(v.start, b)) for ch, b, e in keyed if ch == v.channel
        )
        return covered >= 0.4 * v.duration

    return [s for s in spans if s.type != "voice" or not mostly_keyed(s)]


def _silences(spans: list[Span], channels: int, length: float) -> list[Span]:
    """The gaps of at least MIN_SILENCE_S between everything else found on each channel."""
    out = []
    for ch in range(channels):
        busy = sorted((s.start, s.start + s.duration) for s in spans if s.channel == ch)
        t = 0.0
        for start, end in [*busy, (length, length)]:
            if start - t >= MIN_SILENCE_S:
                out.append(Span(ch, t, start - t, "silence"))
            t = max(t, end)
    return out


def print_table(spans: Sequence[Span]) -> None:
    """The spans as a table with Chinese and English headings."""
    print(f"{'channel/通道':>12}  {'time/时间 s':>11}  {'length/时长 s':>13}  what/内容")
    for s in spans:
        what = s.type
        if s.type == "dtmf":
            what = f"DTMF {s.label}"
        elif s.caller is not None:
            what = _caller_text(s.caller)
        elif s.type == "tone":
            what = f"tone {s.label}" + (f" ({s.cycles} cycles)" if s.cycles > 1 else "")
        print(f"{s.channel:>12}  {s.start:>11.3f}  {s.duration:>13.3f}  {what}")


def _caller_text(c: CallerId) -> str:
    who = c.number or f"({c.number_absence or 'no number'})"
    if c.name or c.name_absence:
        who += f" {c.name or '(' + str(c.name_absence) + ')'}"
    if c.message_waiting is not None:
        who = f"message waiting {'on' if c.message_waiting else 'off'}"
    when = f" {c.datetime}" if c.datetime else ""
    state = " DAMAGED/损坏" if c.damaged else ""
    return f"caller ID/来电 {who}{when} [{c.standard} {c.format}]{state}"


def _decode(args: argparse.Namespace) -> int:
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AudioFileWarning)
            spans = decode_spans(Path(args.file), load_plan(args.plan))
    except (AudioFileError, ValueError) as exc:
        print(f"boardcc decode: {exc}", file=sys.stderr)
        return 2
    for w in caught:
        print(f"boardcc decode: warning: {w.message}", file=sys.stderr)
    if args.json:
        for s in spans:
            print(json.dumps(s.as_json(), ensure_ascii=False))
    else:
        print_table(spans)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="boardcc",
        description="boardcc, a board-based call center / 板卡呼叫中心",
    )
    parser.add_argument("--version", action="version", version=f"boardcc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    dec = sub.add_parser(
        "decode",
        help="caller ID, DTMF digits, tones and voice/silence in an audio file / "
        "解码音频文件中的来电号码、按键、信号音",
        description="Every caller ID message (FSK Bell 202/V.23 or DTMF), DTMF digit, "
        "call-progress or fax tone and voice/silence span found in an audio file, per "
        "channel, with times. "
        "报告音频文件中每个通道的来电号码、DTMF按键、信号音和语音/静音段。",
    )
    dec.add_argument("file", help="audio file (WAV, A-law, μ-law, VOX, GSM, MP3 ...)")
    dec.add_argument("--json", action="store_true", help="one JSON object per line")
    dec.add_argument(
        "--plan",
        default="cn",
        help=f"tone plan: one of {', '.join(available_plans())} or a YAML file (default cn)",
    )
    dec.set_defaults(run=_decode)
    sim = sub.add_parser(
        "simulate",
        help="run a simulated-board scenario and report what the lines carried / "
        "运行模拟板卡场景并报告线路上的信号",
        description="Runs a scenario file (docs/simulator.md) on the simulated board with a "
        "plain host that answers trunks after some rings and hangs up when the far end "
        "clears; prints every line event, what the DSP finds in each channel's received "
        "audio (caller ID, keys, tones, voice) and each simulated call's outcome. "
        "在模拟板卡上运行场景文件, 打印线路事件、解码结果和呼叫结果。",
    )
    sim.add_argument("scenario", help="scenario YAML file")
    sim.add_argument("--seconds", type=float, default=30.0, help="how long to run (default 30)")
    sim.add_argument(
        "--answer",
        type=int,
        default=0,
        metavar="RINGS",
        help="answer ringing trunks after this many rings (default 0: never)",
    )
    sim.add_argument(
        "--hold",
        type=float,
        default=60.0,
        metavar="S",
        help="hang up an answered trunk after this many seconds (default 60)",
    )
    sim.set_defaults(run=_simulate)
    ini = sub.add_parser(
        "init",
        help="write a commented sample site file (boardcc.yaml) / 生成带注释的站点文件示例",
        description="Writes a sample site file for a site like shCBcc (20 trunks in two "
        "groups, 4 agent desk phones, working hours, inbound and outbound rules), every key "
        "explained in Chinese and English, and its two prompts in prompts/ beside it. "
        "Existing files are left alone unless --force is given. "
        "生成一个带中英文注释的站点文件示例及其提示音文件。",
    )
    ini.add_argument(
        "path",
        nargs="?",
        default=DEFAULT_NAME,
        help=f"site file to write, or a folder to write {DEFAULT_NAME} in "
        f"(default ./{DEFAULT_NAME})",
    )
    ini.add_argument("--force", action="store_true", help="overwrite files already there")
    ini.set_defaults(run=_init)
    run = sub.add_parser(
        "run",
        help="run the call center (the demo site on the simulated board without a site file) "
        "/ 运行呼叫中心",
        description="The main job: the engine on the board of the site file (or, without one, "
        "the demo: a simulated board with 20 trunks, 4 agents and generated callers), with "
        "the CDR store, the LE004 log, the monitor API on loopback and a live table of every "
        "channel. Ctrl-C stops it cleanly. 运行引擎; 无站点文件时运行模拟演示。",
    )
    run.add_argument("site", nargs="?", help="site file (boardcc.yaml); default: the demo")
    run.add_argument("--seconds", type=float, help="stop after this long (engine time)")
    run.add_argument(
        "--virtual", action="store_true", help="virtual clock: as fast as the CPU allows"
    )
    run.add_argument("--no-table", action="store_true", help="log lines instead of the table")
    run.add_argument("--no-api", action="store_true", help="do not start the monitor API")
    run.add_argument("--port", type=int, help="monitor API port (default from the site)")
    run.add_argument("--database", help="SQLAlchemy URL of the CDR store")
    run.add_argument("--logs", help="folder for boardcc.log")
    run.add_argument(
        "--calls-per-minute", type=float, default=12.0, help="demo: caller arrival rate"
    )
    run.set_defaults(run=_run)
    rep = sub.add_parser(
        "replay",
        help="recorded line audio through a simulated trunk, with the engine's log / 回放线路录音",
        description="Plays a recording (WAV, VOX ...) into trunk 0 of a simulated board, "
        "with its line events, and prints every event the engine saw and what it did, in "
        "the LE004 log layout. 将线路录音送入模拟外线, 打印引擎看到的事件和动作。",
    )
    rep.add_argument("file", help="audio file of the line (WAV, A-law, VOX, ...)")
    rep.add_argument(
        "--events",
        help="YAML of timed line events (ring_on, ring_off, polarity, hang_up ...); "
        "default: one ring that ends as the recording starts",
    )
    rep.add_argument("--site", help="site file (default: the call goes to one desk phone)")
    rep.add_argument(
        "--flow", help="IVR flow file: the call runs this flow (instead of the site's rules)"
    )
    rep.set_defaults(run=_replay)
    mon = sub.add_parser(
        "monitor",
        help="the channel monitor (PyQt6) of a running engine / 通道监控",
        description="The channel monitor: every channel's state, agents, queues, the event "
        "log and alarms of an engine running elsewhere (boardcc run), through its monitor "
        "API. Needs PyQt6: pip install 'boardcc[gui]'. 通道监控界面。",
    )
    mon.add_argument("--url", default="ws://127.0.0.1:8765/", help="the engine's monitor API")
    mon.add_argument("--token", help="API token (default: $BOARDCC_TOKEN)")
    mon.add_argument("--lang", choices=("zh", "en"), help="language (default: the locale)")
    mon.add_argument("--screenshot", help="save the window to this PNG after --after s, quit")
    mon.add_argument("--after", type=float, default=3.0, help="seconds before --screenshot")
    mon.add_argument(
        "--agent-bar", action="store_true", help="only an agent bar (座席状态条), for an agent's PC"
    )
    mon.set_defaults(run=_monitor)
    _flow_parser(sub)
    from boardcc.recording.cli import add_commands as add_recordings

    add_recordings(sub)
    pwd = sub.add_parser(
        "hash-password",
        help="hash an agent's password for the site file / 生成座席密码散列",
        description="Asks for a password twice (not echoed) and prints its scrypt hash, for "
        "an agent's `password` in the site file. 输入两次密码, 输出 scrypt 散列。",
    )
    pwd.set_defaults(run=_hash_password)
    return parser


def _flow_parser(sub: Any) -> None:
    flow = sub.add_parser(
        "flow",
        help="IVR flows: check, try on a simulated call, draw / IVR 流程: 检查、模拟运行、画图",
        description="Tools for IVR flow files (docs/ivr.md). IVR 流程文件工具。",
    )
    what = flow.add_subparsers(dest="flow_command", required=True)
    chk = what.add_parser(
        "check",
        help="validate flow files; exit 1 on any problem / 检查流程文件",
        description="Validates each flow as the engine does at load: every problem as "
        "file:line: key: reason; exit status 1 if any. 逐个检查流程文件。",
    )
    chk.add_argument("files", nargs="+", help="flow files (YAML)")
    chk.add_argument("--site", help="site file: check stations, queues and boxes against it")
    chk.set_defaults(run=_flow_check)
    frun = what.add_parser(
        "run",
        help="one simulated call through a flow, with a transcript / 模拟一次呼叫",
        description="Rings the flow on the simulated board (virtual clock) with a caller who "
        "presses each comma-separated group of keys once the IVR goes quiet; prints the nodes "
        "taken, prompts played, keys, variables set and how the call ended. Desk phones "
        "8001-8004 answer transfers. 在模拟板卡上运行一次呼叫并打印经过的节点。",
    )
    frun.add_argument("file", help="flow file (its folder is the flow folder)")
    frun.add_argument("--keys", default="", help='keys, groups separated by commas: "1,2345#,*"')
    frun.add_argument("--ani", default="13812345678", help="the caller's number (ANI)")
    frun.add_argument(
        "--time", help="wall-clock time of the call, YYYY-MM-DDTHH:MM (default a Monday 10:00)"
    )
    frun.add_argument("--database", help="SQLAlchemy URL for the flow's queries")
    frun.set_defaults(run=_flow_run)
    graph = what.add_parser(
        "graph", help="the flow as a diagram / 流程图", description="Mermaid or Graphviz dot."
    )
    graph.add_argument("file", help="flow file")
    graph.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    graph.set_defaults(run=_flow_graph)
    stats = what.add_parser(
        "stats",
        help="per-node statistics from the CDRs / 节点统计",
        description="Adds up what calls did at each IVR node (entered, options taken, "
        "invalid keys, timeouts, hang-ups, lookup errors, transfers) from the call records. "
        "按呼叫记录统计每个节点的进入次数、按键选择、超时、挂机等。",
    )
    stats.add_argument("--site", help="site file (default ./boardcc.yaml when there is one)")
    stats.add_argument("--database", help="SQLAlchemy URL of the database instead")
    stats.add_argument("--since", help="calls started at or after (YYYY-MM-DD[THH:MM])")
    stats.add_argument("--until", help="calls started before")
    stats.add_argument("--flow", help="only this flow's nodes")
    stats.set_defaults(run=_flow_stats)


def _flow_check(args: argparse.Namespace) -> int:
    from boardcc.ivr import tools
    from boardcc.yamlfile import ConfigFileError

    try:
        return tools.check(
            [Path(f) for f in args.files],
            sys.stdout,
            sys.stderr,
            Path(args.site) if args.site else None,
        )
    except ConfigFileError as exc:  # the site file
        print(f"boardcc flow check: {exc}", file=sys.stderr)
        return 2


def _flow_run(args: argparse.Namespace) -> int:
    import datetime as dt

    from boardcc.ivr import tools
    from boardcc.yamlfile import ConfigFileError

    try:
        when = dt.datetime.fromisoformat(args.time) if args.time else None
        return tools.run(
            Path(args.file), args.keys, sys.stdout, ani=args.ani, when=when, database=args.database
        )
    except (ConfigFileError, ValueError) as exc:
        print(f"boardcc flow run: {exc}", file=sys.stderr)
        return 2


def _flow_graph(args: argparse.Namespace) -> int:
    from boardcc.ivr import tools
    from boardcc.ivr.flow import load_flow
    from boardcc.yamlfile import ConfigFileError

    try:
        flow = load_flow(Path(args.file), tools.build_context())
    except ConfigFileError as exc:
        print(f"boardcc flow graph: {exc}", file=sys.stderr)
        return 2
    print(tools.graph(flow, args.format), end="")
    return 0


def _flow_stats(args: argparse.Namespace) -> int:

    from sqlalchemy.exc import SQLAlchemyError

    from boardcc.config import tool_database
    from boardcc.ivr import report
    from boardcc.recording.cli import time_arg
    from boardcc.store import make_engine, upgrade
    from boardcc.yamlfile import ConfigFileError

    try:
        url, _ = tool_database(args.site, args.database)
        database = make_engine(url)
        upgrade(database)  # a database no engine has opened yet has no tables
        counts = report.from_database(
            database, time_arg(args.since), time_arg(args.until), args.flow
        )
    except (ConfigFileError, ValueError, SQLAlchemyError) as exc:
        print(f"boardcc flow stats: {exc}", file=sys.stderr)
        return 2
    report.write_table(*counts, sys.stdout)
    return 0


def _monitor(args: argparse.Namespace) -> int:
    try:
        import PyQt6.QtWidgets  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the installation
        print(f"boardcc monitor: needs PyQt6 (pip install 'boardcc[gui]'): {exc}", file=sys.stderr)
        return 2
    from boardcc.gui.app import MonitorOptions, run_monitor

    options = MonitorOptions(
        url=args.url,
        token=args.token,
        language=args.lang,
        screenshot=args.screenshot,
        after=args.after,
        agent_bar=args.agent_bar,
    )
    return run_monitor(options)


def _hash_password(args: argparse.Namespace) -> int:
    import getpass

    from boardcc.acd.passwords import hash_password

    first = getpass.getpass("密码 password: ")
    if getpass.getpass("再次输入 again: ") != first:
        print("boardcc hash-password: the two differ / 两次输入不同", file=sys.stderr)
        return 2
    try:
        print(hash_password(first))
    except ValueError as exc:
        print(f"boardcc hash-password: {exc}", file=sys.stderr)
        return 2
    return 0


def _replay(args: argparse.Namespace) -> int:
    from boardcc.replay import replay
    from boardcc.yamlfile import ConfigFileError

    try:
        return replay(
            Path(args.file),
            events=Path(args.events) if args.events else None,
            site=Path(args.site) if args.site else None,
            flow=Path(args.flow) if args.flow else None,
        )
    except (ConfigFileError, AudioFileError, ValueError) as exc:
        print(f"boardcc replay: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from boardcc.runner import RunOptions, run
    from boardcc.yamlfile import ConfigFileError

    options = RunOptions(
        site=Path(args.site) if args.site else None,
        seconds=args.seconds,
        virtual=args.virtual,
        table=not args.no_table and sys.stdout.isatty(),
        api=not args.no_api,
        port=args.port,
        database=args.database,
        logs=args.logs,
        calls_per_minute=args.calls_per_minute,
    )
    try:
        return run(options)
    except (ConfigFileError, ValueError, OSError) as exc:
        print(f"boardcc run: {exc}", file=sys.stderr)
        return 2


def _init(args: argparse.Namespace) -> int:
    try:
        written = write_sample(args.path, force=args.force)
    except SiteExistsError as exc:
        print(f"boardcc init: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"boardcc init: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    site, *prompts = written
    print(f"站点文件 site file: {site}")
    for p in prompts:
        print(f"提示音 prompt: {p}")
    print("每个键的说明都在文件的注释里。 Every key is explained in the file's comments.")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from boardcc.simulate import SimulationError, simulate

    try:
        report = simulate(Path(args.scenario), args.seconds, args.answer, args.hold)
    except SimulationError as exc:
        print(f"boardcc simulate: {exc}", file=sys.stderr)
        return 2
    report.print()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Chinese labels on a terminal or pipe that cannot show them: escape, never crash.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        status: int = args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`boardcc decode x.wav | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return status


if __name__ == "__main__":
    raise SystemExit(main())
