"""IVR flow files (语音导航流程): the language, read and checked strictly at load.

A flow is a YAML file in ``ivr_flows/``: a start node, optional variables, named SQL
queries, a caller-hang-up handler, and nodes by id, each with a ``type`` and the fields of
that type (docs/ivr.md is the reference). Site staff write these files, so `load_flow`
checks everything it can before a call ever reaches the flow, and reports every problem
with the file, the line and the reason (`boardcc.yamlfile`): an unknown node type or
field, a value of the wrong kind, a target that is not a node, a node no path reaches, a
loop the caller can never leave, a prompt file missing for one of the flow's languages, a
pattern that is not a regular expression, a variable used before anything sets it, an SQL
query whose parameters do not match, a queue or voicemail this build or site lacks. A flow
with any problem is never loaded.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boardcc.ivr import numbers
from boardcc.yamlfile import ConfigFileError, Located, load_yaml

#: Variables every call has (SPEC I2): the seed's five macros, and the caller ID name,
#: the channel and the language the call is in.
MACROS = ("DNIS", "ANI", "DATE", "TIME", "DATETIME", "CALLER_NAME", "CHANNEL", "LANGUAGE")
AUDIO_SUFFIXES = (".wav", ".vox", ".mp3", ".flac", ".ogg", ".au", ".gsm", ".raw")
TEMPLATE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
KEYS = set("0123456789*#")
TRANSFER_TO = ("station", "ring_group", "queue", "number")

# Field kinds: how a field's value is checked.
TARGET, TEXT, PROMPTS, PROMPT, BOOL, SECONDS, COUNT, KEY_OR_EMPTY = (
    "target",
    "text",
    "prompts",
    "prompt",
    "bool",
    "seconds",
    "count",
    "key_or_empty",
)


@dataclass(frozen=True, slots=True)
class Field:
    kind: str
    required: bool = False
    default: Any = None


#: Every node type and its fields (besides ``type``). Special kinds are checked by type.
NODE_TYPES: dict[str, dict[str, Field]] = {
    "play": {
        "prompts": Field(PROMPTS, True),
        "interruptible": Field(BOOL, default=True),
        "next": Field(TARGET, True),
    },
    "tts": {"text": Field(TEXT, True), "next": Field(TARGET, True)},
    "menu": {
        "prompt": Field(PROMPT, True),
        "short_prompt": Field(PROMPT),
        "options": Field("options", True),
        "invalid_prompt": Field(PROMPT),
        "timeout_prompt": Field(PROMPT),
        "timeout_s": Field(SECONDS, default=5.0),
        "max_invalid": Field(COUNT, default=3),
        "max_timeouts": Field(COUNT, default=3),
        "var": Field("var"),
        "interruptible": Field(BOOL, default=True),
        "fallback": Field(TARGET, True),
    },
    "collect": {
        "prompt": Field(PROMPT, True),
        "var": Field("var", True),
        "min_length": Field(COUNT, default=1),
        "max_length": Field(COUNT, default=20),
        "terminator": Field(KEY_OR_EMPTY, default="#"),
        "first_timeout_s": Field(SECONDS, default=8.0),
        "interdigit_s": Field(SECONDS, default=4.0),
        "pattern": Field("pattern"),
        "invalid_prompt": Field(PROMPT),
        "timeout_prompt": Field(PROMPT),
        "max_tries": Field(COUNT, default=3),
        "interruptible": Field(BOOL, default=True),
        "next": Field(TARGET, True),
        "fallback": Field(TARGET, True),
    },
    "play_number": {
        "value": Field(TEXT, True),
        "as": Field("kind", True),
        "next": Field(TARGET, True),
    },
    "select_language": {
        "prompt": Field(PROMPT),
        "options": Field("languages"),
        "language": Field("language"),
        "timeout_s": Field(SECONDS, default=5.0),
        "max_tries": Field(COUNT, default=2),
        "next": Field(TARGET, True),
    },
    "set": {"vars": Field("assignments", True), "next": Field(TARGET, True)},
    "compare": {
        "value": Field(TEXT, True),
        "cases": Field("cases", True),
        "default": Field(TARGET, True),
    },
    "lookup": {
        "query": Field("query"),
        "function": Field("function"),
        "params": Field("params", default={}),
        "save": Field("save", default={}),
        "timeout_s": Field(SECONDS, default=5.0),
        "next": Field(TARGET, True),
        "not_found": Field(TARGET),
        "error": Field(TARGET, True),
    },
    "transfer": {
        "station": Field(TEXT),
        "ring_group": Field("ring_group"),
        "queue": Field(TEXT),
        "number": Field(TEXT),
        "trunk_group": Field(TEXT),
        "ring_s": Field(SECONDS),
        "priority": Field("priority", default=0),
        "skill": Field(TEXT),
        "failed": Field(TARGET),
    },
    "voicemail": {"box": Field(TEXT, default="${DNIS}"), "failed": Field(TARGET)},
    "call": {"flow": Field("flow", True), "next": Field(TARGET, True)},
    "return": {},
    "hang_up": {},
}
#: Node types after which the flow has done its job (the caller is handed on or let go).
ENDS = ("transfer", "voicemail", "hang_up", "return")
#: Node types that take no time: a loop made only of these would spin for ever.
INSTANT = ("set", "compare", "call")
#: Node types that play audio or wait for keys: of no use once the caller has hung up.
NEEDS_CALLER = ("play", "tts", "menu", "collect", "play_number", "select_language", "transfer")
TOP_KEYS = (
    "flow",
    "description",
    "languages",
    "prompts",
    "start",
    "on_hangup",
    "variables",
    "database",
    "queries",
    "nodes",
)


@dataclass(frozen=True, slots=True)
class Node:
    """One node: its id, type, fields (defaults filled in) and line in the file."""

    id: str
    type: str
    fields: Mapping[str, Any]
    line: int

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        value = self.fields.get(name)
        return default if value is None else value

    def targets(self) -> Iterator[tuple[tuple[str, ...], str]]:
        """Every node this one can go to, with the key path that names it."""
        for name, spec in NODE_TYPES[self.type].items():
            value = self.fields.get(name)
            if value is None:
                continue
            if spec.kind == TARGET:
                yield (name,), value
            elif spec.kind == "options":
                for key, option in value.items():
                    yield (name, key), _option_target(option)
            elif spec.kind == "cases":
                for i, case in enumerate(value):
                    yield (name, str(i), "next"), case["next"]


@dataclass(slots=True)
class Flow:
    """A checked flow, ready to run; one version of its file.

    Attributes
    ----------
    name : str
        The flow's name (its file name without ``.yaml`` unless ``flow:`` says).
    source : Path
        The file.
    version : str
        Changes whenever the file or one of its prompt files changes.
    """

    name: str
    source: Path
    start: str
    nodes: dict[str, Node]
    languages: list[str]
    prompt_dir: Path
    variables: dict[str, str] = field(default_factory=dict)
    on_hangup: str | None = None
    database: str | None = None
    queries: dict[str, str] = field(default_factory=dict)
    description: str = ""
    version: str = ""
    prompt_files: dict[tuple[str, str], Path] = field(default_factory=dict)
    #: Each prompt file's audio (float32, 8 kHz), read while checking; the engine moves it
    #: into its clip bank and empties this.
    prompt_audio: dict[Path, Any] = field(default_factory=dict)

    def prompt_file(self, language: str, name: str) -> Path:
        return self.prompt_files[(language, name)]


@dataclass(slots=True)
class Context:
    """What a flow may refer to outside itself; ``None`` means "not checked here".

    Attributes
    ----------
    stations : set of str or None
        The site's extensions.
    acd : bool
        Whether this build has ACD queues (the engine's ``enqueue``).
    queues : set of str or None
        The site's queues.
    voicemail : bool
        Whether this build has voicemail (the engine's ``voicemail``).
    boxes : set of str or None
        The site's voicemail boxes.
    functions : mapping of str to callable
        Registered lookup functions (`boardcc.ivr.lookups`).
    espeak : bool or None
        Whether espeak-ng is installed (tts nodes); None: look it up.
    """

    stations: set[str] | None = None
    trunk_groups: set[str] | None = None
    acd: bool = False
    queues: set[str] | None = None
    voicemail: bool = False
    boxes: set[str] | None = None
    functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    espeak: bool | None = None


class _Problems:
    def __init__(self, located: Located) -> None:
        self.located = located
        self.items: list[tuple[int, str, str]] = []

    def add(self, path: tuple[object, ...], reason: str) -> None:
        key = ".".join(str(p) for p in path)
        self.items.append((self.located.line(path), key, reason))


def find_prompt(folder: Path, name: str) -> Path | None:
    """The audio file for prompt `name` in `folder` (any suffix the DSP package reads)."""
    for suffix in AUDIO_SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def load_flow(path: str | Path, context: Context | None = None) -> Flow:
    """Read and check a flow file.

    Raises
    ------
    ConfigFileError
        Every problem found, each with file, line and reason.
    """
    path = Path(path)
    context = context or Context()
    located = load_yaml(path)
    p = _Problems(located)
    data = located.data
    if not isinstance(data, Mapping):
        raise ConfigFileError(str(path), [(1, "", "a flow is a mapping with start: and nodes:")])
    for key in data:
        if key not in TOP_KEYS:
            p.add((key,), f"unknown key; a flow has: {', '.join(TOP_KEYS)}")
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, Mapping) or not raw_nodes:
        p.add(("nodes",), "required: a mapping of node ids to nodes")
        raw_nodes = {}
    languages = data.get("languages", ["zh"])
    if (
        not isinstance(languages, list)
        or not languages
        or any(lang not in numbers.LANGUAGES for lang in languages)
    ):
        p.add(("languages",), f"a list of languages among {', '.join(numbers.LANGUAGES)}")
        languages = ["zh"]
    variables = data.get("variables") or {}
    if not isinstance(variables, Mapping):
        p.add(("variables",), "a mapping of variable names to initial values")
        variables = {}
    for name, value in variables.items():
        _check_var_name(p, ("variables", name), str(name))
        if not isinstance(value, str | int | float):
            p.add(("variables", name), "an initial value is text or a number")
    queries = data.get("queries") or {}
    if not isinstance(queries, Mapping) or any(not isinstance(q, str) for q in queries.values()):
        p.add(("queries",), "a mapping of query names to SQL text")
        queries = {}
    prompt_dir = path.parent / str(data.get("prompts", "prompts"))
    if not prompt_dir.is_dir():
        p.add(("prompts",) if "prompts" in data else (), f"no prompt folder {prompt_dir}")
    nodes: dict[str, Node] = {}
    whole = True  # every node read without a problem: the graph can be judged
    for node_id, raw in raw_nodes.items():
        before = len(p.items)
        node = _check_node(p, str(node_id), raw, located, queries, context)
        whole = whole and len(p.items) == before
        if node is not None:
            nodes[node.id] = node
    start = data.get("start")
    if not isinstance(start, str) or start not in raw_nodes:
        p.add(("start",), _no_node(start, raw_nodes) if start else "required: the first node")
        whole = False
    on_hangup = data.get("on_hangup")
    if on_hangup is not None and on_hangup not in raw_nodes:
        p.add(("on_hangup",), _no_node(on_hangup, raw_nodes))
        whole = False
    flow = Flow(
        name=str(data.get("flow") or path.stem),
        source=path,
        start=str(start),
        nodes=nodes,
        languages=[str(x) for x in languages],
        prompt_dir=prompt_dir,
        variables={str(k): str(v) for k, v in variables.items()},
        on_hangup=on_hangup,
        database=data.get("database"),
        queries={str(k): str(v) for k, v in queries.items()},
        description=str(data.get("description", "")),
    )
    for node in nodes.values():
        if node.type == "call" and not (path.parent / f"{node['flow']}.yaml").is_file():
            p.add(("nodes", node.id, "flow"), f"no flow file {node['flow']}.yaml beside this one")
    for node in nodes.values():
        for at, target in node.targets():
            if target not in raw_nodes:
                p.add(("nodes", node.id, *at), _no_node(target, raw_nodes))
                whole = False  # what is reachable is not known until every target is a node
    if whole:
        _check_graph(p, flow)
    _check_variables(p, flow)
    if prompt_dir.is_dir():
        _check_prompts(p, flow)
    if p.items:
        p.items.sort()
        raise ConfigFileError(str(path), p.items)
    flow.version = _version(flow)
    return flow


def _no_node(name: object, nodes: Mapping[str, Any]) -> str:
    return f"no node {name!r} (nodes: {', '.join(map(str, nodes))})"


def _check_var_name(p: _Problems, at: tuple[object, ...], name: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        p.add(at, f"{name!r} is not a variable name (letters, digits and _)")
    elif name in MACROS:
        p.add(at, f"{name} is a macro, set by the engine; choose another name")


def _check_node(
    p: _Problems,
    node_id: str,
    raw: Any,
    located: Located,
    queries: Mapping[str, str],
    context: Context,
) -> Node | None:
    at: tuple[object, ...] = ("nodes", node_id)
    if not isinstance(raw, Mapping):
        p.add(at, "a node is a mapping with a type: and its fields")
        return None
    kind = raw.get("type")
    if kind not in NODE_TYPES:
        reason = "required key type is missing" if kind is None else f"unknown node type {kind!r}"
        p.add((*at, "type"), f"{reason}; types are: {', '.join(NODE_TYPES)}")
        return None
    spec = NODE_TYPES[kind]
    fields: dict[str, Any] = {}
    for name, value in raw.items():
        if name == "type":
            continue
        if name not in spec:
            known = ", ".join(spec) or "none"
            p.add((*at, name), f"unknown field {name!r} for a {kind} node (fields: {known})")
            continue
        checked = _check_field(p, (*at, name), spec[name].kind, value, queries, context)
        fields[name] = checked
    for name, f in spec.items():
        if f.required and name not in raw:
            p.add(at, f"a {kind} node needs {name!r}")
        fields.setdefault(name, f.default)
    _check_node_rules(p, at, kind, fields, raw, queries, context)
    return Node(node_id, kind, fields, located.line(at))


def _check_field(
    p: _Problems,
    at: tuple[object, ...],
    kind: str,
    value: Any,
    queries: Mapping[str, str],
    context: Context,
) -> Any:
    def bad(reason: str) -> None:
        p.add(at, reason)

    if kind in (TARGET, "flow", "function", "query", "language"):
        if not isinstance(value, str) or not value:
            bad("a name (text)")
        elif kind == "query" and value not in queries:
            bad(f"no query {value!r} under queries: ({', '.join(queries) or 'none'})")
        elif kind == "function" and value not in context.functions:
            known = ", ".join(sorted(context.functions)) or "none registered"
            bad(f"no lookup function {value!r} ({known})")
        elif kind == "language" and value not in numbers.LANGUAGES:
            bad(f"no language {value!r} (languages: {', '.join(numbers.LANGUAGES)})")
        return value
    if kind == TEXT:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            bad("text (write numbers in quotes)")
        elif isinstance(value, int | float):
            bad(f'write numbers in quotes ("{value}"): YAML read this one as a number')
        return value
    if kind == PROMPT:
        if not isinstance(value, str) or not value:
            bad("a prompt name")
        return value
    if kind == PROMPTS:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or any(not isinstance(x, str) for x in items):
            bad("a prompt name or a list of them")
            return []
        return items
    if kind == BOOL:
        if not isinstance(value, bool):
            bad("true or false")
        return value
    if kind == SECONDS:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            bad(f"seconds > 0, got {value!r}")
        return value
    if kind == COUNT:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            bad(f"a whole number >= 1, got {value!r}")
        return value
    if kind == "priority":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            bad(f"a whole number >= 0 (higher is served first), got {value!r}")
        return value
    if kind == KEY_OR_EMPTY:
        if value not in ("", *KEYS):
            bad(f'one key (0-9, *, #) or "" for none, got {value!r}')
        return value
    if kind == "var":
        if not isinstance(value, str):
            bad("a variable name")
        else:
            _check_var_name(p, at, value)
        return value
    if kind == "pattern":
        if not isinstance(value, str):
            bad("a regular expression (text)")
            return value
        try:
            re.compile(value)
        except re.error as exc:
            bad(f"bad pattern {value!r}: {exc}")
        return value
    if kind == "kind":
        if value not in numbers.KINDS:
            bad(f"{value!r} is not one of {', '.join(numbers.KINDS)}")
        return value
    if kind == "options":
        return _check_options(p, at, value)
    if kind == "languages":
        if not isinstance(value, Mapping) or not value:
            bad("a mapping of keys to languages")
            return {}
        for key, lang in value.items():
            if str(key) not in KEYS or len(str(key)) != 1:
                p.add((*at, key), f"{key!r} is not a key (0-9, *, #); write it in quotes")
            if lang not in numbers.LANGUAGES:
                p.add((*at, key), f"no language {lang!r} ({', '.join(numbers.LANGUAGES)})")
        return {str(k): v for k, v in value.items()}
    if kind in ("assignments", "params"):
        if not isinstance(value, Mapping):
            bad("a mapping of names to values")
            return {}
        for name, v in value.items():
            if kind == "assignments":
                _check_var_name(p, (*at, name), str(name))
            _check_field(p, (*at, name), TEXT, v, queries, context)
        return {str(k): str(v) for k, v in value.items()}
    if kind == "save":
        if not isinstance(value, Mapping):
            bad("a mapping of variables to result columns")
            return {}
        for name, column in value.items():
            _check_var_name(p, (*at, name), str(name))
            if not isinstance(column, str):
                p.add((*at, name), "a column (or key) name of the result")
        return {str(k): str(v) for k, v in value.items()}
    if kind == "cases":
        return _check_cases(p, at, value)
    if kind == "ring_group":
        return _check_ring_group(p, at, value, context)
    raise AssertionError(kind)  # pragma: no cover - every kind of NODE_TYPES is handled


def _option_target(option: Any) -> str:
    return str(option["next"] if isinstance(option, Mapping) else option)


def _check_options(p: _Problems, at: tuple[object, ...], value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not value:
        p.add(at, 'a mapping of keys to nodes, e.g. "1": balance')
        return {}
    out: dict[str, Any] = {}
    for key, option in value.items():
        where = (*at, key)
        if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 9:
            key = str(key)  # an unquoted digit is still one key
        if str(key) not in KEYS:
            p.add(where, f"{key!r} is not a key (0-9, *, #; quote * and #)")
        if isinstance(option, Mapping):
            for k in option:
                if k not in ("next", "set"):
                    p.add((*where, k), f"unknown field {k!r} for an option (fields: next, set)")
            if not isinstance(option.get("next"), str):
                p.add(where, "an option needs next: (a node)")
                continue
            sets = option.get("set", {})
            if not isinstance(sets, Mapping):
                p.add((*where, "set"), "a mapping of variables to values")
            else:
                for name in sets:
                    _check_var_name(p, (*where, "set", name), str(name))
            out[str(key)] = {
                "next": option["next"],
                "set": {str(k): str(v) for k, v in sets.items()},
            }
        elif isinstance(option, str):
            out[str(key)] = option
        else:
            p.add(where, "a node, or {next: node, set: {variable: value}}")
    return out


_CASE_TESTS = ("equals", "range", "pattern", "empty")


def _check_cases(p: _Problems, at: tuple[object, ...], value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        p.add(at, "a list of cases, each with one test and next:")
        return []
    out: list[dict[str, Any]] = []
    for i, case in enumerate(value):
        where = (*at, i)
        if not isinstance(case, Mapping):
            p.add(where, "a case is a mapping: one of equals, range, pattern, empty, and next")
            continue
        for k in case:
            if k not in (*_CASE_TESTS, "next"):
                p.add((*where, k), f"unknown field {k!r} for a case ({', '.join(_CASE_TESTS)})")
        tests = [k for k in _CASE_TESTS if k in case]
        if len(tests) != 1:
            p.add(where, f"a case has exactly one test of {', '.join(_CASE_TESTS)}")
            continue
        if not isinstance(case.get("next"), str):
            p.add(where, "a case needs next: (a node)")
            continue
        test, arg = tests[0], case[tests[0]]
        if test == "range":
            ok = (
                isinstance(arg, list)
                and len(arg) == 2
                and all(isinstance(x, int | float) and not isinstance(x, bool) for x in arg)
                and arg[0] <= arg[1]
            )
            if not ok:
                p.add((*where, test), f"a range is [low, high] with low <= high, got {arg!r}")
        elif test == "pattern":
            try:
                re.compile(str(arg))
            except re.error as exc:
                p.add((*where, test), f"bad pattern {arg!r}: {exc}")
        elif test == "empty" and not isinstance(arg, bool):
            p.add((*where, test), "true or false")
        elif test == "equals" and not isinstance(arg, str | int | float):
            p.add((*where, test), "a value (text or a number)")
        out.append({"test": test, "arg": arg, "next": case["next"]})
    return out


def _check_ring_group(
    p: _Problems, at: tuple[object, ...], value: Any, context: Context
) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not isinstance(value.get("stations"), list):
        p.add(at, "{stations: [extensions], strategy: all|order}")
        return {}
    for k in value:
        if k not in ("stations", "strategy"):
            p.add((*at, k), f"unknown field {k!r} (fields: stations, strategy)")
    for i, ext in enumerate(value["stations"]):
        if not isinstance(ext, str):
            p.add((*at, "stations", i), f'write extensions in quotes ("{ext}")')
        elif context.stations is not None and ext not in context.stations:
            p.add((*at, "stations", i), f"no station with extension {ext!r} in the site")
    if value.get("strategy", "all") not in ("all", "order"):
        p.add((*at, "strategy"), f"all or order, got {value.get('strategy')!r}")
    return dict(value)


def _check_node_rules(
    p: _Problems,
    at: tuple[object, ...],
    kind: str,
    fields: dict[str, Any],
    raw: Mapping[str, Any],
    queries: Mapping[str, str],
    context: Context,
) -> None:
    """What one node's fields must satisfy together."""
    if kind == "collect" and isinstance(fields["min_length"], int):
        if isinstance(fields["max_length"], int) and fields["min_length"] > fields["max_length"]:
            p.add((*at, "min_length"), "min_length is more than max_length")
    elif kind == "select_language":
        asks = "options" in raw
        if asks == ("language" in raw) or (asks and "prompt" not in raw):
            p.add(at, "either language: (set it) or prompt: and options: (ask the caller)")
    elif kind == "lookup":
        if ("query" in raw) == ("function" in raw):
            p.add(at, "a lookup has exactly one of query: (SQL) or function:")
        query = fields.get("query")
        if isinstance(query, str) and query in queries and isinstance(fields["params"], Mapping):
            wanted = set(re.findall(r"(?<![:\w]):([A-Za-z_]\w*)", queries[query]))
            given = set(fields["params"])
            if wanted != given:
                p.add(
                    (*at, "params"),
                    f"query {query!r} takes :{', :'.join(sorted(wanted)) or ' nothing'}; "
                    f"params give {', '.join(sorted(given)) or 'none'}",
                )
    elif kind == "transfer":
        ways = [w for w in TRANSFER_TO if w in raw]
        if len(ways) != 1:
            p.add(at, f"a transfer has exactly one of {', '.join(TRANSFER_TO)}")
            return
        way = ways[0]
        target = raw[way]
        if way == "station" and context.stations is not None and target not in context.stations:
            p.add((*at, way), f"no station with extension {target!r} in the site")
        elif way == "queue":
            if not context.acd:
                p.add(
                    (*at, way),
                    f"transfer to queue {target!r}: this build has no ACD queues "
                    "(本版本没有排队功能)",
                )
            elif context.queues is not None and target not in context.queues:
                known = ", ".join(sorted(context.queues)) or "none"
                p.add((*at, way), f"no queue {target!r} in the site (queues: {known})")
        elif way == "number":
            group = raw.get("trunk_group")
            if not isinstance(group, str):
                p.add(at, "a transfer to a number needs trunk_group: (the trunks to dial on)")
            elif context.trunk_groups is not None and group not in context.trunk_groups:
                known = ", ".join(sorted(context.trunk_groups)) or "none"
                p.add((*at, "trunk_group"), f"no trunk group {group!r} in the site ({known})")
            if isinstance(target, str) and not re.fullmatch(r"[0-9]+|.*\$\{\w+\}.*", target):
                p.add((*at, way), f"a number is digits (or a variable), got {target!r}")
        for key in ("skill", "priority"):
            if key in raw and way != "queue":
                p.add((*at, key), f"{key}: is for a transfer to a queue")
        if "trunk_group" in raw and way != "number":
            p.add((*at, "trunk_group"), "trunk_group: is for a transfer to a number")
        if "ring_s" in raw and way not in ("station", "ring_group"):
            p.add((*at, "ring_s"), "ring_s: is for a transfer to a station or ring group")
    elif kind == "voicemail":
        box = fields["box"]
        if not context.voicemail:
            p.add(at, "voicemail not available in this build (本版本没有语音信箱)")
        elif context.boxes is not None and "${" not in str(box) and box not in context.boxes:
            known = ", ".join(sorted(context.boxes)) or "none"
            p.add((*at, "box"), f"no voicemail box {box!r} in the site (boxes: {known})")
    elif kind == "tts":
        espeak = context.espeak
        if espeak is None:
            espeak = shutil.which("espeak-ng") is not None
        if not espeak:
            p.add(at, "a tts node needs espeak-ng, which is not installed (apt install espeak-ng)")


def _check_graph(p: _Problems, flow: Flow) -> None:
    """Every node is reachable, every node can reach an end, no instant loop,
    and the hang-up handler does not need the caller."""
    nodes = flow.nodes
    edges: dict[str, list[str]] = {n: [] for n in nodes}
    for node in nodes.values():
        edges[node.id] = [target for _, target in node.targets()]
    roots = [r for r in (flow.start, flow.on_hangup) if r in nodes]
    seen = _reach(roots, edges)
    for node in nodes.values():
        if node.id not in seen:
            p.add(
                ("nodes", node.id),
                f"node {node.id!r} is unreachable: no path from start leads here",
            )
    # Nodes from which some end can be reached; the rest are loops without a way out.
    back: dict[str, list[str]] = {n: [] for n in nodes}
    for a, targets in edges.items():
        for b in targets:
            back[b].append(a)
    ends = [n.id for n in nodes.values() if n.type in ENDS]
    can_end = _reach(ends, back)
    for node in nodes.values():
        if node.id in seen and node.id not in can_end:
            p.add(
                ("nodes", node.id),
                f"loop without a way out: no path from {node.id!r} reaches a hang_up, "
                "transfer, voicemail or return",
            )
    for cycle in _instant_cycles(nodes, edges):
        p.add(
            ("nodes", cycle[0]),
            f"loop {' -> '.join([*cycle, cycle[0]])} never waits for the caller "
            "(only set/compare/call nodes): it would spin for ever",
        )
    if flow.on_hangup in nodes:
        for nid in _reach([flow.on_hangup], edges):
            if nodes[nid].type in NEEDS_CALLER:
                p.add(
                    ("nodes", nid),
                    f"the hang-up handler reaches {nid!r}, a {nodes[nid].type} node, "
                    "but the caller has gone",
                )


def _reach(roots: list[str], edges: Mapping[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        todo += edges.get(n, [])
    return seen


def _instant_cycles(nodes: Mapping[str, Node], edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Cycles among nodes that take no time (found once each, by depth-first search)."""
    instant = {n for n, node in nodes.items() if node.type in INSTANT}
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(n: str, stack: list[str]) -> None:
        for m in edges[n]:
            if m not in instant or m in done:
                continue
            if m in stack:
                found.append(stack[stack.index(m) :])
                continue
            visit(m, [*stack, m])
        done.add(n)

    for n in sorted(instant):
        if n not in done:
            visit(n, [n])
    return found


def _check_variables(p: _Problems, flow: Flow) -> None:
    """Every ${name} used is a macro, a declared variable or set by some node."""
    known = set(MACROS) | set(flow.variables)
    for node in flow.nodes.values():
        f = node.fields
        if node.type == "set":
            known |= set(f["vars"])
        elif node.type in ("collect", "menu") and f.get("var"):
            known.add(f["var"])
        elif node.type == "lookup":
            known |= set(f["save"])
        elif node.type == "menu":
            for option in f["options"].values():
                if isinstance(option, Mapping):
                    known |= set(option["set"])
        elif node.type == "transfer" and f.get("skill"):
            known.add("skill")
    for node in flow.nodes.values():
        for path, text in _templates(node):
            for name in TEMPLATE.findall(text):
                if name not in known:
                    p.add(
                        ("nodes", node.id, *path),
                        f"unknown variable {name!r}: declare it under variables: or set it first",
                    )


def _templates(node: Node) -> Iterator[tuple[tuple[str, ...], str]]:
    for name, spec in NODE_TYPES[node.type].items():
        value = node.fields.get(name)
        if spec.kind == TEXT and isinstance(value, str):
            yield (name,), value
        elif spec.kind in ("assignments", "params") and isinstance(value, Mapping):
            for k, v in value.items():
                yield (name, k), v
        elif spec.kind == "cases" and isinstance(value, list):
            for i, case in enumerate(value):
                if case["test"] == "equals":
                    yield (name, str(i), "equals"), str(case["arg"])


def prompts_of(node: Node) -> Iterator[tuple[tuple[str, ...], str]]:
    """The prompt names a node plays, with their key paths."""
    for name, spec in NODE_TYPES[node.type].items():
        value = node.fields.get(name)
        if value is None:
            continue
        if spec.kind == PROMPT:
            yield (name,), value
        elif spec.kind == PROMPTS:
            for i, prompt in enumerate(value):
                yield ((name,) if len(value) == 1 else (name, str(i))), prompt


def _check_prompts(p: _Problems, flow: Flow) -> None:
    kinds = {n["as"] for n in flow.nodes.values() if n.type == "play_number"}
    for lang in flow.languages:
        folder = flow.prompt_dir / lang
        for node in flow.nodes.values():
            for path, name in prompts_of(node):
                found = find_prompt(folder, name)
                if found is None:
                    p.add(
                        ("nodes", node.id, *path),
                        f"prompt {name!r} has no file for language {lang} "
                        f"(looked for {folder / name}.wav and other audio suffixes)",
                    )
                elif _readable(p, flow, ("nodes", node.id, *path), found):
                    flow.prompt_files[(lang, name)] = found
        if kinds:
            missing = []
            for word in sorted(numbers.words_for(kinds, lang)):
                found = find_prompt(folder, word)
                if found is None:
                    missing.append(word)
                elif _readable(p, flow, ("nodes", _reader(flow), "as"), found):
                    flow.prompt_files[(lang, word)] = found
            if missing:
                node = next(n for n in flow.nodes.values() if n.type == "play_number")
                p.add(
                    ("nodes", node.id, "as"),
                    f"reading numbers in {lang} needs prompt files in {folder} for: "
                    f"{', '.join(missing)} (scripts/make_prompts.py makes them)",
                )


def _reader(flow: Flow) -> str:
    return next(n.id for n in flow.nodes.values() if n.type == "play_number")


def _readable(p: _Problems, flow: Flow, at: tuple[object, ...], path: Path) -> bool:
    """Read a prompt file once (any format the DSP package reads, at 8 kHz); a file that
    is not audio is a problem at the node that plays it."""
    if path in flow.prompt_audio:
        return True
    from boardcc.dsp.audio import AudioFileError, read_audio

    try:
        audio = read_audio(path, fs=8000)
    except (AudioFileError, ValueError) as exc:
        p.add(at, f"prompt file {path.name} cannot be played: {exc}")
        return False
    flow.prompt_audio[path] = audio.samples.astype("float32").mean(axis=0)
    return True


def _version(flow: Flow) -> str:
    stamps = [
        flow.source.stat().st_mtime_ns,
        *(f.stat().st_mtime_ns for f in flow.prompt_files.values()),
    ]
    return f"{flow.source.name}@{max(stamps)}"


def expand(text: str, variables: Mapping[str, str]) -> str:
    """`text` with each ``${name}`` replaced by the variable's value ("" if unset)."""
    return TEMPLATE.sub(lambda m: variables.get(m.group(1), ""), text)
