"""Scenario files: a simulated site's lines, callers, callees and desk phones in YAML.

A scenario says what the simulated board is (``board:``), how its lines behave
(``lines:``), who answers numbers dialled out (``directory:``), which calls come in when
and what the callers do (``calls:``), what the people at the desk phones do (``phones:``)
and which recordings replay into which trunks (``replays:``). Scripts are lists of steps
(`boardcc.drivers.sim.steps`): a bare word (``hang_up``) or a one-key mapping
(``press: "1"``). Every mistake is reported with the file, line and key; the format is
documented with an example in docs/simulator.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from boardcc.drivers.events import (
    LineEvent,
    LineVoltageBack,
    LineVoltageLost,
    PolarityReversal,
    RingOff,
    RingOn,
)
from boardcc.drivers.sim import steps as st
from boardcc.drivers.sim.exchange import CALLEE_KINDS, FAR_HANGUP_SIGNALS, Callee, CallerIdSpec
from boardcc.drivers.sim.party import FAR_END_STEPS, PHONE_STEPS
from boardcc.dsp import load_plan
from boardcc.yamlfile import ConfigFileError, Located, load_yaml, validate

if TYPE_CHECKING:
    from boardcc.drivers.sim.board import SimBoard
    from boardcc.drivers.sim.exchange import TrunkLine


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _cadence(v: list[int] | None) -> list[int] | None:
    if v is not None and (not v or len(v) % 2 or any(ms <= 0 for ms in v)):
        raise ValueError(f"a cadence is pairs of positive ms (on, off, ...), got {v}")
    return v


def _one_of(value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value


class BoardSection(_Strict):
    trunks: int = Field(4, ge=0, le=4096)
    stations: int = Field(4, ge=0, le=4096)
    records: int | list[int] = 0
    empty: int = Field(0, ge=0)
    seed: int = 0
    plan: str = "cn"

    @field_validator("plan")
    @classmethod
    def _plan(cls, v: str) -> str:
        load_plan(v)  # a plan that does not load is named here, with its line
        return v

    @field_validator("records")
    @classmethod
    def _records(cls, v: int | list[int]) -> int | list[int]:
        if isinstance(v, int) and v < 0:
            raise ValueError(f"records must be >= 0, got {v}")
        return v


class EchoSection(_Strict):
    delay_ms: float = Field(5.0, ge=0, le=60)
    erl_db: float = Field(12.0, ge=0, le=60)
    dispersion_ms: float = Field(6.0, gt=0, le=30)


class LineSection(_Strict):
    level_db: float | None = Field(None, ge=-40, le=20)
    noise_dbm0: float | None = Field(None, le=0)
    echo: EchoSection | None = None
    far_hangup: list[str] | str | None = None
    answer_reversal: bool | None = None
    cadence: list[int] | None = None
    interdigit_s: float | None = Field(None, gt=0, le=30)

    @field_validator("far_hangup")
    @classmethod
    def _signals(cls, v: list[str] | str | None) -> list[str] | str | None:
        for s in [v] if isinstance(v, str) else v or []:
            _one_of(s, FAR_HANGUP_SIGNALS)
        return v

    _check_cadence = field_validator("cadence")(_cadence)


class CallerIdSection(_Strict):
    number: str | None = None
    name: str | None = None
    mode: Literal["fsk", "dtmf", "v23"] = "fsk"
    standard: Literal["bell202", "v23"] = "bell202"
    format: Literal["mdmf", "sdmf"] = "mdmf"
    datetime: str | None = None
    absence: Literal["O", "P"] | None = None


class CallSection(_Strict):
    at: float = Field(ge=0)
    trunk: int = Field(ge=0)
    caller_id: CallerIdSection | str | None = None
    cadence: list[int] | None = None
    give_up_s: float = Field(60.0, gt=0)
    script: list[Any] = []

    _check_cadence = field_validator("cadence")(_cadence)


class CalleeSection(_Strict):
    kind: str = "answer"
    rings: int = Field(2, ge=0, le=50)
    greeting_s: float = Field(4.0, gt=0, le=60)
    script: list[Any] = []

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        return _one_of(v, CALLEE_KINDS)


class AutoAnswerSection(_Strict):
    after_rings: int = Field(1, ge=1, le=50)
    talk: list[Any] = []


class PhoneScriptSection(_Strict):
    at: float = Field(ge=0)
    steps: list[Any]


class PhoneSection(_Strict):
    auto_answer: AutoAnswerSection | None = None
    scripts: list[PhoneScriptSection] = []


class ReplaySection(_Strict):
    trunk: int = Field(ge=0)
    file: str
    at: float = Field(0.0, ge=0)
    events: list[Any] | str | None = None


class ScenarioFile(_Strict):
    board: BoardSection = BoardSection()
    lines: dict[int, LineSection] = {}
    directory: dict[str, CalleeSection | str] = {}
    calls: list[CallSection] = []
    phones: dict[int, PhoneSection] = {}
    replays: list[ReplaySection] = []


# -- steps ----------------------------------------------------------------------------------

_BARE: dict[str, Callable[[], st.Step]] = {
    "hang_up": st.HangUp,
    "off_hook": st.LiftHandset,
    "on_hook": st.ReplaceHandset,
    "flash": st.Flash,
    "wait_sound": st.WaitSound,
    "wait_silence": st.WaitSilence,
    "wait_ring": st.WaitRing,
    "fax": st.Fax,
}


def _step(name: str, value: Any, base: Path) -> st.Step:
    """One step from its YAML name and value."""
    if name == "wait":
        return st.Pause(float(value))
    if name in ("press", "dial"):
        return st.Press(str(value)) if not isinstance(value, Mapping) else st.Press(**value)
    if name == "speak":
        if isinstance(value, str):
            value = {"file": value}
        if not isinstance(value, Mapping):
            raise ValueError("speak takes a file name or {file|speech|tone: ..., seconds: ...}")
        args = dict(value)
        if "file" in args:
            args["file"] = str(base / str(args["file"]))
            if not Path(args["file"]).is_file():
                raise ValueError(f"audio file {value['file']!r} not found")
        if isinstance(args.get("tone"), list):
            args["tone"] = tuple(float(f) for f in args["tone"])
        return st.Speak(**args)
    if name == "wait_ring":
        return st.WaitRing(**value) if isinstance(value, Mapping) else st.WaitRing(int(value))
    if name == "flash":
        return st.Flash(**value) if isinstance(value, Mapping) else st.Flash(float(value))
    if name == "fax":
        return st.Fax(**value) if isinstance(value, Mapping) else st.Fax(float(value))
    if name == "wait_sound":
        return st.WaitSound(**value) if isinstance(value, Mapping) else st.WaitSound(float(value))
    if name == "wait_silence":
        if isinstance(value, Mapping):
            return st.WaitSilence(**value)
        return st.WaitSilence(float(value))
    raise ValueError(f"unknown step {name!r}")


STEP_NAMES = sorted({*_BARE, "wait", "press", "dial", "speak"})


ROLE_STEPS = {"caller": FAR_END_STEPS, "callee": FAR_END_STEPS, "phone": PHONE_STEPS}


def parse_steps(
    raw: Sequence[Any], located: Located, path: tuple[object, ...], role: str
) -> list[st.Step]:
    """Steps from their YAML form for a ``"caller"``, ``"callee"`` or ``"phone"``; errors
    name the line of the offending step, including a step that party cannot take."""
    allowed = ROLE_STEPS[role]
    out: list[st.Step] = []
    problems: list[tuple[int, str, str]] = []
    base = Path(located.source).parent
    for i, item in enumerate(raw):
        where = (*path, i)
        key = ".".join(str(p) for p in where)
        try:
            if isinstance(item, str):
                name = item
                make = _BARE.get(item)
                if make is None:
                    raise ValueError(f"unknown step {item!r}; steps are: {', '.join(STEP_NAMES)}")
                step = make()
            elif isinstance(item, Mapping) and len(item) == 1:
                ((name, value),) = item.items()
                if name not in STEP_NAMES:
                    raise ValueError(f"unknown step {name!r}; steps are: {', '.join(STEP_NAMES)}")
                step = _step(str(name), value, base)
            else:
                raise ValueError("a step is a word (hang_up) or one key and its value (wait: 2)")
            if type(step).__name__ not in allowed:
                raise ValueError(f"{name} is not something a {role} can do")
            out.append(step)
        except (TypeError, ValueError) as exc:
            problems.append((located.line(where), key, str(exc)))
    if problems:
        raise ConfigFileError(located.source, problems)
    return out


# -- replay events --------------------------------------------------------------------------

EventMaker = Callable[["TrunkLine", int], list[LineEvent]]


def _hang_up(line: TrunkLine, t: int) -> list[LineEvent]:
    out: list[LineEvent] = []
    for signal in line.far_hangup:
        if signal == "reversal":
            out.append(PolarityReversal(line.channel, t))
        elif signal == "open_loop":
            out.append(LineVoltageLost(line.channel, t))
            out.append(LineVoltageBack(line.channel, t + line.sim.ms(line.open_loop_ms)))
    return out


REPLAY_EVENTS: dict[str, EventMaker] = {
    "ring_on": lambda line, t: [RingOn(line.channel, t)],
    "ring_off": lambda line, t: [RingOff(line.channel, t)],
    "polarity": lambda line, t: [PolarityReversal(line.channel, t)],
    "voltage_lost": lambda line, t: [LineVoltageLost(line.channel, t)],
    "voltage_back": lambda line, t: [LineVoltageBack(line.channel, t)],
    "hang_up": _hang_up,
}


class _ReplayEvent(_Strict):
    at: float = Field(ge=0)
    event: str

    @field_validator("event")
    @classmethod
    def _known(cls, v: str) -> str:
        return _one_of(v, list(REPLAY_EVENTS))


class _ReplayEvents(_Strict):
    events: list[_ReplayEvent]


def load_replay_events(
    events: str | Path | Sequence[Mapping[str, Any]], located: Located | None = None
) -> list[tuple[float, EventMaker]]:
    """Timed line events for a replay: a YAML file (``events:`` list, or a bare list) or
    the list itself. Returns ``(seconds, maker)`` pairs in time order."""
    if isinstance(events, str | Path):
        located = load_yaml(events)
        if isinstance(located.data, list):
            located.data = {"events": located.data}
            located.lines = {("events", *k): v for k, v in located.lines.items()}
        parsed = validate(_ReplayEvents, located)
    else:
        source, lines = (located.source, located.lines) if located else ("<events>", {})
        parsed = validate(_ReplayEvents, Located({"events": list(events)}, source, lines))
    return sorted(((e.at, REPLAY_EVENTS[e.event]) for e in parsed.events), key=lambda p: p[0])


# -- the whole file -------------------------------------------------------------------------


@dataclass(slots=True)
class Scenario:
    """A parsed scenario, ready to `apply` to a board."""

    source: str
    board: dict[str, Any]
    actions: list[Callable[[SimBoard], None]] = field(default_factory=list)

    def apply(self, board: SimBoard) -> None:
        """Set the board's lines, directory, calls, phones and replays as the file says."""
        for act in self.actions:
            act(board)


