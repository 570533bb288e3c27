"""One call's walk through a flow: the IVR interpreter, a sans-IO machine.

Like the channel machines it imports no engine, clock, thread or driver: `Session.handle`
takes an event (a prompt ended, a key, a timer, the caller hung up, a lookup's result, a
transfer that failed) and returns actions (play this prompt file, stop playing, start or
cancel a timer, run a lookup, transfer, hang up). The host (`boardcc.ivr.host`) carries
them out on the engine and feeds back what happens. Wall-clock time arrives with each event
(`when`), for the DATE/TIME macros.

A node that takes no time (set, compare, call, return) runs straight on into the next; one
that plays or waits returns its actions and resumes on the next event. Keys pressed during
an interruptible prompt stop it and are kept for the menu or digit collection that follows
(type-ahead), so a caller who knows the menu need not listen to it. A call finishes on the
flow version it started with: the session holds that `Flow` and the sub-flows it was given.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boardcc.ivr import numbers
from boardcc.ivr.flow import Flow, Node, expand

#: Immediate nodes one event may run through before the call is judged stuck.
MAX_INSTANT_STEPS = 500


# -- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IvrEvent:
    when: dt.datetime


@dataclass(frozen=True, slots=True)
class Start(IvrEvent):
    pass


@dataclass(frozen=True, slots=True)
class PromptEnded(IvrEvent):
    pass


@dataclass(frozen=True, slots=True)
class Key(IvrEvent):
    digit: str


@dataclass(frozen=True, slots=True)
class TimerFired(IvrEvent):
    name: str


@dataclass(frozen=True, slots=True)
class HungUp(IvrEvent):
    pass


@dataclass(frozen=True, slots=True)
class LookupDone(IvrEvent):
    token: int
    row: Mapping[str, Any] | None
    error: str = ""


@dataclass(frozen=True, slots=True)
class TransferFailed(IvrEvent):
    reason: str


# -- actions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IvrAction:
    pass


@dataclass(frozen=True, slots=True)
class Play(IvrAction):
    """Play one prompt file; `PromptEnded` follows."""

    file: Path
    label: str  # language/name, for logs


@dataclass(frozen=True, slots=True)
class StopPlay(IvrAction):
    pass


@dataclass(frozen=True, slots=True)
class StartTimer(IvrAction):
    name: str
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer(IvrAction):
    name: str


@dataclass(frozen=True, slots=True)
class Lookup(IvrAction):
    """Run a named query (`sql` with bound `params`) or a registered function, off the
    engine's thread; `LookupDone` with `token` follows (unless the timer fires first)."""

    token: int
    flow: Flow
    query: str | None
    function: str | None
    params: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Transfer(IvrAction):
    """Hand the caller to a station, ring group or queue; `TransferFailed` if nobody takes
    the call (then the flow goes on)."""

    way: str  # station, ring_group, queue
    target: Any
    ring_s: float | None = None
    priority: int = 0


@dataclass(frozen=True, slots=True)
class Voicemail(IvrAction):
    box: str


@dataclass(frozen=True, slots=True)
class HangUp(IvrAction):
    pass


@dataclass(frozen=True, slots=True)
class Trace(IvrAction):
    """Something worth a log line and the `flow run` transcript."""

    what: str  # node, prompt, var, language, lookup, error, end
    detail: str


# -- statistics -------------------------------------------------------------------------------


@dataclass(slots=True)
class NodeStats:
    """Counts per node of one flow (SPEC R3 "IVR node statistics")."""

    counts: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)

    def add(self, flow: str, node: str, what: str) -> None:
        self.counts.setdefault((flow, node), Counter())[what] += 1

    def of(self, flow: str, node: str) -> Counter[str]:
        return self.counts.get((flow, node), Counter())


# -- the session -------------------------------------------------------------------------------


