"""The IVR on the engine: flows by name, reload on change, and each call's session carried out.

`FlowRegistry` loads flows from the site's flow folder when first needed and checks their
files again (at most every `RELOAD_CHECK_S` of engine time, when a call enters a flow): a
changed file is validated, and only a flow that passes replaces the running version — a
call already in the flow finishes on the version it started with, and a flow that fails is
logged with its file:line:reason problems while the previous version carries on.

`IvrHost` is the engine's side of a session (`boardcc.ivr.session`): prompts go to the
trunk as ``Play`` events (each prompt file read once into the mixer's clip bank), keys and
prompt ends come back from the engine's ``_on_digit``/``_on_played``, timers are engine
timers named ``ivr:...`` on the trunk, transfers become the engine's own route steps (a
station or ring group, then back to the flow if nobody answers), a transfer to a queue
calls ``engine.enqueue`` (the ACD), and lookups run on a small thread pool, their results
handed back to the engine's thread with ``engine.submit``. On a virtual clock (tests, the
simulator, ``boardcc flow run``) the tick waits up to `VIRTUAL_LOOKUP_WAIT_S` of real time
for a lookup, so that a fast database answers at the same engine time on every run; a
slower one is timed by the engine clock like on a live site.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boardcc.ivr import session as s
from boardcc.ivr.flow import Context, Flow, load_flow
from boardcc.ivr.report import COUNTS_KEY
from boardcc.yamlfile import ConfigFileError

if TYPE_CHECKING:
    from boardcc.engine import Call, Engine

log = logging.getLogger("boardcc.ivr")

TIMER_PREFIX = "ivr:"
RELOAD_CHECK_S = 2.0
VIRTUAL_LOOKUP_WAIT_S = 5.0

#: Lookup functions flows may call by name (``function: order_status``).
FUNCTIONS: dict[str, Callable[..., Mapping[str, Any] | None]] = {}


def register_function(name: str, fn: Callable[..., Mapping[str, Any] | None]) -> None:
    """Make `fn` available to lookup nodes as ``function: name``.

    It is called with the node's params as keyword arguments (text), off the engine's
    thread, and returns a mapping (the row) or None (nothing found); an exception takes
    the node's error branch.
    """
    FUNCTIONS[name] = fn


def unregister_function(name: str) -> None:
    FUNCTIONS.pop(name, None)


class FlowRegistry:
    """The flows of one folder, by name, each in its latest valid version."""

    def __init__(
        self, folder: Path, context: Context, on_load: Callable[[Flow], None] | None = None
    ) -> None:
        self.folder = folder
        self.context = context
        self.on_load = on_load
        self.flows: dict[str, Flow] = {}
        self.errors: dict[str, str] = {}
        self._stamps: dict[str, tuple[int, ...]] = {}

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.yaml"

    def get(self, name: str) -> Flow:
        """The current version of flow `name` (loaded the first time).

        Raises
        ------
        ConfigFileError
            The flow has never loaded cleanly.
        """
        if name not in self.flows:
            self._load(name)
        return self.flows[name]

    def _stamp(self, flow: Flow) -> tuple[int, ...]:
        files = [flow.source, *flow.prompt_files.values()]
        out = []
        for f in files:
            try:
                out.append(f.stat().st_mtime_ns)
            except OSError:
                out.append(-1)
        return tuple(out)

    def _load(self, name: str) -> Flow:
        flow = load_flow(self.path(name), self.context)
        for call in (n for n in flow.nodes.values() if n.type == "call"):
            self.get(call["flow"])  # a sub-flow must load too
        if self.on_load is not None:
            self.on_load(flow)
        self.flows[name] = flow
        self._stamps[name] = self._stamp(flow)
        self.errors.pop(name, None)
        return flow

    def reload(self) -> list[str]:
        """Check every loaded flow's files; reload the changed ones that pass.

        Returns the names of flows replaced. A flow that fails validation keeps its running
        version; its problems are logged and kept in `errors`.
        """
        replaced = []
        for name, flow in list(self.flows.items()):
            if self._stamp(flow) == self._stamps[name]:
                continue
            try:
                new = self._load(name)
            except ConfigFileError as exc:
                self._stamps[name] = self._stamp(flow)  # report once per change
                self.errors[name] = str(exc)
                log.error(
                    "流程未加载 flow %s not reloaded, version %s keeps running:\n%s",
                    name,
                    flow.version,
                    exc,
                    extra={"channel": -1, "signal": "flow", "state": "-"},
                )
                continue
            replaced.append(name)
            log.info(
                "流程已更新 flow %s reloaded: %s",
                name,
                new.version,
                extra={"channel": -1, "signal": "flow", "state": "-"},
            )
        return replaced


def _keep(call: Call, session: s.Session) -> None:
    """What the flow leaves in the call's CDR: its variables (``var.NAME``) and the node
    counts of this call (``ivr_counts``, JSON; `boardcc.ivr.report` adds them up)."""
    call.cdr.extra.update({f"var.{k}": v for k, v in session.vars.items()})
    call.cdr.extra[COUNTS_KEY] = json.dumps(session.trail, ensure_ascii=False)


class IvrHost:
    """Runs sessions for the engine's calls (one engine, one host)."""

    def __init__(self, engine: Engine, folder: Path, context: Context) -> None:
        self.engine = engine
        self.registry = FlowRegistry(folder, context, self._preload)
        self.stats = s.NodeStats()
        self.sessions: dict[int, tuple[s.Session, Call]] = {}  # by id(session)
        self._pool: ThreadPoolExecutor | None = None
        self._databases: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._checked_at = -1e9
        self._clips: dict[tuple[Path, int], str] = {}
        self.virtual_wait_s = VIRTUAL_LOOKUP_WAIT_S

    @classmethod
    def for_engine(cls, engine: Engine) -> IvrHost:
        """The host for `engine`'s site: its flow folder, stations and queues; every flow
        its inbound rules name is loaded now, so a broken one stops the start, not a call."""
        config = engine.config
        host = cls(engine, Path(config.flows), site_context(config, engine))
        from boardcc.config import parse_step

        for rule in config.inbound:
            for raw in rule.steps:
                kind, value = parse_step(raw)
                if kind == "ivr":
                    host.registry.get(str(value))
        return host

    def stats_json(self) -> list[dict[str, Any]]:
        """Per-node counts of every flow run so far, for reports and the API."""
        return [
            {"flow": flow, "node": node, "counts": dict(sorted(counts.items()))}
            for (flow, node), counts in sorted(self.stats.counts.items())
        ]

    # -- starting ---------------------------------------------------------------------------

    def start(self, call: Call, name: str, at: int) -> bool:
        """Run flow `name` for `call` (its trunk answered); False if the flow cannot run."""
        now_s = at / self.engine.fs
        if now_s - self._checked_at >= RELOAD_CHECK_S:
            self._checked_at = now_s
            self.registry.reload()
        try:
            flow = self.registry.get(name)
        except ConfigFileError as exc:
            log.error("流程无法运行 flow %s cannot run:\n%s", name, exc, extra=self._extra(call))
            return False
        subs: dict[str, Flow] = {}

        def subflow(sub: str) -> Flow:
            if sub not in subs:
                subs[sub] = self.registry.get(sub)
            return subs[sub]

        cdr = call.cdr
        info = {
            "DNIS": cdr.called,
            "ANI": cdr.caller,
            "CALLER_NAME": cdr.caller_name,
            "CHANNEL": str(call.trunk),
        }
        session = s.Session(flow, subflow, call.vars, info, self.stats)
        call.ivr = session
        cdr.extra["flow"] = flow.version
        self.sessions[id(session)] = (session, call)
        self._feed(session, s.Start(self.engine.wall(at).astimezone()), at)
        return True

    # -- events from the engine ---------------------------------------------------------------

    def prompt_ended(self, call: Call, at: int) -> None:
        self._event(call, s.PromptEnded(self._when(at)), at)

    def digit(self, call: Call, digit: str, at: int) -> None:
        self._event(call, s.Key(self._when(at), digit), at)

    def timer(self, call: Call, name: str, at: int) -> None:
        self._event(call, s.TimerFired(self._when(at), name.removeprefix(TIMER_PREFIX)), at)

    def transfer_failed(self, call: Call, reason: str, at: int) -> None:
        session = call.ivr
        if session is None:
            return
        if call.trunk is not None:
            self.engine.feed(call.trunk, _stop_play(at))
        self._event(call, s.TransferFailed(self._when(at), reason), at)

    def ended(self, call: Call, by_caller: bool, at: int) -> None:
        """The call is over; run the hang-up handler if the caller left mid-flow."""
        session = call.ivr
        if session is None:
            return
        for name in ("keys", "lookup"):
            if call.trunk is not None:
                self.engine._cancel_timer(call.trunk, TIMER_PREFIX + name)
        if by_caller and not session.done:
            self._feed(session, s.HungUp(self._when(at)), at)
        _keep(call, session)
        if session.done or not session.in_handler:
            self.sessions.pop(id(session), None)

    def _event(self, call: Call, event: s.IvrEvent, at: int) -> None:
        session = call.ivr
        if session is not None and id(session) in self.sessions:
            self._feed(session, event, at)

    def _when(self, at: int) -> Any:
        return self.engine.wall(at).astimezone()

    # -- carrying out actions -------------------------------------------------------------------

    def _feed(self, session: s.Session, event: s.IvrEvent, at: int) -> None:
        entry = self.sessions.get(id(session))
        if entry is None:
            return
        call = entry[1]
        for action in session.handle(event):
            try:
                self._do(session, call, action, at)
            except Exception as exc:  # a fault in one call's flow must not stop the others
                log.exception("IVR action %s failed: %s", action, exc, extra=self._extra(call))
                self._hang_up(call, at)
                return
        if session.done and call.cdr.call_id not in self.engine.calls:
            self.sessions.pop(id(session), None)

    def _do(self, session: s.Session, call: Call, action: s.IvrAction, at: int) -> None:
        engine = self.engine
        trunk = call.trunk
        if isinstance(action, s.Trace):
            self._trace(session, call, action)
            return
        if isinstance(action, s.Lookup):
            self._lookup(session, call, action)
            return
        if session.in_handler or trunk is None or call.cdr.call_id not in engine.calls:
            return  # the caller has gone: nothing more to play or transfer
        from boardcc.machines import events as ev

        if isinstance(action, s.Play):
            engine.feed(trunk, ev.Play(at, self._clip(action.file)))
        elif isinstance(action, s.StopPlay):
            engine.feed(trunk, _stop_play(at))
        elif isinstance(action, s.StartTimer):
            engine._start_timer(
                trunk,
                TIMER_PREFIX + action.name,
                max(at, engine.now) + round(action.seconds * engine.fs),
            )
        elif isinstance(action, s.CancelTimer):
            engine._cancel_timer(trunk, TIMER_PREFIX + action.name)
        elif isinstance(action, s.Transfer):
            self._transfer(call, action, at)
        elif isinstance(action, s.Voicemail):
            # docs/recording.md: voicemail owns the trunk from here.
            boxes = getattr(engine, "voicemail", None)
            try:
                if boxes is None:
                    raise ValueError("voicemail is not running / 语音信箱未启用")
                boxes.deposit(trunk, action.box)
            except ValueError as exc:
                log.info("%s", exc, extra=self._extra(call))
                self.transfer_failed(call, str(exc), at)
                return
            self._let_go(call)
        elif isinstance(action, s.HangUp):
            self._hang_up(call, at)

    def _let_go(self, call: Call) -> None:
        """The call leaves the flow for good (to the ACD or voicemail): its variables go
        with its CDR, and nothing of the flow runs for it any more."""
        session = call.ivr
        if session is not None:
            _keep(call, session)
            self.sessions.pop(id(session), None)
        call.ivr = None

    def _hang_up(self, call: Call, at: int) -> None:
        """The flow is over (or failed): the engine hangs up; the IVR answered the call."""
        from boardcc.cdr import Disposition, HungUpBy

        self.engine._end(call, Disposition.ANSWERED, HungUpBy.ENGINE, at)

    def _preload(self, flow: Flow) -> None:
        """A flow's prompts into the mixer's clip bank as it loads (the validator read them)."""
        for file, samples in flow.prompt_audio.items():
            key = (file, file.stat().st_mtime_ns)
            if key not in self._clips:
                name = f"ivr:{file}@{key[1]}"
                self.engine.mixer.add_prompt(name, samples)
                self._clips[key] = name
        flow.prompt_audio.clear()

    def _clip(self, file: Path) -> str:
        """The mixer's name for a prompt file, read once per version of the file."""
        stamp = file.stat().st_mtime_ns
        name = self._clips.get((file, stamp))
        if name is None:
            from boardcc.dsp import read_audio

            mixer = self.engine.mixer
            name = f"ivr:{file}@{stamp}"
            samples = read_audio(file, fs=self.engine.fs).samples.astype("float32").mean(axis=0)
            mixer.add_prompt(name, samples)
            self._clips[(file, stamp)] = name
        return name

    def _transfer(self, call: Call, action: s.Transfer, at: int) -> None:
        engine = self.engine
        if action.way == "queue":
            # docs/acd.md: from here the ACD owns the trunk; the flow lets go of the call.
            enqueue = getattr(engine, "enqueue", None)
            if enqueue is None:
                raise RuntimeError("transfer to a queue: this build has no ACD")
            self._let_go(call)
            try:
                enqueue(
                    call.trunk,
                    action.target,
                    priority=action.priority,
                    skill=call.vars.get("skill") or None,
                    data=dict(call.vars),
                )
            except ValueError as exc:
                log.warning("排队失败 cannot queue: %s", exc, extra=self._extra(call))
                self._hang_up(call, at)
            return
        if action.way == "number":
            self._dial_out(call, action.target, at)
            return
        step: tuple[str, Any]
        if action.way == "station":
            if action.target not in engine.station_at:
                self.transfer_failed(call, f"no station {action.target}", at)
                return
            step = ("station_for", (engine.station_at[action.target], action.ring_s))
        else:
            step = ("ring_group", dict(action.target) | {"ring_s": action.ring_s})
        call.steps = iter([step, ("ivr_resume", "nobody answered")])
        engine._next_step(call, at)

    def _dial_out(self, call: Call, target: Mapping[str, str], at: int) -> None:
        """Transfer to an outside number: dial it on an idle trunk of the group, the caller
        hears ring-back; when it answers the two trunks are connected (the engine's
        ``_on_answered``); busy, no answer or a line fault comes back to the flow."""
        from boardcc.machines import TrunkState
        from boardcc.machines import events as ev

        engine = self.engine
        number = target["number"]
        if not number.isdigit():
            self.transfer_failed(call, f"{number!r} is not a number to dial", at)
            return
        trunks = engine.config.trunk_group(target["trunk_group"]).channel_list()
        free = [t for t in trunks if engine.machines[t].state is TrunkState.IDLE]
        if not free or call.trunk is None:
            self.transfer_failed(call, f"no free trunk in {target['trunk_group']}", at)
            return
        out = free[0]
        call.outside = out
        call.cdr.extra["outside"] = number
        call.cdr.route += f": number {number}"
        engine._bind(call, out)
        engine.feed(out, ev.Seize(at, number))
        engine.feed(call.trunk, ev.AwaitStation(at))

    def _trace(self, session: s.Session, call: Call, action: s.Trace) -> None:
        if action.what == "node":
            call.cdr.extra["ivr_node"] = action.detail.split(" ")[0]
        level = logging.WARNING if action.what == "error" else logging.INFO
        if log.isEnabledFor(level):
            log.log(level, "IVR %s: %s", action.what, action.detail, extra=self._extra(call))
        self.engine._publish(
            {
                "type": "ivr",
                "call": call.cdr.call_id,
                "channel": call.trunk,
                "what": action.what,
                "detail": action.detail,
            }
        )

    # -- lookups --------------------------------------------------------------------------------

    def _lookup(self, session: s.Session, call: Call, action: s.Lookup) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ivr-lookup")
        job = self._pool.submit(self._run_lookup, action, session.language)
        engine = self.engine

        def deliver(done: Future[Mapping[str, Any] | None]) -> None:
            try:
                row, error = done.result(), ""
            except Exception as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                row, error = None, f"{type(exc).__name__}: {first}"

            def back() -> None:
                entry = self.sessions.get(id(session))
                if entry is not None:
                    self._feed(
                        session,
                        s.LookupDone(self._when(engine.now), action.token, row, error),
                        engine.now,
                    )

            engine.submit(back)

        job.add_done_callback(deliver)
        if not engine.clock.realtime:
            try:
                job.result(timeout=self.virtual_wait_s)
            except FutureTimeout:
                pass
            except Exception:  # reported through `deliver`
                pass

    def _run_lookup(self, action: s.Lookup, language: str) -> Mapping[str, Any] | None:
        """On a worker thread: the query or function; its first row, or None."""
        if action.function == "__tts__":
            return {"file": str(_speak(action.params["text"], action.params["language"]))}
        if action.function is not None:
            fn = FUNCTIONS.get(action.function) or self.registry.context.functions.get(
                action.function
            )
            if fn is None:
                raise LookupError(f"no lookup function {action.function!r}")
            result = fn(**action.params)
            return None if result is None else dict(result)
        from sqlalchemy import create_engine, text

        flow = action.flow
        assert action.query is not None
        url = flow.database or self.engine.config.storage.database
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            file = flow.source.parent / url.removeprefix("sqlite:///").split("?")[0]
            if not file.is_file():  # connecting would create an empty database
                raise FileNotFoundError(f"no database file {file}")
            url = f"sqlite:///{file.resolve()}"
        with self._lock:
            db = self._databases.get(url)
            if db is None:
                db = self._databases[url] = create_engine(url)
        with db.begin() as conn:  # a query may write (log a survey): commit it
            result = conn.execute(text(flow.queries[action.query]), dict(action.params))
            if not result.returns_rows:
                return {}
            row = result.mappings().first()
        return None if row is None else dict(row)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        for db in self._databases.values():
            db.dispose()

    def _extra(self, call: Call) -> dict[str, Any]:
        return self.engine._extra(call.trunk if call.trunk is not None else -1, "ivr")


