"""The site file (``boardcc.yaml``): the board, its lines and phones, and the call rules.

One YAML file describes a site (SPEC C5, C6): which board backend and channels, trunk
groups with their access numbers and how each detects the far end hanging up, the desk
phones with their extensions, working-hour periods and holidays, inbound rules (by access
number or trunk group, period, or forced, each a list of steps), outbound rules per station
group (allowed trunk group, hunting, outside-line prefix, number rewriting, barred
prefixes), prompts, storage, logging and the monitor API. `load_site` checks it all, and
every mistake is reported with file, line and key (`boardcc.yamlfile`).

Steps are one-key mappings (``- station: "8001"``, ``- play: greeting``); kinds that later
parts of boardcc provide (``ivr``, ``queue``, ``voicemail``, ``fax``) are registered in
`STEP_KINDS` by those parts, so a file naming one that is not installed is refused at load.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from boardcc.acd.settings import AcdSettings, AgentConfig, QueueConfig, check_site
from boardcc.forwarding import ForwardConfig
from boardcc.recording.settings import RecordingSettings, VoicemailSettings
from boardcc.yamlfile import ConfigFileError, Located, load_yaml, validate

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FAR_END_SIGNS = ("busy", "reversal", "line_lost", "silence")

#: Step kinds and what their value must be; later parts add theirs (ivr, queue, ...).
STEP_KINDS: dict[str, str] = {
    "station": "an extension number",
    "ring_group": "{stations: [extensions], strategy: all|order, ring_s: seconds}",
    "play": "a prompt name",
    "hang_up": "true",
    "voicemail": "a box of the voicemail section (8001, agent:JOB, queue:NAME)",
    "ivr": "a flow name (a file <name>.yaml in the flows folder)",
    "queue": "a queue name, or {name: queue, priority: n, skill: name}",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _number_in_quotes(v: Any) -> Any:
    """Refuse a phone number YAML read as an integer: a leading 0 would be lost (or, with
    only digits 0-7, read as octal), so numbers are written in quotes."""
    if isinstance(v, int) and not isinstance(v, bool):
        raise ValueError(f'write numbers in quotes ("8001"): YAML read this one as the integer {v}')
    return v


#: A phone number or extension, written in quotes in YAML.
NumberText = Annotated[str, BeforeValidator(_number_in_quotes)]


class BoardSection(_Strict):
    backend: str = "sim"
    # The vendor library a backend loads (donjin: Tc08a32.dll or its .so): a path, relative
    # to the site file, or a name the system finds; empty for the backend's usual name.
    library: str = ""
    options: dict[str, Any] = {}

    def settings(self) -> dict[str, Any]:
        """The keyword settings `open_board` gets: the options, and `library` if given."""
        return {**self.options, "library": self.library} if self.library else dict(self.options)


class TrunkGroup(_Strict):
    name: str
    channels: str | list[int]
    access_number: NumberText = ""
    far_end_gone: list[str] = ["busy", "line_lost"]
    answer_by: Literal["voice", "reversal"] = "voice"
    max_silence_s: float = Field(default=0.0, ge=0)
    ring_gone_s: float = Field(default=8.0, gt=0)
    echo_cancel: bool = False  # cancel the line echo (the card's canceller if it has one)
    agc: bool = False  # even out the level of what the line sends

    @field_validator("far_end_gone")
    @classmethod
    def _signs(cls, v: list[str]) -> list[str]:
        for sign in v:
            if sign not in FAR_END_SIGNS:
                raise ValueError(f"{sign!r} is not one of {', '.join(FAR_END_SIGNS)}")
        return v

    def channel_list(self) -> list[int]:
        return parse_channels(self.channels)


class Station(_Strict):
    channel: int = Field(ge=0)
    extension: NumberText
    group: str = "default"
    name: str = ""
    forward: ForwardConfig | None = None  # call forwarding (boardcc.forwarding)

    @field_validator("extension")
    @classmethod
    def _extension(cls, v: str) -> str:
        if not re.fullmatch(r"[0-9]{2,8}", v):
            raise ValueError(f"an extension is 2 to 8 digits, got {v!r}")
        return v


class Period(_Strict):
    days: list[str] = list(DAYS)
    start: str = "00:00"
    end: str = "24:00"

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[str]) -> list[str]:
        for d in v:
            if d not in DAYS:
                raise ValueError(f"{d!r} is not a day ({', '.join(DAYS)})")
        return v

    @field_validator("start", "end", mode="before")
    @classmethod
    def _quoted(cls, v: Any) -> Any:
        # YAML 1.1 reads an unquoted 17:30 as the sexagesimal number 1050.
        if isinstance(v, int) and not isinstance(v, bool):
            hint = f'"{v // 60:02}:{v % 60:02}"' if 0 <= v < 1500 else '"HH:MM"'
            raise ValueError(f"write a time in quotes, e.g. {hint}: unquoted, YAML reads {v}")
        return v

    @field_validator("start", "end")
    @classmethod
    def _time(cls, v: str) -> str:
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00", v):
            raise ValueError(f"a time is HH:MM, got {v!r}")
        return v

    @model_validator(mode="after")
    def _not_empty(self) -> Period:
        if self.start == "24:00":
            raise ValueError("24:00 is an end, not a start (a day starts at 00:00)")
        if self.start == self.end:
            raise ValueError(f"start and end are the same time ({self.start}): an empty period")
        return self

    def covers(self, when: dt.datetime) -> bool:
        """Whether local time `when` is in the period; one that ends before it starts
        (22:00 to 06:00) runs overnight into the next day's morning."""
        minute = when.hour * 60 + when.minute
        start, end = _minutes(self.start), _minutes(self.end)
        today = DAYS[when.weekday()] in self.days
        if start < end:
            return today and start <= minute < end
        yesterday = DAYS[(when.weekday() - 1) % 7] in self.days
        return (today and minute >= start) or (yesterday and minute < end)