class Session:
    """One call in one flow.

    Parameters
    ----------
    flow : Flow
        The version of the flow the call runs (kept to the end).
    subflows : callable
        Gives the `Flow` of a sub-flow by name (the host resolves and remembers it).
    variables : mapping
        The call's variables; filled with the flow's initial values and the fixed macros
        (`call_info`); the session writes into this same mapping, so the host can share it
        with the ACD (business type chosen here: ``skill``).
    call_info : mapping
        DNIS, ANI, CALLER_NAME, CHANNEL.
    stats : NodeStats
        Where per-node counts go.
    """

    def __init__(
        self,
        flow: Flow,
        subflows: Callable[[str], Flow],
        variables: dict[str, str],
        call_info: Mapping[str, str],
        stats: NodeStats,
    ) -> None:
        self.top = self.flow = flow
        self.subflows = subflows
        self.vars = variables
        self.fixed = dict(call_info)
        self.stats = stats
        self.language = flow.languages[0]
        self.vars.update({k: v for k, v in flow.variables.items() if k not in self.vars})
        self.stack: list[tuple[Flow, str]] = []
        self.node: Node | None = None
        self.state = "new"  # playing, keys, lookup, transfer, handler, done
        self.done = False
        self.in_handler = False
        self.typeahead = ""
        self.when = dt.datetime(2000, 1, 1)
        self._queue: list[tuple[str, str]] = []
        self._interruptible = False
        self._after: Callable[[], None] | None = None
        self._on_key: Callable[[str], None] | None = None
        self._on_timer: Callable[[str], None] | None = None
        self._tries = Counter[str]()
        self._buffer = ""
        self._token = 0
        self._out: list[IvrAction] = []
        self._steps = 0
        #: What this call did at each node, in order: (flow, node, what), the same counts
        #: as `stats`; it goes into the call's CDR so that reports outlive the engine.
        self.trail: list[tuple[str, str, str]] = []

    # -- the machine's face -----------------------------------------------------------------

    def handle(self, event: IvrEvent) -> list[IvrAction]:
        """Take one event; return what to do."""
        self._out = []
        self._steps = 0
        self.when = event.when
        if self.done:
            return []
        if isinstance(event, Start):
            self._enter(self.flow.start)
        elif isinstance(event, PromptEnded):
            self._prompt_ended()
        elif isinstance(event, Key) and self.state != "transfer":
            self._emit(Trace("key", event.digit))
            self._key(event.digit)
        elif isinstance(event, TimerFired):
            if self._on_timer is not None:
                handler, self._on_timer = self._on_timer, None
                handler(event.name)
        elif isinstance(event, HungUp):
            self._hung_up()
        elif isinstance(event, LookupDone):
            self._lookup_done(event)
        elif isinstance(event, TransferFailed) and self.state == "transfer":
            self._emit(Trace("transfer", f"failed: {event.reason}"))
            self._count("transfer_failed")
            self._goto(self.node.get("failed") if self.node else None)
        return self._out

    def values(self) -> dict[str, str]:
        """The call's variables with the macros at the time of the last event."""
        w = self.when
        return (
            dict(self.vars)
            | self.fixed
            | {
                "DATE": w.strftime("%Y%m%d"),
                "TIME": w.strftime("%H%M%S"),
                "DATETIME": w.strftime("%Y%m%d%H%M%S"),
                "LANGUAGE": self.language,
            }
        )

    # -- moving between nodes ---------------------------------------------------------------

    def _emit(self, *actions: IvrAction) -> None:
        self._out.extend(actions)

    def _count(self, what: str) -> None:
        if self.node is not None:
            self.stats.add(self.flow.name, self.node.id, what)
            self.trail.append((self.flow.name, self.node.id, what))

    def _goto(self, target: str | None) -> None:
        if self.node is not None:
            self._count("completed")
        if target is None:
            self._end_flow("hang_up")
            return
        self._enter(target)

    def _enter(self, node_id: str) -> None:
        self._steps += 1
        if self._steps > MAX_INSTANT_STEPS:
            self._emit(Trace("error", f"{MAX_INSTANT_STEPS} nodes without waiting; hanging up"))
            self._end_flow("hang_up")
            return
        node = self.flow.nodes[node_id]
        self.node = node
        self.state = "running"
        self._after = self._on_key = self._on_timer = None
        self._tries.clear()
        self._count("entered")
        self._emit(Trace("node", f"{self.flow.name}.{node.id} ({node.type})"))
        getattr(self, f"_run_{node.type}")(node)

    def _end_flow(self, how: str) -> None:
        self.state = "done"
        self.done = True
        if self.in_handler:
            self._emit(Trace("end", "hang-up handler finished"))
            return
        self._emit(Trace("end", how), HangUp())

    # -- playing ----------------------------------------------------------------------------

    def _play(self, names: list[str], interruptible: bool, after: Callable[[], None]) -> None:
        if interruptible and self.typeahead:
            after()  # the caller already answered: no need to hear the question
            return
        self._queue = [(self.language, n) for n in names]
        self._interruptible = interruptible
        self._after = after
        self.state = "playing"
        self._next_prompt()

    def _play_words(self, words: list[str], after: Callable[[], None]) -> None:
        self._play(words, False, after)

    def _next_prompt(self) -> None:
        if not self._queue:
            after, self._after = self._after, None
            self.state = "running"
            if after is not None:
                after()
            return
        lang, name = self._queue.pop(0)
        flow = self.flow
        file = flow.prompt_files.get((lang, name)) or flow.prompt_files[(flow.languages[0], name)]
        self._emit(Trace("prompt", f"{lang}/{name}"), Play(file, f"{lang}/{name}"))

    def _prompt_ended(self) -> None:
        if self.state == "playing":
            self._next_prompt()

    def _key(self, digit: str) -> None:
        if self.state == "playing":
            if not self._interruptible:
                return
            self._queue = []
            self.typeahead += digit
            self._emit(StopPlay())
            self._next_prompt()
            return
        if self.state == "keys" and self._on_key is not None:
            self._on_key(digit)
        elif self.state == "lookup":
            self.typeahead += digit

    def _wait_keys(
        self, on_key: Callable[[str], None], seconds: float, on_timeout: Callable[[str], None]
    ) -> None:
        """Wait for a key (taking type-ahead first) or `seconds` of nothing."""
        self.state = "keys"
        self._on_key = on_key
        if self.typeahead:
            digit, self.typeahead = self.typeahead[0], self.typeahead[1:]
            on_key(digit)
            return
        self._arm(seconds, on_timeout)

    def _arm(self, seconds: float, on_timeout: Callable[[str], None]) -> None:
        self._on_timer = on_timeout
        self._emit(StartTimer("keys", seconds))

    def _disarm(self) -> None:
        self._on_timer = None
        self._emit(CancelTimer("keys"))

    # -- node types ---------------------------------------------------------------------------

    def _run_play(self, node: Node) -> None:
        self._play(node["prompts"], node["interruptible"], lambda: self._goto(node["next"]))

    def _run_tts(self, node: Node) -> None:
        # Spoken text is synthesised by the host like a lookup (off the engine's thread);
        # its result is a prompt file to play.
        self._lookup(
            node,
            None,
            "__tts__",
            {"text": expand(node["text"], self.values()), "language": self.language},
        )

    def _run_menu(self, node: Node, first: bool = True) -> None:
        prompt = node["prompt"] if first or not node.get("short_prompt") else node["short_prompt"]

        def choose(digit: str) -> None:
            self._disarm()
            option = node["options"].get(digit)
            if option is None:
                self.typeahead = ""  # keys after a wrong one are not a plan to follow
                self._count("invalid")
                self._tries["invalid"] += 1
                if self._tries["invalid"] >= node["max_invalid"]:
                    self._fallback(node)
                    return
                self._retry(node, node.get("invalid_prompt"))
                return
            self._count(f"option {digit}")
            if node.get("var"):
                self._set(node["var"], digit)
            target = option
            if isinstance(option, Mapping):
                for name, value in option["set"].items():
                    self._set(name, expand(value, self.values()))
                target = option["next"]
            self._goto(target)

        def timed_out(_: str) -> None:
            self._count("timeout")
            self._tries["timeout"] += 1
            if self._tries["timeout"] >= node["max_timeouts"]:
                self._fallback(node)
                return
            self._retry(node, node.get("timeout_prompt"))

        self._play(
            [prompt],
            node["interruptible"],
            lambda: self._wait_keys(choose, node["timeout_s"], timed_out),
        )

    def _retry(self, node: Node, sorry: str | None) -> None:
        def again() -> None:
            getattr(self, f"_run_{node.type}")(node, first=False)

        if sorry:
            self._play([sorry], True, again)
        else:
            again()

    def _fallback(self, node: Node) -> None:
        self._emit(Trace("fallback", f"{node.id}: too many tries"))
        self._goto(node["fallback"] if "fallback" in node.fields else node["next"])

    def _run_collect(self, node: Node, first: bool = True) -> None:
        self._buffer = ""

        def take(digit: str) -> None:
            self._disarm()
            if digit == node["terminator"]:
                finish()
                return
            self._buffer += digit
            if len(self._buffer) >= node["max_length"]:
                finish()
                return
            self._wait_keys(take, node["interdigit_s"], lambda _: finish())

        def finish() -> None:
            self._on_key = None
            entered = self._buffer
            if not entered:
                self._count("timeout")
                failed(node.get("timeout_prompt"))
                return
            pattern = node.get("pattern")
            if len(entered) < node["min_length"] or (
                pattern and not re.fullmatch(pattern, entered)
            ):
                self.typeahead = ""
                self._count("invalid")
                failed(node.get("invalid_prompt"))
                return
            self._set(node["var"], entered)
            self._goto(node["next"])

        def failed(sorry: str | None) -> None:
            self._tries["tries"] += 1
            if self._tries["tries"] >= node["max_tries"]:
                self._fallback(node)
                return
            self._retry(node, sorry)

        self._play(
            [node["prompt"]],
            node["interruptible"],
            lambda: self._wait_keys(take, node["first_timeout_s"], lambda _: finish()),
        )

    def _run_play_number(self, node: Node) -> None:
        value = expand(node["value"], self.values())
        try:
            words = numbers.read(value, node["as"], self.language)
        except ValueError as exc:
            self._emit(Trace("error", f"{node.id}: {exc}; not read"))
            self._goto(node["next"])
            return
        self._emit(Trace("number", numbers.text_of(words, self.language)))
        self._play_words(words, lambda: self._goto(node["next"]))

    def _run_select_language(self, node: Node, first: bool = True) -> None:
        if node.get("language"):
            self._switch_language(node["language"])
            self._goto(node["next"])
            return

        def choose(digit: str) -> None:
            self._disarm()
            lang = node["options"].get(digit)
            if lang is None:
                self.typeahead = ""
                self._count("invalid")
                again()
                return
            self._count(f"option {digit}")
            self._switch_language(lang)
            self._goto(node["next"])

        def again(_: str = "") -> None:
            self._tries["tries"] += 1
            if self._tries["tries"] >= node["max_tries"]:
                self._goto(node["next"])  # the default language stays
                return
            self._run_select_language(node, first=False)

        self._play(
            [node["prompt"]], True, lambda: self._wait_keys(choose, node["timeout_s"], again)
        )

    def _switch_language(self, lang: str) -> None:
        if lang not in self.top.languages:
            self._emit(
                Trace("error", f"no prompts in {lang} for this flow; staying in {self.language}")
            )
            return
        self.language = lang
        self._emit(Trace("language", lang))

    def _set(self, name: str, value: str) -> None:
        self.vars[name] = value
        self._emit(Trace("var", f"{name}={value}"))

    def _run_set(self, node: Node) -> None:
        values = self.values()
        for name, value in node["vars"].items():
            self._set(name, expand(value, values))
        self._goto(node["next"])

    def _run_compare(self, node: Node) -> None:
        values = self.values()
        value = expand(node["value"], values)
        for i, case in enumerate(node["cases"]):
            if _matches(case["test"], case["arg"], value, values):
                self._count(f"case {i}")
                self._goto(case["next"])
                return
        self._count("default")
        self._goto(node["default"])

    def _run_lookup(self, node: Node) -> None:
        values = self.values()
        params = {k: expand(v, values) for k, v in node["params"].items()}
        self._lookup(node, node.get("query"), node.get("function"), params)

    def _lookup(
        self, node: Node, query: str | None, function: str | None, params: Mapping[str, str]
    ) -> None:
        self._token += 1
        self.state = "lookup"
        seconds = node.get("timeout_s", 10.0)
        self._emit(
            Lookup(self._token, self.flow, query, function, params),
            StartTimer("lookup", seconds),
        )

        def timed_out(_: str) -> None:
            self._token += 1  # a result arriving later is not this node's any more
            self._count("timeout")
            self._emit(Trace("lookup", f"{node.id}: no answer in {seconds:g} s"))
            self._goto(node.get("error") or node.get("next"))

        self._on_timer = timed_out

    def _lookup_done(self, event: LookupDone) -> None:
        node = self.node
        if event.token != self._token or self.state != "lookup" or node is None:
            return  # too late: the timer took the error branch
        self._on_timer = None
        self._emit(CancelTimer("lookup"))
        if node.type == "tts":
            if event.row is None:
                self._emit(Trace("error", f"{node.id}: {event.error}"))
                self._goto(node["next"])
                return
            file = Path(str(event.row["file"]))
            self.state = "playing"
            self._queue = []
            self._interruptible = False
            self._after = lambda: self._goto(node["next"])
            self._emit(Trace("prompt", f"tts {file.name}"), Play(file, f"tts/{file.name}"))
            return
        if event.error:
            self._count("error")
            self._emit(Trace("lookup", f"{node.id} failed: {event.error}"))
            self._goto(node["error"])
            return
        if event.row is None:
            self._count("not_found")
            self._emit(Trace("lookup", f"{node.id}: nothing found"))
            self._goto(node.get("not_found") or node["error"])
            return
        for var, column in node["save"].items():
            if column not in event.row:
                self._count("error")
                self._emit(Trace("lookup", f"{node.id}: the result has no {column!r}"))
                self._goto(node["error"])
                return
            value = event.row[column]
            self._set(var, "" if value is None else str(value))
        self._goto(node["next"])

    def _run_transfer(self, node: Node) -> None:
        way = next(w for w in ("station", "ring_group", "queue", "number") if node.get(w))
        target = node[way]
        if isinstance(target, str):
            target = expand(target, self.values())
        if way == "number":
            target = {"number": target, "trunk_group": node["trunk_group"]}
        if node.get("skill"):
            self._set("skill", expand(node["skill"], self.values()))
        self.state = "transfer"
        self._count(f"transfer {way}")
        self._emit(
            Trace("transfer", f"{way} {target}"),
            Transfer(way, target, node.get("ring_s"), node.get("priority", 0)),
        )

    def _run_voicemail(self, node: Node) -> None:
        box = expand(node["box"], self.values())
        self.state = "transfer"  # voicemail takes the call; `TransferFailed` if it cannot
        self._count("voicemail")
        self._emit(Trace("voicemail", box), Voicemail(box))

    def _run_hang_up(self, node: Node) -> None:
        self._count("completed")
        self._end_flow("hang_up")

    def _run_call(self, node: Node) -> None:
        sub = self.subflows(node["flow"])
        self.stack.append((self.flow, node["next"]))
        self._count("completed")
        self.flow = sub
        self.vars.update({k: v for k, v in sub.variables.items() if k not in self.vars})
        self.node = None
        self._enter(sub.start)

    def _run_return(self, node: Node) -> None:
        self._count("completed")
        if not self.stack:
            self._end_flow("return")
            return
        self.flow, target = self.stack.pop()
        self.node = None
        self._enter(target)

    # -- the caller hangs up ---------------------------------------------------------------

    def _hung_up(self) -> None:
        if self.done or self.state == "transfer":
            return
        self._count("hang_up")
        self._emit(Trace("hang_up", f"caller hung up at {self.node.id if self.node else '-'}"))
        self._on_key = self._on_timer = self._after = None
        self._queue = []
        handler_flow = self.flow if self.flow.on_hangup else self.top
        self.done = True
        self.state = "done"
        if handler_flow.on_hangup is None:
            return
        self.in_handler = True
        self.done = False
        self.flow = handler_flow
        self.stack = []
        self.node = None
        self._enter(handler_flow.on_hangup)


def _matches(test: str, arg: Any, value: str, values: Mapping[str, str]) -> bool:
    if test == "equals":
        return value == expand(str(arg), values)
    if test == "empty":
        return (value == "") == bool(arg)
    if test == "pattern":
        return re.fullmatch(str(arg), value) is not None
    try:
        x = float(value)
    except ValueError:
        return False
    return float(arg[0]) <= x <= float(arg[1])
