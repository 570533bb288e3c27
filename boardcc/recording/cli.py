"""`boardcc recordings find|export|purge`: the recordings' index from the command line.

The database is the site file's (``--site``, default ``boardcc.yaml`` when there is one) or
``--database URL``; times are local unless they carry a zone. Errors are one line on stderr
and exit status 2, as everywhere in the `boardcc` command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any


def add_commands(sub: Any) -> None:
    """Add ``recordings`` and its subcommands to the `boardcc` parser's subparsers."""
    rec = sub.add_parser(
        "recordings",
        help="find, export and purge call recordings / 查询、导出、清理录音",
        description="The recordings' index (docs/recording.md): find by time, number, agent, "
        "station, queue or group; export files with an index.csv; purge by the retention "
        "policy. 按时间、号码、座席、分机、队列、组查询录音, 导出, 按保留策略清理。",
    )
    verbs = rec.add_subparsers(dest="verb", required=True)
    find = verbs.add_parser("find", help="list recordings / 查询录音")
    export = verbs.add_parser("export", help="copy recordings and index.csv / 导出录音")
    export.add_argument("folder", help="folder to copy into (made if missing)")
    for p in (find, export):
        _where(p)
        p.add_argument("--since", help="started at or after (YYYY-MM-DD[THH:MM])")
        p.add_argument("--until", help="started before")
        p.add_argument("--number", help="caller or called number; 138* is a prefix")
        p.add_argument("--agent", help="an agent's job number")
        p.add_argument("--station", help="an extension")
        p.add_argument("--queue", help="a queue")
        p.add_argument("--group", help="a trunk group, station group or queue")
        p.add_argument("--call", help="a call id")
        p.add_argument("--limit", type=int, default=1000, help="at most this many (default 1000)")
    find.add_argument("--json", action="store_true", help="one JSON object per line")
    play = verbs.add_parser("play", help="play a recording on this PC's speaker / 在本机播放录音")
    _where(play)
    play.add_argument("id", help="the recording id (its first 6 characters or more)")
    purge = verbs.add_parser("purge", help="apply the retention policy / 按保留策略清理")
    _where(purge)
    purge.add_argument("--days", type=int, help="older than this many days (default: the site's)")
    purge.add_argument("--move-to", help="move instead of delete, below this folder")
    purge.add_argument("--dry-run", action="store_true", help="only say what would go")
    rec.set_defaults(run=run)


def _where(p: argparse.ArgumentParser) -> None:
    p.add_argument("--site", help="site file (default ./boardcc.yaml when there is one)")
    p.add_argument("--database", help="SQLAlchemy URL of the database instead")


def run(args: argparse.Namespace) -> int:
    from boardcc.store import StoreError
    from boardcc.yamlfile import ConfigFileError

    try:
        return _run(args)
    except (ConfigFileError, StoreError, ValueError, KeyError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) else exc
        print(f"boardcc recordings: {message}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from boardcc.config import tool_database
    from boardcc.recording.index import RecordingIndex
    from boardcc.recording.settings import Retention
    from boardcc.store import StoreError, make_engine, upgrade

    url, site = tool_database(args.site, args.database)
    retention = site.recording.retention if site else Retention()
    try:
        engine = make_engine(url)
        upgrade(engine)
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"cannot open the database {url}: {exc}") from exc
    index = RecordingIndex(engine)
    if args.verb == "play":
        from boardcc.drivers.errors import BoardError
        from boardcc.dsp import AudioFileError
        from boardcc.recording.playback import FilePlayer

        rec = index.get(args.id)
        try:
            player = FilePlayer(rec.path)
        except (AudioFileError, BoardError) as exc:
            raise ValueError(str(exc)) from None
        print(f"playing / 播放 {rec.path} ({rec.duration_s:.1f} s)")
        try:
            player.wait(rec.duration_s + 5.0)
        finally:
            player.close()
        return 0
    if args.verb == "purge":
        days = retention.days if args.days is None else args.days
        if days <= 0:
            raise ValueError("no retention: give --days N (the site keeps recordings for ever)")
        move_to = args.move_to or (retention.move_to if retention.action == "move" else "")
        cut = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        if args.dry_run:
            old = [r for r in index.find(until=cut, limit=None) if r.status != "recording"]
            for r in old:
                print(f"{r.started.astimezone():%Y-%m-%d %H:%M:%S}  {r.path}")
            print(f"{len(old)} recordings older than {days} days / 条过期录音")
            return 0
        action = "move" if move_to else "delete"
        count = index.purge(cut, action=action, move_to=Path(move_to) if move_to else None)
        verb = "moved to " + move_to if move_to else "deleted"
        print(f"{count} recordings older than {days} days {verb} / 条过期录音已处理")
        return 0
    found = index.find(
        since=time_arg(args.since),
        until=time_arg(args.until),
        number=args.number,
        agent=args.agent,
        station=args.station,
        queue=args.queue,
        group=args.group,
        call_id=args.call,
        limit=args.limit,
    )
    if args.verb == "export":
        copied = index.export(found, Path(args.folder))
        print(f"{copied} of {len(found)} recordings exported to {args.folder} / 条录音已导出")
        return 0
    if args.json:
        for r in found:
            print(json.dumps(r.json(), ensure_ascii=False))
        return 0
    heading = f"{'started/开始':<19}  {'s/秒':>6}  {'caller/主叫':<14} {'called/被叫':<12}"
    print(f"{heading} who/座席  id  path/文件")
    for r in found:
        who = ",".join(r.names("agent") or r.names("station")) or "-"
        print(
            f"{r.started.astimezone():%Y-%m-%d %H:%M:%S}  {r.duration_s:>6.1f}  "
            f"{r.caller or '-':<14} {r.called or '-':<12} {who}  {r.recording_id[:8]}  "
            f"{r.path}{'' if r.status == 'done' else '  [' + r.status + ']'}"
        )
    return 0


def time_arg(text: str | None) -> dt.datetime | None:
    """A ``--since``/``--until`` argument: a date or date and time (local unless it says
    otherwise), None when not given; ValueError naming it when it is not one."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date or time: {text!r} (YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
    return moment if moment.tzinfo is not None else moment.astimezone()