class InboundRule(_Strict):
    name: str
    access_number: NumberText | None = None
    trunk_group: str | None = None
    period: str | None = None
    holidays: bool | None = None  # True: only on holidays; False: never on holidays
    forced: bool = False
    steps: list[Any] = Field(min_length=1)


class Rewrite(_Strict):
    match: str
    prepend: NumberText = ""
    strip: int = Field(default=0, ge=0)

    @field_validator("match")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return v


class OutboundRule(_Strict):
    station_group: str = "default"
    trunk_group: str
    hunting: Literal["sequential", "round_robin", "random"] = "round_robin"
    prefix: Annotated[NumberText, Field(pattern=r"^[0-9]*$")] = "9"
    rewrite: list[Rewrite] = []
    barred: list[NumberText] = []


class Timeouts(_Strict):
    soft_dial_answer_s: float = Field(default=45.0, gt=0)
    station_ring_s: float = Field(default=30.0, gt=0)
    first_digit_s: float = Field(default=10.0, gt=0)
    interdigit_s: float = Field(default=4.0, gt=0)
    answer_wait_s: float = Field(default=60.0, gt=0)
    guard_s: float = Field(default=1.0, ge=0)


class Storage(_Strict):
    database: str = "sqlite:///boardcc.db"
    logs: str = "logs"
    # Agents saved with the agent editor (boardcc.acd.saved); default <site>.agents.yaml
    agents_file: str | None = None