def site_context(config: Any, engine: Any = None) -> Context:
    """What flows may refer to on this site and build: its stations, and its queues and
    voicemail boxes when the engine has them (``engine.enqueue``, ``engine.voicemail``)."""
    raw = getattr(config, "queues", None) or []
    settings = getattr(config, "voicemail", None)
    return Context(
        stations={st.extension for st in config.stations},
        trunk_groups={g.name for g in config.trunk_groups},
        acd=hasattr(engine, "enqueue"),
        queues={str(getattr(q, "name", q)) for q in raw},
        # The hook is there from the start; boardcc.voicemail attaches to it after.
        voicemail=hasattr(engine, "voicemail"),
        boxes={b.box for b in settings.boxes} if settings is not None else None,
        functions=FUNCTIONS,
    )


def _stop_play(at: int) -> Any:
    from boardcc.machines import events as ev

    return ev.StopPlay(at)


_TTS_DIR: Path | None = None


def _speak(text: str, language: str) -> Path:
    """`text` spoken by espeak-ng into a WAV file (cached by text and language)."""
    import hashlib
    import shutil

    global _TTS_DIR
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("tts needs espeak-ng, which is not installed")
    if _TTS_DIR is None:
        _TTS_DIR = Path(tempfile.mkdtemp(prefix="boardcc-tts-"))
    voice = {"zh": "cmn", "en": "en-us"}.get(language, language)
    path = _TTS_DIR / f"{hashlib.sha1(f'{voice}:{text}'.encode()).hexdigest()}.wav"
    if not path.exists():
        subprocess.run(
            ["espeak-ng", "-v", voice, "-w", str(path), text], check=True, capture_output=True
        )
    return path