def load_scenario(scenario: str | Path | Mapping[str, Any]) -> Scenario:
    """Read and check a scenario file (or its parsed content); see the module docstring."""
    if isinstance(scenario, Mapping):
        located = Located(dict(scenario), "<scenario>")
    else:
        located = load_yaml(scenario)
    spec = validate(ScenarioFile, located)
    base = Path(located.source).parent
    board = spec.board.model_dump(exclude_unset=True)
    out = Scenario(located.source, board)
    trunks, stations = spec.board.trunks, spec.board.stations
    problems: list[tuple[int, str, str]] = []

    def need(cond: bool, path: tuple[object, ...], reason: str) -> None:
        if not cond:
            problems.append((located.line(path), ".".join(map(str, path)), reason))

    records = spec.board.records
    tapped = list(range(records)) if isinstance(records, int) else records
    for k, r in enumerate(tapped):
        where = ("board", "records") if isinstance(records, int) else ("board", "records", k)
        need(0 <= r < trunks, where, f"trunk {r} does not exist (the board has {trunks})")
    for ch, line in spec.lines.items():
        need(0 <= ch < trunks + stations, ("lines", ch), f"no trunk or station {ch}")
        out.actions.append(_line_action(ch, line))
    for number, raw in spec.directory.items():
        need(number.isdigit(), ("directory", number), "a number is digits only")
        if isinstance(raw, str):
            need(raw in CALLEE_KINDS, ("directory", number), f"{raw!r} is not a callee kind")
            callee = Callee(raw) if raw in CALLEE_KINDS else Callee()
        else:
            script = parse_steps(raw.script, located, ("directory", number, "script"), "callee")
            callee = Callee(raw.kind, raw.rings, tuple(script), raw.greeting_s)
        out.actions.append(lambda b, n=number, c=callee: b.directory.__setitem__(n, c))
    for i, call in enumerate(spec.calls):
        need(call.trunk < trunks, ("calls", i, "trunk"), f"no trunk {call.trunk}")
        script = parse_steps(call.script, located, ("calls", i, "script"), "caller")
        cid: CallerIdSpec | None = None
        if isinstance(call.caller_id, str):
            cid = CallerIdSpec(number=call.caller_id)
        elif call.caller_id is not None:
            try:
                cid = CallerIdSpec(**call.caller_id.model_dump())
            except ValueError as exc:
                need(False, ("calls", i, "caller_id"), str(exc))
        out.actions.append(_call_action(call, cid, script))
    for ch, phone in spec.phones.items():
        need(trunks <= ch < trunks + stations, ("phones", ch), f"channel {ch} is not a station")
        if phone.auto_answer is not None:
            talk = parse_steps(
                phone.auto_answer.talk, located, ("phones", ch, "auto_answer", "talk"), "phone"
            )
            after = phone.auto_answer.after_rings
            out.actions.append(lambda b, c=ch, a=after, t=talk: b.phone(c).auto_answer(a, t))
        for k, entry in enumerate(phone.scripts):
            run = parse_steps(entry.steps, located, ("phones", ch, "scripts", k, "steps"), "phone")
            out.actions.append(
                lambda b, c=ch, s=run, at=entry.at: b.phone(c).run(s, round(at * b.fs))
            )
    for i, rep in enumerate(spec.replays):
        need(rep.trunk < trunks, ("replays", i, "trunk"), f"no trunk {rep.trunk}")
        path = base / rep.file
        need(path.is_file(), ("replays", i, "file"), f"audio file {rep.file!r} not found")
        events: list[Any] | Path | None
        if isinstance(rep.events, str):
            events = base / rep.events
            need(events.is_file(), ("replays", i, "events"), f"file {rep.events!r} not found")
            if events.is_file():
                load_replay_events(events)  # checked now, not when applied; errors name it
        else:
            events = rep.events
            if events is not None:
                try:
                    load_replay_events(events, _sublocated(located, ("replays", str(i))))
                except ConfigFileError as exc:
                    problems += [(n, f"replays.{i}.{key}", why) for n, key, why in exc.problems]
        out.actions.append(_replay_action(rep, path, events))
    if problems:
        raise ConfigFileError(located.source, problems)
    return out