class Api(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    token: str | None = None
    #: For agents' PCs: a connection with this token may only log in as an agent and then
    #: has that agent's rights (SPEC A4), never the operator's.
    agent_token: str | None = None

    @model_validator(mode="after")
    def _token_off_loopback(self) -> Api:
        if self.host not in ("127.0.0.1", "::1", "localhost") and not self.token:
            raise ValueError(f"the API listens on {self.host}, beyond this machine: set a token")
        if self.agent_token and not self.token:
            raise ValueError("an agent_token needs a token for the operator as well")
        if self.agent_token and self.agent_token == self.token:
            raise ValueError("agent_token must differ from token")
        return self


class SiteConfig(_Strict):
    site: str = "boardcc"
    language: Literal["zh", "en"] | None = None
    board: BoardSection = BoardSection()
    tone_plan: str = "cn"
    trunk_groups: list[TrunkGroup] = []
    stations: list[Station] = []
    periods: dict[str, Period] = {}
    holidays: list[dt.date] = []
    inbound: list[InboundRule] = []
    outbound: list[OutboundRule] = []
    prompts: dict[str, str] = {}
    flows: str = ""  # folder of IVR flow files; default: the flows shipped in boardcc.ivr_flows
    timeouts: Timeouts = Timeouts()
    storage: Storage = Storage()
    api: Api = Api()
    recording: RecordingSettings = RecordingSettings()
    music_on_hold: dict[str, str] = {}  # class name -> folder of music files
    voicemail: VoicemailSettings = VoicemailSettings()
    agents: list[AgentConfig] = []
    queues: list[QueueConfig] = []
    acd: AcdSettings = AcdSettings()

    # The file it was read from (load_site, which also makes relative paths the file's).
    source: str = ""

    def station_by_extension(self) -> dict[str, Station]:
        return {s.extension: s for s in self.stations}

    def trunk_group(self, name: str) -> TrunkGroup:
        for g in self.trunk_groups:
            if g.name == name:
                return g
        raise KeyError(name)


def parse_channels(spec: str | list[int]) -> list[int]:
    """``"0-9,12"`` or ``[0, 1]`` as a list of channel numbers."""
    if isinstance(spec, list):
        for ch in spec:
            if ch < 0:
                raise ValueError(f"a channel is a number >= 0, got {ch}")
        return list(spec)
    out: list[int] = []
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if m is None:
            raise ValueError(f"channels are numbers and ranges like 0-9,12, got {spec!r}")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise ValueError(f"range {part!r} runs backwards")
        out += range(lo, hi + 1)
    return out


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def parse_step(raw: Any) -> tuple[str, Any]:
    """A step as ``(kind, value)``; raises ValueError naming what is wrong."""
    if isinstance(raw, str):
        raw = {raw: True}
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise ValueError('a step is one key and its value, e.g. `- station: "8001"`')
    ((kind, value),) = raw.items()
    if kind not in STEP_KINDS:
        raise ValueError(f"unknown step {kind!r}; steps here are: {', '.join(STEP_KINDS)}")
    return str(kind), value


def tool_database(site: str | None, database: str | None) -> tuple[str, SiteConfig | None]:
    """The database a command-line tool reads: `database` if given, else the site file's
    (`site`, or ./boardcc.yaml when there is one), else the default; and the site loaded,
    if one was."""
    path = Path(site or "boardcc.yaml")
    config = load_site(path) if site or (database is None and path.is_file()) else None
    url = database or (config.storage.database if config else Storage().database)
    return url, config


def load_site(source: str | Path | Mapping[str, Any]) -> SiteConfig:
    """Read and check a site file; every problem is reported with file, line and key.

    Relative paths in the file (prompts, a tone plan file, the log folder, an SQLite
    database) are taken from the file's folder, so the site works whatever the current
    directory; a site given as a mapping takes them from the current directory.
    """
    located = Located(dict(source), "<site>") if isinstance(source, Mapping) else load_yaml(source)
    site = validate(SiteConfig, located)
    site.source = located.source
    problems: list[tuple[int, str, str]] = []

    def need(cond: bool, path: tuple[object, ...], reason: str) -> None:
        if not cond:
            problems.append((located.line(path), ".".join(map(str, path)), reason))

    # Imported here: the DSP package brings in scipy, which a command that only writes or
    # reads site files (`boardcc init`) should not wait for.
    from boardcc.drivers.registry import backends
    from boardcc.dsp.tones import load_plan

    base = Path(".") if isinstance(source, Mapping) else Path(located.source).absolute().parent
    known = backends()
    need(
        site.board.backend in known,
        ("board", "backend"),
        f"no board backend {site.board.backend!r} (known: {', '.join(sorted(known))})",
    )
    if "/" in site.board.library or "\\" in site.board.library:
        site.board.library = str(base / site.board.library)
    if "/" in site.tone_plan or site.tone_plan.endswith((".yaml", ".yml")):
        site.tone_plan = str(base / site.tone_plan)
    try:
        load_plan(site.tone_plan)
    except ValueError as exc:
        need(False, ("tone_plan",), str(exc))
    if site.flows:
        site.flows = str(base / site.flows)
    else:
        from boardcc.ivr_flows import FLOWS_DIR

        site.flows = str(FLOWS_DIR)
    need(Path(site.flows).is_dir(), ("flows",), f"no flow folder {site.flows}")
    groups: set[str] = set()
    used: dict[int, str] = {}
    for i, g in enumerate(site.trunk_groups):
        need(g.name not in groups, ("trunk_groups", i, "name"), f"trunk group {g.name} twice")
        groups.add(g.name)
        try:
            chans = g.channel_list()
        except ValueError as exc:
            need(False, ("trunk_groups", i, "channels"), str(exc))
            continue
        need(bool(chans), ("trunk_groups", i, "channels"), "no channels")
        clashes: dict[str, list[int]] = {}
        for ch in chans:
            if ch in used:
                clashes.setdefault(used[ch], []).append(ch)
            used[ch] = f"trunk group {g.name}"
        for other, chs in clashes.items():
            many = len(chs) > 1
            need(
                False,
                ("trunk_groups", i, "channels"),
                f"channel{'s' if many else ''} {_span(chs)} {'are' if many else 'is'} "
                f"also in {other}",
            )
    extensions: dict[str, int] = {}
    queues = {q.name for q in site.queues}

    def check_steps(where: tuple[object, ...], steps: list[Any]) -> None:
        for k, raw in enumerate(steps):
            kind = ""
            try:
                kind, value = parse_step(raw)
                _check_step(kind, value, extensions, site.prompts, queues)
                if kind == "ivr" and not (Path(site.flows) / f"{value}.yaml").is_file():
                    raise _StepError(f"no flow file {value}.yaml in {site.flows}")
            except _StepError as exc:
                need(False, (*where, k, kind, *exc.at), str(exc))
            except ValueError as exc:
                need(False, (*where, k), str(exc))

    for i, s in enumerate(site.stations):
        need(
            s.channel not in used,
            ("stations", i, "channel"),
            f"channel {s.channel} is also in {used.get(s.channel)}",
        )
        used[s.channel] = f"station {s.extension}"
        need(
            s.extension not in extensions,
            ("stations", i, "extension"),
            f"extension {s.extension} is used twice",
        )
        extensions[s.extension] = s.channel
    for i, rule in enumerate(site.inbound):
        where = ("inbound", i)
        if rule.trunk_group is not None:
            need(
                rule.trunk_group in groups,
                (*where, "trunk_group"),
                f"no trunk group {rule.trunk_group!r}",
            )
        if rule.period is not None:
            need(rule.period in site.periods, (*where, "period"), f"no period {rule.period!r}")
        check_steps((*where, "steps"), rule.steps)
    music = {*site.music_on_hold, "default"}
    check_site(site.agents, site.queues, extensions, site.prompts, music, check_steps, need)
    if site.acd.regions is not None:
        site.acd.regions = str(base / site.acd.regions)
        need(Path(site.acd.regions).is_file(), ("acd", "regions"), "region table not found")
    station_groups: set[str] = set()
    for i, out in enumerate(site.outbound):
        need(
            out.station_group not in station_groups,
            ("outbound", i, "station_group"),
            f"a second rule for station group {out.station_group!r} is never used",
        )
        station_groups.add(out.station_group)
        need(
            out.trunk_group in groups,
            ("outbound", i, "trunk_group"),
            f"no trunk group {out.trunk_group!r}",
        )
    for name, path in site.prompts.items():
        full = base / path
        need(full.is_file(), ("prompts", name), f"prompt file {path!r} not found")
        site.prompts[name] = str(full)
    site.storage.logs = str(base / site.storage.logs)
    if site.storage.agents_file:
        site.storage.agents_file = str(base / site.storage.agents_file)
    elif not isinstance(source, Mapping):
        site_path = Path(located.source).absolute()
        site.storage.agents_file = str(site_path.with_name(f"{site_path.stem}.agents.yaml"))
    _media_paths(site, base, need)
    site.storage.database = _sqlite_from(base, site.storage.database)
    if problems:
        raise ConfigFileError(located.source, problems)
    return site


def _span(channels: list[int]) -> str:
    """``[10, 11, 12, 15]`` as ``"10-12,15"``."""
    parts: list[str] = []
    start = prev = channels[0]
    for ch in [*channels[1:], None]:
        if ch is not None and ch == prev + 1:
            prev = ch
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if ch is not None:
            start = prev = ch
    return ",".join(parts)


def _sqlite_from(base: Path, url: str) -> str:
    """An SQLite URL with a relative file made relative to `base`; other URLs as they are."""
    m = re.fullmatch(r"(sqlite(?:\+\w+)?:///)([^?]+)(\?.*)?", url)
    if m is None or m.group(2) == ":memory:" or Path(m.group(2)).is_absolute():
        return url
    return f"{m.group(1)}{base / m.group(2)}{m.group(3) or ''}"


class _StepError(ValueError):
    """A problem inside a step's value, at key path `at` below the step's kind."""

    def __init__(self, reason: str, *at: object) -> None:
        super().__init__(reason)
        self.at = at


def _check_step(
    kind: str,
    value: Any,
    extensions: Mapping[str, int],
    prompts: Mapping[str, str],
    queues: set[str] | frozenset[str] = frozenset(),
) -> None:
    if kind == "station":
        if str(value) not in extensions:
            raise _StepError(f"no station with extension {value!r}")
    elif kind == "ring_group":
        _check_ring_group(value, extensions)
    elif kind == "play":
        if str(value) not in prompts:
            raise _StepError(f"no prompt named {value!r} (prompts: {', '.join(prompts) or 'none'})")
    elif kind == "voicemail" and not isinstance(value, str):
        raise _StepError(f'voicemail takes a box name in quotes ("8001"), got {value!r}')
    elif kind == "ivr" and (not isinstance(value, str) or not re.fullmatch(r"[\w.-]+", value)):
        raise _StepError(f"ivr takes a flow name, got {value!r}")
    elif kind == "queue":
        name = value.get("name") if isinstance(value, Mapping) else value
        if isinstance(value, Mapping) and set(value) - {"name", "priority", "skill"}:
            raise _StepError(f"queue takes {STEP_KINDS['queue']}")
        if name not in queues:
            raise _StepError(f"no queue named {name!r} (queues: {', '.join(queues) or 'none'})")
    elif kind == "hang_up" and value is not True:
        raise _StepError(f"hang_up takes {STEP_KINDS['hang_up']}, got {value!r}")


def _check_ring_group(value: Any, extensions: Mapping[str, int]) -> None:
    if not isinstance(value, Mapping) or "stations" not in value:
        raise _StepError(f"ring_group takes {STEP_KINDS['ring_group']}")
    for key in value:
        if key not in ("stations", "strategy", "ring_s"):
            raise _StepError("unknown key", key)
    stations = value["stations"]
    if not isinstance(stations, list) or not stations:
        raise _StepError("a list of one or more extensions", "stations")
    for k, ext in enumerate(stations):
        if str(ext) not in extensions:
            raise _StepError(f"no station with extension {ext!r}", "stations", k)
    if value.get("strategy", "all") not in ("all", "order"):
        raise _StepError(f"all or order, got {value['strategy']!r}", "strategy")
    ring_s = value.get("ring_s")
    if ring_s is not None and (
        isinstance(ring_s, bool) or not isinstance(ring_s, int | float) or ring_s <= 0
    ):
        raise _StepError(f"seconds > 0, got {ring_s!r}", "ring_s")


def _media_paths(site: SiteConfig, base: Path, need: Any) -> None:
    """Recording, voicemail and music folders made the file's; music folders must exist."""
    rec = site.recording
    rec.folder = str(base / rec.folder)
    if rec.retention.move_to:
        rec.retention.move_to = str(base / rec.retention.move_to)
    site.voicemail.folder = str(base / site.voicemail.folder)
    for name, folder in site.music_on_hold.items():
        full = base / folder
        need(full.is_dir(), ("music_on_hold", name), f"no music folder {folder!r}")
        site.music_on_hold[name] = str(full)
    boxes = {b.box for b in site.voicemail.boxes}
    for i, rule in enumerate(site.inbound):
        for k, raw in enumerate(rule.steps):
            if isinstance(raw, Mapping) and "voicemail" in raw:
                need(
                    str(raw["voicemail"]) in boxes,
                    ("inbound", i, "steps", k, "voicemail"),
                    f"no voicemail box {raw['voicemail']!r} "
                    f"(boxes: {', '.join(sorted(boxes)) or 'none'})",
                )
