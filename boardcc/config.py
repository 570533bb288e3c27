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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from boardcc.yamlfile import ConfigFileError, Located, load_yaml, validate

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FAR_END_SIGNS = ("busy", "reversal", "line_lost", "silence")

#: Step kinds and what their value must be; later parts add theirs (ivr, queue, ...).
STEP_KINDS: dict[str, str] = {
    "station": "an extension number",
    "ring_group": "{stations: [extensions], strategy: all|order, ring_s: seconds}",
    "play": "a prompt name",
    "hang_up": "true",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BoardSection(_Strict):
    backend: str = "sim"
    options: dict[str, Any] = {}


class TrunkGroup(_Strict):
    name: str
    channels: str | list[int]
    access_number: str = ""
    far_end_gone: list[str] = ["busy", "line_lost"]
    answer_by: Literal["voice", "reversal"] = "voice"
    max_silence_s: float = Field(0.0, ge=0)
    ring_gone_s: float = Field(8.0, gt=0)

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
    extension: str = Field(pattern=r"^[0-9]{2,8}$")
    group: str = "default"
    name: str = ""


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

    @field_validator("start", "end")
    @classmethod
    def _time(cls, v: str) -> str:
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00", v):
            raise ValueError(f"a time is HH:MM, got {v!r}")
        return v

    def covers(self, when: dt.datetime) -> bool:
        if DAYS[when.weekday()] not in self.days:
            return False
        minute = when.hour * 60 + when.minute
        return _minutes(self.start) <= minute < _minutes(self.end)


class InboundRule(_Strict):
    name: str
    access_number: str | None = None
    trunk_group: str | None = None
    period: str | None = None
    holidays: bool | None = None  # True: only on holidays; False: never on holidays
    forced: bool = False
    steps: list[Any] = Field(min_length=1)


class Rewrite(_Strict):
    match: str
    prepend: str = ""
    strip: int = Field(0, ge=0)

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
    prefix: str = Field("9", pattern=r"^[0-9]*$")
    rewrite: list[Rewrite] = []
    barred: list[str] = []


class Timeouts(_Strict):
    soft_dial_answer_s: float = Field(45.0, gt=0)
    station_ring_s: float = Field(30.0, gt=0)
    first_digit_s: float = Field(10.0, gt=0)
    interdigit_s: float = Field(4.0, gt=0)
    answer_wait_s: float = Field(60.0, gt=0)
    guard_s: float = Field(1.0, ge=0)


class Storage(_Strict):
    database: str = "sqlite:///boardcc.db"
    logs: str = "logs"


class Api(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    token: str | None = None

    @model_validator(mode="after")
    def _token_off_loopback(self) -> Api:
        if self.host not in ("127.0.0.1", "::1", "localhost") and not self.token:
            raise ValueError(f"the API listens on {self.host}, beyond this machine: set a token")
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
    timeouts: Timeouts = Timeouts()
    storage: Storage = Storage()
    api: Api = Api()

    # Filled by load_site: parsed steps per inbound rule, prompt paths resolved.
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


def load_site(source: str | Path | Mapping[str, Any]) -> SiteConfig:
    """Read and check a site file; every problem is reported with file, line and key."""
    located = Located(dict(source), "<site>") if isinstance(source, Mapping) else load_yaml(source)
    site = validate(SiteConfig, located)
    site.source = located.source
    problems: list[tuple[int, str, str]] = []

    def need(cond: bool, path: tuple[object, ...], reason: str) -> None:
        if not cond:
            problems.append((located.line(path), ".".join(map(str, path)), reason))

    groups = {g.name for g in site.trunk_groups}
    used: dict[int, str] = {}
    for i, g in enumerate(site.trunk_groups):
        try:
            chans = g.channel_list()
        except ValueError as exc:
            need(False, ("trunk_groups", i, "channels"), str(exc))
            chans = []
        for ch in chans:
            need(
                ch not in used,
                ("trunk_groups", i, "channels"),
                f"channel {ch} is also in {used.get(ch)}",
            )
            used[ch] = f"trunk group {g.name}"
    extensions: dict[str, int] = {}
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
        for k, raw in enumerate(rule.steps):
            try:
                kind, value = parse_step(raw)
                _check_step(kind, value, extensions, site.prompts)
            except ValueError as exc:
                need(False, (*where, "steps", k), str(exc))
    for i, out in enumerate(site.outbound):
        need(
            out.trunk_group in groups,
            ("outbound", i, "trunk_group"),
            f"no trunk group {out.trunk_group!r}",
        )
    base = Path(located.source).parent
    for name, path in site.prompts.items():
        full = (base / path) if not Path(path).is_absolute() else Path(path)
        need(full.is_file(), ("prompts", name), f"prompt file {path!r} not found")
        site.prompts[name] = str(full)
    if problems:
        raise ConfigFileError(located.source, problems)
    return site


def _check_step(
    kind: str, value: Any, extensions: Mapping[str, int], prompts: Mapping[str, str]
) -> None:
    if kind == "station":
        if str(value) not in extensions:
            raise ValueError(f"no station with extension {value!r}")
    elif kind == "ring_group":
        if not isinstance(value, Mapping) or "stations" not in value:
            raise ValueError(f"ring_group takes {STEP_KINDS['ring_group']}")
        unknown = set(value) - {"stations", "strategy", "ring_s"}
        if unknown:
            raise ValueError(f"ring_group: unknown key {sorted(unknown)[0]!r}")
        for ext in value["stations"]:
            if str(ext) not in extensions:
                raise ValueError(f"ring_group: no station with extension {ext!r}")
        if value.get("strategy", "all") not in ("all", "order"):
            raise ValueError("ring_group: strategy is all or order")
    elif kind == "play" and str(value) not in prompts:
        raise ValueError(f"no prompt named {value!r} (prompts: {', '.join(prompts) or 'none'})")