def _sublocated(located: Located, prefix: tuple[str, ...]) -> Located:
    n = len(prefix)
    lines = {k[n:]: v for k, v in located.lines.items() if k[:n] == prefix}
    return Located(None, located.source, lines)


def _line_action(ch: int, line: LineSection) -> Callable[[SimBoard], None]:
    def act(board: SimBoard) -> None:
        echo = line.echo.model_dump() if line.echo is not None else None
        board.impair(ch, level_db=line.level_db, noise_dbm0=line.noise_dbm0, echo=echo)
        if ch in board.lines:
            trunk = board.lines[ch]
            if line.far_hangup is not None:
                fh = line.far_hangup
                trunk.far_hangup = [fh] if isinstance(fh, str) else list(fh)
            if line.answer_reversal is not None:
                trunk.answer_reversal = line.answer_reversal
            if line.cadence is not None:
                trunk.cadence = tuple(line.cadence)
            if line.interdigit_s is not None:
                trunk.interdigit_s = line.interdigit_s

    return act


def _call_action(
    call: CallSection, cid: CallerIdSpec | None, script: list[st.Step]
) -> Callable[[SimBoard], None]:
    def act(board: SimBoard) -> None:
        board.incoming_call(
            call.trunk,
            at=call.at,
            caller_id=cid,
            script=script,
            cadence=call.cadence,
            give_up_s=call.give_up_s,
        )

    return act


def _replay_action(
    rep: ReplaySection, path: Path, events: list[Any] | Path | None
) -> Callable[[SimBoard], None]:
    def act(board: SimBoard) -> None:
        board.replay(rep.trunk, path, events=events, at=rep.at)

    return act
